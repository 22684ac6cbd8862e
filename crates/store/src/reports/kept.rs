//! Facts kept per application (`report_facts`): a report reads a period's applications with
//! their kept [`Facts`] in one statement a page, and measures on the spot — and keeps — only
//! those whose facts are missing or older than the application's revision. So a report is as
//! exact and current as one measured from scratch, and costs a row an application once its
//! facts are kept.
//!
//! A keeper in every server ([`Store::spawn_report_keeper`]) keeps them: a pass over every
//! application when it starts, then the applications of new commands (the outbox's rows). It
//! only keeps reports fast; a report never depends on it.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationDef,
};
use tokio::sync::watch;
use uuid::Uuid;

use super::cases::Head;
use super::facts::Facts;
use super::figures::Entry;
use super::{CaseCursor, CaseQuery, PAGE, PeriodBy};
use crate::Store;
use crate::commands::scheduler::tick_or_stop;
use crate::entity::enums::AppStatus;
use crate::entity::{application, organization, outbox, report_fact};
use crate::error::Result;
use crate::rows::status_of;

/// Commands (outbox rows) the keeper reads at a time.
const COMMANDS: u64 = 5_000;

/// An application's head and its revision.
type Revised = (
    Uuid,
    String,
    i32,
    String,
    AppStatus,
    Option<String>,
    DateTime<Utc>,
    i64,
);

/// An application of a period as a report reads it, with its kept facts.
#[derive(Debug, FromQueryResult)]
struct Row {
    id: Uuid,
    status: AppStatus,
    outcome: Option<String>,
    submitted_at: DateTime<Utc>,
    revision: i64,
    region: Option<String>,
    intake: Option<String>,
    kept_revision: Option<i64>,
    facts: Option<String>,
}

impl Row {
    /// Its kept facts, if they are of its revision (and read).
    fn kept(&self) -> Option<Facts> {
        if self.kept_revision != Some(self.revision) {
            return None;
        }
        serde_json::from_str(self.facts.as_deref()?).ok()
    }
}

/// An application measured for a report.
#[derive(Debug)]
pub(super) struct Measured {
    id: Uuid,
    result: String,
    submitted_at: DateTime<Utc>,
    region: Option<String>,
    intake: Option<String>,
    /// Its facts.
    pub facts: Facts,
}

impl Measured {
    /// What the figures read of it beside its facts.
    pub fn entry(&self) -> Entry<'_> {
        Entry {
            id: self.id,
            result: &self.result,
            submitted_at: self.submitted_at,
            region: self.region.as_deref(),
            intake: self.intake.as_deref(),
        }
    }
}

/// `applications` → its applicant's `organizations` row.
fn organization_of() -> RelationDef {
    application::Entity::belongs_to(organization::Entity)
        .from(application::Column::Organization)
        .to(organization::Column::Key)
        .into()
}

/// The name of the intake the application belongs to (none outside any): one lookup by the
/// application's id in `pool_entries`.
fn intake_of() -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust(
        "(SELECT i.name FROM pool_entries pe JOIN intakes i ON i.id = pe.pool_id WHERE pe.application_id = applications.id LIMIT 1)",
    )
}

/// `applications` → its `report_facts` row.
fn facts_of() -> RelationDef {
    application::Entity::belongs_to(report_fact::Entity)
        .from(application::Column::Id)
        .to(report_fact::Column::ApplicationId)
        .into()
}

impl Store {
    /// The next page of at most `first` applications of `q`'s period after `after` with their
    /// facts (measured now where none are kept of their revision), and where the one after it
    /// starts. Under [`PeriodBy::Decision`] those decided outside the period are left out.
    pub(super) async fn measured(
        &self,
        q: &CaseQuery,
        after: Option<CaseCursor>,
        first: u64,
    ) -> Result<(Vec<Measured>, Option<CaseCursor>)> {
        use application::Column as A;
        let Some(find) = self.period_select(q, after).await? else {
            return Ok((Vec::new(), None));
        };
        let rows: Vec<Row> = find
            .columns([A::Id, A::Status, A::Outcome, A::SubmittedAt, A::Revision])
            .column_as(organization::Column::Region, "region")
            .expr_as(intake_of(), "intake")
            .column_as(report_fact::Column::Revision, "kept_revision")
            .column_as(report_fact::Column::Facts, "facts")
            .join(JoinType::LeftJoin, organization_of())
            .join(JoinType::LeftJoin, facts_of())
            .limit(first)
            .into_model::<Row>()
            .all(self.db())
            .await?;
        let next = (rows.len() as u64 == first)
            .then(|| rows.last().map(|r| (r.submitted_at, r.id)))
            .flatten();
        let mut kept: Vec<Option<Facts>> = rows.iter().map(Row::kept).collect();
        let stale: Vec<Uuid> = rows
            .iter()
            .zip(&kept)
            .filter(|(_, k)| k.is_none())
            .map(|(r, _)| r.id)
            .collect();
        let mut fresh = self.keep(&stale).await?;
        let mut out = Vec::with_capacity(rows.len());
        for (row, facts) in rows.into_iter().zip(kept.iter_mut()) {
            let Some(facts) = facts.take().or_else(|| fresh.remove(&row.id)) else {
                continue;
            };
            if q.by == PeriodBy::Decision
                && !facts.decided_at.is_some_and(|t| t >= q.from && t < q.to)
            {
                continue;
            }
            let result = super::result_of(status_of(row.status), row.outcome.as_deref());
            out.push(Measured {
                id: row.id,
                result: result.to_owned(),
                submitted_at: row.submitted_at,
                region: row.region,
                intake: row.intake,
                facts,
            });
        }
        Ok((out, next))
    }

