//! The notification queue: committed commands become notifications (fan-out), notifications
//! are leased, sent and recorded.
//!
//! **Fan-out.** Every command writes one outbox row in its own transaction. An outbox row
//! whose `delivered_at` is NULL has not been turned into notifications yet; [`FanOut`] takes
//! the oldest such rows (on PostgreSQL under a transaction-scoped advisory lock that one
//! server holds at a time, until [`Store::finish_fan_out`] inserts the notifications and marks
//! the rows, so two servers never fan out one row twice and a crash in between leaves the rows
//! to do again).
//! A command that commits late (a lower outbox id after a higher one) is simply found on a
//! later pass: nothing is skipped.
//!
//! **Sending.** [`Store::claim_notifications`] leases due notifications (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL; the lease itself across processes), never one whose application has
//! an earlier event still waiting for the same endpoint, or still waiting to be fanned out:
//! deliveries are ordered per application per endpoint. A server that dies mid-delivery leaves
//! its lease to expire; the notification is sent again with the same id (at least once).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction,
    DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::Store;
use crate::connect::BackendKind;
use crate::entity::enums::NotificationStatus;
use crate::entity::{event, notification, notification_attempt, outbox, task};
use crate::error::Result;
use crate::notifications::{Attempt, NewNotification, Notification, notification_record};
use crate::records::EventRecord;
use crate::rows::event_record;

/// One committed command's events, to turn into notifications.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The application.
    pub application_id: Uuid,
    /// Its events, in order.
    pub events: Vec<EventRecord>,
}

/// Outbox rows taken for fan-out; give them back with [`Store::finish_fan_out`].
#[derive(Debug)]
pub struct FanOut {
    txn: Option<DatabaseTransaction>,
    ids: Vec<i64>,
    /// The commands, in outbox order.
    pub commands: Vec<Committed>,
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    /// Accepted: done.
    Delivered,
    /// Failed; try again then.
    RetryAt(DateTime<Utc>),
    /// Failed for good.
    Failed,
    /// Not sent and not to be (a reminder whose task closed).
    Cancelled,
}

/// Notifications a server may lease now (`$1` the pending status, `$2` now, `$3` how many):
/// due, not leased, and not behind an earlier one of the same application to the same
/// endpoint or an outbox row not yet published.
const CLAIM: &str = "SELECT n.* FROM notifications n \
    WHERE n.status = $1 AND n.next_attempt_at <= $2 \
      AND (n.lease_until IS NULL OR n.lease_until < $2) \
      AND NOT EXISTS (SELECT 1 FROM notifications p WHERE p.endpoint_id = n.endpoint_id \
          AND p.application_id = n.application_id AND p.status = $1 AND p.seq < n.seq) \
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.delivered_at IS NULL \
          AND o.application_id = n.application_id AND o.first_seq < n.seq) \
    ORDER BY n.next_attempt_at LIMIT $3";

/// Taken by the server fanning out on PostgreSQL, for its transaction; another server's
/// pass finds it held and takes nothing.
const FAN_OUT_LOCK: &str =
    "SELECT pg_try_advisory_xact_lock(hashtextextended('softland fan-out', 0))";

/// [`CLAIM`] as PostgreSQL runs it: locking the rows it takes, skipping those another server
/// is taking.
static CLAIM_POSTGRES: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{CLAIM} FOR UPDATE OF n SKIP LOCKED"));

/// [`CLAIM`] as SQLite runs it (numbered `?N` placeholders; its one writer needs no locks).
static CLAIM_SQLITE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| CLAIM.replace('$', "?"));

impl FanOut {
    /// How many outbox rows (committed commands) were taken.
    pub fn rows(&self) -> usize {
        self.ids.len()
    }
}

impl Store {
    /// Takes up to `limit` outbox rows not yet fanned out, with their events (none when
    /// `read_events` is false: nobody is to be told, the rows are only to be marked).
    pub async fn fan_out(&self, limit: u64, read_events: bool) -> Result<FanOut> {
        let q = outbox::Entity::find()
            .filter(outbox::Column::DeliveredAt.is_null())
            .order_by_asc(outbox::Column::Id)
            .limit(limit);
        let (txn, rows) = match self.inner.backend.kind() {
            BackendKind::Postgres => {
                let txn = self.db().begin().await?;
                // One server fans out at a time: it holds the lock until its transaction
                // marks the rows. Locking the rows themselves cost a WAL record each.
                let ours = txn
                    .query_one_raw(Statement::from_string(DbBackend::Postgres, FAN_OUT_LOCK))
                    .await?
                    .map(|r| r.try_get_by_index::<bool>(0))
                    .transpose()?
                    .unwrap_or(false);
                let rows = if ours { q.all(&txn).await? } else { Vec::new() };
                (Some(txn), rows)
            }
            BackendKind::Sqlite => (None, q.all(self.db()).await?),
        };
        let commands = if read_events {
            self.events_of(&rows).await?
        } else {
            Vec::new()
        };
        Ok(FanOut {
            txn,
            ids: rows.iter().map(|r| r.id).collect(),
            commands,
        })
    }

