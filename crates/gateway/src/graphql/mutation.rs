//! Mutations.

use async_graphql::{Context, ID, InputObject, Json, Object};
use softland_store::{Act, Error as StoreError, Submit, Withdraw};
use softland_workflow::{Assignee, EventName};

use super::input::{MAX_IDEMPOTENCY_KEY, MAX_NAME, MAX_TEXT, bounded, parse_id};
use super::people_actions::recorded;
use super::types::workflow_view;
use super::types::{Application, Task, Workflow, WorkflowError, WorkflowValidation};
use super::{WorkflowsDir, principal, store};
use crate::error::{GqlResult, bad_input, forbidden, from_store, not_found, refused};
use softland_policy::Principal;

/// The applications' mutations.
#[derive(Debug, Default)]
pub struct AppMutation;

/// A new application.
#[derive(InputObject, Debug)]
pub struct SubmitApplicationInput {
    /// The workflow to apply to (its latest version).
    pub workflow_key: String,
    /// The application form.
    pub data: Json<serde_json::Value>,
    /// Retries with the same key return the first result.
    pub idempotency_key: Option<String>,
    /// The position applied for, in a programme whose places are a position's
    /// (`internship-placement`).
    pub position_id: Option<ID>,
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
    /// An internal note with the action: agencies' reviewers and administrators read it, the
    /// firm never does.
    pub note: Option<String>,
    /// Refuse (CONFLICT) unless the application is still at this revision.
    pub expected_revision: Option<i64>,
    /// Retries with the same key return the first result.
    pub idempotency_key: Option<String>,
}

/// Schema files a definition sent over the API may name: files under the server's schemas
/// folder, then the forms published versions gave those names (schemas travel with versions).
/// The published forms are read only for a definition that names a file the folder does not
/// hold (an inline form, or a file here, reads nothing from the database).
async fn loader(ctx: &Context<'_>, yaml: &str) -> GqlResult<softland_store::SchemaFiles> {
    let files = softland_store::SchemaFiles::beside(&ctx.data_unchecked::<WorkflowsDir>().0);
    let wanted = softland_workflow::form_file(yaml).filter(|name| files.read(name).is_err());
    if wanted.is_none() {
        return Ok(files);
    }
    let published = store(ctx).published_forms().await.map_err(from_store)?;
    Ok(files.with_published(published))
}

/// The answer to a claim, release or hand-over: the task, with the act recorded (its state
/// and `detail` beside it), or the store's refusal in the API's words.
async fn claim_changed(
    ctx: &Context<'_>,
    who: &Principal,
    kind: &str,
    result: Result<softland_store::TaskRecord, StoreError>,
    mut detail: serde_json::Value,
) -> GqlResult<Task> {
    match result {
        Ok(t) => {
            detail["state"] = serde_json::Value::from(t.state.clone());
            let (id, app) = (t.id.to_string(), Some(t.application_id));
            recorded(ctx, kind, id, app, detail).await;
            Ok(t.into())
        }
        Err(e) => Err(task_refusal(ctx, who, e).await),
    }
}

/// A store refusal of a task command: a task that is not the caller's is `NOT_FOUND` unless the
/// caller may see its application (then `FORBIDDEN`), exactly as for a task that does not exist.
async fn task_refusal(ctx: &Context<'_>, who: &Principal, e: StoreError) -> async_graphql::Error {
    match e {
        StoreError::NotYours {
            application_id,
            assignee,
        } => refused(
            who.not_yours(store(ctx), application_id, &Assignee::parse(&assignee))
                .await,
        ),
        StoreError::NotFound(_) => not_found("task"),
        e => from_store(e),
    }
}

