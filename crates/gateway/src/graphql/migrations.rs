//! Moving running applications to another version of their workflow (administrators):
//! `planMigration` (stored, with its dry run), `approveMigration` (a second administrator),
//! `runMigration`, and the plans kept. What may move is the engine's rule; who may plan,
//! approve and run is the policy's (`Principal::migrator`).

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use softland_store::app_migration::{DryRun, NewPlan, PlanRecord, Selection};
use softland_workflow::migration::Timers;
use tokio::sync::OnceCell;

use super::input::parse_id;
use super::{principal, store};
use crate::error::{GqlResult, from_store, refused};

/// The most dry-run answers one plan lists (the counts cover every application).
pub const MOST_CHECKS: usize = 5_000;

/// What happens to running timers when an application moves.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MigrationTimers {
    /// The time spent counts: due at the task's opening plus the new version's period.
    KeepElapsed,
    /// The new version's period starts again now.
    Restart,
}

impl From<MigrationTimers> for Timers {
    fn from(t: MigrationTimers) -> Self {
        match t {
            MigrationTimers::KeepElapsed => Timers::KeepElapsed,
            MigrationTimers::Restart => Timers::Restart,
        }
    }
}

impl From<Timers> for MigrationTimers {
    fn from(t: Timers) -> Self {
        match t {
            Timers::KeepElapsed => MigrationTimers::KeepElapsed,
            Timers::Restart => MigrationTimers::Restart,
        }
    }
}

/// One explicit move: a state of the old version to one of the new.
#[derive(InputObject, SimpleObject, Clone, Debug)]
#[graphql(input_name = "MigrationMappingInput")]
pub struct MigrationMapping {
    /// The old version's state.
    pub from: String,
    /// The new version's state.
    pub to: String,
}

/// A change to the form data while applications move: a top-level field of the new form and
/// the CEL expression over the old data (`data`) that gives its value (`null`: the field goes).
#[derive(InputObject, SimpleObject, Clone, Debug)]
#[graphql(input_name = "MigrationDataChangeInput")]
pub struct MigrationDataChange {
    /// The field.
    pub field: String,
    /// The CEL expression, e.g. `data.staff_count * 1`.
    pub expression: String,
}

/// A plan to move applications from one version of a workflow to another.
#[derive(InputObject, Debug)]
pub struct PlanMigrationInput {
    /// The workflow.
    pub workflow_key: String,
    /// The version the applications run on.
    pub from_version: i32,
    /// The version they move to.
    pub to_version: i32,
    /// Renamed or removed states, mapped explicitly (states of the same name map by
    /// themselves).
    #[graphql(default)]
    pub mappings: Vec<MigrationMapping>,
    /// Only these applications (default: every running application on `fromVersion`).
    pub application_ids: Option<Vec<ID>>,
    /// Only the applications in this state of `fromVersion`.
    pub state: Option<String>,
    /// What happens to running timers (default `KEEP_ELAPSED`).
    #[graphql(default_with = "MigrationTimers::KeepElapsed")]
    pub timers: MigrationTimers,
    /// Changes to the form data, checked against the new form in the dry run.
    #[graphql(default)]
    pub data_changes: Vec<MigrationDataChange>,
}

/// One application's answer in a dry run.
#[derive(SimpleObject, Debug)]
pub struct MigrationCheck {
    /// The application.
    pub application_id: ID,
    /// Whether it would move.
    pub ok: bool,
    /// Why not, in words.
    pub reason: Option<String>,
    /// Why not, as a stable code: `unmapped-state`, `kind-changed`, `branches-changed`,
    /// `assignee-changed`, `data-invalid`, `data-change-failed`, `finished`, `other-version`,
    /// `not-found`.
    pub code: Option<String>,
    /// The states it is in (old version).
    pub states: Vec<String>,
}

/// How many applications could not move for one reason.
#[derive(SimpleObject, Debug)]
pub struct MigrationBlocked {
    /// The reason's code.
    pub code: String,
    /// How many.
    pub count: i64,
}

/// The dry run's counts.
#[derive(SimpleObject, Debug)]
pub struct MigrationCounts {
    /// Applications the plan touches.
    pub total: i64,
    /// Those that would move.
    pub ok: i64,
    /// Those that could not, by reason.
    pub blocked: Vec<MigrationBlocked>,
}

