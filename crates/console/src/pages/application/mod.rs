//! One application: where it stands, its open tasks with their actions (each a form generated
//! from the action's input JSON Schema), the form as a person reads it, and its history as a
//! timeline — questions, answers, reasons, comments, and internal notes for agencies only (the
//! API leaves those out for a firm). Claim, release, act, withdraw and note post here.

mod answer;
use answer::*;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use softland_gateway::ErrorCode;
use softland_workflow::{Assignee, EventName};

use super::applications::{Title, status_words};
use super::names::{Agency, party_name};
use super::{Frame, failure, html, refusal_words};
use crate::Console;
use crate::api::Failure;
use crate::diagram::{self, StateInfo, Step};
use crate::form::{self, Errors, ReadRow, Row as FormRow};
use crate::i18n::{Text, event_kind, hk_time};
use crate::visitor::field;
use crate::visitor::{SignedIn, Visitor};

/// An open task as the page shows it.
#[derive(Debug)]
struct TaskView {
    id: String,
    title: String,
    assignee: String,
    due: String,
    overdue: bool,
    claimed_by: String,
    /// The caller's agency's task (a reviewer): its claim is shown.
    claimable: bool,
    /// Claim offered: nobody holds it, or its holder cannot complete it ("Take over").
    may_claim: bool,
    /// Its holder cannot complete it (four eyes).
    holder_barred: bool,
    /// Release offered: the caller holds it, or leads the agency.
    may_release: bool,
    /// Hand over offered: unclaimed, held by the caller, or the caller leads the agency.
    may_hand_over: bool,
    /// Why the caller could complete none of its actions (four eyes): none are offered.
    barred: Option<String>,
    /// What the firm is asked here: the action (with its input and comment) that opened it.
    asked: Option<EventView>,
    /// The actions a four-eyes rule bars the viewer from, said (they are not offered).
    barred_notes: Vec<String>,
    /// Colleagues it may be handed to (not the caller, not its holder).
    colleagues: Vec<(String, String)>,
    actions: Vec<ActionView>,
}

/// One action's form.
#[derive(Debug)]
struct ActionView {
    name: String,
    title: String,
    prefix: String,
    rows: Vec<FormRow>,
    /// Open (its form shown) when it was just refused.
    open: bool,
    refusal: Option<String>,
    general: Vec<String>,
    comment: String,
    idempotency: String,
}

/// One entry of the timeline.
#[derive(Debug, Clone)]
struct EventView {
    at: String,
    what: String,
    who: String,
    state: String,
    action: String,
    comment: String,
    input: Vec<ReadRow>,
    note: String,
}

#[derive(Template)]
#[template(path = "application.html")]
struct Page {
    page: Frame,
    t: &'static Text,
    id: String,
    revision: i64,
    workflow_title: String,
    firm: String,
    /// Its reference (`SZHK-2026-0042`).
    reference: String,
    status: String,
    status_class: &'static str,
    stands: String,
    submitted: String,
    notice: Option<String>,
    submitted_now: bool,
    draft_key: String,
    tasks: Vec<TaskView>,
    documents: Vec<DocumentLink>,
    map: Vec<Step>,
    form: Vec<ReadRow>,
    timeline: Vec<EventView>,
    may_withdraw: bool,
    may_note: bool,
    /// Agency steps whose clock waits on the firm, in words.
    waiting: Vec<String>,
    reviewer: bool,
    /// Some task offers the caller an action: an upload may go with it.
    may_upload: bool,
    return_to: String,
}

/// A refused action to show at its form.
pub(crate) struct Refused<'a> {
    pub task: &'a str,
    pub action: &'a str,
    pub fields: &'a [(String, String)],
    pub failure: Failure,
}

/// The query of an application page.
#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    submitted: Option<String>,
}

/// `GET /applications/{id}`.
pub(crate) async fn page(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    render(&c, &v, &id, None, None, q.submitted).await
}

