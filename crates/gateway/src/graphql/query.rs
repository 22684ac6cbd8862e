//! Queries.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use softland_store::{ApplicationFilter, ClaimFilter, InboxFilter, InboxOrder, InboxOwner};

use super::input::{MAX_NAME, bounded};
use super::types::{
    Application, ApplicationStatus, Node, PrincipalView, Role, Task, Workflow, workflow_view,
};
use super::{principal, store};
use crate::error::{GqlResult, from_store, refused};
use softland_policy::Principal;

/// The applications' queries.
#[derive(Debug, Default)]
pub struct AppQuery;

/// The application, if the caller may see it.
async fn visible_application(ctx: &Context<'_>, id: uuid::Uuid) -> GqlResult<Option<Application>> {
    Ok(principal(ctx)?
        .visible_application(store(ctx), id)
        .await
        .map_err(refused)?
        .map(Into::into))
}

use super::limits::DEFAULT_PAGE;

#[Object]
impl AppQuery {
    /// Who the caller is.
    async fn me(&self, ctx: &Context<'_>) -> GqlResult<PrincipalView> {
        Ok(match principal(ctx)? {
            Principal::Admin { name } => PrincipalView {
                role: Role::Admin,
                name: name.clone(),
                lead: false,
                agency: None,
                organization: None,
            },
            Principal::Reviewer { name, agency, lead } => PrincipalView {
                role: Role::Reviewer,
                name: name.clone(),
                lead: *lead,
                agency: Some(agency.clone()),
                organization: None,
            },
            Principal::Observer { name, agency } => PrincipalView {
                role: Role::Observer,
                name: name.clone(),
                lead: false,
                agency: Some(agency.clone()),
                organization: None,
            },
            Principal::Applicant {
                name,
                organization,
                lead,
            } => PrincipalView {
                role: Role::Applicant,
                name: name.clone(),
                lead: *lead,
                agency: None,
                organization: Some(organization.clone()),
            },
        })
    }

    /// The latest version of each published workflow.
    async fn workflows(&self, ctx: &Context<'_>) -> GqlResult<Vec<Workflow>> {
        principal(ctx)?;
        let mut out = Vec::new();
        for d in store(ctx).definitions().await.map_err(from_store)? {
            out.push(workflow_view(store(ctx), d).await?);
        }
        Ok(out)
    }

    /// One workflow version (the latest when `version` is omitted).
    async fn workflow(
        &self,
        ctx: &Context<'_>,
        key: String,
        version: Option<i32>,
        #[graphql(
            desc = "The language of everything inside — its title, description, states and their actions — unless a field asks for another (see `Locale`)."
        )]
        locale: Option<super::Locale>,
    ) -> GqlResult<Option<Workflow>> {
        principal(ctx)?;
        match store(ctx)
            .definition(&key, version)
            .await
            .map_err(from_store)?
        {
            Some(d) => {
                let mut view = workflow_view(store(ctx), d).await?;
                view.locale = locale.map(|l| l.0);
                Ok(Some(view))
            }
            None => Ok(None),
        }
    }

    /// An application; null when absent or not visible to the caller.
    async fn application(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<Application>> {
        let Ok(id) = id.parse::<uuid::Uuid>() else {
            return Ok(None);
        };
        visible_application(ctx, id).await
    }

    /// Any object by its global id (Relay's Global Object Identification): an application, a
    /// task or a workflow version; null when absent or not visible to the caller.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<Node>> {
        principal(ctx)?;
        if let Some((key, version)) = Workflow::parse_id(&id) {
            return match store(ctx)
                .definition(key, Some(version))
                .await
                .map_err(from_store)?
            {
                Some(d) if d.version == version => {
                    Ok(Some(Node::Workflow(workflow_view(store(ctx), d).await?)))
                }
                _ => Ok(None),
            };
        }
        let Ok(uuid) = id.parse::<uuid::Uuid>() else {
            return Ok(None);
        };
        if let Some(app) = visible_application(ctx, uuid).await? {
            return Ok(Some(Node::Application(app)));
        }
        let Some(task) = store(ctx).task(uuid).await.map_err(from_store)? else {
            return Ok(None);
        };
        Ok(visible_application(ctx, task.application_id)
            .await?
            .map(|_| Node::Task(task.into())))
    }

    /// Applications the caller may see, newest first, filtered; `totalCount` counts every
    /// page.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        status: Option<ApplicationStatus>,
        workflow_key: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ApplicationFilterInput>,
    ) -> GqlResult<Connection<String, Application, Total>> {
        let more = filter.unwrap_or_default();
        bounded("search", more.search.as_deref(), MAX_NAME)?;
        let mut filter = ApplicationFilter {
            status: more.status.or(status).map(Into::into),
            workflow_key: more.workflow_key.or(workflow_key),
            organization: more.organization,
            outcome: more.outcome,
            submitted_after: more.submitted_after,
            submitted_before: more.submitted_before,
            search: more.search.filter(|s| !s.trim().is_empty()),
            ..Default::default()
        };
        if !principal(ctx)?.scope_applications(&mut filter) {
            return Ok(empty());
        }
        let first = first.unwrap_or(DEFAULT_PAGE).max(1) as u64;
        let page = store(ctx)
            .applications(&filter, first, after.as_deref())
            .await
            .map_err(from_store)?;
        Ok(connection(
            page,
            after.is_some(),
            Total::Applications(filter),
        ))
    }

    /// Open tasks the caller may act on — soonest due first, or oldest first — filtered;
    /// `totalCount` counts every page.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn inbox(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<InboxFilterInput>,
        order_by: Option<InboxOrderBy>,
    ) -> GqlResult<Connection<String, Task, Total>> {
        let who = principal(ctx)?;
        let Some(owner) = who.inbox() else {
            return Ok(empty());
        };
        let f = filter.unwrap_or_default();
        for (name, v) in [
            ("workflowKey", &f.workflow_key),
            ("state", &f.state),
            ("organization", &f.organization),
            ("firm", &f.firm),
        ] {
            bounded(name, v.as_deref(), MAX_NAME)?;
        }
        let filter = InboxFilter {
            workflow_key: f.workflow_key,
            state: f.state,
            overdue: f.overdue,
            due_before: f.due_before,
            due_after: f.due_after,
            claim: f.claim.map(|c| match c {
                ClaimedBy::Me => ClaimFilter::By(who.name().to_owned()),
                ClaimedBy::Nobody => ClaimFilter::Unclaimed,
                ClaimedBy::Anyone => ClaimFilter::Claimed,
            }),
            organization: f.organization,
            firm: f.firm,
            order: match order_by.unwrap_or_default() {
                InboxOrderBy::DueAt => InboxOrder::Due,
                InboxOrderBy::OpenedAt => InboxOrder::Opened,
            },
        };
        let first = first.unwrap_or(DEFAULT_PAGE).max(1) as u64;
        let page = store(ctx)
            .inbox(&owner, &filter, first, after.as_deref())
            .await
            .map_err(from_store)?;
        Ok(connection(
            page,
            after.is_some(),
            Total::Inbox(owner, filter),
        ))
    }
}