/// A stored plan, with its dry run computed when asked for (now, against the applications
/// as they are).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct MigrationPlan {
    /// Its id.
    pub id: ID,
    /// SHA-256 of what it says: the `migrated` entries of moved applications name it.
    pub hash: String,
    /// The workflow.
    pub workflow_key: String,
    /// From which version.
    pub from_version: i32,
    /// To which version.
    pub to_version: i32,
    /// Explicit moves.
    pub mappings: Vec<MigrationMapping>,
    /// What happens to running timers.
    pub timers: MigrationTimers,
    /// Changes to the form data.
    pub data_changes: Vec<MigrationDataChange>,
    /// The applications it is limited to, if listed.
    pub application_ids: Option<Vec<ID>>,
    /// The state it is limited to, if any.
    pub state: Option<String>,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The second administrator who approved it; it runs only once approved.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<DateTime<Utc>>,
    /// Applications its runs moved so far.
    pub migrated: i64,
    /// When it last ran.
    pub last_run_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    record: PlanRecord,
    #[graphql(skip)]
    dry: OnceCell<DryRun>,
    /// Read in a list of plans: its dry run (a pass over every application it touches) is
    /// not computed there, so one request makes at most one.
    #[graphql(skip)]
    listed: bool,
}

impl std::fmt::Debug for MigrationPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationPlan")
            .field("id", &self.id)
            .finish()
    }
}

impl From<PlanRecord> for MigrationPlan {
    fn from(p: PlanRecord) -> Self {
        let (application_ids, state) = match &p.selection {
            Selection::All => (None, None),
            Selection::State(s) => (None, Some(s.clone())),
            Selection::Applications(ids) => (
                Some(ids.iter().map(|id| ID(id.to_string())).collect()),
                None,
            ),
        };
        MigrationPlan {
            id: ID(p.id.to_string()),
            hash: p.hash.clone(),
            workflow_key: p.workflow_key.clone(),
            from_version: p.from_version,
            to_version: p.to_version,
            mappings: p
                .mappings
                .iter()
                .map(|(from, to)| MigrationMapping {
                    from: from.clone(),
                    to: to.clone(),
                })
                .collect(),
            timers: p.timers.into(),
            data_changes: p
                .data_changes
                .iter()
                .map(|(field, expression)| MigrationDataChange {
                    field: field.clone(),
                    expression: expression.clone(),
                })
                .collect(),
            application_ids,
            state,
            created_by: p.created_by.clone(),
            created_at: p.created_at,
            approved_by: p.approved_by.clone(),
            approved_at: p.approved_at,
            migrated: p.migrated,
            last_run_at: p.last_run_at,
            record: p,
            dry: OnceCell::new(),
            listed: false,
        }
    }
}

impl MigrationPlan {
    async fn dry_run(&self, ctx: &Context<'_>) -> GqlResult<&DryRun> {
        if self.listed {
            return Err(crate::error::coded(
                crate::codes::ErrorCode::BadUserInput,
                "a plan's dry run is read one plan at a time: migrationPlan(id)",
            ));
        }
        self.dry
            .get_or_try_init(|| async {
                store(ctx)
                    .dry_run(&self.record, MOST_CHECKS)
                    .await
                    .map_err(from_store)
            })
            .await
    }
}

#[ComplexObject]
impl MigrationPlan {
    /// For each application the plan touches (the first `first`, at most 5,000): whether it
    /// would move now, or exactly why not.
    #[graphql(
        name = "dryRun",
        complexity = "super::limits::page_cost(first, child_complexity)"
    )]
    async fn dry_run_checks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> GqlResult<Vec<MigrationCheck>> {
        let first = usize::try_from(first.unwrap_or(1_000))
            .unwrap_or(0)
            .min(MOST_CHECKS);
        Ok(self
            .dry_run(ctx)
            .await?
            .checks
            .iter()
            .take(first)
            .map(|c| MigrationCheck {
                application_id: ID(c.application_id.to_string()),
                ok: c.ok,
                reason: c.reason.clone(),
                code: c.code.map(str::to_owned),
                states: c.states.clone(),
            })
            .collect())
    }

    /// The dry run's counts, over every application the plan touches.
    async fn dry_run_counts(&self, ctx: &Context<'_>) -> GqlResult<MigrationCounts> {
        let d = self.dry_run(ctx).await?;
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Ok(MigrationCounts {
            total: n(d.total),
            ok: n(d.ok),
            blocked: d
                .blocked
                .iter()
                .map(|(code, count)| MigrationBlocked {
                    code: (*code).to_owned(),
                    count: n(*count),
                })
                .collect(),
        })
    }
}

