//! Mutations.

use async_graphql::{Context, ID, InputObject, Json, Object};
use softland_store::{Act, Error as StoreError, Submit, Withdraw};
use softland_workflow::Workflow as Compiled;

use super::query::{parse_id, workflow_view};
use super::types::{Application, Task, Workflow, WorkflowError, WorkflowValidation};
use super::{WorkflowsDir, principal, store};
use crate::error::{GqlResult, bad_input, from_store, not_found};

/// Root mutations.
#[derive(Debug, Default)]
pub struct Mutation;

/// A new application.
#[derive(InputObject, Debug)]
pub struct SubmitApplicationInput {
    /// The workflow to apply to (its latest version).
    pub workflow_key: String,
    /// The application form.
    pub data: Json<serde_json::Value>,
    /// Retries with the same key return the first result.
    pub idempotency_key: Option<String>,
}

/// An action on a task.
#[derive(InputObject, Debug)]
pub struct ActInput {
    /// The task.
    pub task_id: ID,
    /// One of the task's actions.
    pub action: String,
    /// A comment for the record.
    pub comment: Option<String>,
    /// The action's input.
    pub data: Option<Json<serde_json::Value>>,
    /// Refuse (CONFLICT) unless the application is still at this revision.
    pub expected_revision: Option<i64>,
    /// Retries with the same key return the first result.
    pub idempotency_key: Option<String>,
}

fn loader(ctx: &Context<'_>) -> impl Fn(&str) -> Result<String, String> + 'static {
    let dir = ctx.data_unchecked::<WorkflowsDir>().0.clone();
    move |rel: &str| {
        if rel.contains("..") && !rel.starts_with("../schemas/") {
            return Err(format!(
                "`{rel}`: only files under the schemas directory can be referenced"
            ));
        }
        std::fs::read_to_string(dir.join(rel)).map_err(|e| format!("{rel}: {e}"))
    }
}

#[Object]
impl Mutation {
    /// Submits an application for the caller's organization.
    async fn submit_application(
        &self,
        ctx: &Context<'_>,
        input: SubmitApplicationInput,
    ) -> GqlResult<Application> {
        let who = principal(ctx)?;
        let organization = who.organization()?.to_owned();
        let out = store(ctx)
            .submit(Submit {
                workflow_key: input.workflow_key,
                organization,
                actor: who.actor()?,
                data: input.data.0,
                idempotency_key: input.idempotency_key,
            })
            .await
            .map_err(from_store)?;
        Ok(out.into())
    }

    /// Takes an action on a task.
    async fn act(&self, ctx: &Context<'_>, input: ActInput) -> GqlResult<Application> {
        let who = principal(ctx)?;
        let task_id = parse_id(&input.task_id, "task")?;
        // The store checks that the task is the caller's (agency, or organization) before its
        // claim and revision, in the same read that loads it: no extra round trip here.
        let result = store(ctx)
            .act(Act {
                task_id,
                actor: who.actor()?,
                organization: who.acting_organization(),
                action: input.action.clone(),
                comment: input.comment,
                input: input.data.map(|d| d.0),
                expected_revision: input.expected_revision,
                idempotency_key: input.idempotency_key,
            })
            .await;
        let out = match result {
            Ok(out) => out,
            Err(StoreError::NotYours {
                application_id,
                assignee,
            }) => return Err(who.refusal(store(ctx), application_id, &assignee).await),
            Err(StoreError::NotFound(_)) => return Err(not_found("task")),
            Err(e) => return Err(from_store(e)),
        };
        if let Some(completed) = out.events.iter().find(|e| e.kind == "task_completed") {
            crate::metrics::transition(
                &out.application.workflow_key,
                completed.state.as_deref().unwrap_or_default(),
                &input.action,
            );
        }
        Ok(out.into())
    }

    /// Withdraws one of the caller's organization's applications.
    async fn withdraw_application(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: Option<String>,
        idempotency_key: Option<String>,
    ) -> GqlResult<Application> {
        let who = principal(ctx)?;
        let org = who.organization()?;
        let id = parse_id(&id, "application")?;
        let app = store(ctx).application(id).await.map_err(from_store)?;
        if app.is_none_or(|a| a.organization != org) {
            return Err(not_found("application"));
        }
        let out = store(ctx)
            .withdraw(Withdraw {
                application_id: id,
                actor: who.actor()?,
                reason,
                idempotency_key,
            })
            .await
            .map_err(from_store)?;
        Ok(out.application.into())
    }

    /// Checks a definition without publishing it.
    async fn validate_workflow(
        &self,
        ctx: &Context<'_>,
        yaml: String,
    ) -> GqlResult<WorkflowValidation> {
        principal(ctx)?;
        let load = loader(ctx);
        Ok(match Compiled::compile_with(&yaml, &load) {
            Ok(_) => WorkflowValidation {
                ok: true,
                errors: vec![],
            },
            Err(d) => WorkflowValidation {
                ok: false,
                errors: d
                    .iter()
                    .map(|d| WorkflowError {
                        message: d.message.clone(),
                        code: Some(d.code.as_str().to_owned()),
                        line: Some(d.pos.line as i32),
                        column: Some(d.pos.column as i32),
                    })
                    .collect(),
            },
        })
    }

    /// Publishes a definition as a new version (admins only). Unchanged content publishes nothing.
    async fn publish_workflow(&self, ctx: &Context<'_>, yaml: String) -> GqlResult<Workflow> {
        let who = principal(ctx)?;
        who.require_admin()?;
        let by = match who {
            crate::policy::Principal::Admin { name } => name.clone(),
            _ => String::new(),
        };
        let load = loader(ctx);
        let published = store(ctx)
            .publish(&yaml, &load, &by)
            .await
            .map_err(from_store)?;
        workflow_view(store(ctx), published.definition).await
    }

    /// Retires a workflow version: running applications continue, new ones are refused (admins only).
    async fn retire_workflow(
        &self,
        ctx: &Context<'_>,
        key: String,
        version: i32,
    ) -> GqlResult<Workflow> {
        principal(ctx)?.require_admin()?;
        let d = store(ctx).retire(&key, version).await.map_err(from_store)?;
        workflow_view(store(ctx), d).await
    }

    /// Claims a task of the caller's agency.
    async fn claim_task(&self, ctx: &Context<'_>, task_id: ID) -> GqlResult<Task> {
        let who = principal(ctx)?;
        let t = store(ctx)
            .claim(parse_id(&task_id, "task")?, &who.actor()?)
            .await
            .map_err(from_store)?;
        Ok(t.into())
    }

    /// Releases a claim (the claimant, or a lead).
    async fn release_task(&self, ctx: &Context<'_>, task_id: ID) -> GqlResult<Task> {
        let who = principal(ctx)?;
        let t = store(ctx)
            .release(parse_id(&task_id, "task")?, &who.actor()?, who.is_lead())
            .await
            .map_err(from_store)?;
        Ok(t.into())
    }

    /// Hands a task to a colleague of the same agency.
    async fn delegate_task(&self, ctx: &Context<'_>, task_id: ID, to: String) -> GqlResult<Task> {
        let who = principal(ctx)?;
        if to.trim().is_empty() {
            return Err(bad_input("`to` must name a colleague"));
        }
        let t = store(ctx)
            .delegate(
                parse_id(&task_id, "task")?,
                &who.actor()?,
                &to,
                who.is_lead(),
            )
            .await
            .map_err(from_store)?;
        Ok(t.into())
    }
}
