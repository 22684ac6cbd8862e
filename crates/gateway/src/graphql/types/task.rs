//! Tasks as the API shows them: who holds them, what they offer, and what a four-eyes rule
//! bars the caller from.

use async_graphql::{ComplexObject, Context, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use softland_store::TaskRecord;
use softland_workflow::Text;

use super::Application;
use crate::error::{GqlResult, from_store};
use crate::graphql::locale::{Locale, lang};
use crate::graphql::{principal, store};
use softland_policy::Principal;

/// An action a task offers.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct TaskAction {
    /// Its name (pass it to `act`).
    pub name: String,
    #[graphql(skip)]
    pub titles: Text,
    /// The JSON Schema its `data` must satisfy.
    pub input_schema: Option<Json<serde_json::Value>>,
    /// The step whose actor the caller was, barring them from this action (four eyes).
    #[graphql(skip)]
    pub barred_by: Option<Text>,
}

#[ComplexObject]
impl TaskAction {
    /// Its title (see `Locale`).
    async fn title(&self, ctx: &Context<'_>, locale: Option<Locale>) -> String {
        self.titles.get(lang(ctx, locale)).to_owned()
    }

    /// The step that bars the caller from this action by a four-eyes rule, by its title (see
    /// `Locale`): taking it is refused (`FORBIDDEN`, reason `FOUR_EYES`). Null when they may.
    async fn barred_by(&self, ctx: &Context<'_>, locale: Option<Locale>) -> Option<String> {
        let lang = lang(ctx, locale);
        self.barred_by.as_ref().map(|t| t.get(lang).to_owned())
    }
}

/// A task in an inbox.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct Task {
    /// Its id.
    pub id: ID,
    /// Its application's id.
    pub application_id: ID,
    /// The state it belongs to.
    pub state: String,
    /// The English title it was opened with (for a definition that no longer loads).
    #[graphql(skip)]
    pub opened_title: String,
    /// An agency key such as `hkstp`, or `applicant`.
    pub assignee: String,
    /// What it offered when it opened.
    #[graphql(skip)]
    pub opened_actions: Vec<softland_store::TaskAction>,
    #[graphql(skip)]
    pub workflow_key: String,
    #[graphql(skip)]
    pub workflow_version: i32,
    /// When it falls due.
    pub due_at: Option<DateTime<Utc>>,
    /// Whether it is overdue.
    pub overdue: bool,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    #[graphql(skip)]
    pub claimed_by: Option<String>,
    #[graphql(skip)]
    pub app_uuid: uuid::Uuid,
    #[graphql(skip)]
    pub organization: String,
    /// The step barring the caller, once asked (`barred`, `barredBy` and `allowed` share it).
    #[graphql(skip)]
    caller_barred: tokio::sync::OnceCell<Option<String>>,
    /// The step barring the claim's holder, once asked (`holderBarred`, `allowed`).
    #[graphql(skip)]
    holder_barred_by: tokio::sync::OnceCell<Option<String>>,
}

/// What the caller may do with an open task, as the policy decides: what pages offer, and
/// what the API accepts.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct TaskPermissions {
    /// Take one of its actions (`act`).
    pub act: bool,
    /// Its claims are the caller's side's to keep (an agency task of a reviewer's agency).
    pub claimable: bool,
    /// Claim it (`claimTask`): unclaimed, or held by someone barred from it.
    pub claim: bool,
    /// Release its claim (`releaseTask`).
    pub release: bool,
    /// Hand it to a colleague (`delegateTask`).
    pub hand_over: bool,
}

impl From<TaskRecord> for Task {
    fn from(t: TaskRecord) -> Self {
        Self {
            id: ID(t.id.to_string()),
            application_id: ID(t.application_id.to_string()),
            app_uuid: t.application_id,
            state: t.state,
            opened_title: t.title,
            assignee: t.assignee.key().to_owned(),
            opened_actions: t.actions,
            workflow_key: t.workflow_key,
            workflow_version: t.workflow_version,
            due_at: t.due_at,
            overdue: t.overdue,
            opened_at: t.opened_at,
            claimed_by: t.claimed_by,
            organization: t.organization,
            caller_barred: tokio::sync::OnceCell::new(),
            holder_barred_by: tokio::sync::OnceCell::new(),
        }
    }
}

impl Task {
    async fn barred_for(&self, ctx: &Context<'_>, person: &str) -> GqlResult<Option<String>> {
        let id =
            uuid::Uuid::parse_str(self.id.as_str()).map_err(|_| crate::error::not_found("task"))?;
        Ok(
            match store(ctx).barred(id, person).await.map_err(from_store)? {
                Some(softland_workflow::Rejection::FourEyes { step, .. }) => Some(step),
                Some(_) => Some(self.state.clone()),
                None => None,
            },
        )
    }

    /// The step barring the caller (see `barred`), read once per task.
    async fn barred_step(&self, ctx: &Context<'_>) -> GqlResult<Option<String>> {
        self.caller_barred
            .get_or_try_init(|| async {
                match principal(ctx)?.actor().ok().map(|a| a.id) {
                    Some(person) => self.barred_for(ctx, &person).await,
                    None => Ok(None),
                }
            })
            .await
            .cloned()
    }

    /// Whether the claim's holder is barred (see `holderBarred`), read once per task.
    async fn holder_is_barred(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        let step = self
            .holder_barred_by
            .get_or_try_init(|| async {
                match &self.claimed_by {
                    Some(holder) => self.barred_for(ctx, holder).await,
                    None => Ok(None),
                }
            })
            .await?;
        Ok(step.is_some())
    }

