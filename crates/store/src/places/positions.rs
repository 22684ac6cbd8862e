//! Positions firms offer: each one a pool of places (the pool has the position's id).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde_json::Value;
use uuid::Uuid;

use crate::Store;
use crate::entity::{pool, position};
use crate::error::{Error, Result, corrupt};

/// The most places one position offers.
pub const MOST_PLACES: i32 = 10_000;

/// A position as offered, with its places' counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionRecord {
    /// Its id (also its pool's).
    pub id: Uuid,
    /// The firm offering it.
    pub organization: String,
    /// The programme it is offered in.
    pub workflow_key: String,
    /// `{en, zh-Hant, zh-Hans}`.
    pub title: Value,
    /// `{en, zh-Hant, zh-Hans}`.
    pub description: Value,
    /// Where.
    pub location: String,
    /// What the firm asks of a student.
    pub requirements: String,
    /// When the internship starts and ends.
    pub starts_on: Option<NaiveDate>,
    /// When the internship ends.
    pub ends_on: Option<NaiveDate>,
    /// The last day it takes applications.
    pub closes_on: NaiveDate,
    /// `open`, `closed` or `withdrawn`.
    pub status: String,
    /// Its places.
    pub places: i32,
    /// Held or confirmed.
    pub taken: i32,
    /// In line.
    pub waiting: i32,
    /// When it was offered.
    pub created_at: DateTime<Utc>,
}

impl PositionRecord {
    /// Whether it takes applications on `today`.
    pub fn is_open(&self, today: NaiveDate) -> bool {
        self.status == "open" && self.closes_on >= today
    }
}

/// A position to offer.
#[derive(Debug, Clone)]
pub struct NewPosition {
    /// The programme (`internship-placement`).
    pub workflow_key: String,
    /// `{en, zh-Hant?, zh-Hans?}`.
    pub title: Value,
    /// `{en, zh-Hant?, zh-Hans?}`.
    pub description: Value,
    /// Where.
    pub location: String,
    /// What the firm asks.
    pub requirements: String,
    /// Dates of the internship.
    pub starts_on: Option<NaiveDate>,
    /// Dates of the internship.
    pub ends_on: Option<NaiveDate>,
    /// The last day it takes applications.
    pub closes_on: NaiveDate,
    /// How many places.
    pub places: i32,
}

/// Which positions a list shows.
#[derive(Debug, Clone, Default)]
pub struct PositionFilter {
    /// Only those taking applications today (`Some(true)`), or only those not.
    pub open: Option<bool>,
    /// Only one firm's.
    pub organization: Option<String>,
}

fn record(p: position::Model, counts: Option<pool::Model>) -> PositionRecord {
    let (places, taken, waiting) = counts.map_or((0, 0, 0), |c| (c.places, c.taken, c.waiting));
    PositionRecord {
        id: p.id,
        organization: p.organization,
        workflow_key: p.workflow_key,
        title: p.title,
        description: p.description,
        location: p.location,
        requirements: p.requirements,
        starts_on: p.starts_on,
        ends_on: p.ends_on,
        closes_on: p.closes_on,
        status: p.status,
        places,
        taken,
        waiting,
        created_at: p.created_at,
    }
}

impl Store {
    /// A firm offers a position: its pool of `places` and its details, in one transaction.
    pub async fn offer_position(
        &self,
        organization: &str,
        by: &str,
        p: NewPosition,
    ) -> Result<PositionRecord> {
        if !(1..=MOST_PLACES).contains(&p.places) {
            return Err(Error::InvalidPosition(format!(
                "`places` must be 1 to {MOST_PLACES}, not {}",
                p.places
            )));
        }
        let now = self.now();
        if p.closes_on < super::hk_day(now) {
            return Err(Error::InvalidPosition(format!(
                "`closesOn` {} has passed",
                p.closes_on
            )));
        }
        if let (Some(a), Some(b)) = (p.starts_on, p.ends_on)
            && b < a
        {
            return Err(Error::InvalidPosition(
                "`endsOn` is before `startsOn`".to_owned(),
            ));
        }
        let version = self.current_version(self.db(), &p.workflow_key).await?;
        let wf = self.workflow(&p.workflow_key, version).await?;
        let takes_positions = wf
            .pools()
            .iter()
            .any(|pool| pool.per() == softland_workflow::PoolScope::Position);
        if !takes_positions {
            return Err(Error::InvalidPosition(format!(
                "`{}` has no places per position to offer",
                p.workflow_key
            )));
        }
        let id = Uuid::now_v7();
        let txn = self.writer().begin().await?;
        let counts = pool::ActiveModel {
            id: Set(id),
            places: Set(p.places),
            taken: Set(0),
            waiting: Set(0),
        }
        .insert(&txn)
        .await?;
        let row = position::ActiveModel {
            id: Set(id),
            organization: Set(organization.to_owned()),
            workflow_key: Set(p.workflow_key),
            title: Set(p.title),
            description: Set(p.description),
            location: Set(p.location),
            requirements: Set(p.requirements),
            starts_on: Set(p.starts_on),
            ends_on: Set(p.ends_on),
            closes_on: Set(p.closes_on),
            status: Set("open".to_owned()),
            created_by: Set(by.to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(record(row, Some(counts)))
    }

    /// Closes a position: it takes no more applications; those under way go on.
    pub async fn close_position(&self, id: Uuid) -> Result<PositionRecord> {
        self.set_position_status(id, "closed").await
    }

    async fn set_position_status(&self, id: Uuid, status: &str) -> Result<PositionRecord> {
        let found = position::Entity::find_by_id(id)
            .one(self.writer())
            .await?
            .ok_or_else(|| Error::NotFound(format!("position {id}")))?;
        let mut row: position::ActiveModel = found.into();
        row.status = Set(status.to_owned());
        row.update(self.writer()).await?;
        self.position(id)
            .await?
            .ok_or_else(|| corrupt("a position changed and gone"))
    }

    /// One position, with its counts.
    pub async fn position(&self, id: Uuid) -> Result<Option<PositionRecord>> {
        self.position_on(self.db(), id).await
    }

    pub(crate) async fn position_on(
        &self,
        db: &impl ConnectionTrait,
        id: Uuid,
    ) -> Result<Option<PositionRecord>> {
        Ok(position::Entity::find_by_id(id)
            .find_also_related_pool(db)
            .await?
            .map(|(p, c)| record(p, c)))
    }

    /// Positions, newest first, after the cursor `after` (a position's id), at most `first`.
    pub async fn positions(
        &self,
        filter: &PositionFilter,
        first: u64,
        after: Option<Uuid>,
    ) -> Result<Vec<PositionRecord>> {
        let today = super::hk_day(self.now());
        let mut q = position::Entity::find();
        if let Some(org) = &filter.organization {
            q = q.filter(position::Column::Organization.eq(org.as_str()));
        }
        match filter.open {
            Some(true) => {
                q = q
                    .filter(position::Column::Status.eq("open"))
                    .filter(position::Column::ClosesOn.gte(today))
            }
            Some(false) => {
                q = q.filter(
                    sea_orm::Condition::any()
                        .add(position::Column::Status.ne("open"))
                        .add(position::Column::ClosesOn.lt(today)),
                )
            }
            None => {}
        }
        if let Some(after) = after {
            q = q.filter(position::Column::Id.lt(after));
        }
        let rows = q
            .order_by_desc(position::Column::Id)
            .limit(first)
            .all(self.db())
            .await?;
        let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
        let counts = pool::Entity::find()
            .filter(pool::Column::Id.is_in(ids))
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|p| {
                let c = counts.iter().find(|c| c.id == p.id).cloned();
                record(p, c)
            })
            .collect())
    }
}

