//! Claims: a reviewer claims a task of their agency so colleagues see it is being worked; only
//! the claimant completes it; the claimant (or, with [`ClaimRights::Any`], an agency lead or admin) releases or delegates.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use softland_workflow::{Actor, Instance, Party, Rejection};
use uuid::Uuid;

use crate::Store;
use crate::directory::{Membership, Role};
use crate::entity::enums::TaskStatus;
use crate::entity::{application, task};
use crate::error::{ConflictReason, Error, Result};
use crate::records::{ClaimRights, Claimant, TaskRecord};
use crate::rows::task_record;

impl Store {
    async fn agency_task(&self, id: Uuid, agency: Option<&str>) -> Result<task::Model> {
        let t = task::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| Error::NotFound(format!("task {id}")))?;
        match agency {
            // An administrator's claimant names no agency and may work any agency's claims.
            None => {}
            Some(a) if a == t.assignee => {}
            // As for `act`: the gateway answers FORBIDDEN only to callers who may see the
            // application, NOT_FOUND to everyone else.
            _ => {
                return Err(Error::NotYours {
                    application_id: t.application_id,
                    assignee: t.assignee,
                });
            }
        }
        if t.status != TaskStatus::Open {
            return Err(ConflictReason::TaskClosed.into());
        }
        Ok(t)
    }

    async fn reload_task(&self, id: Uuid) -> Result<TaskRecord> {
        task::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(task_record)
            .transpose()?
            .ok_or_else(|| Error::NotFound(format!("task {id}")))
    }

    /// Claims an open task of the actor's agency (compare-and-set: one claimant wins).
    pub async fn claim(&self, id: Uuid, actor: &Actor) -> Result<TaskRecord> {
        crate::traced::command("claim", None, self.claim_task(id, actor)).await
    }

    /// Claims a task of the actor's agency. A claim its claimant could never complete (a
    /// four-eyes rule bars every action of the step, or they already voted at it) is refused;
    /// a claim held by someone so barred may be taken over by any colleague.
    async fn claim_task(&self, id: Uuid, actor: &Actor) -> Result<TaskRecord> {
        let Party::Agency(agency) = &actor.party else {
            return Err(Error::Forbidden(
                "only agencies' reviewers claim tasks".into(),
            ));
        };
        let t = self.agency_task(id, Some(agency)).await?;
        if let Some(why) = self.barred_from(&t, &actor.id).await? {
            return Err(Error::Rejected(why));
        }
        let stuck_holder = match &t.claimed_by {
            Some(holder) if **holder != *actor.id => {
                self.barred_from(&t, holder).await?.map(|_| holder.clone())
            }
            _ => None,
        };
        let claimable = match &stuck_holder {
            Some(holder) => Condition::all().add(task::Column::ClaimedBy.eq(holder.as_str())),
            None => Condition::any()
                .add(task::Column::ClaimedBy.is_null())
                .add(task::Column::ClaimedBy.eq(&*actor.id)),
        };
        let res = task::Entity::update_many()
            .col_expr(task::Column::ClaimedBy, Expr::value(actor.id.to_string()))
            .col_expr(task::Column::ClaimedAt, Expr::value(self.now()))
            .filter(task::Column::Id.eq(id))
            .filter(task::Column::Status.eq(TaskStatus::Open))
            .filter(claimable)
            .exec(self.db())
            .await?;
        if let Some(holder) = &stuck_holder
            && res.rows_affected == 1
        {
            tracing::info!(task = %id, holder, by = &*actor.id, "took over a claim its holder could not complete");
        }
        let t = self.reload_task(id).await?;
        if res.rows_affected == 0 {
            return Err(match t.claimed_by {
                Some(holder) if t.status == crate::records::TaskStatus::Open => {
                    ConflictReason::ClaimedByOther(holder).into()
                }
                _ => ConflictReason::TaskClosed.into(),
            });
        }
        Ok(t)
    }

    /// The actions of the open task `id` a four-eyes rule bars `person` from, each with the
    /// step that bars it (by name): what pages use to offer only what the viewer may do.
    pub async fn barred_actions(&self, id: Uuid, person: &str) -> Result<Vec<(String, String)>> {
        let Some(t) = task::Entity::find_by_id(id).one(self.db()).await? else {
            return Ok(Vec::new());
        };
        if t.status != TaskStatus::Open {
            return Ok(Vec::new());
        }
        let Some((wf, inst, state)) = self.task_instance(&t).await? else {
            return Ok(Vec::new());
        };
        Ok(wf
            .barred_actions(&inst, state, person)
            .into_iter()
            .map(|(action, step)| (action, wf.state(step).name().to_owned()))
            .collect())
    }

    /// Why `person` could not complete the open task `id` (four eyes), if they could not.
    pub async fn barred(&self, id: Uuid, person: &str) -> Result<Option<Rejection>> {
        match task::Entity::find_by_id(id).one(self.db()).await? {
            Some(t) if t.status == TaskStatus::Open => self.barred_from(&t, person).await,
            _ => Ok(None),
        }
    }

    async fn barred_from(&self, t: &task::Model, person: &str) -> Result<Option<Rejection>> {
        Ok(self
            .task_instance(t)
            .await?
            .and_then(|(wf, inst, state)| wf.barred(&inst, state, person)))
    }

    /// The task's workflow, its application's instance and the task's state in it.
    async fn task_instance(
        &self,
        t: &task::Model,
    ) -> Result<
        Option<(
            std::sync::Arc<softland_workflow::Workflow>,
            Instance,
            softland_workflow::StateId,
        )>,
    > {
        let Some(app) = application::Entity::find_by_id(t.application_id)
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let wf = self
            .workflow(&app.workflow_key, app.workflow_version)
            .await?;
        let Some(state) = wf.state_id(&t.state) else {
            return Ok(None);
        };
        let inst = <Instance as serde::Deserialize>::deserialize(&app.instance).map_err(|e| {
            Error::Unreadable {
                table: "applications",
                id: app.id.to_string(),
                column: "instance",
                why: e.to_string(),
            }
        })?;
        Ok(Some((wf, inst, state)))
    }

    /// The task `by` may release or hand on: their agency's (any agency's for an administrator).
    async fn claimable_task(&self, id: Uuid, by: &Claimant) -> Result<task::Model> {
        let agency = match (by.rights, &by.agency) {
            (ClaimRights::Everywhere, _) => None,
            (_, Some(a)) => Some(a.as_str()),
            (_, None) => {
                return Err(Error::Forbidden(
                    "only agencies' reviewers and administrators work claims".into(),
                ));
            }
        };
        self.agency_task(id, agency).await
    }

    /// Releases a claim: the claimant, or an agency lead or administrator, may.
    pub async fn release(&self, id: Uuid, by: &Claimant) -> Result<TaskRecord> {
        crate::traced::command("release", None, self.release_task(id, by)).await
    }

    async fn release_task(&self, id: Uuid, by: &Claimant) -> Result<TaskRecord> {
        let t = self.claimable_task(id, by).await?;
        let Some(holder) = t.claimed_by else {
            return self.reload_task(id).await;
        };
        if holder != by.person && by.rights == ClaimRights::Own {
            return Err(Error::Forbidden(format!(
                "task {id} is claimed by `{holder}`; only they or an agency lead may release it"
            )));
        }
        task::Entity::update_many()
            .col_expr(task::Column::ClaimedBy, Expr::value(Option::<String>::None))
            .col_expr(
                task::Column::ClaimedAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .filter(task::Column::Id.eq(id))
            .filter(task::Column::ClaimedBy.eq(holder.as_str()))
            .exec(self.db())
            .await?;
        self.reload_task(id).await
    }

    /// Hands a task to a colleague: an active reviewer or lead of the task's agency. The
    /// claimant, or a lead or administrator, may; an unclaimed task may be delegated by any
    /// reviewer of the agency.
    pub async fn delegate(&self, id: Uuid, by: &Claimant, to: &str) -> Result<TaskRecord> {
        crate::traced::command("delegate", None, self.delegate_task(id, by, to)).await
    }

    async fn delegate_task(&self, id: Uuid, by: &Claimant, to: &str) -> Result<TaskRecord> {
        let t = self.claimable_task(id, by).await?;
        if let Some(holder) = &t.claimed_by
            && *holder != by.person
            && by.rights == ClaimRights::Own
        {
            return Err(Error::Forbidden(format!(
                "task {id} is claimed by `{holder}`; only they or an agency lead may delegate it"
            )));
        }
        let colleague = self.person(to).await?.is_some_and(|p| {
            p.active
                && p.membership == Membership::Agency(t.assignee.clone())
                && (p.has(Role::Reviewer) || p.has(Role::Lead))
        });
        if !colleague {
            return Err(Error::InvalidDirectory(format!(
                "`{to}` is not an active reviewer of `{}`",
                t.assignee
            )));
        }
        // Nor to someone who could never complete it.
        if let Some(why) = self.barred_from(&t, to).await? {
            return Err(Error::Rejected(why));
        }
        let res = task::Entity::update_many()
            .col_expr(task::Column::ClaimedBy, Expr::value(to.to_owned()))
            .col_expr(task::Column::ClaimedAt, Expr::value(self.now()))
            .col_expr(task::Column::DelegatedTo, Expr::value(to.to_owned()))
            .filter(task::Column::Id.eq(id))
            .filter(task::Column::Status.eq(TaskStatus::Open))
            .filter(match &t.claimed_by {
                Some(h) => task::Column::ClaimedBy.eq(h.as_str()),
                None => task::Column::ClaimedBy.is_null(),
            })
            .exec(self.db())
            .await?;
        if res.rows_affected == 0 {
            return Err(ConflictReason::ConcurrentUpdate.into());
        }
        self.reload_task(id).await
    }
}