#[Object]
impl AppMutation {
    /// Submits an application for the caller's organization.
    async fn submit_application(
        &self,
        ctx: &Context<'_>,
        input: SubmitApplicationInput,
    ) -> GqlResult<Application> {
        let who = principal(ctx)?;
        let organization = who.organization().map_err(refused)?.to_owned();
        bounded("workflowKey", Some(&input.workflow_key), MAX_NAME)?;
        bounded(
            "idempotencyKey",
            input.idempotency_key.as_deref(),
            MAX_IDEMPOTENCY_KEY,
        )?;
        if !who
            .may_apply(store(ctx), &input.workflow_key)
            .await
            .map_err(refused)?
        {
            return Err(forbidden(
                "this workflow is for firms of another region (its `applicants`)",
            ));
        }
        // A student's applications are filed under their own scope, named as they are.
        if who.is_student() {
            store(ctx)
                .file_student(&organization, who.name())
                .await
                .map_err(from_store)?;
        }
        let section = who
            .is_student()
            .then(|| input.data.0.get("student").cloned())
            .flatten();
        let out = store(ctx)
            .submit(Submit {
                position: input
                    .position_id
                    .map(|p| super::input::parse_id(&p, "position"))
                    .transpose()?,
                workflow_key: input.workflow_key,
                organization,
                actor: who.actor().map_err(refused)?,
                data: input.data.0,
                idempotency_key: input.idempotency_key,
            })
            .await
            .map_err(from_store)?;
        // What the student said of themselves starts their next application's form.
        if let Some(section) = section {
            let kept = softland_store::directory::profiles::profile_of(&section, false);
            if let Ok(kept) = kept
                && let Err(e) = store(ctx).keep_student_profile(who.name(), &kept).await
            {
                tracing::warn!(error = %e, "the student's profile was not kept");
            }
        }
        // Its number now, so numbers follow the order of submission (a crash here only
        // leaves it to be given when the application is first shown).
        if let Err(e) = store(ctx).application_number(out.application.id).await {
            tracing::warn!(error = %e, application = %out.application.id, "no number yet");
        }
        Ok(out.into())
    }