/// A position with its pool (same id), without a declared relation.
trait AlsoPool {
    async fn find_also_related_pool(
        self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<(position::Model, Option<pool::Model>)>>;
}

impl AlsoPool for sea_orm::Select<position::Entity> {
    async fn find_also_related_pool(
        self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<(position::Model, Option<pool::Model>)>> {
        let Some(p) = self.one(db).await? else {
            return Ok(None);
        };
        let c = pool::Entity::find_by_id(p.id).one(db).await?;
        Ok(Some((p, c)))
    }
}

/// What a firm changes of a position it offers (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct PositionChange {
    /// `{en, zh-Hant?, zh-Hans?}`.
    pub title: Option<Value>,
    /// `{en, zh-Hant?, zh-Hans?}`.
    pub description: Option<Value>,
    /// Where.
    pub location: Option<String>,
    /// What the firm asks.
    pub requirements: Option<String>,
    /// The last day it takes applications.
    pub closes_on: Option<NaiveDate>,
    /// How many places: never fewer than those taken.
    pub places: Option<i32>,
}

impl Store {
    /// Changes a position; its places in the same transaction, never below those held or
    /// confirmed (the pools' CHECK refuses it).
    pub async fn change_position(&self, id: Uuid, c: PositionChange) -> Result<PositionRecord> {
        if let Some(n) = c.places
            && !(1..=MOST_PLACES).contains(&n)
        {
            return Err(Error::InvalidPosition(format!(
                "`places` must be 1 to {MOST_PLACES}, not {n}"
            )));
        }
        let found = position::Entity::find_by_id(id)
            .one(self.writer())
            .await?
            .ok_or_else(|| Error::NotFound(format!("position {id}")))?;
        let txn = self.writer().begin().await?;
        let mut row: position::ActiveModel = found.into();
        if let Some(t) = c.title {
            row.title = Set(t);
        }
        if let Some(d) = c.description {
            row.description = Set(d);
        }
        if let Some(l) = c.location {
            row.location = Set(l);
        }
        if let Some(r) = c.requirements {
            row.requirements = Set(r);
        }
        if let Some(d) = c.closes_on {
            row.closes_on = Set(d);
        }
        row.update(&txn).await?;
        if let Some(n) = c.places {
            let counts = pool::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or_else(|| corrupt("a position without its pool"))?;
            if n < counts.taken {
                return Err(Error::InvalidPosition(format!(
                    "`places` cannot go below the {} places held or confirmed",
                    counts.taken
                )));
            }
            let mut p: pool::ActiveModel = counts.into();
            p.places = Set(n);
            p.update(&txn)
                .await
                .map_err(|e| match crate::error::place_taken_meanwhile(e) {
                    Error::Conflict(_) => Error::InvalidPosition(
                        "`places` cannot go below the places held or confirmed".to_owned(),
                    ),
                    other => other,
                })?;
        }
        txn.commit().await?;
        // More places: the first in line are promoted now.
        if c.places.is_some() {
            self.promote_after(vec![id]).await;
        }
        self.position(id)
            .await?
            .ok_or_else(|| corrupt("a position changed and gone"))
    }

    /// Withdraws a position: it is no longer offered (applications under way go on).
    pub async fn withdraw_position(&self, id: Uuid) -> Result<PositionRecord> {
        self.set_position_status(id, "withdrawn").await
    }
}
