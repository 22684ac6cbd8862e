//! Queries.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Json, Object};
use softland_store::{ApplicationFilter, DefinitionRecord, InboxOwner, Store};
use softland_workflow::diagram::{Format, render};

use super::types::{Application, ApplicationStatus, Node, PrincipalView, Role, Task, Workflow};
use super::{principal, store};
use crate::error::{GqlResult, from_store};
use crate::policy::Principal;

/// Root queries.
#[derive(Debug, Default)]
pub struct Query;

pub(crate) async fn workflow_view(store: &Store, d: DefinitionRecord) -> GqlResult<Workflow> {
    let wf = store
        .workflow(&d.key, d.version)
        .await
        .map_err(from_store)?;
    Ok(Workflow {
        id: Workflow::id_of(&d.key, d.version),
        mermaid: render(&wf, Format::Mermaid),
        compiled: wf,
        key: d.key,
        version: d.version,
        application_schema: Json(d.form_schema),
        source: d.source,
        retired_at: d.retired_at,
    })
}

/// The application, if the caller may see it.
async fn visible_application(ctx: &Context<'_>, id: uuid::Uuid) -> GqlResult<Option<Application>> {
    let who = principal(ctx)?;
    let Some(app) = store(ctx).application(id).await.map_err(from_store)? else {
        return Ok(None);
    };
    Ok(if who.can_see(store(ctx), &app).await? {
        Some(app.into())
    } else {
        None
    })
}

pub(crate) fn parse_id(id: &ID, what: &str) -> GqlResult<uuid::Uuid> {
    id.parse::<uuid::Uuid>()
        .map_err(|_| crate::error::not_found(what.to_owned()))
}

const DEFAULT_PAGE: i32 = 20;

#[Object]
impl Query {
    /// Who the caller is.
    async fn me(&self, ctx: &Context<'_>) -> GqlResult<PrincipalView> {
        Ok(match principal(ctx)? {
            Principal::Admin { name } => PrincipalView {
                role: Role::Admin,
                name: name.clone(),
                agency: None,
                organization: None,
            },
            Principal::Reviewer { name, agency } => PrincipalView {
                role: Role::Reviewer,
                name: name.clone(),
                agency: Some(agency.clone()),
                organization: None,
            },
            Principal::Applicant { name, organization } => PrincipalView {
                role: Role::Applicant,
                name: name.clone(),
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
    ) -> GqlResult<Option<Workflow>> {
        principal(ctx)?;
        match store(ctx)
            .definition(&key, version)
            .await
            .map_err(from_store)?
        {
            Some(d) => Ok(Some(workflow_view(store(ctx), d).await?)),
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

    /// Applications the caller may see, newest first.
    async fn applications(
        &self,
        ctx: &Context<'_>,
        status: Option<ApplicationStatus>,
        workflow_key: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, Application>> {
        let mut filter = ApplicationFilter {
            status: status.map(Into::into),
            workflow_key,
            ..Default::default()
        };
        match principal(ctx)? {
            Principal::Admin { .. } => {}
            Principal::Reviewer { agency, .. } => filter.agency = Some(agency.clone()),
            Principal::Applicant { organization, .. } => {
                filter.organization = Some(organization.clone())
            }
        }
        let first = first.unwrap_or(DEFAULT_PAGE).max(1) as u64;
        let page = store(ctx)
            .applications(&filter, first, after.as_deref())
            .await
            .map_err(from_store)?;
        Ok(connection(page, after.is_some()))
    }

    /// Open tasks the caller may act on, soonest due first.
    async fn inbox(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, Task>> {
        let owner = match principal(ctx)? {
            Principal::Admin { .. } => return Ok(Connection::new(false, false)),
            Principal::Reviewer { agency, .. } => InboxOwner::Agency(agency.clone()),
            Principal::Applicant { organization, .. } => {
                InboxOwner::Applicant(organization.clone())
            }
        };
        let first = first.unwrap_or(DEFAULT_PAGE).max(1) as u64;
        let page = store(ctx)
            .inbox(&owner, first, after.as_deref())
            .await
            .map_err(from_store)?;
        Ok(connection(page, after.is_some()))
    }
}

/// A store page as a Relay connection.
fn connection<T, U: From<T> + async_graphql::OutputType>(
    page: softland_store::Page<T>,
    has_previous: bool,
) -> Connection<String, U> {
    let mut conn = Connection::new(has_previous, page.has_next);
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|(c, item)| Edge::new(c, U::from(item))),
    );
    conn
}
