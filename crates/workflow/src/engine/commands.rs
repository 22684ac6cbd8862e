//! What a workflow does with a command: submit an application, decide or execute a command on its instance, and check an action before it runs.

use super::*;

impl Workflow {
    /// Submits an application: checks the form data, then runs from `start` until tasks open.
    pub fn submit(
        &self,
        actor: &Actor,
        data: Value,
        env: Env<'_>,
    ) -> Result<(Instance, Vec<Event>), Rejection> {
        self.check_form(&data)
            .map_err(|violations| Rejection::InvalidInput { violations })?;
        let mut inst = Instance::default();
        let mut ex = Exec::new(self, &mut inst, env, actor);
        ex.emit(EventKind::Submitted {
            host: ex.env.host.map(str::to_owned),
            data: Arc::new(data),
        });
        ex.enter(self.start());
        let events = ex.events;
        Ok((inst, events))
    }

    /// Decides a command without changing `instance`: the events it would cause.
    pub fn decide(
        &self,
        instance: &Instance,
        actor: &Actor,
        command: Command,
        env: Env<'_>,
    ) -> Result<Vec<Event>, Rejection> {
        let mut scratch = instance.clone();
        self.execute(&mut scratch, actor, command, env)
    }

    /// Executes a command: on success `instance` has applied the returned events; on rejection
    /// it is unchanged.
    pub fn execute(
        &self,
        instance: &mut Instance,
        actor: &Actor,
        command: Command,
        env: Env<'_>,
    ) -> Result<Vec<Event>, Rejection> {
        if instance.is_finished() {
            return Err(Rejection::Finished);
        }
        match command {
            Command::Act {
                task,
                action,
                comment,
                input,
                note,
            } => {
                if note.is_some() && actor.party == Party::Applicant {
                    return Err(NOTES_ARE_INTERNAL);
                }
                let open = instance.task(task).ok_or(Rejection::TaskNotOpen(task))?;
                let state = open.state;
                let allowed = match (&open.assignee, &actor.party) {
                    (Assignee::Applicant, Party::Applicant) => true,
                    (Assignee::Agency(a), Party::Agency(b)) => **a == **b,
                    // The hosting firm's staff act as an applicant party; the store's gate
                    // checks it is that firm.
                    (Assignee::Host(_), Party::Applicant) => true,
                    _ => false,
                };
                if !allowed {
                    return Err(Rejection::NotAssignee {
                        task,
                        assignee: open.assignee.key().to_owned(),
                    });
                }
                self.check_action(instance, state, actor, &action, input.as_ref())?;
                self.check_places(instance, state, &action, &env)?;
                let mut ex = Exec::new(self, instance, env, actor);
                if let Some(note) = note {
                    ex.emit(EventKind::NoteAdded {
                        task: Some(task),
                        note,
                    });
                }
                ex.complete(task, state, action, comment, input);
                Ok(ex.events)
            }
            Command::Note { note } => {
                if actor.party == Party::Applicant {
                    return Err(NOTES_ARE_INTERNAL);
                }
                let mut ex = Exec::new(self, instance, env, actor);
                ex.emit(EventKind::NoteAdded { task: None, note });
                Ok(ex.events)
            }
            Command::Withdraw { reason } => {
                if actor.party != Party::Applicant {
                    return Err(Rejection::NotPermitted(
                        "only the applicant may withdraw an application",
                    ));
                }
                let mut ex = Exec::new(self, instance, env, actor);
                let tasks: Vec<TaskId> = ex.inst.tasks.iter().map(|t| t.id).collect();
                for task in tasks {
                    ex.emit(EventKind::TaskCancelled { task });
                }
                ex.release_places(|_| true);
                ex.emit(EventKind::Withdrawn { reason });
                Ok(ex.events)
            }
            Command::FireTimer { task } => {
                if actor.party != Party::System {
                    return Err(Rejection::NotPermitted("only the scheduler fires timers"));
                }
                let open = instance.task(task).ok_or(Rejection::TaskNotOpen(task))?;
                let due = open
                    .due_at
                    .filter(|d| *d <= env.now && !open.overdue)
                    .ok_or(Rejection::NotDue(task))?;
                let _ = due;
                let (state, from) = (open.state, open.assignee.clone());
                let rule = match self.state(state).kind() {
                    StateKind::Task(t) => t.due.as_ref(),
                    StateKind::Approval(a) => a.due.as_ref(),
                    _ => None,
                }
                .map_or(Overdue::Flag, |d| d.overdue.clone());
                if let Overdue::Action(action) = &rule {
                    self.check_places(instance, state, action, &env)?;
                }
                let mut ex = Exec::new(self, instance, env, actor);
                ex.emit(EventKind::TaskOverdue { task });
                match rule {
                    Overdue::Flag => {}
                    Overdue::Escalate(to) => {
                        ex.cancel_tasks_of(state);
                        ex.go(state, to);
                    }
                    Overdue::Reassign(agency) => ex.emit(EventKind::TaskReassigned {
                        task,
                        assignee: Assignee::Agency(agency.into()),
                        from: Some(from),
                    }),
                    Overdue::Action(action) => ex.complete(
                        task,
                        state,
                        action,
                        Some("automatic action: task overdue".to_owned()),
                        None,
                    ),
                }
                Ok(ex.events)
            }
            Command::Promote { pool } => {
                if actor.party != Party::System {
                    return Err(Rejection::NotPermitted(
                        "only the system promotes from a waitlist",
                    ));
                }
                let mut ex = Exec::new(self, instance, env, actor);
                ex.promote(&pool)?;
                Ok(ex.events)
            }
        }
    }

    fn check_action(
        &self,
        inst: &Instance,
        state: StateId,
        actor: &Actor,
        action: &str,
        input: Option<&Value>,
    ) -> Result<(), Rejection> {
        let (schema, distinct_from) = match self.state(state).kind() {
            StateKind::Task(t) => {
                let Some(a) = t.action(action) else {
                    return Err(Rejection::UnknownAction {
                        action: action.to_owned(),
                        offered: t.actions.iter().map(|a| a.name.clone()).collect(),
                    });
                };
                (a.input.as_ref(), a.distinct_from.as_slice())
            }
            StateKind::Approval(a) => {
                if !SEAT_ACTIONS.contains(&action) {
                    return Err(Rejection::UnknownAction {
                        action: action.to_owned(),
                        offered: SEAT_ACTIONS.iter().map(|a| (*a).to_owned()).collect(),
                    });
                }
                let voted = inst
                    .votes
                    .iter()
                    .any(|v| v.state == state && v.voters.iter().any(|p| **p == *actor.id));
                if voted {
                    return Err(Rejection::FourEyes {
                        actor: actor.id.to_string(),
                        step: self.state(state).name().to_owned(),
                    });
                }
                (None, a.distinct_from.as_slice())
            }
            _ => {
                return Err(Rejection::UnknownAction {
                    action: action.to_owned(),
                    offered: vec![],
                });
            }
        };
        if let Some(schema) = schema {
            let empty = Value::Object(Default::default());
            schema
                .check(input.unwrap_or(&empty))
                .map_err(|violations| Rejection::InvalidInput { violations })?;
        }
        if let Some(step) = self.acted_in(inst, distinct_from, &actor.id) {
            return Err(Rejection::FourEyes {
                actor: actor.id.to_string(),
                step: self.state(step).name().to_owned(),
            });
        }
        Ok(())
    }
}
