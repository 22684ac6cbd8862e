//! Read side: an application, lists with keyset (cursor) pagination, inboxes, history, and the
//! audit export. Every list is ordered by an indexed key, so a page costs the same at a million
//! rows as at ten.

use std::io::Write;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use softland_workflow::Status;
use uuid::Uuid;

use crate::Store;
use crate::entity::enums::{AppStatus, TaskStatus as DbTaskStatus};
use crate::entity::{application, event, task};
use crate::error::{Error, Result};
use crate::records::{
    ApplicationFilter, ApplicationRecord, EventRecord, InboxOwner, Page, TaskRecord,
};
use crate::rows::{app_record, event_record, task_record};

/// The most a page may hold.
pub const MAX_PAGE: u64 = 100;

/// A page from `first + 1` fetched rows: the extra row only tells that more follow.
fn page<M, T>(
    rows: Vec<M>,
    first: u64,
    item: impl Fn(M) -> Result<(String, T)>,
) -> Result<Page<T>> {
    let has_next = rows.len() as u64 > first;
    Ok(Page {
        items: rows
            .into_iter()
            .take(first as usize)
            .map(item)
            .collect::<Result<_>>()?,
        has_next,
    })
}

/// Keyset condition "strictly after `(key, id)`" for a list ordered by `key, id`.
fn after_pair<K, I, V, W>(key: K, k: V, id_col: I, id: W) -> Condition
where
    K: ColumnTrait,
    I: ColumnTrait,
    V: Into<sea_orm::Value> + Clone,
    W: Into<sea_orm::Value>,
{
    Condition::any()
        .add(key.gt(k.clone()))
        .add(Condition::all().add(key.eq(k)).add(id_col.gt(id)))
}

fn bad_cursor(c: &str) -> Error {
    Error::BadCursor(c.to_owned())
}

impl Store {
    /// One application.
    pub async fn application(&self, id: Uuid) -> Result<Option<ApplicationRecord>> {
        application::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(app_record)
            .transpose()
    }

    /// Applications, newest first. The cursor is the last id of the previous page.
    pub async fn applications(
        &self,
        filter: &ApplicationFilter,
        first: u64,
        after: Option<&str>,
    ) -> Result<Page<ApplicationRecord>> {
        let first = first.clamp(1, MAX_PAGE);
        let mut q = application::Entity::find();
        if let Some(org) = &filter.organization {
            q = q.filter(application::Column::Organization.eq(org.as_str()));
        }
        if let Some(status) = filter.status {
            let s = match status {
                Status::Active => AppStatus::Active,
                Status::Completed => AppStatus::Completed,
                Status::Withdrawn => AppStatus::Withdrawn,
            };
            q = q.filter(application::Column::Status.eq(s));
        }
        if let Some(key) = &filter.workflow_key {
            q = q.filter(application::Column::WorkflowKey.eq(key.as_str()));
        }
        if let Some(agency) = &filter.agency {
            let sub = Query::select()
                .column(task::Column::ApplicationId)
                .from(task::Entity)
                .and_where(task::Column::Assignee.eq(agency.as_str()))
                .to_owned();
            q = q.filter(application::Column::Id.in_subquery(sub));
        }
        if let Some(c) = after {
            let id: Uuid = c.parse().map_err(|_| bad_cursor(c))?;
            q = q.filter(application::Column::Id.lt(id));
        }
        let rows = q
            .order_by_desc(application::Column::Id)
            .limit(first + 1)
            .all(self.db())
            .await?;
        page(rows, first, |m| Ok((m.id.to_string(), app_record(m)?)))
    }

    /// Open tasks of an agency or an applicant organization, soonest due first (no due time
    /// last). The cursor is `due|id` of the previous page's last task.
    pub async fn inbox(
        &self,
        owner: &InboxOwner,
        first: u64,
        after: Option<&str>,
    ) -> Result<Page<TaskRecord>> {
        let first = first.clamp(1, MAX_PAGE);
        let mut q = task::Entity::find().filter(task::Column::Status.eq(DbTaskStatus::Open));
        q = match owner {
            InboxOwner::Agency(a) => q.filter(task::Column::Assignee.eq(a.as_str())),
            InboxOwner::Applicant(org) => q
                .filter(task::Column::Organization.eq(org.as_str()))
                .filter(task::Column::Assignee.eq("applicant")),
        };
        if let Some(c) = after {
            let (order, id) = c.split_once('|').ok_or_else(|| bad_cursor(c))?;
            let order: DateTime<Utc> = order.parse().map_err(|_| bad_cursor(c))?;
            let id: Uuid = id.parse().map_err(|_| bad_cursor(c))?;
            q = q.filter(after_pair(
                task::Column::InboxOrder,
                order,
                task::Column::Id,
                id,
            ));
        }
        let rows = q
            .order_by_asc(task::Column::InboxOrder)
            .order_by_asc(task::Column::Id)
            .limit(first + 1)
            .all(self.db())
            .await?;
        page(rows, first, |m| {
            Ok((
                format!("{}|{}", m.inbox_order.to_rfc3339(), m.id),
                task_record(m)?,
            ))
        })
    }