pub(crate) async fn render(
    c: &Console,
    v: &Visitor,
    id: &str,
    refused: Option<Refused<'_>>,
    notice: Option<String>,
    submitted: Option<String>,
) -> Response {
    let agency = match &v.principal {
        Some(softland_gateway::Principal::Reviewer { agency, .. }) => Some(agency.clone()),
        _ => None,
    };
    let variables = json!({"id": id, "reviewer": agency.is_some(), "agency": agency});
    let answer: Answer = match c.call(v, APPLICATION, variables).await {
        Ok(a) => a,
        Err(f) => return failure(v, &f),
    };
    let Some(app) = answer.application else {
        return failure(
            v,
            &Failure {
                code: ErrorCode::NotFound,
                ..Failure::default()
            },
        );
    };
    let wf: WorkflowAnswer = match c
        .call(
            v,
            WORKFLOW,
            json!({"key": app.workflow_key, "version": app.workflow_version}),
        )
        .await
    {
        Ok(w) => w,
        Err(f) => return failure(v, &f),
    };
    let Some(wf) = wf.workflow else {
        return failure(v, &Failure::default());
    };
    let t = v.t();
    let me = answer.me;
    let agencies = answer.agencies;
    let party = |key: &str| party_name(&agencies, key, v.lang, t);
    // A four-eyes refusal names its step: the page says the step's title.
    let refused = refused.map(|mut r| {
        if let Some(s) = wf.states.iter().find(|s| s.name == r.failure.step) {
            r.failure.step = s.title.clone();
        }
        r
    });
    // Which parts of the page show (claims are an agency's); what the viewer may do is the
    // API's answer on each task and on the application.
    let reviewer = me.role == "REVIEWER";
    let (app_may_withdraw, app_may_note) = (app.may_withdraw, app.may_note);
    let waiting: Vec<String> = app.waiting_on_firm.iter().map(|w| w.said(t)).collect();
    let colleagues: Vec<Colleague> = answer
        .colleagues
        .into_iter()
        .filter(|p| p.active && p.roles.iter().any(|r| r == "REVIEWER" || r == "LEAD"))
        .collect();
    let has_refusal = refused.is_some();
    let choices = super::applications::document_choices(&answer.unattached);
    let mut tasks: Vec<TaskView> = app
        .open_tasks
        .into_iter()
        .map(|task| {
            let holder = task.claimed_by.clone().unwrap_or_default();
            // Only what the viewer may do, as the API says: nothing on a step they cannot
            // complete, actions only where nobody else holds the claim.
            let allowed = &task.allowed;
            let may_act = allowed.act;
            // An action a four-eyes rule bars the viewer from is not offered; it is named.
            let (barred_actions, offered): (Vec<Action>, Vec<Action>) = task
                .actions
                .into_iter()
                .partition(|a| a.barred_by.is_some());
            let barred_notes = if may_act {
                barred_actions
                    .iter()
                    .map(|a| {
                        t.barred_action
                            .replace("{step}", a.barred_by.as_deref().unwrap_or_default())
                            .replace("{action}", &a.title)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let actions = if may_act {
                offered
                    .into_iter()
                    .map(|a| action_view(v, &task.id, a, refused.as_ref(), &choices))
                    .collect()
            } else {
                Vec::new()
            };
            TaskView {
                assignee: party(&task.assignee),
                due: task.due_at.map(|d| hk_time(&d, t)).unwrap_or_default(),
                overdue: task.overdue,
                claimable: allowed.claimable,
                may_claim: allowed.claim,
                holder_barred: task.holder_barred,
                may_release: allowed.release,
                may_hand_over: allowed.hand_over,
                barred: task
                    .barred_by
                    .as_deref()
                    .filter(|_| allowed.claimable)
                    .map(|step| t.barred_you.replace("{step}", step)),
                colleagues: colleagues
                    .iter()
                    .filter(|c| c.id != me.name && c.id != holder)
                    .map(|c| (c.id.clone(), c.display_name.clone()))
                    .collect(),
                claimed_by: holder,
                barred_notes,
                asked: None,
                id: task.id,
                title: task.title,
                actions,
            }
        })
        .collect();
    let docs: Vec<(String, String, String)> = app
        .documents
        .iter()
        .map(|d| (d.id.clone(), d.filename.clone(), d.url.clone()))
        .collect();
    let events: Vec<(Option<EventName>, Option<String>, EventView)> = app
        .history
        .into_iter()
        .map(|e| {
            let (kind, state) = (EventName::parse(&e.kind), e.state_title.clone());
            let view = EventView {
                at: hk_time(&e.at, t),
                what: match e.place_change.as_deref() {
                    Some(change) => crate::i18n::place_change(change, t),
                    None => event_kind(&e.kind, t),
                },
                // A decision and the seats it closes follow from the votes above them: no one
                // person "did" them (the last voter's name there read as theirs alone).
                who: if matches!(kind, Some(EventName::Completed | EventName::TaskCancelled)) {
                    String::new()
                } else {
                    e.actor_person
                        .map(|p| p.display_name)
                        .or(e.actor)
                        .map(|who| match e.party.as_deref().map(Assignee::parse) {
                            Some(Assignee::Agency(a)) => format!("{who} ({})", party(&a)),
                            _ => who,
                        })
                        .or_else(|| e.party.as_deref().map(party))
                        .unwrap_or_else(|| t.system.to_owned())
                },
                state: e.state_title.unwrap_or_default(),
                action: e.action_title.unwrap_or_default(),
                comment: e.comment.unwrap_or_default(),
                // Read by the action's input schema: its fields' titles in the reader's words.
                input: e
                    .input
                    .map(|i| {
                        let schema = wf
                            .states
                            .iter()
                            .find(|s| Some(&s.name) == e.state.as_ref())
                            .and_then(|s| {
                                s.actions
                                    .iter()
                                    .find(|a| Some(&a.name) == e.action.as_ref())
                            })
                            .and_then(|a| a.input_schema.clone())
                            .unwrap_or(Value::Null);
                        form::read(&schema, &i, v.lang)
                    })
                    .unwrap_or_default(),
                note: e.note.unwrap_or_default(),
            };
            (kind, state, view)
        })
        .map(|(kind, state, mut view)| {
            form::link_documents(&mut view.input, &docs);
            (kind, state, view)
        })
        .collect();
    // What the firm is asked, shown where it answers: the action that opened each of its tasks.
    for task in &mut tasks {
        if task.claimable || task.actions.is_empty() {
            continue;
        }
        let opened = events.iter().rposition(|(kind, state, _)| {
            *kind == Some(EventName::TaskOpened) && state.as_deref() == Some(task.title.as_str())
        });
        task.asked = opened.and_then(|at| {
            events[..at]
                .iter()
                .rev()
                .find(|(kind, _, _)| *kind == Some(EventName::TaskCompleted))
                .map(|(_, _, view)| view.clone())
        });
    }
    let timeline: Vec<EventView> = events
        .into_iter()
        .filter(|(kind, _, _)| {
            !kind.is_some_and(|k| {
                matches!(
                    k,
                    EventName::Entered
                        | EventName::Exited
                        | EventName::TaskOpened
                        | EventName::ChoiceMade
                        | EventName::BranchDone
                )
            })
        })
        .map(|(_, _, view)| view)
        .collect();
    let (status, status_class) = status_words(t, &app.status);
    let stands = app.outcome_title.clone().unwrap_or_else(|| {
        app.current_states
            .into_iter()
            .map(|s| s.title)
            .collect::<Vec<_>>()
            .join(" · ")
    });
    let may_upload = tasks.iter().any(|t: &TaskView| !t.actions.is_empty());
    let map = diagram::map(&wf.states, &app.active_states, &|a: &str| party(a));
    let status_code = if has_refusal {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let draft_key = submitted.map(|k| format!("new:{k}")).unwrap_or_default();
    let page = Page {
        page: Frame::new(
            v,
            format!(
                "{} · {} · {}",
                app.reference, app.organization_name, wf.title
            ),
            "",
        ),
        reference: app.reference.clone(),
        t,
        submitted_now: !draft_key.is_empty(),
        draft_key,
        id: app.id,
        revision: app.revision,
        workflow_title: wf.title,
        firm: app.organization_name,
        status,
        status_class,
        stands,
        submitted: hk_time(&app.submitted_at, t),
        notice,
        tasks,
        documents: app.documents,
        map,
        form: {
            let mut rows = form::read(&wf.application_schema, &app.data, v.lang);
            form::link_documents(&mut rows, &docs);
            rows
        },
        timeline,
        may_withdraw: app_may_withdraw,
        may_note: app_may_note,
        waiting,
        reviewer,
        may_upload,
        return_to: v.path.clone(),
    };
    (status_code, html(&page)).into_response()
}

fn action_view(
    v: &Visitor,
    task: &str,
    a: Action,
    refused: Option<&Refused<'_>>,
    documents: &[form::Choice],
) -> ActionView {
    let schema = a.input_schema.unwrap_or(Value::Null);
    let this = refused.filter(|r| r.task == task && r.action == a.name);
    let (data, mut errors, refusal, comment) = match this {
        Some(r) => (
            form::decode(&schema, r.fields),
            Errors::from_violations(&r.failure.violations),
            Some(refusal_words(v.t(), &r.failure)),
            field(r.fields, "comment").to_owned(),
        ),
        None => (Value::Null, Errors::default(), None, String::new()),
    };
    let rows = form::rows_with_documents(&schema, &data, &mut errors, v.lang, documents);
    ActionView {
        prefix: format!("a-{}-{}-", task, a.name),
        open: this.is_some(),
        name: a.name,
        title: a.title,
        rows,
        refusal,
        general: errors.general,
        comment,
        idempotency: softland_store::sessions::random_token().unwrap_or_default(),
    }
}
