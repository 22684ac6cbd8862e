//! Rewrites of stored data that a schema migration asks for but cannot do alone, because they
//! need the workflows: carried out once by [`Store::migrate`], recorded in `upgrades` (when,
//! how many rows).
//!
//! `event-state-names`: events written before softland named their states held the state's
//! index in the workflow version they ran on. Each such event gets its states named from that
//! version; the payload its hash covers moves to `hashed_payload`, so the hash chain is not
//! rewritten and stays checkable (`doctor` checks the hash over `hashed_payload` and that
//! `payload` is exactly its named form).

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use softland_workflow::{Workflow, name_legacy_states};
use uuid::Uuid;

use softland_workflow::EventName;

use crate::Store;
use crate::entity::{application, event, upgrade};
use crate::error::{Error, Result};

/// The upgrade of events to state names (`m20261128_000001_event_state_names`).
const EVENT_STATE_NAMES: &str = "event-state-names";

const BATCH: u64 = 500;

impl Store {
    pub(crate) async fn upgrade(&self) -> Result<()> {
        let pending = upgrade::Entity::find_by_id(EVENT_STATE_NAMES)
            .one(self.db())
            .await?
            .is_some_and(|u| u.applied_at.is_none());
        if !pending {
            return Ok(());
        }
        let rows = self.name_event_states().await?;
        upgrade::Entity::update(upgrade::ActiveModel {
            name: Set(EVENT_STATE_NAMES.to_owned()),
            applied_at: Set(Some(self.now())),
            rows: Set(rows),
        })
        .exec(self.writer())
        .await?;
        if rows > 0 {
            tracing::info!(rows, "events now name their states (hashed payloads kept)");
        }
        Ok(())
    }

    /// Names the states of every event that gives an index; returns how many it rewrote.
    async fn name_event_states(&self) -> Result<i64> {
        let mut workflows: HashMap<Uuid, Arc<Workflow>> = HashMap::new();
        let (mut after, mut rewritten) = (None, 0);
        loop {
            // Along the log's key, `(application_id, seq)`.
            let mut q = event::Entity::find();
            if let Some((application, seq)) = after {
                q = q.filter(crate::reads::queries::after_pair(
                    event::Column::ApplicationId,
                    application,
                    event::Column::Seq,
                    seq,
                ));
            }
            let batch = q
                .filter(event::Column::HashedPayload.is_null())
                .filter(
                    event::Column::Kind.is_in(
                        EventName::ALL
                            .into_iter()
                            .filter(|k| k.names_state())
                            .map(EventName::as_str),
                    ),
                )
                .order_by_asc(event::Column::ApplicationId)
                .order_by_asc(event::Column::Seq)
                .limit(BATCH)
                .all(self.db())
                .await?;
            let Some(last) = batch.last() else {
                return Ok(rewritten);
            };
            after = Some((last.application_id, last.seq));
            let txn = self.writer().begin().await?;
            for e in batch {
                let unreadable = |column: &'static str, reason: String| Error::Unreadable {
                    table: "events",
                    id: e.id.to_string(),
                    column,
                    why: reason,
                };
                let mut payload: serde_json::Value = serde_json::from_str(&e.payload)
                    .map_err(|err| unreadable("payload", err.to_string()))?;
                let wf = match workflows.get(&e.application_id) {
                    Some(wf) => Arc::clone(wf),
                    None => {
                        let app = application::Entity::find_by_id(e.application_id)
                            .one(&txn)
                            .await?
                            .ok_or_else(|| {
                                unreadable("application_id", "no such application".into())
                            })?;
                        let wf = self
                            .workflow_on(&txn, &app.workflow_key, app.workflow_version)
                            .await?;
                        workflows.insert(e.application_id, Arc::clone(&wf));
                        wf
                    }
                };
                if name_legacy_states(&mut payload, &wf)
                    .map_err(|err| unreadable("payload", err.to_string()))?
                {
                    event::Entity::update_many()
                        .col_expr(event::Column::Payload, Expr::value(payload.to_string()))
                        .col_expr(event::Column::HashedPayload, Expr::value(e.payload))
                        .filter(event::Column::ApplicationId.eq(e.application_id))
                        .filter(event::Column::Seq.eq(e.seq))
                        .exec(&txn)
                        .await?;
                    rewritten += 1;
                }
            }
            txn.commit().await?;
        }
    }
}