    /// Measures these applications and keeps their facts under their revision (read no later
    /// than their tasks, so a change meanwhile leaves them stale, never wrong).
    async fn keep(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Facts>> {
        use application::Column as A;
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let read: Vec<(Head, i64)> = application::Entity::find()
            .select_only()
            .columns([
                A::Id,
                A::WorkflowKey,
                A::WorkflowVersion,
                A::Organization,
                A::Status,
                A::Outcome,
                A::SubmittedAt,
                A::Revision,
            ])
            .filter(A::Id.is_in(ids.iter().copied()))
            .into_tuple::<Revised>()
            .all(self.db())
            .await?
            .into_iter()
            .map(|(id, key, version, org, status, outcome, at, revision)| {
                ((id, key, version, org, status, outcome, at), revision)
            })
            .collect();
        let revisions: HashMap<Uuid, i64> = read.iter().map(|(h, r)| (h.0, *r)).collect();
        let cases = self
            .fill(read.into_iter().map(|(h, _)| h).collect())
            .await?;
        let mut rows = Vec::with_capacity(cases.len());
        let mut out = HashMap::with_capacity(cases.len());
        for case in cases {
            let facts = Facts::of(&case, self.calendars());
            rows.push(report_fact::ActiveModel {
                application_id: Set(case.id),
                revision: Set(revisions[&case.id]),
                facts: Set(serde_json::to_string(&facts)
                    .map_err(|e| sea_orm::DbErr::Json(e.to_string()))?),
            });
            out.insert(case.id, facts);
        }
        let upsert = report_fact::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(report_fact::Column::ApplicationId)
                    .update_columns([report_fact::Column::Revision, report_fact::Column::Facts])
                    .to_owned(),
            )
            .exec(self.db())
            .await;
        // A report still has its figures when they cannot be kept (the next one measures
        // again).
        if let Err(e) = upsert {
            tracing::warn!(error = %e, "cannot keep report facts");
        }
        Ok(out)
    }

    /// Keeps the facts of every application whose kept facts are missing or stale, a page at
    /// a time in id order; returns how many it measured.
    pub async fn keep_report_facts(&self) -> Result<u64> {
        self.keep_where(None).await
    }

    /// Keeps the facts of `ids` (or, for `None`, of every application) that have none of their
    /// revision.
    async fn keep_where(&self, ids: Option<Vec<Uuid>>) -> Result<u64> {
        use application::Column as A;
        let mut after: Option<Uuid> = None;
        let mut measured = 0;
        loop {
            let mut find = application::Entity::find()
                .select_only()
                .columns([A::Id, A::Revision])
                .column_as(report_fact::Column::Revision, "kept_revision")
                .join(JoinType::LeftJoin, facts_of());
            if let Some(ids) = &ids {
                find = find.filter(A::Id.is_in(ids.iter().copied()));
            }
            if let Some(id) = after {
                find = find.filter(A::Id.gt(id));
            }
            let rows: Vec<(Uuid, i64, Option<i64>)> = find
                .order_by_asc(A::Id)
                .limit(PAGE)
                .into_tuple()
                .all(self.db())
                .await?;
            let Some(last) = rows.last() else {
                return Ok(measured);
            };
            after = Some(last.0);
            let stale: Vec<Uuid> = rows
                .into_iter()
                .filter(|(_, revision, kept)| *kept != Some(*revision))
                .map(|(id, _, _)| id)
                .collect();
            measured += stale.len() as u64;
            self.keep(&stale).await?;
        }
    }

    /// Keeps the facts of the applications of commands written after `cursor` (an outbox
    /// row's key: every command that appends to the audit log writes one; read [`COMMANDS`] at
    /// a time along that key) and moves it past them; returns how many it measured.
    async fn keep_changed(&self, cursor: &mut i64) -> Result<u64> {
        let mut measured = 0;
        loop {
            let commands: Vec<(i64, Uuid)> = outbox::Entity::find()
                .select_only()
                .columns([outbox::Column::Id, outbox::Column::ApplicationId])
                .filter(outbox::Column::Id.gt(*cursor))
                .order_by_asc(outbox::Column::Id)
                .limit(COMMANDS)
                .into_tuple()
                .all(self.db())
                .await?;
            let Some(&(last, _)) = commands.last() else {
                return Ok(measured);
            };
            let mut ids: Vec<Uuid> = commands.iter().map(|c| c.1).collect();
            ids.sort_unstable();
            ids.dedup();
            for chunk in ids.chunks(PAGE as usize) {
                measured += self.keep_where(Some(chunk.to_vec())).await?;
            }
            *cursor = last;
        }
    }

    /// Starts the keeper: every `every`, the facts of what changed are kept (all of them on
    /// its first pass). A command committed after a later one was read (outbox keys are
    /// taken before commit) may be passed over; reports measure such an application
    /// themselves.
    pub fn spawn_report_keeper(
        &self,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut cursor: Option<i64> = None;
            let mut log = crate::worker_log::PassLog::new("report keeper");
            while tick_or_stop(every, &mut stop).await {
                let pass = async {
                    match cursor.as_mut() {
                        Some(c) => store.keep_changed(c).await,
                        None => {
                            let head = store.audit_head().await?.map_or(0, |h| h.command);
                            let n = store.keep_report_facts().await?;
                            cursor = Some(head);
                            Ok(n)
                        }
                    }
                };
                let pass = pass.await;
                if let Ok(n) = pass
                    && n > 0
                {
                    tracing::debug!(measured = n, "report facts kept")
                }
                log.pass(&pass);
            }
        })
    }
}
