//! Moving running applications to another version of their workflow (issue 32): plans kept
//! in `migration_plans`, approved by a second administrator, dry-run and run one application
//! per transaction (`run.rs`). The rules of what may move are the engine's
//! (`softland_workflow::migration`); this module reads, writes and counts.
//!
//! ```text
//!   plan (stored, hashed) ─► approve (another administrator) ─► run: per application
//!        └─► dry run: per application, will move or why not          one transaction, CAS
//! ```

mod arrival;
mod run;
mod select;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;
use softland_workflow::Rejection;
use softland_workflow::migration::{Migration, Plan, Timers};
use uuid::Uuid;

pub use arrival::ON_ARRIVAL;
pub(crate) use arrival::arrives_at_safe_state;
pub use run::{Check, DryRun, RunReport};

use crate::Store;
use crate::entity::migration_plan;
use crate::error::{Error, Result, corrupt};
use crate::hash::sha256_hex;
use crate::people_actions::NewPersonAction;

/// Which applications a plan moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Every running application on the plan's old version.
    #[default]
    All,
    /// Those in this state of the old version.
    State(String),
    /// These applications (at most [`MOST_LISTED`]).
    Applications(Vec<Uuid>),
}

/// The most applications a plan may list by id.
pub const MOST_LISTED: usize = 10_000;

/// The most explicit mappings a plan may hold.
pub const MOST_MAPPINGS: usize = 500;

/// A plan to write.
#[derive(Debug, Clone)]
pub struct NewPlan {
    /// The workflow.
    pub workflow_key: String,
    /// The version its applications run on.
    pub from_version: i32,
    /// The version they move to.
    pub to_version: i32,
    /// Explicit moves, old state → new state.
    pub mappings: Vec<(String, String)>,
    /// What happens to running timers.
    pub timers: Timers,
    /// Which applications.
    pub selection: Selection,
    /// Changes to the form data: field, CEL expression over the old data.
    pub data_changes: Vec<(String, String)>,
}

/// What is stored of a plan besides its columns, and what its hash covers.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    workflow: String,
    from_version: i32,
    to_version: i32,
    mappings: Vec<(String, String)>,
    timers: String,
    selection: Selection,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    data_changes: Vec<(String, String)>,
}

/// A stored plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRecord {
    /// Its id.
    pub id: Uuid,
    /// SHA-256 of what it says (the `migrated` events name it by this).
    pub hash: String,
    /// The workflow.
    pub workflow_key: String,
    /// From which version.
    pub from_version: i32,
    /// To which version.
    pub to_version: i32,
    /// Explicit moves.
    pub mappings: Vec<(String, String)>,
    /// What happens to running timers.
    pub timers: Timers,
    /// Which applications.
    pub selection: Selection,
    /// Changes to the form data.
    pub data_changes: Vec<(String, String)>,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The second administrator who approved it.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<DateTime<Utc>>,
    /// Applications its runs moved so far.
    pub migrated: i64,
    /// When it last ran.
    pub last_run_at: Option<DateTime<Utc>>,
}

impl PlanRecord {
    /// The engine's plan.
    pub fn plan(&self) -> Plan {
        Plan {
            mappings: self.mappings.clone(),
            timers: self.timers,
            data: self.data_changes.clone(),
        }
    }
}

impl Stored {
    /// What a new plan stores (and its hash covers).
    fn of(new: &NewPlan) -> Self {
        Stored {
            workflow: new.workflow_key.clone(),
            from_version: new.from_version,
            to_version: new.to_version,
            mappings: new.mappings.clone(),
            timers: new.timers.as_str().to_owned(),
            selection: new.selection.clone(),
            data_changes: new.data_changes.clone(),
        }
    }
}

fn record(m: migration_plan::Model) -> Result<PlanRecord> {
    let stored: Stored = serde_json::from_value(m.plan).map_err(|e| Error::Unreadable {
        table: "migration_plans",
        id: m.id.to_string(),
        column: "plan",
        why: e.to_string(),
    })?;
    Ok(PlanRecord {
        id: m.id,
        hash: m.hash,
        workflow_key: m.workflow_key,
        from_version: m.from_version,
        to_version: m.to_version,
        mappings: stored.mappings,
        timers: Timers::parse(&stored.timers).unwrap_or_default(),
        selection: stored.selection,
        data_changes: stored.data_changes,
        created_by: m.created_by,
        created_at: m.created_at,
        approved_by: m.approved_by,
        approved_at: m.approved_at,
        migrated: m.migrated,
        last_run_at: m.last_run_at,
    })
}

