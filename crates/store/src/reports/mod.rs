//! What the programme's overseers read (issue "Oversight"): the applications of a period as
//! cases ([`Store::cases`], a page at a time), what is measured on each ([`measure`]) and the
//! report's figures over them ([`figures`]). The same cases feed the exports (CSV, XES,
//! OCEL), so a figure and the rows behind it cannot disagree.
//!
//! Who may read which programme is the policy's to decide; it hands the store a
//! [`CaseQuery::overseen_by`] for an observer.

mod cases;
pub mod facts;
pub mod figures;
mod kept;
pub mod measure;
mod queues;
mod report;

use chrono::{DateTime, Utc};
use softland_workflow::Status;
use uuid::Uuid;

pub use cases::CaseCursor;
pub use queues::{Queue, band};

use crate::records::TaskStatus;
use softland_workflow::Assignee;

/// Which date puts an application in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeriodBy {
    /// Submitted in it.
    #[default]
    Submission,
    /// Decided (finished: approved, rejected, withdrawn, lapsed, …) in it.
    Decision,
}

/// Which applications a report or an export covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseQuery {
    /// The period's first instant.
    pub from: DateTime<Utc>,
    /// The instant after the period.
    pub to: DateTime<Utc>,
    /// Which date the period applies to.
    pub by: PeriodBy,
    /// Only this workflow.
    pub workflow_key: Option<String>,
    /// Only the programmes this agency oversees (an observer's scope).
    pub overseen_by: Option<String>,
    /// Only applicants of this region (`mainland`, `hk`).
    pub region: Option<String>,
    /// Only this outcome (`approved`, `rejected`, `lapsed`, …), `withdrawn` or `open`.
    pub outcome: Option<String>,
}

impl CaseQuery {
    /// Every application submitted in `[from, to)`.
    pub fn submitted(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self {
            from,
            to,
            by: PeriodBy::default(),
            workflow_key: None,
            overseen_by: None,
            region: None,
            outcome: None,
        }
    }
}

/// A task of a case: what the figures and exports need of it (never who acted).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseTask {
    /// Its number within the application.
    pub task_no: u32,
    /// Its step (state name).
    pub state: String,
    /// The step's English title.
    pub title: String,
    /// Whose it is.
    pub assignee: Assignee,
    /// Open, completed or cancelled.
    pub status: TaskStatus,
    /// When it falls (or fell) due.
    pub due_at: Option<DateTime<Utc>>,
    /// Whether it went overdue.
    pub overdue: bool,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Whether someone holds its claim.
    pub claimed: bool,
    /// The workflow whose labels it has.
    pub workflow_key: String,
    /// That workflow's version.
    pub workflow_version: i32,
}

/// A document linked to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDocument {
    /// Its id.
    pub id: Uuid,
    /// The media type its content was recognised as.
    pub media_type: String,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
    /// Whether its content was erased.
    pub erased: bool,
}

/// One application as reports and exports measure it.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Its id.
    pub id: Uuid,
    /// Its reference (`SZHK-2026-0042`).
    pub reference: String,
    /// Its workflow.
    pub workflow_key: String,
    /// The version it runs.
    pub workflow_version: i32,
    /// The applicant organisation's key.
    pub organization: String,
    /// Its English name.
    pub organization_name: String,
    /// Its region (`mainland`, `hk`), if the directory says.
    pub region: Option<String>,
    /// Active, completed or withdrawn.
    pub status: Status,
    /// Its outcome once finished.
    pub outcome: Option<String>,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// When it finished (its `completed` or `withdrawn` entry).
    pub decided_at: Option<DateTime<Utc>>,
    /// Its tasks, in the order they opened.
    pub tasks: Vec<CaseTask>,
    /// The steps whose task was reassigned on overdue, once per reassignment.
    pub reassigned: Vec<String>,
    /// Its documents, in the order they were linked.
    pub documents: Vec<CaseDocument>,
}

impl Case {
    /// The case as it stood at `t`: what happened after it left out (an export made in two
    /// passes reads the same case both times).
    pub fn as_of(mut self, t: DateTime<Utc>) -> Self {
        self.tasks.retain(|task| task.opened_at <= t);
        for task in &mut self.tasks {
            if task.closed_at.is_some_and(|c| c > t) {
                task.closed_at = None;
                task.status = TaskStatus::Open;
            }
        }
        self.documents.retain(|d| d.linked_at <= t);
        if self.decided_at.is_some_and(|d| d > t) {
            self.decided_at = None;
            self.outcome = None;
            self.status = Status::Active;
        }
        self
    }

    /// What it came to: its outcome, `withdrawn`, or `open` while it runs.
    pub fn result(&self) -> &str {
        result_of(self.status, self.outcome.as_deref())
    }
}

