//! Inboxes: the open tasks of an agency or of a firm, by due time or by opening, with the
//! filters reviewers use and keyset pagination; an application's tasks; the open and overdue
//! counts per assignee the metrics report.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use softland_workflow::Assignee;
use uuid::Uuid;

use crate::entity::enums::TaskStatus as DbTaskStatus;
use crate::entity::task;
use crate::error::Result;
use crate::reads::queries::{MAX_PAGE, after_pair, bad_cursor, name_search, page};
use crate::records::{ClaimFilter, InboxFilter, InboxOrder, InboxOwner, Page, TaskRecord};
use crate::rows::task_record;
use crate::{BackendKind, Store};

/// The open tasks of an inbox a filter lets through.
fn inbox_where(backend: BackendKind, owner: &InboxOwner, filter: &InboxFilter) -> Condition {
    let mut c = Condition::all().add(task::is_open());
    c = match owner {
        InboxOwner::Agency(a) => c.add(task::Column::Assignee.eq(a.as_str())),
        InboxOwner::Applicant(org) => c
            .add(task::Column::Organization.eq(org.as_str()))
            .add(task::Column::Assignee.eq(Assignee::Applicant.key())),
    };
    if let Some(key) = &filter.workflow_key {
        c = c.add(task::Column::WorkflowKey.eq(key.as_str()));
    }
    if let Some(state) = &filter.state {
        c = c.add(task::Column::State.eq(state.as_str()));
    }
    match filter.overdue {
        // The partial index `ix_tasks_overdue`'s own condition, literally (no bound value).
        Some(true) => c = c.add(Expr::col(task::Column::Overdue)),
        Some(false) => c = c.add(task::Column::Overdue.eq(false)),
        None => {}
    }
    // The same bounds on `inbox_order` (the due time, or far in the future without one) let
    // the inbox's index seek to the window instead of filtering every task before it.
    if let Some(t) = filter.due_before {
        c = c
            .add(task::Column::DueAt.lte(t))
            .add(task::Column::InboxOrder.lte(t));
    }
    if let Some(t) = filter.due_after {
        c = c
            .add(task::Column::DueAt.gte(t))
            .add(task::Column::InboxOrder.gte(t));
    }
    if let Some(org) = &filter.organization {
        c = c.add(task::Column::Organization.eq(org.as_str()));
    }
    if let Some(text) = filter
        .firm
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        c = c.add(task::Column::Organization.in_subquery(name_search(backend, text)));
    }
    c = match &filter.claim {
        None => c,
        // With the partial index `ix_tasks_claimed`'s condition spelled out.
        Some(ClaimFilter::By(who)) => c
            .add(task::Column::ClaimedBy.is_not_null())
            .add(task::Column::ClaimedBy.eq(who.as_str())),
        Some(ClaimFilter::Unclaimed) => c.add(task::Column::ClaimedBy.is_null()),
        Some(ClaimFilter::Claimed) => c.add(task::Column::ClaimedBy.is_not_null()),
    };
    c
}

/// The parts an inbox is read in, each by its own index: an agency's tasks; a firm's own
/// applications' tasks for the applicant, and the tasks of the applications it hosts (the
/// positions it offers: assignee `host:FIRM`, read like an agency's). One query with an OR
/// of the two would scan instead of seeking (and SQLite's planner refuses it with the partial
/// indexes).
fn parts(owner: &InboxOwner) -> Vec<InboxOwner> {
    match owner {
        InboxOwner::Agency(_) => vec![owner.clone()],
        InboxOwner::Applicant(org) => vec![
            owner.clone(),
            InboxOwner::Agency(Assignee::host(org).key().to_owned()),
        ],
    }
}

impl Store {
    /// Open tasks of an agency or an applicant organization, soonest due first (no due time
    /// last) or oldest first. The cursor is `due|<time>|<id>` or `opened|<time>|<id>` of the
    /// previous page's last task; one of the other order is refused.
    pub async fn inbox(
        &self,
        owner: &InboxOwner,
        filter: &InboxFilter,
        first: u64,
        after: Option<&str>,
    ) -> Result<Page<TaskRecord>> {
        let first = first.clamp(1, MAX_PAGE);
        let (key, tag) = match filter.order {
            InboxOrder::Due => (task::Column::InboxOrder, "due"),
            InboxOrder::Opened => (task::Column::OpenedAt, "opened"),
        };
        let after = match after {
            None => None,
            Some(c) => {
                let mut parts = c.splitn(3, '|');
                let (Some(t), Some(at), Some(id)) = (parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad_cursor(c));
                };
                let at: DateTime<Utc> = at.parse().map_err(|_| bad_cursor(c))?;
                let id: Uuid = id.parse().map_err(|_| bad_cursor(c))?;
                if t != tag {
                    return Err(bad_cursor(c));
                }
                Some((at, id))
            }
        };
        // Each part's first page, merged in the order asked: the page is the first of them.
        let mut rows = Vec::new();
        for part in parts(owner) {
            let mut q = task::Entity::find().filter(inbox_where(self.backend(), &part, filter));
            if let Some((at, id)) = after {
                q = q.filter(after_pair(key, at, task::Column::Id, id));
            }
            rows.extend(
                q.order_by_asc(key)
                    .order_by_asc(task::Column::Id)
                    .limit(first + 1)
                    .all(self.db())
                    .await?,
            );
        }
        let order = |m: &task::Model| match filter.order {
            InboxOrder::Due => (m.inbox_order, m.id),
            InboxOrder::Opened => (m.opened_at, m.id),
        };
        rows.sort_by_key(order);
        rows.truncate(usize::try_from(first + 1).unwrap_or(usize::MAX));
        page(rows, first, |m| {
            let at = match filter.order {
                InboxOrder::Due => m.inbox_order,
                InboxOrder::Opened => m.opened_at,
            };
            Ok((
                format!("{tag}|{}|{}", at.to_rfc3339(), m.id),
                task_record(m)?,
            ))
        })
    }

    /// How many open tasks the inbox holds with the filter (all pages).
    pub async fn count_inbox(&self, owner: &InboxOwner, filter: &InboxFilter) -> Result<u64> {
        self.count_inbox_up_to(owner, filter, None).await
    }

    /// [`Store::count_inbox`], counting no further than `up_to + 1` when given (a result
    /// above `up_to` says "more than `up_to`"): a big inbox costs what `up_to` rows cost,
    /// even before `VACUUM` has set the visibility map its index-only count would need.
    pub async fn count_inbox_up_to(
        &self,
        owner: &InboxOwner,
        filter: &InboxFilter,
        up_to: Option<u64>,
    ) -> Result<u64> {
        let mut n = 0;
        for part in parts(owner) {
            let q = task::Entity::find().filter(inbox_where(self.backend(), &part, filter));
            n += match up_to {
                Some(cap) => {
                    let left = cap.saturating_add(1).saturating_sub(n);
                    if left == 0 {
                        break;
                    }
                    self.count_at_most(q, left).await?
                }
                None => q.count(self.db()).await?,
            };
        }
        Ok(n)
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
            .map(|r| {
                (
                    r.assignee,
                    Ord::max(r.open, 0) as u64,
                    Ord::max(r.overdue, 0) as u64,
                )
            })
            .collect())
    }
}