/// What one run did.
#[derive(SimpleObject, Debug)]
pub struct MigrationRun {
    /// The plan after the run.
    pub plan: MigrationPlan,
    /// Applications this run moved.
    pub migrated: i64,
    /// Applications that cannot move (see the dry run).
    pub blocked: i64,
    /// Applications still to move (busy, or not reached within the run's 20 seconds): run
    /// the plan again to continue.
    pub remaining: i64,
}

/// The queries.
#[derive(Debug, Default)]
pub struct MigrationQuery;

#[Object]
impl MigrationQuery {
    /// The migration plans, newest first (of one workflow, when given; at most 200). Their
    /// dry runs are read one plan at a time (`migrationPlan(id)`): here they are refused.
    async fn migration_plans(
        &self,
        ctx: &Context<'_>,
        workflow_key: Option<String>,
    ) -> GqlResult<Vec<MigrationPlan>> {
        principal(ctx)?.migrator().map_err(refused)?;
        let plans = store(ctx)
            .migration_plans(workflow_key.as_deref())
            .await
            .map_err(from_store)?;
        Ok(plans
            .into_iter()
            .map(|p| MigrationPlan {
                listed: true,
                ..p.into()
            })
            .collect())
    }

    /// One migration plan.
    async fn migration_plan(&self, ctx: &Context<'_>, id: ID) -> GqlResult<MigrationPlan> {
        principal(ctx)?.migrator().map_err(refused)?;
        let id = parse_id(&id, "migration plan")?;
        Ok(store(ctx)
            .migration_plan(id)
            .await
            .map_err(from_store)?
            .into())
    }
}

/// The mutations.
#[derive(Debug, Default)]
pub struct MigrationMutation;

#[Object]
impl MigrationMutation {
    /// Records a plan to move running applications from one version of a workflow to another,
    /// checked against both versions; its `dryRun` says, per application, whether it would
    /// move or why not. Nothing moves until another administrator approves it.
    async fn plan_migration(
        &self,
        ctx: &Context<'_>,
        input: PlanMigrationInput,
    ) -> GqlResult<MigrationPlan> {
        let actor = principal(ctx)?.migrator().map_err(refused)?;
        let selection = match (input.application_ids, input.state) {
            (Some(_), Some(_)) => {
                return Err(crate::error::coded(
                    crate::codes::ErrorCode::BadUserInput,
                    "select by `applicationIds` or by `state`, not both",
                ));
            }
            (Some(ids), None) => Selection::Applications(
                ids.iter()
                    .map(|id| parse_id(id, "application"))
                    .collect::<GqlResult<_>>()?,
            ),
            (None, Some(state)) => Selection::State(state),
            (None, None) => Selection::All,
        };
        let plan = NewPlan {
            workflow_key: input.workflow_key,
            from_version: input.from_version,
            to_version: input.to_version,
            mappings: input.mappings.into_iter().map(|m| (m.from, m.to)).collect(),
            timers: input.timers.into(),
            selection,
            data_changes: input
                .data_changes
                .into_iter()
                .map(|c| (c.field, c.expression))
                .collect(),
        };
        Ok(store(ctx)
            .plan_migration(plan, &actor.id)
            .await
            .map_err(from_store)?
            .into())
    }

    /// Approves a plan: an administrator other than the one who made it (`FORBIDDEN`, reason
    /// `FOUR_EYES`, for its maker).
    async fn approve_migration(&self, ctx: &Context<'_>, id: ID) -> GqlResult<MigrationPlan> {
        let actor = principal(ctx)?.migrator().map_err(refused)?;
        let id = parse_id(&id, "migration plan")?;
        Ok(store(ctx)
            .approve_migration(id, &actor.id)
            .await
            .map_err(from_store)?
            .into())
    }

    /// Runs an approved plan: every application of its selection that can move moves, one
    /// transaction each, with a `migrated` entry in its history. Resumable: run it again to
    /// move what is `remaining`.
    async fn run_migration(&self, ctx: &Context<'_>, id: ID) -> GqlResult<MigrationRun> {
        let actor = principal(ctx)?.migrator().map_err(refused)?;
        let id = parse_id(&id, "migration plan")?;
        let report = store(ctx)
            .run_migration(id, &actor)
            .await
            .map_err(from_store)?;
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Ok(MigrationRun {
            migrated: n(report.migrated),
            blocked: n(report.blocked),
            remaining: n(report.remaining),
            plan: report.plan.into(),
        })
    }
}
