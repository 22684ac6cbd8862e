//! softland's workflow language and pure engine.
//!
//! ```text
//!  YAML ──yaml──► spanned tree ──raw──► raw definition ──analyze──► Workflow (immutable)
//!                    (syntax)        (keys, types)        (names, graph, CEL, schemas)
//!
//!  Workflow + Instance + Command + Actor + Env(clock) ──► Vec<Event> | Rejection
//! ```
//!
//! Compilation reports **every** problem at once, each with a line, a column and a stable
//! [`Code`]. The engine does no I/O: the store persists the events it returns, and an
//! [`Instance`] is exactly the fold of its events.
//!
//! ```
//! use softland_workflow::{Actor, Calendars, Command, Env, Workflow};
//! # let yaml = "key: tiny\ntitle: Tiny\nagencies: [hkstp]\nform: {type: object}\nstart: review\nstates:\n  review: {type: task, assignee: hkstp, actions: {approve: done}}\n  done: {type: final, outcome: approved}\n";
//! let wf = Workflow::compile(yaml).unwrap();
//! let cal = Calendars::builtin();
//! let env = Env { now: "2026-11-24T09:00:00Z".parse().unwrap(), calendar: &cal, full: &[], unbound: &[], host: None };
//! let (mut app, _events) = wf.submit(&Actor::applicant("firm-1"), serde_json::json!({}), env).unwrap();
//! let task = app.open_tasks()[0].id;
//! let approve = Command::Act { task, action: "approve".into(), comment: None, input: None, note: None };
//! wf.execute(&mut app, &Actor::reviewer("amy", "hkstp"), approve, env).unwrap();
//! assert_eq!(app.outcome(), Some("approved"));
//! ```

mod analyze;
mod assignee;
mod compile;
pub mod diagnostic;
pub mod diagram;
mod documents;
pub mod duration;
mod engine;
mod expr;
mod form;
mod graph;
pub mod migration;
pub mod model;
mod raw;
mod rawdef;
mod schema;
pub mod script;
mod workflow;
mod yaml;

pub use compile::COMPILE_STACK;
pub use diagnostic::{Code, Diagnostic, Diagnostics, Pos};
pub use documents::{DOCUMENT_FORMAT, DocumentRef, document_refs};
pub use duration::{
    BUNDLED_HK, BUNDLED_MAINLAND, BusinessCalendar, CalendarError, Calendars, DayCount, HONG_KONG,
    Region,
};
pub use engine::{
    Actor, Command, Env, Event, EventKind, EventName, Instance, OpenTask, Party, PlaceChange,
    Rejection, Remaining, StateMove, Status, TaskDue, TaskId, UnknownState, name_legacy_states,
};
pub use model::{
    APPROVE, Assignee, Lang, OfferedAction, OnRequest, PlaceOp, PlaceStatus, Places, Pool,
    PoolScope, REJECT, SEAT_ACTIONS, State, StateId, StateKind, StateName, Text, WaitlistSpec,
};
pub use schema::SchemaLoader;
pub use schema::Violation;
pub use workflow::Workflow;
pub use yaml::form_file;