    /// One task.
    pub async fn task(&self, id: Uuid) -> Result<Option<TaskRecord>> {
        task::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(task_record)
            .transpose()
    }

    /// An application's tasks (open only, or all), in the order they opened.
    pub async fn tasks_of(&self, application: Uuid, open_only: bool) -> Result<Vec<TaskRecord>> {
        let mut q = task::Entity::find().filter(task::Column::ApplicationId.eq(application));
        if open_only {
            q = q.filter(task::Column::Status.eq(DbTaskStatus::Open));
        }
        q.order_by_asc(task::Column::TaskNo)
            .all(self.db())
            .await?
            .into_iter()
            .map(task_record)
            .collect()
    }

    /// Whether an agency has (or had) a task on the application: what makes it visible to
    /// that agency's reviewers.
    pub async fn agency_involved(&self, application: Uuid, agency: &str) -> Result<bool> {
        let n = task::Entity::find()
            .filter(task::Column::ApplicationId.eq(application))
            .filter(task::Column::Assignee.eq(agency))
            .limit(1)
            .all(self.db())
            .await?
            .len();
        Ok(n > 0)
    }

    /// An application's audit log, in order.
    pub async fn history(&self, application: Uuid) -> Result<Vec<EventRecord>> {
        let rows = event::Entity::find()
            .filter(event::Column::ApplicationId.eq(application))
            .order_by_asc(event::Column::Seq)
            .all(self.db())
            .await?;
        rows.into_iter().map(event_record).collect()
    }

    /// Writes every event with `from <= at < to` as JSON lines, in time order; returns how many.
    pub async fn audit_export(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        out: &mut dyn Write,
    ) -> Result<u64> {
        let mut n = 0;
        let mut last: Option<(DateTime<Utc>, i64)> = None;
        loop {
            let mut q = event::Entity::find()
                .filter(event::Column::At.gte(from))
                .filter(event::Column::At.lt(to));
            if let Some((at, id)) = last {
                q = q.filter(after_pair(event::Column::At, at, event::Column::Id, id));
            }
            let rows = q
                .order_by_asc(event::Column::At)
                .order_by_asc(event::Column::Id)
                .limit(1000)
                .all(self.db())
                .await?;
            if rows.is_empty() {
                return Ok(n);
            }
            for m in rows {
                last = Some((m.at, m.id));
                let line = serde_json::to_string(&event_record(m)?)
                    .map_err(|e| Error::Corrupt(e.to_string()))?;
                writeln!(out, "{line}").map_err(|e| Error::Io {
                    path: "audit export".into(),
                    source: e,
                })?;
                n += 1;
            }
        }
    }
}

impl Store {
    /// `(assignee, open tasks, overdue open tasks)` for every assignee with open tasks.
    pub async fn open_task_counts(&self) -> Result<Vec<(String, u64, u64)>> {
        use sea_orm::{FromQueryResult, Statement};
        #[derive(FromQueryResult)]
        struct Row {
            assignee: String,
            open: i64,
            overdue: i64,
        }
        use sea_orm::ActiveEnum;
        let backend = self.db().get_database_backend();
        let placeholder = match backend {
            sea_orm::DbBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!(
            "SELECT assignee, COUNT(*) AS open, SUM(CASE WHEN overdue THEN 1 ELSE 0 END) AS overdue FROM tasks WHERE status = {placeholder} GROUP BY assignee ORDER BY assignee"
        );
        let rows = Row::find_by_statement(Statement::from_sql_and_values(
            backend,
            sql,
            [DbTaskStatus::Open.to_value().into()],
        ))
        .all(self.db())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.assignee, r.open.max(0) as u64, r.overdue.max(0) as u64))
            .collect())
    }
}
