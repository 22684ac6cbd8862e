//! The applications a report or an export covers, one page at a time, each with what the
//! figures are measured on: its reference, organisation and region, its tasks, when it was
//! decided and which of its tasks were reassigned on overdue. Pages are read in submission
//! order (`ix_applications_submitted`) and hold a few hundred applications, so an export of a
//! million never holds more than one page.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use softland_workflow::Status;
use uuid::Uuid;

use super::{Case, CaseDocument, CaseQuery, CaseTask, PeriodBy};
use crate::entity::enums::AppStatus;
use crate::entity::enums::TaskStatus as DbTaskStatus;
use crate::entity::{application, document, event, organization, task};
use crate::error::Result;
use crate::reads::queries::after_pair;
use crate::records::TaskStatus;
use crate::rows::status_of;
use crate::{ApplicationFilter, Store};

/// The columns of a task a case needs.
#[derive(Debug, sea_orm::FromQueryResult)]
struct TaskRow {
    application_id: Uuid,
    task_no: i32,
    state: String,
    title: String,
    assignee: String,
    status: DbTaskStatus,
    due_at: Option<DateTime<Utc>>,
    overdue: bool,
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    claimed_by: Option<String>,
    workflow_key: String,
    workflow_version: i32,
}

/// Where the next page starts: after this submission time and id.
pub type CaseCursor = (DateTime<Utc>, Uuid);

/// The columns of an application a case needs (not its form or its engine state).
pub(super) type Head = (
    Uuid,
    String,
    i32,
    String,
    AppStatus,
    Option<String>,
    DateTime<Utc>,
);

impl Store {
    /// The next page of at most `first` cases after `after`, and where the one after it starts
    /// (`None` at the end). Under [`PeriodBy::Decision`] a page may hold fewer than `first`
    /// cases (those decided outside the period are left out) and still not be the last.
    pub async fn cases(
        &self,
        q: &CaseQuery,
        after: Option<CaseCursor>,
        first: u64,
    ) -> Result<(Vec<Case>, Option<CaseCursor>)> {
        use application::Column as A;
        let Some(find) = self.period_select(q, after).await? else {
            return Ok((Vec::new(), None));
        };
        let heads: Vec<Head> = find
            .columns([
                A::Id,
                A::WorkflowKey,
                A::WorkflowVersion,
                A::Organization,
                A::Status,
                A::Outcome,
                A::SubmittedAt,
            ])
            .limit(first)
            .into_tuple()
            .all(self.db())
            .await?;
        let next = (heads.len() as u64 == first)
            .then(|| heads.last().map(|h| (h.6, h.0)))
            .flatten();
        let mut cases = self.fill(heads).await?;
        if q.by == PeriodBy::Decision {
            cases.retain(|c| c.decided_at.is_some_and(|t| t >= q.from && t < q.to));
        }
        Ok((cases, next))
    }

    /// The applications of `q`'s period after `after`, no columns chosen yet (`None`: an
    /// observer who oversees nothing).
    pub(super) async fn period_select(
        &self,
        q: &CaseQuery,
        after: Option<CaseCursor>,
    ) -> Result<Option<Select<application::Entity>>> {
        use application::Column as A;
        let scope = ApplicationFilter {
            overseen_by: q.overseen_by.clone(),
            ..ApplicationFilter::default()
        };
        let Some(overseen) = self.overseen_condition(&scope).await? else {
            return Ok(None);
        };
        let mut find = application::Entity::find()
            .select_only()
            .filter(overseen)
            .filter(A::SubmittedAt.lt(q.to));
        find = match q.by {
            // From the page's start: with the period's start beside the cursor, SQLite may
            // take the period's as the index range's bound and walk every earlier page again.
            PeriodBy::Submission => find
                .filter(A::SubmittedAt.gte(after.map_or(q.from, |(at, _)| Ord::max(at, q.from)))),
            // Decided in the period: finished, and last changed no earlier than its start.
            PeriodBy::Decision => find
                .filter(A::Status.ne(AppStatus::Active))
                .filter(A::UpdatedAt.gte(q.from)),
        };
        if let Some(key) = &q.workflow_key {
            find = find.filter(A::WorkflowKey.eq(key.as_str()));
        }
        if let Some(outcome) = &q.outcome {
            find = find.filter(match outcome.as_str() {
                "withdrawn" => A::Status.eq(AppStatus::Withdrawn),
                "open" => A::Status.eq(AppStatus::Active),
                o => A::Outcome.eq(o),
            });
        }
        if let Some(region) = &q.region {
            let in_region = Query::select()
                .column(organization::Column::Key)
                .from(organization::Entity)
                .and_where(organization::Column::Region.eq(region.as_str()))
                .to_owned();
            find = find.filter(A::Organization.in_subquery(in_region));
        }
        if let Some((at, id)) = after {
            find = find.filter(after_pair(A::SubmittedAt, at, A::Id, id));
        }
        Ok(Some(find.order_by_asc(A::SubmittedAt).order_by_asc(A::Id)))
    }