    /// Takes an action on a task.
    async fn act(&self, ctx: &Context<'_>, input: ActInput) -> GqlResult<Application> {
        let who = principal(ctx)?;
        let task_id = parse_id(&input.task_id, "task")?;
        bounded("action", Some(&input.action), MAX_NAME)?;
        bounded("comment", input.comment.as_deref(), MAX_TEXT)?;
        bounded("note", input.note.as_deref(), MAX_TEXT)?;
        bounded(
            "idempotencyKey",
            input.idempotency_key.as_deref(),
            MAX_IDEMPOTENCY_KEY,
        )?;
        // The store checks that the task is the caller's (agency, or organization) before its
        // claim and revision, in the same read that loads it: no extra round trip here.
        let result = store(ctx)
            .act(Act {
                organization: who.acting_organization(),
                gate: std::sync::Arc::new(who.clone()),
                comment: input.comment,
                input: input.data.map(|d| d.0),
                note: input.note,
                expected_revision: input.expected_revision,
                idempotency_key: input.idempotency_key,
                ..Act::new(task_id, who.actor().map_err(refused)?, input.action.clone())
            })
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) => return Err(task_refusal(ctx, who, e).await),
        };
        if let Some(completed) = out
            .events
            .iter()
            .find(|e| e.kind == EventName::TaskCompleted)
        {
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
        let org = who.organization().map_err(refused)?;
        let id = parse_id(&id, "application")?;
        bounded("reason", reason.as_deref(), MAX_TEXT)?;
        bounded(
            "idempotencyKey",
            idempotency_key.as_deref(),
            MAX_IDEMPOTENCY_KEY,
        )?;
        let app = store(ctx).application(id).await.map_err(from_store)?;
        if app.is_none_or(|a| a.organization != org) {
            return Err(not_found("application"));
        }
        let out = store(ctx)
            .withdraw(Withdraw {
                application_id: id,
                organization: org.to_owned(),
                actor: who.actor().map_err(refused)?,
                reason,
                idempotency_key,
            })
            .await
            .map_err(from_store)?;
        Ok(out.application.into())
    }

    /// Adds an internal note to an application: agencies' reviewers (of an agency involved) and
    /// administrators write and read them; the firm never sees them.
    async fn add_note(
        &self,
        ctx: &Context<'_>,
        application_id: ID,
        note: String,
    ) -> GqlResult<Application> {
        let who = principal(ctx)?;
        let id = parse_id(&application_id, "application")?;
        bounded("note", Some(&note), MAX_TEXT)?;
        let app = store(ctx)
            .application(id)
            .await
            .map_err(from_store)?
            .ok_or_else(|| not_found("application"))?;
        if !who.can_see(store(ctx), &app).await.map_err(refused)? {
            return Err(not_found("application"));
        }
        if !who.may_note() {
            return Err(forbidden(
                "internal notes are written by agencies' reviewers",
            ));
        }
        let out = store(ctx)
            .add_note(id, who.actor().map_err(refused)?, note)
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
        let compiled = softland_store::compile_off_runtime(yaml.clone(), loader(ctx, &yaml).await?)
            .await
            .map_err(from_store)?;
        Ok(match compiled {
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
        who.require_admin().map_err(refused)?;
        let by = who.name().to_owned();
        let load = loader(ctx, &yaml).await?;
        let published = store(ctx)
            .publish(&yaml, load, &by)
            .await
            .map_err(from_store)?;
        if published.changed {
            let d = &published.definition;
            let subject = format!("{} v{}", d.key, d.version);
            recorded(ctx, "publish", subject, None, serde_json::json!({})).await;
        }
        workflow_view(store(ctx), published.definition).await
    }

    /// Retires a workflow version: running applications continue, new ones are refused (admins only).
    async fn retire_workflow(
        &self,
        ctx: &Context<'_>,
        key: String,
        version: i32,
    ) -> GqlResult<Workflow> {
        principal(ctx)?.require_admin().map_err(refused)?;
        let d = store(ctx).retire(&key, version).await.map_err(from_store)?;
        let subject = format!("{key} v{version}");
        recorded(ctx, "retire", subject, None, serde_json::json!({})).await;
        workflow_view(store(ctx), d).await
    }

    /// Brings a retired version back (admins only): if it is the latest, firms may apply again.
    async fn unretire_workflow(
        &self,
        ctx: &Context<'_>,
        key: String,
        version: i32,
    ) -> GqlResult<Workflow> {
        principal(ctx)?.require_admin().map_err(refused)?;
        let d = store(ctx)
            .unretire(&key, version)
            .await
            .map_err(from_store)?;
        let subject = format!("{key} v{version}");
        recorded(ctx, "unretire", subject, None, serde_json::json!({})).await;
        workflow_view(store(ctx), d).await
    }

    /// Claims a task of the caller's agency.
    async fn claim_task(&self, ctx: &Context<'_>, task_id: ID) -> GqlResult<Task> {
        let who = principal(ctx)?;
        let t = store(ctx)
            .claim(parse_id(&task_id, "task")?, &who.actor().map_err(refused)?)
            .await;
        claim_changed(ctx, who, "claim", t, serde_json::json!({})).await
    }

    /// Releases a claim (the claimant, or a lead).
    async fn release_task(&self, ctx: &Context<'_>, task_id: ID) -> GqlResult<Task> {
        let who = principal(ctx)?;
        let t = store(ctx)
            .release(
                parse_id(&task_id, "task")?,
                &who.claimant().map_err(refused)?,
            )
            .await;
        claim_changed(ctx, who, "release", t, serde_json::json!({})).await
    }

    /// Hands a task to a colleague of the same agency.
    async fn delegate_task(&self, ctx: &Context<'_>, task_id: ID, to: String) -> GqlResult<Task> {
        let who = principal(ctx)?;
        if to.trim().is_empty() {
            return Err(bad_input("`to` must name a colleague"));
        }
        bounded("to", Some(&to), MAX_NAME)?;
        let t = store(ctx)
            .delegate(
                parse_id(&task_id, "task")?,
                &who.claimant().map_err(refused)?,
                &to,
            )
            .await;
        claim_changed(ctx, who, "hand_over", t, serde_json::json!({"to": to})).await
    }
}
