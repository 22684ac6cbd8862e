//! Idempotency: a retried request with the same key returns the first result. Keys are
//! scoped to the caller's whole identity; a key used for a different request is a conflict; a
//! lost race turns into a replay of the winner's result.

use sea_orm::{ConnectionTrait, EntityTrait, TransactionTrait};
use serde_json::Value;
use softland_workflow::{Actor, Party};

use crate::Store;
use crate::entity::idempotency;
use crate::error::{ConflictReason, Error, Result, is_busy};
use crate::hash::sha256_hex;
use crate::records::Outcome;
use crate::rows::app_record;

/// The idempotency key of one request. Keys are scoped to the caller's whole identity: the
/// person and what they act for (an agency, or — for applicants — their organization), so two
/// people of the same name in different organizations never share a key.
pub(crate) struct Idem {
    pub(crate) scope: String,
    pub(crate) key: String,
    pub(crate) operation: &'static str,
    pub(crate) request_hash: String,
    /// The applicant's organization: a replayed application must be theirs.
    pub(crate) organization: Option<String>,
}

impl Idem {
    pub(crate) fn new(
        actor: &Actor,
        organization: Option<&str>,
        key: Option<&String>,
        operation: &'static str,
        request: &Value,
    ) -> Option<Self> {
        let party = match &actor.party {
            Party::Applicant => format!("applicant:{}", organization.unwrap_or_default()),
            Party::Agency(a) => format!("agency:{a}"),
            Party::System => "system".to_owned(),
        };
        key.map(|k| Idem {
            scope: format!("{party}:{}", actor.id),
            key: k.clone(),
            operation,
            request_hash: sha256_hex(&request.to_string()),
            organization: match actor.party {
                Party::Applicant => organization.map(str::to_owned),
                _ => None,
            },
        })
    }
}

impl Store {
    /// Runs a command; when it lost a race to another writer of the same application and the
    /// client did not pin a revision, runs it again on the new state (a few times at most).
    pub(crate) async fn retrying<F, Fut>(
        &self,
        may_retry: bool,
        idem: Option<&Idem>,
        mut once: F,
    ) -> Result<Outcome>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Outcome>>,
    {
        let mut attempt = 0;
        loop {
            let result = self.settle(once().await, idem).await;
            match result {
                Err(Error::Conflict(ConflictReason::ConcurrentUpdate))
                    if may_retry && attempt < 8 =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(2 << attempt.min(6))).await;
                }
                other => return other,
            }
        }
    }

    /// The first result of an idempotency key, if it was used already.
    pub(crate) async fn replay_idempotent(
        &self,
        txn: &impl ConnectionTrait,
        idem: Option<&Idem>,
    ) -> Result<Option<Outcome>> {
        let Some(idem) = idem else { return Ok(None) };
        let Some(found) = idempotency::Entity::find_by_id((idem.scope.clone(), idem.key.clone()))
            .one(txn)
            .await?
        else {
            return Ok(None);
        };
        if found.operation != idem.operation || found.request_hash != idem.request_hash {
            return Err(ConflictReason::IdempotencyKeyReused(idem.key.clone()).into());
        }
        let app = self.load_app(txn, found.application_id).await?;
        // Ownership before any replay: a key is only ever found in its own caller's scope, and
        // the application it names must still be the caller's organization's.
        if idem
            .organization
            .as_ref()
            .is_some_and(|o| *o != app.organization)
        {
            return Err(Error::NotFound("application".to_owned()));
        }
        Ok(Some(Outcome {
            application: app_record(app)?,
            events: vec![],
            opened: vec![],
            open_tasks: None,
            replayed: true,
        }))
    }

    /// After the transaction: turn a lost race into a replay (same
    /// idempotency key committed meanwhile) or a conflict.
    pub(crate) async fn settle(
        &self,
        result: Result<Outcome>,
        idem: Option<&Idem>,
    ) -> Result<Outcome> {
        match result {
            // Subscribers hear of committed events through the outbox relay, whichever
            // process committed them.
            Ok(out) => Ok(out),
            Err(e) => {
                // With an idempotency key, any refusal may be the shadow of the same request
                // committing meanwhile (e.g. the task read as closed): check for its result.
                let raced = e.is_unique_violation()
                    || matches!(e, Error::Conflict(_) | Error::Rejected(_))
                    || matches!(&e, Error::Db(d) if is_busy(d));
                if raced {
                    if let Some(idem) = idem {
                        let txn = self.db().begin().await?;
                        let replay = self.replay_idempotent(&txn, Some(idem)).await;
                        txn.rollback().await?;
                        if let Some(done) = replay? {
                            return Ok(done);
                        }
                    }
                    if matches!(&e, Error::Db(d) if is_busy(d)) || e.is_unique_violation() {
                        return Err(ConflictReason::ConcurrentUpdate.into());
                    }
                }
                Err(e)
            }
        }
    }
}
