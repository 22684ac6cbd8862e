//! Places (issue "Places"): positions firms offer, each a pool of places; what a command
//! reads of its application's places before the engine runs; and promotion from a waitlist
//! when a place comes free.
//!
//! ```text
//!   offer_position ─► pools + positions rows
//!   command ─► places_of (ids, levels) ─► engine (Env.full) ─► commit (pools' counts, CHECK)
//!        └─► a place given back ─► promote (first in line: rank, then time) ─► Command::Promote
//! ```

mod intakes;
mod positions;

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use softland_workflow::{Actor, Command, Instance, Workflow};
use tokio::sync::watch;
use uuid::Uuid;

pub use intakes::{IntakeRecord, NewIntake};
pub use positions::{NewPosition, PositionChange, PositionFilter, PositionRecord};

use crate::Store;
use crate::commands::Applied;
use crate::commands::plan_places::Places;
use crate::commands::scheduler::tick_or_stop;
use crate::connect::BackendKind;
use crate::error::{Error, Result};
use softland_workflow::Rejection;

/// The day in Hong Kong at `t`: what positions' closing dates and intakes' days count in.
pub(crate) fn hk_day(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    t.with_timezone(&softland_workflow::HONG_KONG).date_naive()
}

/// How many promotions one pool gets per pass at most (a pass repeats what is left).
const PROMOTIONS_PER_PASS: usize = 64;

/// What a command reads of its application's places: the pools' ids and where it stands in
/// each, which of them are full, and the workflow's pools it has no entry in (submitted
/// before its programme's first intake, or under a version without the pool).
pub(crate) struct Read {
    pub(crate) places: Places,
    pub(crate) full: Vec<String>,
    pub(crate) unbound: Vec<String>,
}

/// A submission's places: its entries, its host firm, and the pools it draws on nothing of.
pub(crate) struct Submission {
    pub(crate) places: Places,
    pub(crate) host: Option<String>,
    pub(crate) unbound: Vec<String>,
}

impl Store {
    fn sql(&self, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
        let backend = match self.inner.backend.kind() {
            BackendKind::Postgres => DbBackend::Postgres,
            BackendKind::Sqlite => DbBackend::Sqlite,
        };
        // SQLite numbers its parameters `?1`, `?2`, … where PostgreSQL writes `$1`, `$2`, ….
        let sql = match backend {
            DbBackend::Postgres => sql.to_owned(),
            _ => sql.replace('$', "?"),
        };
        Statement::from_sql_and_values(backend, sql, values)
    }

    /// The application's pools (from its entries) and their levels, for a workflow that
    /// declares pools; nothing for one that does not.
    pub(crate) async fn places_of(
        &self,
        db: &impl ConnectionTrait,
        wf: &Workflow,
        app: Uuid,
        inst: &Instance,
    ) -> Result<Option<Read>> {
        if wf.pools().is_empty() {
            return Ok(None);
        }
        let rows = db
            .query_all_raw(self.sql(
                "SELECT e.pool AS pool, e.pool_id AS pool_id, p.places AS places, p.taken AS taken FROM pool_entries e JOIN pools p ON p.id = e.pool_id WHERE e.application_id = $1",
                vec![app.into()],
            ))
            .await?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut full = Vec::new();
        for r in rows {
            let pool: String = r.try_get("", "pool")?;
            let (places, taken): (i32, i32) = (r.try_get("", "places")?, r.try_get("", "taken")?);
            if taken >= places {
                full.push(pool.clone());
            }
            ids.push((pool, r.try_get::<Uuid>("", "pool_id")?));
        }
        let unbound = wf
            .pools()
            .iter()
            .map(|p| p.name())
            .filter(|name| !ids.iter().any(|(bound, _)| bound == name))
            .map(str::to_owned)
            .collect();
        Ok(Some(Read {
            places: Places::bound(ids, inst),
            full,
            unbound,
        }))
    }

