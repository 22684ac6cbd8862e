//! Intakes: a programme admits by intake (dates and places; the pool has the intake's id).
//! An application belongs to the intake open on the day it was submitted (Hong Kong time);
//! a programme's intakes do not overlap, so there is at most one.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::positions::MOST_PLACES;
use crate::Store;
use crate::entity::{intake, pool};
use crate::error::{Error, Result, corrupt};

/// The most intakes one list gives (the newest).
const MOST_LISTED: u64 = 200;

/// An intake, with its places' counts and how many applications belong to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeRecord {
    /// Its id (also its pool's).
    pub id: Uuid,
    /// The programme.
    pub workflow_key: String,
    /// What people call it (`2027 spring`).
    pub name: String,
    /// The first and last day applications are submitted into it.
    pub opens_on: NaiveDate,
    /// The last day.
    pub closes_on: NaiveDate,
    /// `open` or `closed`.
    pub status: String,
    /// Its places.
    pub places: i32,
    /// Held or confirmed.
    pub taken: i32,
    /// In line.
    pub waiting: i32,
    /// Applications that belong to it.
    pub applications: i64,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
}

impl IntakeRecord {
    /// Whether an application submitted on `day` belongs to it.
    pub fn takes(&self, day: NaiveDate) -> bool {
        self.status == "open" && self.opens_on <= day && day <= self.closes_on
    }
}

/// An intake to open.
#[derive(Debug, Clone)]
pub struct NewIntake {
    /// The programme (a workflow with a pool `per: intake`).
    pub workflow_key: String,
    /// What people call it.
    pub name: String,
    /// Its first day.
    pub opens_on: NaiveDate,
    /// Its last day.
    pub closes_on: NaiveDate,
    /// How many places.
    pub places: i32,
}

impl Store {
    /// Opens an intake: its pool of places and its dates, in one transaction. Refused when
    /// the programme has no pool `per: intake`, or another of its intakes overlaps the dates.
    pub async fn open_intake(&self, by: &str, n: NewIntake) -> Result<IntakeRecord> {
        if !(1..=MOST_PLACES).contains(&n.places) {
            return Err(Error::InvalidPosition(format!(
                "`places` must be 1 to {MOST_PLACES}, not {}",
                n.places
            )));
        }
        if n.closes_on < n.opens_on {
            return Err(Error::InvalidPosition(
                "`closesOn` is before `opensOn`".to_owned(),
            ));
        }
        let name = n.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Error::InvalidPosition(
                "`name` must be 1 to 200 characters".to_owned(),
            ));
        }
        let version = self.current_version(self.db(), &n.workflow_key).await?;
        let wf = self.workflow(&n.workflow_key, version).await?;
        if !wf
            .pools()
            .iter()
            .any(|p| p.per() == softland_workflow::PoolScope::Intake)
        {
            return Err(Error::InvalidPosition(format!(
                "`{}` admits by no intake: it has no pool `per: intake`",
                n.workflow_key
            )));
        }
        let overlapping = intake::Entity::find()
            .filter(intake::Column::WorkflowKey.eq(n.workflow_key.as_str()))
            .filter(intake::Column::Status.eq("open"))
            .filter(intake::Column::OpensOn.lte(n.closes_on))
            .filter(intake::Column::ClosesOn.gte(n.opens_on))
            .one(self.db())
            .await?;
        if let Some(o) = overlapping {
            return Err(Error::InvalidPosition(format!(
                "intake `{}` of `{}` ({} to {}) overlaps these dates: an application belongs to one intake",
                o.name, n.workflow_key, o.opens_on, o.closes_on
            )));
        }
        let id = Uuid::now_v7();
        let txn = self.writer().begin().await?;
        pool::ActiveModel {
            id: Set(id),
            places: Set(n.places),
            taken: Set(0),
            waiting: Set(0),
        }
        .insert(&txn)
        .await?;
        intake::ActiveModel {
            id: Set(id),
            workflow_key: Set(n.workflow_key),
            name: Set(name.to_owned()),
            opens_on: Set(n.opens_on),
            closes_on: Set(n.closes_on),
            status: Set("open".to_owned()),
            created_by: Set(by.to_owned()),
            created_at: Set(self.now()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        self.intake(id)
            .await?
            .ok_or_else(|| corrupt("an intake opened and gone"))
    }

    /// Closes an intake early: it takes no more applications; those in it go on.
    pub async fn close_intake(&self, id: Uuid) -> Result<IntakeRecord> {
        let found = intake::Entity::find_by_id(id)
            .one(self.writer())
            .await?
            .ok_or_else(|| Error::NotFound(format!("intake {id}")))?;
        let mut row: intake::ActiveModel = found.into();
        row.status = Set("closed".to_owned());
        row.update(self.writer()).await?;
        self.intake(id)
            .await?
            .ok_or_else(|| corrupt("an intake closed and gone"))
    }

    /// One intake, with its counts.
    pub async fn intake(&self, id: Uuid) -> Result<Option<IntakeRecord>> {
        match intake::Entity::find_by_id(id).one(self.db()).await? {
            Some(i) => Ok(Some(self.counted(i).await?)),
            None => Ok(None),
        }
    }

    /// A programme's intakes (every programme's when `workflow_key` is `None`), newest first.
    pub async fn intakes(&self, workflow_key: Option<&str>) -> Result<Vec<IntakeRecord>> {
        let mut q = intake::Entity::find();
        if let Some(key) = workflow_key {
            q = q.filter(intake::Column::WorkflowKey.eq(key));
        }
        let rows = q
            .order_by_desc(intake::Column::OpensOn)
            .limit(MOST_LISTED)
            .all(self.db())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for i in rows {
            out.push(self.counted(i).await?);
        }
        Ok(out)
    }

    /// The intake of `workflow_key` that an application submitted on `day` belongs to.
    pub(crate) async fn intake_on(
        &self,
        db: &impl ConnectionTrait,
        workflow_key: &str,
        day: NaiveDate,
    ) -> Result<Option<Uuid>> {
        Ok(intake::Entity::find()
            .filter(intake::Column::WorkflowKey.eq(workflow_key))
            .filter(intake::Column::Status.eq("open"))
            .filter(intake::Column::OpensOn.lte(day))
            .filter(intake::Column::ClosesOn.gte(day))
            .one(db)
            .await?
            .map(|i| i.id))
    }

    /// Whether the programme has ever opened an intake (open or closed since).
    pub(crate) async fn has_intakes(
        &self,
        db: &impl ConnectionTrait,
        workflow_key: &str,
    ) -> Result<bool> {
        Ok(intake::Entity::find()
            .filter(intake::Column::WorkflowKey.eq(workflow_key))
            .one(db)
            .await?
            .is_some())
    }

    async fn counted(&self, i: intake::Model) -> Result<IntakeRecord> {
        let counts = pool::Entity::find_by_id(i.id).one(self.db()).await?;
        let (places, taken, waiting) = counts.map_or((0, 0, 0), |c| (c.places, c.taken, c.waiting));
        let row = self
            .db()
            .query_one_raw(self.sql(
                "SELECT count(*) AS n FROM pool_entries WHERE pool_id = $1",
                vec![i.id.into()],
            ))
            .await?;
        let applications: i64 = match row {
            Some(r) => r.try_get("", "n")?,
            None => 0,
        };
        Ok(IntakeRecord {
            id: i.id,
            workflow_key: i.workflow_key,
            name: i.name,
            opens_on: i.opens_on,
            closes_on: i.closes_on,
            status: i.status,
            places,
            taken,
            waiting,
            applications,
            created_at: i.created_at,
        })
    }
}
