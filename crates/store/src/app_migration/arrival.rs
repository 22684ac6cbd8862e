//! `upgrade_at:` — an application arriving at one of its version's safe states moves by itself
//! to the newest published version it fits, with the checks of a migration plan (states by
//! name, nothing mapped, timers keeping the time spent). The move is recorded under a plan kept
//! like any other (made and approved by `upgrade_at`: the definition's author opted in, and only
//! administrators publish), so its `migrated` entries name a plan one can read.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use softland_workflow::migration::Timers;
use softland_workflow::{Actor, Event, EventKind, Party, Workflow};
use uuid::Uuid;

use super::run::Moved;
use super::{NewPlan, PlanRecord, Selection};
use crate::Store;
use crate::entity::migration_plan;
use crate::error::Result;

/// Who moves applications on arrival (the plan's maker and approver, the events' actor).
pub const ON_ARRIVAL: &str = "upgrade_at";

/// Whether `events` bring the application into one of `wf`'s `upgrade_at` states.
pub(crate) fn arrives_at_safe_state(wf: &Workflow, events: &[Event]) -> bool {
    let safe = wf.upgrade_at();
    !safe.is_empty()
        && events.iter().any(|e| match &e.kind {
            EventKind::Entered { state } => wf
                .state_id(state.as_str())
                .is_some_and(|s| safe.contains(&s)),
            _ => false,
        })
}

impl Store {
    /// Moves the application to the newest published version when it fits; whether it moved.
    /// A version it does not fit leaves it where it is (a migration plan's dry run says why).
    pub(crate) async fn upgrade_on_arrival(
        &self,
        app: Uuid,
        key: &str,
        version: i32,
    ) -> Result<bool> {
        let latest = match self.current_version(self.db(), key).await {
            Ok(v) => v,
            // Retired: new versions are not to be moved to.
            Err(crate::Error::Retired { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        if latest <= version {
            return Ok(false);
        }
        let plan = self.arrival_plan(key, version, latest).await?;
        let id = plan.id;
        let pass = self.pass(plan).await?;
        let m = pass.migration();
        let actor = Actor {
            id: ON_ARRIVAL.into(),
            party: Party::System,
        };
        let moved = matches!(self.move_one(&pass, &m, app, &actor).await?, Moved::Done);
        if moved {
            migration_plan::Entity::update_many()
                .col_expr(
                    migration_plan::Column::Migrated,
                    Expr::col(migration_plan::Column::Migrated).add(1i64),
                )
                .col_expr(migration_plan::Column::LastRunAt, Expr::value(self.now()))
                .filter(migration_plan::Column::Id.eq(id))
                .exec(self.db())
                .await?;
        }
        Ok(moved)
    }

    /// The plan on-arrival moves from `from` to `to` are recorded under, made once.
    async fn arrival_plan(&self, key: &str, from: i32, to: i32) -> Result<PlanRecord> {
        let new = NewPlan {
            workflow_key: key.to_owned(),
            from_version: from,
            to_version: to,
            mappings: Vec::new(),
            timers: Timers::KeepElapsed,
            selection: Selection::All,
            data_changes: Vec::new(),
        };
        let (plan, made) = self.plan_migration_once(new, ON_ARRIVAL).await?;
        if made || plan.approved_by.is_none() {
            migration_plan::Entity::update_many()
                .col_expr(migration_plan::Column::ApprovedBy, Expr::value(ON_ARRIVAL))
                .col_expr(migration_plan::Column::ApprovedAt, Expr::value(self.now()))
                .filter(migration_plan::Column::Id.eq(plan.id))
                .filter(migration_plan::Column::ApprovedBy.is_null())
                .exec(self.db())
                .await?;
            return self.migration_plan(plan.id).await;
        }
        Ok(plan)
    }
}