/// Which tasks by their claim.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ClaimedBy {
    /// Claimed by the caller.
    Me,
    /// Claimed by nobody.
    Nobody,
    /// Claimed by anyone.
    Anyone,
}

/// The order of an inbox.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum InboxOrderBy {
    /// Soonest due first; tasks without a due time last.
    #[default]
    DueAt,
    /// Oldest first.
    OpenedAt,
}

/// What an inbox shows.
#[derive(InputObject, Debug, Default)]
pub struct InboxFilterInput {
    /// Only tasks of this workflow.
    pub workflow_key: Option<String>,
    /// Only tasks of this state.
    pub state: Option<String>,
    /// Only overdue tasks (true) or only those not overdue (false).
    pub overdue: Option<bool>,
    /// Only tasks falling due at or before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Only tasks falling due at or after this time.
    pub due_after: Option<DateTime<Utc>>,
    /// By their claim.
    pub claim: Option<ClaimedBy>,
    /// Only tasks of this applicant organization's applications.
    pub organization: Option<String>,
    /// Only tasks of firms one of whose names — English, Traditional or Simplified Chinese —
    /// or whose key contains this, in any case ("pengcheng", "鵬程").
    pub firm: Option<String>,
}

/// Which applications a list shows.
#[derive(InputObject, Debug, Default)]
pub struct ApplicationFilterInput {
    /// Only this status.
    pub status: Option<ApplicationStatus>,
    /// Only this workflow.
    pub workflow_key: Option<String>,
    /// Only this applicant organization's (a firm sees only its own anyway).
    pub organization: Option<String>,
    /// Only applications that ended with this outcome (`approved`, `rejected`, `withdrawn`…).
    pub outcome: Option<String>,
    /// Only applications submitted at or after this time.
    pub submitted_after: Option<DateTime<Utc>>,
    /// Only applications submitted before this time.
    pub submitted_before: Option<DateTime<Utc>>,
    /// Only applications of organizations whose name contains this text (any case).
    pub search: Option<String>,
}

/// A list's size over every page, counted only when asked for.
pub enum Total {
    /// Of an inbox.
    Inbox(InboxOwner, InboxFilter),
    /// Of a list of applications.
    Applications(ApplicationFilter),
    /// Of a list that is empty for the caller.
    Nothing,
}

#[Object]
impl Total {
    /// How many items every page holds together. With `upTo`, counting stops past it: a
    /// result above `upTo` means "more than `upTo`" (what a page shows as "10,000+"), and a
    /// big list costs no more to count than `upTo` items.
    async fn total_count(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 1, maximum = 1_000_000))] up_to: Option<u64>,
    ) -> GqlResult<u64> {
        match self {
            Total::Inbox(owner, filter) => store(ctx).count_inbox_up_to(owner, filter, up_to).await,
            Total::Applications(filter) => store(ctx).count_applications_up_to(filter, up_to).await,
            Total::Nothing => Ok(0),
        }
        .map_err(from_store)
    }
}

fn empty<U: async_graphql::OutputType>() -> Connection<String, U, Total> {
    Connection::with_additional_fields(false, false, Total::Nothing)
}

/// A store page as a Relay connection.
fn connection<T, U: From<T> + async_graphql::OutputType>(
    page: softland_store::Page<T>,
    has_previous: bool,
    total: Total,
) -> Connection<String, U, Total> {
    let mut conn = Connection::with_additional_fields(has_previous, page.has_next, total);
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|(c, item)| Edge::new(c, U::from(item))),
    );
    conn
}
