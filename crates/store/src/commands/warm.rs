//! What this process last wrote of recent applications, so the next action on one of their
//! open tasks can skip reading it back (PostgreSQL).
//!
//! An entry is the application row as this process's own last command left it, and for each
//! of its open tasks the task number and assignee. It is a guess, never an authority: the
//! commit statement compare-and-sets the application's revision (every change of a task's
//! state or assignee is a command, so a new revision) and checks in the database that the
//! task is still open and not claimed by someone else. An entry made stale by another process
//! (or by a claim) therefore only makes that statement match nothing. Then, and on any
//! refusal, the entry is dropped and the command runs again from a fresh read, so every
//! answer a client sees — success or error — is what a fresh read gives.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use uuid::Uuid;

use softland_workflow::Instance;

use crate::entity::application;
use crate::records::TaskRecord;

/// At most this many applications are remembered (oldest forgotten first).
const CAPACITY: usize = 2048;

/// An open task as remembered: its application, number and assignee.
#[derive(Debug)]
pub(crate) struct WarmTask {
    /// The row without its `instance` and `data` columns (both JSON null): they are in `inst`.
    pub(crate) app: application::Model,
    /// The engine's instance, with the form data.
    pub(crate) inst: Instance,
    pub(crate) task_no: i32,
    pub(crate) assignee: String,
}

/// An application's row (without its JSON columns) and the engine's instance.
type Remembered = (application::Model, Instance);

#[derive(Debug, Default)]
struct State {
    /// `None` while a command has it out.
    apps: HashMap<Uuid, (Option<Remembered>, Vec<Uuid>)>,
    tasks: HashMap<Uuid, (Uuid, i32, String)>,
    /// Applications in the order they were first remembered (may hold forgotten ones).
    order: VecDeque<Uuid>,
}

impl State {
    fn evict(&mut self, app: Uuid) {
        if let Some((_, tasks)) = self.apps.remove(&app) {
            for t in tasks {
                self.tasks.remove(&t);
            }
        }
    }
}

/// The remembered applications.
#[derive(Debug, Default)]
pub(crate) struct Warm {
    state: Mutex<State>,
}

impl Warm {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes out the remembered application of an open task for one command (not copied: a
    /// second command on the same application meanwhile reads it fresh). The command puts it
    /// back as it left it, or forgets it.
    pub(crate) fn take(&self, task: Uuid) -> Option<WarmTask> {
        let mut s = self.lock();
        let (app, task_no, assignee) = s.tasks.get(&task)?.clone();
        let (row, inst) = s.apps.get_mut(&app)?.0.take()?;
        Some(WarmTask {
            app: row,
            inst,
            task_no,
            assignee,
        })
    }

    /// Remembers an application as a command of this process left it, with its open tasks:
    /// the row (its `instance` and `data` left out) and the engine's instance.
    pub(crate) fn put(&self, app: application::Model, inst: Instance, open: &[TaskRecord]) {
        let mut s = self.lock();
        let id = app.id;
        if s.apps.contains_key(&id) {
            // Keeps its place in the order.
            s.evict(id);
        } else {
            while s.order.len() >= CAPACITY {
                if let Some(old) = s.order.pop_front() {
                    s.evict(old);
                }
            }
            s.order.push_back(id);
        }
        for t in open {
            s.tasks
                .insert(t.id, (id, t.task_no as i32, t.assignee.key().to_owned()));
        }
        s.apps
            .insert(id, (Some((app, inst)), open.iter().map(|t| t.id).collect()));
    }

    /// Forgets an application (its place in the order stays until it comes round).
    pub(crate) fn forget(&self, app: Uuid) {
        self.lock().evict(app);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: Uuid, revision: i64) -> application::Model {
        application::Model {
            id,
            workflow_key: "w".into(),
            workflow_version: 1,
            organization: "o".into(),
            status: crate::entity::enums::AppStatus::Active,
            outcome: None,
            active_states: serde_json::json!([]),
            data: serde_json::json!({}),
            instance: serde_json::json!({}),
            revision,
            last_hash: String::new(),
            submitted_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    fn task(app: Uuid, no: u32) -> TaskRecord {
        TaskRecord {
            id: Uuid::new_v4(),
            application_id: app,
            task_no: no,
            state: "s".into(),
            title: "t".into(),
            assignee: softland_workflow::Assignee::Agency("a".into()),
            organization: "o".into(),
            actions: vec![],
            status: crate::records::TaskStatus::Open,
            due_at: None,
            overdue: false,
            opened_at: chrono::Utc::now(),
            closed_at: None,
            closed_by: None,
            closed_action: None,
            claimed_by: None,
            workflow_key: "w".into(),
            workflow_version: 1,
        }
    }

    #[test]
    fn remembers_open_tasks_of_the_latest_state_only() {
        let w = Warm::default();
        let a = Uuid::new_v4();
        let (t1, t2) = (task(a, 1), task(a, 2));
        w.put(app(a, 1), Instance::default(), std::slice::from_ref(&t1));
        assert_eq!(w.take(t1.id).map(|t| t.app.revision), Some(1));
        assert!(w.take(t1.id).is_none(), "out with one command at a time");
        w.put(app(a, 2), Instance::default(), std::slice::from_ref(&t2));
        assert!(w.take(t1.id).is_none(), "a task closed since is forgotten");
        assert_eq!(
            w.take(t2.id).map(|t| (t.app.revision, t.task_no)),
            Some((2, 2))
        );
        w.forget(a);
        assert!(w.take(t2.id).is_none());
    }

    #[test]
    fn holds_at_most_its_capacity() {
        let w = Warm::default();
        let first = Uuid::new_v4();
        let t = task(first, 1);
        w.put(app(first, 1), Instance::default(), std::slice::from_ref(&t));
        for _ in 0..CAPACITY {
            let a = Uuid::new_v4();
            w.put(app(a, 1), Instance::default(), &[task(a, 1)]);
        }
        assert!(w.take(t.id).is_none(), "the oldest went first");
        assert_eq!(w.lock().apps.len(), CAPACITY);
    }
}