/// What an application came to: its outcome, `withdrawn`, or `open` while it runs.
fn result_of(status: Status, outcome: Option<&str>) -> &str {
    match (status, outcome) {
        (Status::Withdrawn, _) => "withdrawn",
        (Status::Active, _) => "open",
        (Status::Completed, Some(o)) => o,
        (Status::Completed, None) => "completed",
    }
}

impl crate::Store {
    /// The report's figures over every case of `q`, as of `now`; only `agency`'s steps when
    /// given. Reads the period a page at a time, with each application's kept facts.
    pub async fn report(
        &self,
        q: &CaseQuery,
        agency: Option<&str>,
        now: DateTime<Utc>,
    ) -> crate::Result<figures::Report> {
        let mut figures = figures::Figures::new(
            self.calendars(),
            now,
            q.by == PeriodBy::Decision,
            agency.map(str::to_owned),
        );
        // A period of submissions is read in two halves at once, each a page at a time on a
        // task of its own, while the pages read are counted here.
        let parts = match q.by {
            PeriodBy::Submission if q.to - q.from > chrono::Duration::days(1) => {
                let mid = q.from + (q.to - q.from) / 2;
                vec![
                    CaseQuery {
                        to: mid,
                        ..q.clone()
                    },
                    CaseQuery {
                        from: mid,
                        ..q.clone()
                    },
                ]
            }
            _ => vec![q.clone()],
        };
        let (pages, mut read) = tokio::sync::mpsc::channel(READ_AHEAD);
        let readers: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let (store, pages) = (self.clone(), pages.clone());
                tokio::spawn(async move { store.read_pages(part, pages).await })
            })
            .collect();
        drop(pages);
        while let Some(page) = read.recv().await {
            for m in &page? {
                figures.add(&m.entry(), &m.facts);
            }
        }
        // Every page was counted only if every reader finished.
        for reader in readers {
            reader.await.map_err(|e| {
                tracing::error!(error = %e, "a report's reader failed");
                crate::Error::Unavailable("the report could not be made".to_owned())
            })?;
        }
        Ok(figures.finish())
    }

    /// Reads every page of `q` into `pages` (an error ends it).
    async fn read_pages(&self, q: CaseQuery, pages: tokio::sync::mpsc::Sender<Page>) {
        let mut after = None;
        loop {
            let (page, next) = match self.measured(&q, after, REPORT_PAGE).await {
                Ok(read) => read,
                Err(e) => {
                    let _ = pages.send(Err(e)).await;
                    return;
                }
            };
            if pages.send(Ok(page)).await.is_err() {
                return;
            }
            match next {
                Some(n) => after = Some(n),
                None => return,
            }
        }
    }
}

/// A page of a report's applications.
type Page = crate::Result<Vec<kept::Measured>>;

/// Applications a report reads at a time (a row each, its facts kept).
const REPORT_PAGE: u64 = 1_000;

/// Pages read ahead of the counting.
const READ_AHEAD: usize = 4;

/// Applications read at a time.
pub const PAGE: u64 = 500;

#[cfg(test)]
mod tests;

/// The audit log's newest entry: what an export was made after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Its id (entries are numbered in the order they were written).
    pub event: i64,
    /// When it happened.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Its hash (the application's chain up to it).
    pub hash: String,
    /// The outbox row of the command that wrote it (commands are numbered in the order they
    /// were written; the report keeper follows them from here).
    pub command: i64,
}

impl crate::Store {
    /// The newest entry of the audit log, if any: the last entry of the last command written
    /// (the outbox's last row, read backwards along its key, then that entry by the log's
    /// key). Every command that appends entries writes one outbox row in the same
    /// transaction.
    pub async fn audit_head(&self) -> crate::Result<Option<AuditHead>> {
        use crate::entity::{event, outbox};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        let last: Option<(i64, uuid::Uuid, i64)> = outbox::Entity::find()
            .select_only()
            .columns([
                outbox::Column::Id,
                outbox::Column::ApplicationId,
                outbox::Column::LastSeq,
            ])
            .order_by_desc(outbox::Column::Id)
            .limit(1)
            .into_tuple()
            .one(self.db())
            .await?;
        let Some((command, application, seq)) = last else {
            return Ok(None);
        };
        let entry: Option<(i64, chrono::DateTime<chrono::Utc>, String)> = event::Entity::find()
            .select_only()
            .columns([event::Column::Id, event::Column::At, event::Column::Hash])
            .filter(event::Column::ApplicationId.eq(application))
            .filter(event::Column::Seq.eq(seq))
            .into_tuple()
            .one(self.db())
            .await?;
        let (event, at, hash) = entry.ok_or_else(|| {
            crate::error::corrupt(format!(
                "outbox row {command} names entry {seq} of {application}, which is not in the log"
            ))
        })?;
        Ok(Some(AuditHead {
            event,
            at,
            hash,
            command,
        }))
    }
}