    /// The task's state in its workflow version, if that still loads.
    async fn definition(
        &self,
        ctx: &Context<'_>,
    ) -> Option<(std::sync::Arc<softland_workflow::Workflow>, usize)> {
        let wf = store(ctx)
            .workflow(&self.workflow_key, self.workflow_version)
            .await
            .ok()?;
        let i = wf.states().iter().position(|s| s.name() == self.state)?;
        Some((wf, i))
    }
}

#[ComplexObject]
impl Task {
    /// The state's title (see `Locale`), looked up from the definition.
    async fn title(&self, ctx: &Context<'_>, locale: Option<Locale>) -> String {
        let lang = lang(ctx, locale);
        match self.definition(ctx).await {
            Some((wf, i)) => wf.states()[i].title().get(lang).to_owned(),
            None => self.opened_title.clone(),
        }
    }

    /// Who at the agency holds its claim (agencies' reviewers and administrators; a firm
    /// sees the agency the task is for in `assignee`, never the person).
    async fn claimed_by(&self, ctx: &Context<'_>) -> GqlResult<Option<String>> {
        Ok(self
            .claimed_by
            .clone()
            .filter(|_| principal(ctx).is_ok_and(Principal::sees_reviewers)))
    }

    /// Whether the caller could take none of its actions: a four-eyes rule bars every one
    /// (they acted at a step the actions must differ from) or they already voted at this
    /// approval. Claiming it is refused (`FORBIDDEN`, reason `FOUR_EYES`); pages offer them
    /// nothing on it.
    async fn barred(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        Ok(self.barred_step(ctx).await?.is_some())
    }

    /// The step that bars the caller from this task (see `barred`), by its title (see
    /// `Locale`): the step they acted at, or this approval when they already voted here.
    async fn barred_by(
        &self,
        ctx: &Context<'_>,
        locale: Option<Locale>,
    ) -> GqlResult<Option<String>> {
        let Some(step) = self.barred_step(ctx).await? else {
            return Ok(None);
        };
        let lang = lang(ctx, locale);
        Ok(Some(match self.definition(ctx).await {
            Some((wf, _)) => wf
                .states()
                .iter()
                .find(|s| s.name() == step)
                .map_or(step.clone(), |s| s.title().get(lang).to_owned()),
            None => step,
        }))
    }

    /// Whether its claim's holder could take none of its actions (see `barred`): any
    /// colleague may then take the claim over with `claimTask`. Agencies' reviewers and
    /// administrators only (false for others).
    async fn holder_barred(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        match &self.claimed_by {
            Some(_) if principal(ctx).is_ok_and(Principal::sees_reviewers) => {
                self.holder_is_barred(ctx).await
            }
            _ => Ok(false),
        }
    }

    /// What the caller may do with it (claims, actions), as the policy decides.
    async fn allowed(&self, ctx: &Context<'_>) -> GqlResult<TaskPermissions> {
        let who = principal(ctx)?;
        let barred = self.barred_step(ctx).await?.is_some();
        let holder_barred = self.holder_is_barred(ctx).await?;
        let assignee = softland_workflow::Assignee::parse(&self.assignee);
        let m = who.task_moves(&softland_policy::OpenTask {
            assignee: &assignee,
            organization: &self.organization,
            holder: self.claimed_by.as_deref(),
            barred,
            holder_barred,
        });
        Ok(TaskPermissions {
            act: m.act,
            claimable: m.claimable,
            claim: m.claim,
            release: m.release,
            hand_over: m.hand_over,
        })
    }

    /// What can be done, with titles from the definition.
    async fn actions(&self, ctx: &Context<'_>) -> GqlResult<Vec<TaskAction>> {
        let definition = self.definition(ctx).await;
        let offered = definition
            .as_ref()
            .map(|(wf, i)| wf.states()[*i].offered_actions())
            .unwrap_or_default();
        let barred = match principal(ctx)?.actor().ok() {
            Some(actor) => {
                let id = uuid::Uuid::parse_str(self.id.as_str())
                    .map_err(|_| crate::error::not_found("task"))?;
                store(ctx)
                    .barred_actions(id, &actor.id)
                    .await
                    .map_err(from_store)?
            }
            None => Vec::new(),
        };
        let step_title = |step: &str| {
            definition
                .as_ref()
                .and_then(|(wf, _)| wf.states().iter().find(|s| s.name() == step))
                .map_or_else(|| Text::en(step.to_owned()), |s| s.title().clone())
        };
        Ok(self
            .opened_actions
            .iter()
            .map(|a| TaskAction {
                name: a.name.clone(),
                titles: offered
                    .iter()
                    .find(|o| o.name == a.name)
                    .map_or_else(|| Text::en(a.title.clone()), |o| o.title.clone()),
                input_schema: a.input_schema.clone().map(Json),
                barred_by: barred
                    .iter()
                    .find(|(action, _)| *action == a.name)
                    .map(|(_, step)| step_title(step)),
            })
            .collect())
    }

    /// The task's application.
    async fn application(&self, ctx: &Context<'_>) -> GqlResult<Application> {
        crate::graphql::loaders::visible_application(ctx, self.app_uuid)
            .await?
            .map(Application::from)
            .ok_or_else(|| crate::error::not_found("application"))
    }
}
