//! The raw definition: what the YAML says, each value with the position it was written at,
//! before any name is resolved. [`crate::raw`] reads it from the YAML tree; [`crate::analyze`]
//! checks it. Also the keys each construct accepts.

use serde_json::Value;

use crate::diagnostic::Pos;
use crate::model::Text;

/// A value with the position it was written at.
#[derive(Debug, Clone)]
pub(crate) struct Sp<T> {
    pub(crate) v: T,
    pub(crate) pos: Pos,
}

#[derive(Debug, Default)]
pub(crate) struct RawDef {
    pub(crate) key: Option<Sp<String>>,
    pub(crate) title: Option<Text>,
    pub(crate) description: Option<Text>,
    pub(crate) agencies: Vec<Sp<String>>,
    /// `applicants: {regions: […]}`.
    pub(crate) applicant_regions: Vec<Sp<String>>,
    /// `applicants: {students: true}`: students apply for themselves.
    pub(crate) students: bool,
    /// `reference: SZHK`, the prefix of its applications' references.
    pub(crate) reference: Option<Sp<String>>,
    pub(crate) form: Option<RawForm>,
    pub(crate) start: Option<Sp<String>>,
    pub(crate) states: Vec<RawState>,
    /// `upgrade_at: [state, …]`: where running applications move by themselves to the newest
    /// compatible version.
    pub(crate) upgrade_at: Vec<Sp<String>>,
    /// `oversight: [agency, …]`: the agencies whose observers read every application.
    pub(crate) oversight: Vec<Sp<String>>,
    /// `pools: {name: {per: position}}`: the places its applications draw on.
    pub(crate) pools: Vec<RawPool>,
}

/// One pool of places as written: `places: {per: position}`.
#[derive(Debug)]
pub(crate) struct RawPool {
    pub(crate) name: Sp<String>,
    pub(crate) per: Option<Sp<String>>,
}

/// What an action does to a place: `reserve: pool`, `confirm: pool` or `release: pool`.
#[derive(Debug)]
pub(crate) struct RawPlaces {
    pub(crate) op: crate::model::PlaceOp,
    pub(crate) pool: Sp<String>,
}

#[derive(Debug)]
pub(crate) enum RawForm {
    Inline(Sp<Value>),
    File(Sp<String>),
}

#[derive(Debug)]
pub(crate) struct RawState {
    pub(crate) name: Sp<String>,
    pub(crate) title: Option<Text>,
    pub(crate) kind: RawKind,
    /// Index (in `RawDef::states`) of the enclosing parallel state, and the branch number.
    pub(crate) branch: Option<(usize, u16)>,
}

#[derive(Debug)]
pub(crate) enum RawKind {
    Task {
        assignee: Option<Sp<String>>,
        actions: Vec<RawAction>,
        due: Option<RawDue>,
    },
    Approval(RawApproval),
    Choice {
        rules: Vec<(Sp<String>, Option<Sp<String>>)>,
        otherwise: Option<Sp<String>>,
    },
    Parallel {
        branches: Vec<RawBranch>,
        join: Option<Sp<Count>>,
        next: Option<Sp<String>>,
    },
    Final {
        outcome: Option<Sp<String>>,
        /// `confirm:` or `release:` a place when the application ends here.
        places: Option<RawPlaces>,
    },
    /// `type: waitlist`: waits for a place of `pool`, then goes on to `promote_to`.
    Waitlist {
        pool: Option<Sp<String>>,
        promote_to: Option<Sp<String>>,
    },
    Done,
    /// The type was missing or unknown (already reported).
    Invalid,
}

#[derive(Debug)]
pub(crate) struct RawApproval {
    pub(crate) seats: Vec<Sp<String>>,
    pub(crate) required: Option<Sp<Count>>,
    pub(crate) approved: Option<Sp<String>>,
    pub(crate) rejected: Option<Sp<String>>,
    pub(crate) due: Option<RawDue>,
    pub(crate) distinct_from: Vec<Sp<String>>,
}

/// `all`, `any` or a number.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Count {
    All,
    Any,
    N(i64),
}

#[derive(Debug)]
pub(crate) struct RawBranch {
    pub(crate) name: Sp<String>,
    pub(crate) start: Option<Sp<String>>,
}

#[derive(Debug)]
pub(crate) struct RawAction {
    pub(crate) name: Sp<String>,
    pub(crate) title: Option<Text>,
    pub(crate) to: Option<Sp<String>>,
    pub(crate) input: Option<Sp<Value>>,
    pub(crate) distinct_from: Vec<Sp<String>>,
    /// `reserve:`, `confirm:` or `release:` a place of a pool.
    pub(crate) places: Option<RawPlaces>,
    /// `when_full: state`: where a reserving action goes when the pool has no place left.
    pub(crate) when_full: Option<Sp<String>>,
}

#[derive(Debug)]
pub(crate) struct RawDue {
    pub(crate) within: Option<Sp<String>>,
    pub(crate) business: bool,
    pub(crate) overdue: Option<Sp<RawOverdue>>,
    pub(crate) remind: Option<Sp<String>>,
    pub(crate) on_request: Option<Sp<String>>,
    pub(crate) max_pauses: Option<Sp<String>>,
}

#[derive(Debug)]
pub(crate) enum RawOverdue {
    Escalate(Sp<String>),
    Reassign(Sp<String>),
    Action(Sp<String>),
}

/// The keys each construct accepts (also used for "did you mean").
pub(crate) mod keys {
    pub(crate) const ROOT: &[&str] = &[
        "key",
        "title",
        "description",
        "agencies",
        "applicants",
        "reference",
        "form",
        "start",
        "states",
        "upgrade_at",
        "oversight",
        "pools",
    ];
    pub(crate) const POOL: &[&str] = &["per", "title"];
    pub(crate) const WAITLIST: &[&str] = &["type", "title", "pool", "promote_to"];
    /// The keys of an action that take or give back a place.
    pub(crate) const PLACE_OPS: &[&str] = &["reserve", "confirm", "release"];
    pub(crate) const APPLICANTS: &[&str] = &["regions", "students"];
    pub(crate) const TASK: &[&str] = &["type", "title", "assignee", "actions", "due"];
    pub(crate) const APPROVAL: &[&str] = &[
        "type",
        "title",
        "seats",
        "required",
        "approved",
        "rejected",
        "due",
        "distinct_from",
    ];
    pub(crate) const CHOICE: &[&str] = &["type", "title", "choices", "otherwise"];
    pub(crate) const PARALLEL: &[&str] = &["type", "title", "branches", "join", "next"];
    pub(crate) const FINAL: &[&str] = &["type", "title", "outcome", "confirm", "release"];
    pub(crate) const DONE: &[&str] = &["type", "title"];
    pub(crate) const ACTION: &[&str] = &[
        "to",
        "title",
        "input",
        "distinct_from",
        "reserve",
        "confirm",
        "release",
        "when_full",
    ];
    pub(crate) const DUE: &[&str] = &[
        "within",
        "days",
        "overdue",
        "remind",
        "on_request",
        "max_pauses",
    ];
    pub(crate) const OVERDUE: &[&str] = &["escalate_to", "reassign_to", "action"];
    pub(crate) const BRANCH: &[&str] = &["start", "states"];
    pub(crate) const RULE: &[&str] = &["when", "to"];
    pub(crate) const TEXT: &[&str] = &["en", "zh-Hant", "zh-Hans"];
    pub(crate) const TYPES: &[&str] = &[
        "task", "approval", "choice", "parallel", "final", "done", "waitlist",
    ];
}