    /// The events the outbox rows name, read with one query, per row in order. An event that
    /// cannot be read is left out with an error in the log (`doctor` names the row): it must
    /// not hold back every later one.
    pub(crate) async fn events_of(&self, rows: &[outbox::Model]) -> Result<Vec<Committed>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let which = rows.iter().fold(Condition::any(), |c, o| {
            c.add(
                Condition::all()
                    .add(event::Column::ApplicationId.eq(o.application_id))
                    .add(event::Column::Seq.between(o.first_seq, o.last_seq)),
            )
        });
        let mut found: HashMap<(Uuid, i64), event::Model> = event::Entity::find()
            .filter(which)
            .all(self.db())
            .await?
            .into_iter()
            .map(|e| ((e.application_id, e.seq), e))
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for o in rows {
            let mut events = Vec::new();
            for seq in o.first_seq..=o.last_seq {
                if let Some(e) = found.remove(&(o.application_id, seq)) {
                    match event_record(e) {
                        Ok(record) => events.push(record),
                        Err(err) => tracing::error!(error = %err, "an event cannot be read"),
                    }
                }
            }
            out.push(Committed {
                application_id: o.application_id,
                events,
            });
        }
        Ok(out)
    }

    /// Queues `notifications` and marks the taken outbox rows done, in one transaction.
    pub async fn finish_fan_out(
        &self,
        fan: FanOut,
        notifications: Vec<NewNotification>,
    ) -> Result<usize> {
        let txn = match fan.txn {
            Some(t) => t,
            None => self.begin().await?,
        };
        let now = self.now();
        let queued = notifications.len();
        for chunk in notifications.chunks(200) {
            notification::Entity::insert_many(chunk.iter().cloned().map(|n| {
                let NewNotification {
                    message: m,
                    status,
                    send_at,
                } = n;
                notification::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    channel: Set(m.channel),
                    endpoint_id: Set(m.endpoint_id),
                    recipient: Set(m.recipient),
                    language: Set(m.language),
                    event_type: Set(m.event_type),
                    application_id: Set(m.application_id),
                    seq: Set(m.seq),
                    task_no: Set(m.task_no),
                    subject: Set(m.subject),
                    body: Set(m.body),
                    html: Set(m.html),
                    status: Set(status),
                    attempts: Set(0),
                    next_attempt_at: Set(send_at),
                    lease_owner: Set(None),
                    lease_until: Set(None),
                    last_status: Set(None),
                    last_error: Set(None),
                    created_at: Set(now),
                    delivered_at: Set(None),
                }
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        let mut marked = 0;
        for ids in fan.ids.chunks(500) {
            marked += outbox::Entity::update_many()
                .col_expr(outbox::Column::DeliveredAt, Expr::value(Some(now)))
                .filter(outbox::Column::Id.is_in(ids.iter().copied()))
                .filter(outbox::Column::DeliveredAt.is_null())
                .exec(&txn)
                .await?
                .rows_affected;
        }
        // Another process fanned out some of these rows first (SQLite takes no row locks):
        // queue nothing (the transaction rolls back); the rest are found again next pass.
        if marked != fan.ids.len() as u64 {
            return Ok(0);
        }
        txn.commit().await?;
        Ok(queued)
    }

    /// Queues notifications that follow no command (a disabled endpoint's notice).
    pub async fn queue(&self, notifications: Vec<NewNotification>) -> Result<()> {
        if notifications.is_empty() {
            return Ok(());
        }
        let fan = FanOut {
            txn: None,
            ids: Vec::new(),
            commands: Vec::new(),
        };
        self.finish_fan_out(fan, notifications).await?;
        Ok(())
    }

    /// Leases up to `limit` notifications due now for `owner` until `until`.
    pub async fn claim_notifications(
        &self,
        owner: &str,
        limit: u64,
        until: DateTime<Utc>,
    ) -> Result<Vec<Notification>> {
        let now = self.now();
        let values = vec![
            NotificationStatus::Pending.to_value().into(),
            now.into(),
            (limit as i64).into(),
        ];
        let (txn, sql, backend) = match self.inner.backend.kind() {
            BackendKind::Postgres => (
                self.db().begin().await?,
                CLAIM_POSTGRES.as_str(),
                DbBackend::Postgres,
            ),
            BackendKind::Sqlite => {
                // Look before taking SQLite's one write lock: most passes find nothing due.
                let peek = notification::Entity::find()
                    .from_raw_sql(Statement::from_sql_and_values(
                        DbBackend::Sqlite,
                        CLAIM_SQLITE.as_str(),
                        values.clone(),
                    ))
                    .all(self.db())
                    .await?;
                if peek.is_empty() {
                    return Ok(Vec::new());
                }
                (
                    self.begin().await?,
                    CLAIM_SQLITE.as_str(),
                    DbBackend::Sqlite,
                )
            }
        };
        let due = notification::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
            .all(&txn)
            .await?;
        if !due.is_empty() {
            notification::Entity::update_many()
                .col_expr(
                    notification::Column::LeaseOwner,
                    Expr::value(Some(owner.to_owned())),
                )
                .col_expr(notification::Column::LeaseUntil, Expr::value(Some(until)))
                .filter(notification::Column::Id.is_in(due.iter().map(|n| n.id)))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(due.into_iter().map(notification_record).collect())
    }

    /// Records an attempt by `owner` (who must still hold the lease; `false` otherwise) and
    /// what follows from it.
    pub async fn record_attempt(
        &self,
        id: Uuid,
        owner: &str,
        attempt: Option<Attempt>,
        after: AfterAttempt,
    ) -> Result<bool> {
        let txn = self.begin().await?;
        let (status, next) = match after {
            AfterAttempt::Delivered => (NotificationStatus::Delivered, None),
            AfterAttempt::RetryAt(at) => (NotificationStatus::Pending, Some(at)),
            AfterAttempt::Failed => (NotificationStatus::Failed, None),
            AfterAttempt::Cancelled => (NotificationStatus::Cancelled, None),
        };
        let mut update = notification::Entity::update_many()
            .col_expr(notification::Column::Status, Expr::value(status))
            .col_expr(
                notification::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                notification::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            );
        if let Some(at) = next {
            update = update.col_expr(notification::Column::NextAttemptAt, Expr::value(at));
        }
        if after == AfterAttempt::Delivered {
            update = update.col_expr(
                notification::Column::DeliveredAt,
                Expr::value(Some(self.now())),
            );
        }
        if let Some(a) = &attempt {
            update = update
                .col_expr(
                    notification::Column::Attempts,
                    Expr::col(notification::Column::Attempts).add(1),
                )
                .col_expr(notification::Column::LastStatus, Expr::value(a.status_code))
                .col_expr(
                    notification::Column::LastError,
                    Expr::value(a.error.clone()),
                );
        }
        let changed = update
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::LeaseOwner.eq(owner))
            .exec(&txn)
            .await?
            .rows_affected;
        if changed > 0
            && let Some(a) = attempt
        {
            notification_attempt::Entity::insert(notification_attempt::ActiveModel {
                notification_id: Set(id),
                at: Set(a.at),
                status_code: Set(a.status_code),
                latency_ms: Set(a.latency_ms),
                error: Set(a.error),
                ..Default::default()
            })
            .exec_without_returning(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(changed > 0)
    }

    /// Whether task `task_no` of an application is open and not overdue (a reminder about it
    /// is still worth sending).
    pub async fn task_awaits(&self, application_id: Uuid, task_no: i32) -> Result<bool> {
        Ok(task::Entity::find()
            .filter(task::Column::ApplicationId.eq(application_id))
            .filter(task::Column::TaskNo.eq(task_no))
            .filter(task::is_open())
            .filter(task::Column::Overdue.eq(false))
            .one(self.db())
            .await?
            .is_some())
    }

    /// Who task `task_no` of an application is for (`applicant` or an agency's key).
    pub async fn task_assignee(
        &self,
        application_id: Uuid,
        task_no: i32,
    ) -> Result<Option<softland_workflow::Assignee>> {
        Ok(task::Entity::find()
            .filter(task::Column::ApplicationId.eq(application_id))
            .filter(task::Column::TaskNo.eq(task_no))
            .one(self.db())
            .await?
            .map(|t| softland_workflow::Assignee::parse(&t.assignee)))
    }

    /// Held notifications (digests) due by now, oldest first, at most `limit`.
    pub async fn held_notifications(&self, limit: u64) -> Result<Vec<Notification>> {
        Ok(notification::Entity::find()
            .filter(notification::Column::Status.eq(NotificationStatus::Held))
            .filter(notification::Column::NextAttemptAt.lte(self.now()))
            .order_by_asc(notification::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(notification_record)
            .collect())
    }

    /// Queues `digest` in place of the held notifications `ids`, in one transaction.
    pub async fn replace_held(&self, ids: &[Uuid], digest: NewNotification) -> Result<()> {
        let txn = self.begin().await?;
        let changed = notification::Entity::update_many()
            .col_expr(
                notification::Column::Status,
                Expr::value(NotificationStatus::Cancelled),
            )
            .col_expr(
                notification::Column::LastError,
                Expr::value(Some("sent in a daily digest".to_owned())),
            )
            .filter(notification::Column::Id.is_in(ids.iter().copied()))
            .filter(notification::Column::Status.eq(NotificationStatus::Held))
            .exec(&txn)
            .await?
            .rows_affected;
        // Another server made this digest first.
        if changed as usize != ids.len() {
            return Ok(());
        }
        let fan = FanOut {
            txn: Some(txn),
            ids: Vec::new(),
            commands: Vec::new(),
        };
        self.finish_fan_out(fan, vec![digest]).await?;
        Ok(())
    }
}