    /// Cases of these applications: their tasks, decisions, reassignments, documents,
    /// organisations and references, read in one query each.
    pub(super) async fn fill(&self, heads: Vec<Head>) -> Result<Vec<Case>> {
        if heads.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = heads.iter().map(|h| h.0).collect();
        let read_tasks = async {
            let mut tasks: HashMap<Uuid, Vec<CaseTask>> = HashMap::new();
            let mut flagged: Vec<Uuid> = Vec::new();
            for t in task::Entity::find()
                .select_only()
                .columns([
                    task::Column::ApplicationId,
                    task::Column::TaskNo,
                    task::Column::State,
                    task::Column::Title,
                    task::Column::Assignee,
                    task::Column::Status,
                    task::Column::DueAt,
                    task::Column::Overdue,
                    task::Column::OpenedAt,
                    task::Column::ClosedAt,
                    task::Column::ClaimedBy,
                    task::Column::WorkflowKey,
                    task::Column::WorkflowVersion,
                ])
                .filter(task::Column::ApplicationId.is_in(ids.iter().copied()))
                .order_by_asc(task::Column::ApplicationId)
                .order_by_asc(task::Column::TaskNo)
                .into_model::<TaskRow>()
                .all(self.db())
                .await?
            {
                if t.overdue {
                    flagged.push(t.application_id);
                }
                tasks.entry(t.application_id).or_default().push(CaseTask {
                    task_no: u32::try_from(t.task_no).unwrap_or_default(),
                    state: t.state,
                    title: t.title,
                    assignee: softland_workflow::Assignee::parse(&t.assignee),
                    status: match t.status {
                        DbTaskStatus::Open => TaskStatus::Open,
                        DbTaskStatus::Completed => TaskStatus::Completed,
                        DbTaskStatus::Cancelled => TaskStatus::Cancelled,
                    },
                    due_at: t.due_at,
                    overdue: t.overdue,
                    opened_at: t.opened_at,
                    closed_at: t.closed_at,
                    claimed: t.claimed_by.is_some(),
                    workflow_key: t.workflow_key,
                    workflow_version: t.workflow_version,
                });
            }
            Ok::<_, crate::Error>((tasks, flagged))
        };
        let read_documents = async {
            let mut documents: HashMap<Uuid, Vec<CaseDocument>> = HashMap::new();
            for d in document::Entity::find()
                .filter(document::Column::ApplicationId.is_in(ids.iter().copied()))
                .order_by_asc(document::Column::LinkedAt)
                .all(self.db())
                .await?
            {
                if let Some(app) = d.application_id {
                    documents.entry(app).or_default().push(CaseDocument {
                        id: d.id,
                        media_type: d.media_type,
                        linked_at: d.linked_at.unwrap_or(d.uploaded_at),
                        erased: d.erased_at.is_some(),
                    });
                }
            }
            Ok::<_, crate::Error>(documents)
        };
        let orgs: Vec<String> = heads.iter().map(|h| h.3.clone()).collect();
        let read_names = async {
            let names: HashMap<String, (String, Option<String>)> = self
                .organizations_by_key(&orgs)
                .await?
                .into_iter()
                .map(|o| (o.key, (o.name, o.region)))
                .collect();
            Ok::<_, crate::Error>(names)
        };
        // The page's reads at once, each on its own connection.
        let ((mut tasks, flagged), mut documents, names, numbers) = tokio::try_join!(
            read_tasks,
            read_documents,
            read_names,
            self.numbers_given(&ids)
        )?;
        // Decisions and reassignments are read only where there can be one: finished
        // applications, and those with a task that went overdue.
        let marked: Vec<Uuid> = heads
            .iter()
            .filter(|h| h.4 != AppStatus::Active)
            .map(|h| h.0)
            .chain(flagged)
            .collect();
        let marks: Vec<(Uuid, String, Option<String>, DateTime<Utc>)> = event::Entity::find()
            .select_only()
            .columns([
                event::Column::ApplicationId,
                event::Column::Kind,
                event::Column::State,
                event::Column::At,
            ])
            .filter(event::Column::ApplicationId.is_in(marked))
            .filter(event::Column::Kind.is_in(["completed", "withdrawn", "task_reassigned"]))
            .into_tuple()
            .all(self.db())
            .await?;
        let mut decided: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
        let mut reassigned: HashMap<Uuid, Vec<String>> = HashMap::new();
        for (id, kind, state, at) in marks {
            if kind == "task_reassigned" {
                reassigned
                    .entry(id)
                    .or_default()
                    .push(state.unwrap_or_default());
            } else {
                decided.insert(id, at);
            }
        }
        let mut out = Vec::with_capacity(heads.len());
        for (id, key, version, org, status, outcome, submitted_at) in heads {
            let number = match numbers.get(&id) {
                Some(n) => *n,
                None => self.application_number(id).await?,
            };
            let prefix = self.workflow(&key, version).await?.reference().to_owned();
            let (organization_name, region) =
                names.get(&org).cloned().unwrap_or((org.clone(), None));
            let status: Status = status_of(status);
            out.push(Case {
                reference: crate::reference(&prefix, hong_kong_year(submitted_at), number),
                id,
                workflow_key: key,
                workflow_version: version,
                organization: org,
                organization_name,
                region,
                status,
                outcome,
                submitted_at,
                decided_at: decided
                    .get(&id)
                    .copied()
                    .filter(|_| status != Status::Active),
                tasks: tasks.remove(&id).unwrap_or_default(),
                reassigned: reassigned.remove(&id).unwrap_or_default(),
                documents: documents.remove(&id).unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

/// The year of `t` in Hong Kong (references count by it).
fn hong_kong_year(t: DateTime<Utc>) -> i32 {
    use chrono::Datelike;
    t.with_timezone(&softland_workflow::HONG_KONG).year()
}
