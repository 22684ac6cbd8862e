//! The reviewer's inbox: the API's `inbox` with its filters and order, overdue and due-soon
//! tasks marked, refreshed every few seconds by htmx (`/inbox/rows`, the table alone) so new
//! tasks arrive without a reload.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::{Frame, failure, html};
use crate::Console;
use crate::i18n::{Text, hk_time};
use crate::visitor::{SignedIn, Visitor, encode};

/// Tasks due within this many hours are "due soon".
const DUE_SOON_HOURS: i64 = 48;

const INBOX: &str = r#"query($filter: InboxFilterInput, $overdueFilter: InboxFilterInput, $order: InboxOrderBy, $upTo: Int) {
  workflows { key title }
  inbox(first: 50, filter: $filter, orderBy: $order) {
    totalCount(upTo: $upTo)
    nodes {
      id applicationId title assignee dueAt overdue openedAt claimedBy
      application { reference organizationName workflowKey }
    }
  }
  overdue: inbox(first: 1, filter: $overdueFilter) { totalCount(upTo: $upTo) }
}"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    workflows: Vec<WorkflowChoice>,
    inbox: Connection,
    overdue: Count,
}

/// A workflow to filter by.
#[derive(Deserialize, Debug)]
struct WorkflowChoice {
    key: String,
    title: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    total_count: i64,
    nodes: Vec<Task>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Count {
    total_count: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    id: String,
    application_id: String,
    title: String,
    due_at: Option<DateTime<Utc>>,
    overdue: bool,
    opened_at: DateTime<Utc>,
    claimed_by: Option<String>,
    application: TaskApplication,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskApplication {
    reference: String,
    organization_name: String,
    workflow_key: String,
}

/// One row of the table.
#[derive(Debug)]
struct Row {
    href: String,
    title: String,
    reference: String,
    firm: String,
    workflow: String,
    opened: String,
    due: String,
    overdue: bool,
    due_soon: bool,
    claimed_by: String,
}

/// The filters (`/inbox?claim=me&overdue=yes&order=opened`).
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Filters {
    claim: Option<String>,
    overdue: Option<String>,
    order: Option<String>,
    /// Only this workflow's tasks (a key; empty: all).
    workflow: Option<String>,
    /// Only tasks of firms one of whose names (or key) contains this (empty: all).
    firm: Option<String>,
}

impl Filters {
    fn variables(&self) -> serde_json::Value {
        let claim = match self.claim.as_deref() {
            Some("me") => Some("ME"),
            Some("nobody") => Some("NOBODY"),
            _ => None,
        };
        let overdue = match self.overdue.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        };
        let order = match self.order.as_deref() {
            Some("opened") => "OPENED_AT",
            _ => "DUE_AT",
        };
        let text = |t: &Option<String>| {
            t.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let filter = json!({
            "claim": claim,
            "overdue": overdue,
            "workflowKey": text(&self.workflow),
            "firm": text(&self.firm),
        });
        // The overdue count follows the other filters too.
        let mut overdue_filter = filter.clone();
        overdue_filter["overdue"] = json!(overdue != Some(false));
        json!({
            "filter": filter,
            "overdueFilter": overdue_filter,
            "order": order,
            "upTo": COUNTED_UP_TO,
        })
    }

    fn query_string(&self) -> String {
        format!(
            "claim={}&overdue={}&order={}&workflow={}&firm={}",
            encode(self.claim.as_deref().unwrap_or("any")),
            encode(self.overdue.as_deref().unwrap_or("any")),
            encode(self.order.as_deref().unwrap_or("due")),
            encode(self.workflow.as_deref().unwrap_or_default()),
            encode(self.firm.as_deref().unwrap_or_default()),
        )
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    page: Frame,
    claim: String,
    overdue_filter: String,
    order: String,
    workflow: String,
    firm: String,
    workflows: Vec<WorkflowChoice>,
    table: Table,
}

/// The table, alone at `/inbox/rows`.
#[derive(Template)]
#[template(path = "inbox_rows.html")]
struct Table {
    t: &'static Text,
    query: String,
    /// How many, or `10,000+` (counting stops there).
    total: String,
    one: bool,
    overdue: String,
    rows: Vec<Row>,
}

async fn table(
    c: &Console,
    v: &Visitor,
    filters: &Filters,
) -> Result<(Table, Vec<WorkflowChoice>), Response> {
    let answer: Answer = c
        .call(v, INBOX, filters.variables())
        .await
        .map_err(|f| failure(v, &f))?;
    let t = v.t();
    let now = Utc::now();
    let rows = answer
        .inbox
        .nodes
        .into_iter()
        .map(|task| Row {
            href: format!("/applications/{}#task-{}", task.application_id, task.id),
            title: task.title,
            reference: task.application.reference,
            firm: task.application.organization_name,
            workflow: answer
                .workflows
                .iter()
                .find(|w| w.key == task.application.workflow_key)
                .map_or(task.application.workflow_key.clone(), |w| w.title.clone()),
            opened: hk_time(&task.opened_at, t),
            due: task.due_at.map(|d| hk_time(&d, t)).unwrap_or_default(),
            due_soon: !task.overdue
                && task
                    .due_at
                    .is_some_and(|d| d - now < chrono::Duration::hours(DUE_SOON_HOURS)),
            overdue: task.overdue,
            claimed_by: task.claimed_by.unwrap_or_default(),
        })
        .collect();
    let table = Table {
        t,
        query: filters.query_string(),
        total: counted(answer.inbox.total_count),
        one: answer.inbox.total_count == 1,
        overdue: counted(answer.overdue.total_count),
        rows,
    };
    Ok((table, answer.workflows))
}

/// A count the inbox's query stopped at [`COUNTED_UP_TO`]: beyond it, `10,000+`.
fn counted(n: i64) -> String {
    if n > COUNTED_UP_TO {
        format!("{}+", group_thousands(COUNTED_UP_TO))
    } else {
        n.to_string()
    }
}

/// Where the inbox's counts stop (its query's `totalCount(upTo: $upTo)`).
const COUNTED_UP_TO: i64 = 10_000;

fn group_thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `GET /inbox`.
pub(crate) async fn page(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Query(filters): Query<Filters>,
) -> Response {
    let (table, workflows) = match table(&c, &v, &filters).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    html(&InboxPage {
        page: Frame::new(&v, v.t().inbox_title, "/inbox"),
        claim: filters.claim.clone().unwrap_or_else(|| "any".into()),
        overdue_filter: filters.overdue.clone().unwrap_or_else(|| "any".into()),
        order: filters.order.clone().unwrap_or_else(|| "due".into()),
        workflow: filters.workflow.clone().unwrap_or_default(),
        firm: filters.firm.clone().unwrap_or_default(),
        workflows,
        table,
    })
}

/// `GET /inbox/rows`: the table alone, for htmx to swap in.
pub(crate) async fn rows(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Query(filters): Query<Filters>,
) -> Response {
    match table(&c, &v, &filters).await {
        Ok((t, _)) => html(&t),
        Err(refused) => refused,
    }
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn counts_past_the_cap_read_as_more() {
        assert_eq!(counted(0), "0");
        assert_eq!(counted(10_000), "10000");
        assert_eq!(counted(10_001), "10,000+");
    }
}