    /// A submission's places: the position it applies for, when the workflow draws on
    /// positions (it must name an open one of this programme), and the firm offering it (its
    /// host); the intake open today, when it admits by intake.
    pub(crate) async fn places_for_submission(
        &self,
        db: &impl ConnectionTrait,
        wf: &Workflow,
        position: Option<Uuid>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Submission> {
        use softland_workflow::PoolScope;
        let mut places = Places::default();
        let mut unbound = Vec::new();
        let per_position: Vec<&str> = wf
            .pools()
            .iter()
            .filter(|p| p.per() == PoolScope::Position)
            .map(|p| p.name())
            .collect();
        let host = match (per_position.is_empty(), position) {
            (true, None) => None,
            (true, Some(_)) => {
                return Err(Error::InvalidPosition(format!(
                    "`{}` takes no position: its applications draw on no position's places",
                    wf.key()
                )));
            }
            (false, None) => {
                return Err(Error::InvalidPosition(format!(
                    "`{}` needs `positionId`: the position applied for",
                    wf.key()
                )));
            }
            (false, Some(id)) => {
                let p = self
                    .position_on(db, id)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("position {id}")))?;
                if p.workflow_key != wf.key() {
                    return Err(Error::InvalidPosition(format!(
                        "position {id} is offered in `{}`, not `{}`",
                        p.workflow_key,
                        wf.key()
                    )));
                }
                if !p.is_open(hk_day(now)) {
                    return Err(Error::InvalidPosition(format!(
                        "position {id} no longer takes applications (closed, or its closing date has passed)"
                    )));
                }
                for pool in per_position {
                    places.applied(pool, id, now);
                }
                Some(p.organization)
            }
        };
        // An intake's pool (`per: intake`): the programme's intake open today (Hong Kong). A
        // programme that has never opened one is not admitting by intake yet: its
        // applications draw on no intake's places.
        for pool in wf.pools().iter().filter(|p| p.per() == PoolScope::Intake) {
            match self.intake_on(db, wf.key(), hk_day(now)).await? {
                Some(intake) => places.applied(pool.name(), intake, now),
                None if !self.has_intakes(db, wf.key()).await? => {
                    unbound.push(pool.name().to_owned());
                }
                None => {
                    return Err(Error::InvalidPosition(format!(
                        "`{}` admits by intake, and none is open today: applications open with the next intake",
                        wf.key()
                    )));
                }
            }
        }
        Ok(Submission {
            places,
            host,
            unbound,
        })
    }

    /// Promotes the first in line of `pool` while it has a place free and someone waits:
    /// by rank (lower first, unranked last), then by the time they joined the line.
    /// Returns how many were promoted.
    pub async fn promote(&self, pool: Uuid) -> Result<usize> {
        let mut promoted = 0;
        for _ in 0..PROMOTIONS_PER_PASS {
            let first = self
                .db()
                .query_one_raw(self.sql(
                    "SELECT e.application_id AS application_id, e.pool AS pool FROM pools p JOIN pool_entries e ON e.pool_id = p.id AND e.status = 'waiting' WHERE p.id = $1 AND p.taken < p.places ORDER BY (e.rank IS NULL), e.rank, e.since, e.application_id LIMIT 1",
                    vec![pool.into()],
                ))
                .await?;
            let Some(first) = first else { break };
            let app: Uuid = first.try_get("", "application_id")?;
            let name: String = first.try_get("", "pool")?;
            match self.promote_one(app, name).await {
                Ok(()) => promoted += 1,
                // Promoted by another server meanwhile, or withdrawn: look again.
                Err(Error::Rejected(Rejection::NotWaiting { .. } | Rejection::Finished)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(promoted)
    }

    async fn promote_one(&self, app: Uuid, pool: String) -> Result<()> {
        let work = self.retrying(true, None, || async {
            let row = self.load_app(self.db(), app).await?;
            let command = Command::Promote { pool: pool.clone() };
            self.apply(self.db(), &Actor::system(), command, Applied::fresh(row))
                .await
        });
        crate::traced::command("promote", Some(app), work).await?;
        Ok(())
    }

    /// After a command that gave places back or joined a line: the pools' first in line are
    /// promoted now. A failure is logged: the keeper ([`Store::spawn_place_keeper`]) promotes
    /// them on its next pass.
    pub(crate) async fn promote_after(&self, pools: Vec<Uuid>) {
        for pool in pools {
            if let Err(e) = self.promote(pool).await {
                tracing::warn!(error = %e, %pool, "promotion from the waitlist failed; the keeper retries");
            }
        }
    }

    /// Every pool with a place free and someone waiting: what a promotion missed (a server
    /// stopped between a release and the promotion, two commands crossed).
    pub async fn promote_waiting(&self) -> Result<usize> {
        let rows = self
            .db()
            .query_all_raw(self.sql(
                "SELECT id FROM pools WHERE taken < places AND waiting > 0 LIMIT 100",
                vec![],
            ))
            .await?;
        let mut n = 0;
        for r in rows {
            n += self.promote(r.try_get::<Uuid>("", "id")?).await?;
        }
        Ok(n)
    }

    /// Starts the place keeper: every `every`, pools with a free place and a line promote.
    pub fn spawn_place_keeper(
        &self,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut log = crate::worker_log::PassLog::new("place keeper");
            while tick_or_stop(every, &mut stop).await {
                let pass = store.promote_waiting().await;
                if let Ok(n) = pass
                    && n > 0
                {
                    tracing::info!(promoted = n, "promoted from waitlists")
                }
                log.pass(&pass);
            }
        })
    }
}

impl Store {
    /// Which of the applications `ids` `firm` hosts: those that applied for one of the firm's
    /// positions.
    pub async fn hosted_among(
        &self,
        ids: &[Uuid],
        firm: &str,
    ) -> Result<std::collections::HashSet<Uuid>> {
        let mut hosted = std::collections::HashSet::new();
        for chunk in ids.chunks(crate::reads::batches::CHUNK) {
            let places: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
            let mut values = vec![firm.into()];
            values.extend(chunk.iter().map(|id| sea_orm::Value::from(*id)));
            let rows = self
                .db()
                .query_all_raw(self.sql(
                    &format!(
                        "SELECT DISTINCT e.application_id AS application_id FROM pool_entries e JOIN positions p ON p.id = e.pool_id WHERE p.organization = $1 AND e.application_id IN ({})",
                        places.join(", ")
                    ),
                    values,
                ))
                .await?;
            for row in rows {
                hosted.insert(row.try_get::<Uuid>("", "application_id")?);
            }
        }
        Ok(hosted)
    }
}
