//! Which applications a plan touches, read a page at a time in id order: every running one
//! on the old version (in a state, when the plan says), or the ones it lists.

use std::sync::Arc;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use softland_workflow::Instance;
use uuid::Uuid;

use super::{PlanRecord, Selection};
use crate::Store;
use crate::entity::application;
use crate::entity::enums::AppStatus;
use crate::error::{Result, corrupt};

/// Applications read per page.
const PAGE: u64 = 200;

/// One application read for a plan.
pub(super) struct Candidate {
    pub(super) row: application::Model,
    pub(super) inst: Instance,
}

impl Store {
    /// The applications of one page of the plan's selection after `cursor`, with the ids of a
    /// listed selection that were not found.
    pub(super) async fn page(
        &self,
        plan: &PlanRecord,
        cursor: &mut Option<Uuid>,
        listed: &mut usize,
    ) -> Result<(Vec<Candidate>, Vec<Uuid>)> {
        let mut q = application::Entity::find()
            .filter(application::Column::WorkflowKey.eq(plan.workflow_key.as_str()))
            .order_by_asc(application::Column::Id)
            .limit(PAGE);
        let mut missing = Vec::new();
        match &plan.selection {
            Selection::Applications(ids) => {
                let chunk: Vec<Uuid> = ids
                    .iter()
                    .skip(*listed)
                    .take(PAGE as usize)
                    .copied()
                    .collect();
                *listed += chunk.len();
                if chunk.is_empty() {
                    return Ok((Vec::new(), missing));
                }
                q = q.filter(application::Column::Id.is_in(chunk.clone()));
                let rows = q.all(self.db()).await?;
                missing = chunk
                    .into_iter()
                    .filter(|id| !rows.iter().any(|r| r.id == *id))
                    .collect();
                return Ok((self.candidates(rows, plan)?, missing));
            }
            Selection::All | Selection::State(_) => {
                q = q
                    .filter(application::Column::WorkflowVersion.eq(plan.from_version))
                    .filter(application::Column::Status.eq(AppStatus::Active));
                if let Some(after) = cursor {
                    q = q.filter(application::Column::Id.gt(*after));
                }
            }
        }
        let rows = q.all(self.db()).await?;
        *cursor = rows.last().map(|r| r.id);
        Ok((self.candidates(rows, plan)?, missing))
    }

    fn candidates(
        &self,
        rows: Vec<application::Model>,
        plan: &PlanRecord,
    ) -> Result<Vec<Candidate>> {
        let mut out = Vec::with_capacity(rows.len());
        for mut row in rows {
            if let Selection::State(s) = &plan.selection {
                let active: Vec<String> =
                    serde_json::from_value(row.active_states.clone()).unwrap_or_default();
                if !active.contains(s) {
                    continue;
                }
            }
            let mut inst: Instance =
                serde_json::from_value(row.instance.clone()).map_err(corrupt)?;
            inst.set_data(Arc::new(std::mem::take(&mut row.data)));
            out.push(Candidate { row, inst });
        }
        Ok(out)
    }

    /// Applications of the selection after the cursor (for a run out of time).
    pub(super) async fn left_after(
        &self,
        plan: &PlanRecord,
        cursor: Option<Uuid>,
        listed: usize,
    ) -> Result<u64> {
        match &plan.selection {
            Selection::Applications(ids) => Ok(ids.len().saturating_sub(listed) as u64),
            _ => {
                let mut q = application::Entity::find()
                    .filter(application::Column::WorkflowKey.eq(plan.workflow_key.as_str()))
                    .filter(application::Column::WorkflowVersion.eq(plan.from_version))
                    .filter(application::Column::Status.eq(AppStatus::Active));
                if let Some(after) = cursor {
                    q = q.filter(application::Column::Id.gt(after));
                }
                Ok(q.count(self.db()).await?)
            }
        }
    }
}