/// A version number as the engine counts them.
fn version(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

impl Store {
    /// Records a plan after checking it against both versions (every state it names exists;
    /// none is mapped twice). Nothing moves until another administrator approves it.
    pub async fn plan_migration(&self, new: NewPlan, actor: &str) -> Result<PlanRecord> {
        if new.mappings.len() > MOST_MAPPINGS {
            return Err(Error::InvalidPlan(format!(
                "a plan holds at most {MOST_MAPPINGS} mappings"
            )));
        }
        if let Selection::Applications(ids) = &new.selection
            && ids.len() > MOST_LISTED
        {
            return Err(Error::InvalidPlan(format!(
                "a plan lists at most {MOST_LISTED} applications; select by state or all"
            )));
        }
        let from = self.workflow(&new.workflow_key, new.from_version).await?;
        let to = self.workflow(&new.workflow_key, new.to_version).await?;
        let plan = Plan {
            mappings: new.mappings.clone(),
            timers: new.timers,
            data: new.data_changes.clone(),
        };
        if let Selection::State(s) = &new.selection
            && from.state_id(s).is_none()
        {
            return Err(Error::InvalidPlan(format!(
                "version {} has no state `{s}`",
                new.from_version
            )));
        }
        Migration::new(
            (&from, version(new.from_version)),
            (&to, version(new.to_version)),
            &plan,
        )
        .map_err(|errors| {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            Error::InvalidPlan(text.join("; "))
        })?;
        let stored = Stored::of(&new);
        let text = serde_json::to_string(&stored).map_err(corrupt)?;
        let model = migration_plan::ActiveModel {
            id: Set(Uuid::now_v7()),
            workflow_key: Set(new.workflow_key),
            from_version: Set(new.from_version),
            to_version: Set(new.to_version),
            plan: Set(serde_json::to_value(&stored).map_err(corrupt)?),
            hash: Set(sha256_hex(&text)),
            created_by: Set(actor.to_owned()),
            created_at: Set(self.now()),
            approved_by: Set(None),
            approved_at: Set(None),
            migrated: Set(0),
            last_run_at: Set(None),
        };
        let inserted = migration_plan::Entity::insert(model)
            .exec_with_returning(self.db())
            .await?;
        let plan = record(inserted)?;
        self.note_plan(actor, "plan_migration", &plan).await;
        Ok(plan)
    }

    /// The plan saying exactly this (the same hash), made earlier, or a new one: what the
    /// command line uses, so running it again finds the plan an administrator approved.
    pub async fn plan_migration_once(
        &self,
        new: NewPlan,
        actor: &str,
    ) -> Result<(PlanRecord, bool)> {
        let stored = Stored::of(&new);
        let hash = sha256_hex(&serde_json::to_string(&stored).map_err(corrupt)?);
        let found = migration_plan::Entity::find()
            .filter(migration_plan::Column::Hash.eq(hash.as_str()))
            .order_by_asc(migration_plan::Column::CreatedAt)
            .one(self.db())
            .await?;
        match found {
            Some(m) => Ok((record(m)?, false)),
            None => Ok((self.plan_migration(new, actor).await?, true)),
        }
    }

    /// One plan.
    pub async fn migration_plan(&self, id: Uuid) -> Result<PlanRecord> {
        migration_plan::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(record)
            .transpose()?
            .ok_or_else(|| Error::NotFound(format!("migration plan {id}")))
    }

    /// The plans of a workflow (or of all), newest first: at most 200.
    pub async fn migration_plans(&self, workflow_key: Option<&str>) -> Result<Vec<PlanRecord>> {
        let mut q = migration_plan::Entity::find()
            .order_by_desc(migration_plan::Column::CreatedAt)
            .order_by_desc(migration_plan::Column::Id);
        if let Some(k) = workflow_key {
            q = q.filter(migration_plan::Column::WorkflowKey.eq(k));
        }
        use sea_orm::QuerySelect;
        q.limit(200)
            .all(self.db())
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    /// Approves a plan: by an administrator other than the one who made it (four eyes, as for
    /// any irreversible act), once.
    pub async fn approve_migration(&self, id: Uuid, actor: &str) -> Result<PlanRecord> {
        let plan = self.migration_plan(id).await?;
        if plan.created_by == actor {
            return Err(Error::Rejected(Rejection::FourEyes {
                actor: actor.to_owned(),
                step: "migration plan".to_owned(),
            }));
        }
        let res = migration_plan::Entity::update_many()
            .col_expr(migration_plan::Column::ApprovedBy, Expr::value(actor))
            .col_expr(migration_plan::Column::ApprovedAt, Expr::value(self.now()))
            .filter(migration_plan::Column::Id.eq(id))
            .filter(migration_plan::Column::ApprovedBy.is_null())
            .exec(self.db())
            .await?;
        if res.rows_affected == 0 {
            return Err(Error::Conflict(crate::ConflictReason::AlreadyApproved));
        }
        let plan = self.migration_plan(id).await?;
        self.note_plan(actor, "approve_migration", &plan).await;
        Ok(plan)
    }

    /// Records what a person did with a plan (a failure to record is logged, not fatal: the
    /// plan's own row says who made and approved it).
    async fn note_plan(&self, actor: &str, kind: &str, plan: &PlanRecord) {
        let action = NewPersonAction {
            actor,
            kind,
            subject: format!(
                "{} v{}→v{}",
                plan.workflow_key, plan.from_version, plan.to_version
            ),
            application_id: None,
            detail: json!({"plan": plan.id, "hash": plan.hash}),
        };
        if let Err(e) = self.record_action(action).await {
            tracing::warn!(error = %e, plan = %plan.id, "could not record the action on a migration plan");
        }
    }
}
