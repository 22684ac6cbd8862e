//! The checked, immutable workflow: what [`crate::Workflow::compile`] produces.
//!
//! State names from the YAML become [`StateId`]s, indexes into the workflow's state table, so the
//! engine never passes strings around. Nothing here can be built except by compiling a
//! definition, so every value is known to be consistent (targets exist, schemas compile, …).

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::assignee::Assignee;
use crate::expr::Condition;
use crate::schema::Schema;

/// Index of a state in its workflow. Stable for a given workflow version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StateId(pub(crate) u16);

impl StateId {
    /// The index as a number.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Text with optional translations. `en` is always present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    /// English (required).
    pub en: String,
    /// Traditional Chinese (Hong Kong).
    #[serde(rename = "zh-Hant", skip_serializing_if = "Option::is_none")]
    pub zh_hant: Option<String>,
    /// Simplified Chinese (mainland).
    #[serde(rename = "zh-Hans", skip_serializing_if = "Option::is_none")]
    pub zh_hans: Option<String>,
}

/// The languages labels come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English (`en`), which every label has.
    #[default]
    En,
    /// Traditional Chinese (`zh-Hant`: Hong Kong, Taiwan, Macau).
    ZhHant,
    /// Simplified Chinese (`zh-Hans`: the mainland, Singapore).
    ZhHans,
}

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::ZhHant, Lang::ZhHans];

    /// The BCP 47 tag: `en`, `zh-Hant`, `zh-Hans`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhHant => "zh-Hant",
            Lang::ZhHans => "zh-Hans",
        }
    }

    /// The language of a BCP 47 tag, if softland has it: `en` and `en-*`; Chinese by its script
    /// subtag (`zh-Hant-*`, `zh-Hans-*`), else by region as CLDR's likely subtags have it
    /// (`zh-HK`, `zh-TW`, `zh-MO` are Traditional; `zh`, `zh-CN`, `zh-SG`, … Simplified).
    /// Case does not matter; `_` is taken for `-`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let lower = tag.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = lower.split('-');
        match parts.next()? {
            "en" => Some(Lang::En),
            "zh" => {
                let rest: Vec<&str> = parts.collect();
                if rest.contains(&"hant") {
                    Some(Lang::ZhHant)
                } else if rest.contains(&"hans") {
                    Some(Lang::ZhHans)
                } else if rest.iter().any(|r| matches!(*r, "hk" | "tw" | "mo")) {
                    Some(Lang::ZhHant)
                } else {
                    Some(Lang::ZhHans)
                }
            }
            _ => None,
        }
    }
}

impl Text {
    /// The text in `lang`, or in English where the definition gives no translation.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => None,
            Lang::ZhHant => self.zh_hant.as_deref(),
            Lang::ZhHans => self.zh_hans.as_deref(),
        }
        .unwrap_or(&self.en)
    }

    /// Plain English text.
    pub fn en(s: impl Into<String>) -> Self {
        Self {
            en: s.into(),
            zh_hant: None,
            zh_hans: None,
        }
    }

    /// The text for a BCP 47 tag (see [`Lang::from_tag`]), falling back to English.
    pub fn for_tag(&self, tag: &str) -> &str {
        self.get(Lang::from_tag(tag).unwrap_or_default())
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// The action of an approval seat that approves (the language's fixed vocabulary).
pub const APPROVE: &str = "approve";
/// The action of an approval seat that rejects.
pub const REJECT: &str = "reject";
/// The outcome of a withdrawn application.
pub const WITHDRAWN: &str = "withdrawn";

/// What every seat of an approval state offers.
pub const SEAT_ACTIONS: [&str; 2] = [APPROVE, REJECT];

fn seat_title(name: &str) -> Text {
    let (en, hant, hans) = if name == APPROVE {
        ("Approve", "批准", "批准")
    } else {
        ("Reject", "拒絕", "拒绝")
    };
    Text {
        en: en.to_owned(),
        zh_hant: Some(hant.to_owned()),
        zh_hans: Some(hans.to_owned()),
    }
}

/// One action a task offers, whatever kind of state it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferedAction {
    /// The action's name, as `act` takes it.
    pub name: String,
    /// Its title, with translations.
    pub title: Text,
    /// The JSON Schema of its input, if it takes one.
    pub input_schema: Option<serde_json::Value>,
}

