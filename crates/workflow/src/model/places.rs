//! Places: the pools of places a workflow's applications draw on (`pools:`), what an action
//! does to a place (`reserve`, `confirm`, `release`) and the waitlist a full pool sends an
//! application to.

use serde::{Deserialize, Serialize};

use super::StateId;

/// What a pool's places belong to: each position offered, or each intake of the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolScope {
    /// A position a firm offers (`per: position`): the application names it when submitted.
    Position,
    /// The programme's intake open when the application was submitted (`per: intake`).
    Intake,
}

impl PoolScope {
    /// The words `per:` takes.
    pub const WORDS: [&'static str; 2] = ["position", "intake"];

    /// The scope a `per:` word names.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "position" => Some(PoolScope::Position),
            "intake" => Some(PoolScope::Intake),
            _ => None,
        }
    }

    /// `position` or `intake`.
    pub fn word(self) -> &'static str {
        match self {
            PoolScope::Position => "position",
            PoolScope::Intake => "intake",
        }
    }
}

/// One pool of places (`pools: {places: {per: position}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub(crate) name: String,
    pub(crate) per: PoolScope,
}

impl Pool {
    /// The pool's name in the definition.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// What its places belong to.
    pub fn per(&self) -> PoolScope {
        self.per
    }
}

/// What an action does to a place of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceOp {
    /// Holds a place (`reserve:`), in the same transaction as the transition; a full pool
    /// sends the application to the action's `when_full` waitlist instead.
    Reserve,
    /// Makes a held place final (`confirm:`).
    Confirm,
    /// Gives a held or confirmed place back, or leaves the waitlist (`release:`).
    Release,
}

impl PlaceOp {
    /// `reserve`, `confirm` or `release`: the action's key.
    pub fn word(self) -> &'static str {
        match self {
            PlaceOp::Reserve => "reserve",
            PlaceOp::Confirm => "confirm",
            PlaceOp::Release => "release",
        }
    }

    /// The operation an action key names.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "reserve" => Some(PlaceOp::Reserve),
            "confirm" => Some(PlaceOp::Confirm),
            "release" => Some(PlaceOp::Release),
            _ => None,
        }
    }
}

/// What one action does to a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    pub(crate) op: PlaceOp,
    pub(crate) pool: String,
    /// A reservation's waitlist: where the application goes when the pool is full.
    pub(crate) when_full: Option<StateId>,
}

impl Places {
    /// Reserve, confirm or release.
    pub fn op(&self) -> PlaceOp {
        self.op
    }
    /// The pool, by name.
    pub fn pool(&self) -> &str {
        &self.pool
    }
    /// Where a reservation goes when the pool is full (none: the action is refused).
    pub fn when_full(&self) -> Option<StateId> {
        self.when_full
    }
}

/// A waitlist state: the application waits for a place of `pool`; a released place promotes
/// the first in line to `promote_to`, holding the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistSpec {
    pub(crate) pool: String,
    pub(crate) promote_to: StateId,
}

impl WaitlistSpec {
    /// The pool it waits for.
    pub fn pool(&self) -> &str {
        &self.pool
    }
    /// Where a promoted application goes.
    pub fn promote_to(&self) -> StateId {
        self.promote_to
    }
}

/// Where an application stands with one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceStatus {
    /// Holds a place, not yet confirmed.
    Held,
    /// Its place is confirmed.
    Confirmed,
    /// In line for a place.
    Waiting,
}

impl PlaceStatus {
    /// `held`, `confirmed` or `waiting`.
    pub fn word(self) -> &'static str {
        match self {
            PlaceStatus::Held => "held",
            PlaceStatus::Confirmed => "confirmed",
            PlaceStatus::Waiting => "waiting",
        }
    }

    /// Whether it takes one of the pool's places.
    pub fn takes_place(self) -> bool {
        matches!(self, PlaceStatus::Held | PlaceStatus::Confirmed)
    }
}