/// One state of the workflow.
#[derive(Debug)]
pub struct State {
    pub(crate) name: StateName,
    pub(crate) title: Text,
    pub(crate) kind: StateKind,
    /// The parallel state and branch index this state belongs to, if any.
    pub(crate) branch: Option<(StateId, u16)>,
}

impl State {
    /// The state's name in the YAML.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }
    /// The state's name as events record it.
    pub fn state_name(&self) -> StateName {
        self.name.clone()
    }
    /// Human title (the name when the YAML gives none).
    pub fn title(&self) -> &Text {
        &self.title
    }
    /// The actions a task of this state offers: a task state's own, an approval seat's
    /// [`SEAT_ACTIONS`]; nothing for states without tasks.
    pub fn offered_actions(&self) -> Vec<OfferedAction> {
        match &self.kind {
            StateKind::Task(t) => t
                .actions()
                .iter()
                .map(|a| OfferedAction {
                    name: a.name().to_owned(),
                    title: a.title().clone(),
                    input_schema: a.input_schema().cloned(),
                })
                .collect(),
            StateKind::Approval(_) => SEAT_ACTIONS
                .iter()
                .map(|n| OfferedAction {
                    name: (*n).to_owned(),
                    title: seat_title(n),
                    input_schema: None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What kind of state this is.
    pub fn kind(&self) -> &StateKind {
        &self.kind
    }
    /// `(parallel state, branch index)` when the state is inside a parallel branch.
    pub fn branch(&self) -> Option<(StateId, u16)> {
        self.branch
    }
}

/// The kinds of state.
#[derive(Debug)]
pub enum StateKind {
    /// A human task for one assignee, with named actions.
    Task(TaskSpec),
    /// k-of-n approvals: one task per seat; `required` approvals move on.
    Approval(ApprovalSpec),
    /// Ordered CEL conditions over the application data.
    Choice(ChoiceSpec),
    /// Named branches run side by side and join.
    Parallel(ParallelSpec),
    /// The end of the application, with an outcome.
    Final {
        /// e.g. `approved`, `rejected`.
        outcome: String,
        /// A place confirmed (or given back) when the application ends here.
        places: Option<Places>,
    },
    /// The end of one parallel branch.
    Done,
    /// Waits for a place of a pool (`type: waitlist`).
    Waitlist(WaitlistSpec),
}

impl StateKind {
    /// `task`, `approval`, `choice`, `parallel`, `final`, `done` or `waitlist`.
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Task(_) => "task",
            StateKind::Approval(_) => "approval",
            StateKind::Choice(_) => "choice",
            StateKind::Parallel(_) => "parallel",
            StateKind::Final { .. } => "final",
            StateKind::Done => "done",
            StateKind::Waitlist(_) => "waitlist",
        }
    }
}

/// A human task state.
#[derive(Debug)]
pub struct TaskSpec {
    pub(crate) assignee: Assignee,
    pub(crate) actions: Vec<ActionSpec>,
    pub(crate) due: Option<DueSpec>,
}

impl TaskSpec {
    /// Who works the task.
    pub fn assignee(&self) -> &Assignee {
        &self.assignee
    }
    /// The actions offered, in definition order.
    pub fn actions(&self) -> &[ActionSpec] {
        &self.actions
    }
    /// The due period, if any.
    pub fn due(&self) -> Option<&DueSpec> {
        self.due.as_ref()
    }
    pub(crate) fn action(&self, name: &str) -> Option<&ActionSpec> {
        self.actions.iter().find(|a| a.name == name)
    }
}

/// Whether going from task state `from` to `to` is an information request: `to` is the
/// applicant's task and one of its actions comes straight back to `from`.
pub(crate) fn is_request<'k>(
    kind_of: impl Fn(StateId) -> Option<&'k StateKind>,
    from: StateId,
    to: StateId,
) -> bool {
    let Some(StateKind::Task(asked)) = kind_of(to) else {
        return false;
    };
    asked.assignee.is_applicant() && asked.actions.iter().any(|a| a.to == from)
}

/// A named action on a task.
#[derive(Debug)]
pub struct ActionSpec {
    pub(crate) name: String,
    pub(crate) title: Text,
    pub(crate) to: StateId,
    pub(crate) input: Option<Schema>,
    pub(crate) distinct_from: Vec<StateId>,
    /// It asks the firm for information: it goes to the applicant's task, which comes back.
    pub(crate) request: bool,
    /// What it does to a place (`reserve:`, `confirm:`, `release:`).
    pub(crate) places: Option<Places>,
}

impl ActionSpec {
    /// The action's name (`approve`, `reject`, `request_info`, …).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Human title.
    pub fn title(&self) -> &Text {
        &self.title
    }
    /// The state the action leads to.
    pub fn to(&self) -> StateId {
        self.to
    }
    /// The JSON Schema the action's input must satisfy, if any.
    pub fn input_schema(&self) -> Option<&serde_json::Value> {
        self.input.as_ref().map(Schema::source)
    }
    /// Four-eyes: states whose actors may not take this action.
    pub fn distinct_from(&self) -> &[StateId] {
        &self.distinct_from
    }
    /// What it does to a place, if anything.
    pub fn places(&self) -> Option<&Places> {
        self.places.as_ref()
    }
}

/// A k-of-n approval state.
#[derive(Debug)]
pub struct ApprovalSpec {
    pub(crate) seats: Vec<Assignee>,
    pub(crate) required: u16,
    pub(crate) approved: StateId,
    pub(crate) rejected: StateId,
    pub(crate) due: Option<DueSpec>,
    pub(crate) distinct_from: Vec<StateId>,
}

impl ApprovalSpec {
    /// One task is opened per seat.
    pub fn seats(&self) -> &[Assignee] {
        &self.seats
    }
    /// Approvals needed (k).
    pub fn required(&self) -> u16 {
        self.required
    }
    /// Where to go once `required` approvals arrived.
    pub fn approved(&self) -> StateId {
        self.approved
    }
    /// Where to go once `required` can no longer be reached.
    pub fn rejected(&self) -> StateId {
        self.rejected
    }
    /// The due rule of every seat's task.
    pub fn due(&self) -> Option<&DueSpec> {
        self.due.as_ref()
    }
}

/// Ordered conditions.
#[derive(Debug)]
pub struct ChoiceSpec {
    pub(crate) rules: Vec<(Condition, StateId)>,
    pub(crate) otherwise: StateId,
}

impl ChoiceSpec {
    /// `(condition source, target)` in order.
    pub fn rules(&self) -> impl Iterator<Item = (&str, StateId)> {
        self.rules.iter().map(|(c, t)| (c.source(), *t))
    }
    /// Where to go when no condition holds.
    pub fn otherwise(&self) -> StateId {
        self.otherwise
    }
}

/// Parallel branches and their join rule.
#[derive(Debug)]
pub struct ParallelSpec {
    pub(crate) branches: Vec<Branch>,
    pub(crate) join: u16,
    pub(crate) next: StateId,
}

impl ParallelSpec {
    /// The branches.
    pub fn branches(&self) -> &[Branch] {
        &self.branches
    }
    /// How many branches must finish (all = number of branches, any = 1).
    pub fn join(&self) -> u16 {
        self.join
    }
    /// Where to go after the join.
    pub fn next(&self) -> StateId {
        self.next
    }
}

/// One branch of a parallel state.
#[derive(Debug)]
pub struct Branch {
    pub(crate) name: String,
    pub(crate) start: StateId,
}

impl Branch {
    /// The branch's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The branch's first state.
    pub fn start(&self) -> StateId {
        self.start
    }
}

/// Name → id lookup: every event the engine applies names its state, so this is on the hot
/// path; the names are the definition's own (checked at compile), so a fast unkeyed hash does.
pub(crate) type NameIndex = rustc_hash::FxHashMap<String, StateId>;

mod due;
mod places;
mod state_name;
pub use due::{DEFAULT_REMIND_DAYS, DueSpec, OnRequest, Overdue};
pub use places::{PlaceOp, PlaceStatus, Places, Pool, PoolScope, WaitlistSpec};
pub use state_name::StateName;

#[cfg(test)]
mod lang_tests;
