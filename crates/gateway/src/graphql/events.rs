//! Audit-log entries as the API shows them: each filtered by who asks (an internal note never
//! reaches a firm; a firm sees the agency, not its reviewer), with the titles of its state and
//! action in the caller's language.

use async_graphql::{Context, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use softland_store::EventRecord;
use softland_workflow::Text;

use super::locale::{Locale, lang};
use super::store;
use crate::error::{GqlResult, from_store};
use softland_policy::Principal;

/// One audit-log entry, as the caller may see it (see the policy module).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct ApplicationEvent {
    /// 1, 2, 3, … within the application.
    pub seq: i64,
    /// The application.
    pub application_id: ID,
    /// `submitted`, `entered`, `task_opened`, `task_completed`, `completed`, …
    pub kind: String,
    /// Who caused it: the person. Firms see the people of their own organization, not an
    /// agency's reviewers (they see `party`, the agency, instead).
    pub actor: Option<String>,
    /// What the actor acted for: the agency's key, or `applicant` (null for the system).
    pub party: Option<String>,
    /// The state concerned.
    pub state: Option<String>,
    /// The action taken.
    pub action: Option<String>,
    /// The actor's comment.
    pub comment: Option<String>,
    /// What the actor submitted with the action: the question asked of the firm, the firm's
    /// answer, a reason, attachments.
    pub input: Option<Json<serde_json::Value>>,
    /// An internal note (`kind` `note_added`): agencies' reviewers and administrators only —
    /// a firm's history leaves these entries out.
    pub note: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// For a `place_changed` entry: what happened to the place (`reserved`, `confirmed`,
    /// `released`, `waitlisted`, `promoted`).
    pub place_change: Option<String>,
    #[graphql(skip)]
    pub state_titles: Option<Text>,
    #[graphql(skip)]
    pub action_titles: Option<Text>,
}

#[async_graphql::ComplexObject]
impl ApplicationEvent {
    /// The state's title (see `Locale`), from the application's workflow version; null where
    /// the entry names no state (or in a subscription's events).
    async fn state_title(&self, ctx: &Context<'_>, locale: Option<Locale>) -> Option<String> {
        let lang = lang(ctx, locale);
        self.state_titles.as_ref().map(|t| t.get(lang).to_owned())
    }

    /// The action's title (see `Locale`), as the task offered it; null where the entry names
    /// no action (or in a subscription's events).
    async fn action_title(&self, ctx: &Context<'_>, locale: Option<Locale>) -> Option<String> {
        let lang = lang(ctx, locale);
        self.action_titles.as_ref().map(|t| t.get(lang).to_owned())
    }

    /// The actor as people know them: their display name and membership in the directory
    /// (`null` where `actor` is hidden, or for someone the directory does not hold).
    async fn actor_person(&self, ctx: &Context<'_>) -> GqlResult<Option<ActorPerson>> {
        let Some(id) = &self.actor else {
            return Ok(None);
        };
        Ok(store(ctx)
            .person(id)
            .await
            .map_err(from_store)?
            .map(|p| ActorPerson {
                display_name: p.display_name,
                membership: p.membership.label(),
            }))
    }
}

/// Who acted, as the directory names them.
#[derive(SimpleObject, Debug, Clone)]
pub struct ActorPerson {
    /// Their display name.
    pub display_name: String,
    /// `agency:KEY`, `organization:KEY`, or `none` (a platform administrator).
    pub membership: String,
}

impl ApplicationEvent {
    /// The entry as `who` may see it; `None` when `who` may not see it at all (an internal
    /// note, for a firm).
    pub fn seen_by(e: EventRecord, who: &Principal) -> Option<Self> {
        let e = who.entry(e)?;
        let note = e.note().map(str::to_owned);
        let party = e.party().map(|p| p.key().to_owned());
        let input = e.input().cloned().map(Json);
        let place_change = e
            .payload
            .get("change")
            .filter(|_| e.kind == softland_workflow::EventName::PlaceChanged)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        Some(Self {
            place_change,
            seq: e.seq,
            application_id: ID(e.application_id.to_string()),
            kind: e.kind.as_str().to_owned(),
            actor: e.actor,
            party,
            state: e.state,
            action: e.action,
            comment: e.comment,
            input,
            note,
            at: e.at,
            state_titles: None,
            action_titles: None,
        })
    }

    /// With the titles `wf` gives its state and action.
    pub(super) fn titled_by(self, wf: Option<&softland_workflow::Workflow>) -> Self {
        match wf {
            Some(wf) => self.titled(wf),
            None => self,
        }
    }

    /// With the titles `wf` gives its state and action.
    pub(super) fn titled(mut self, wf: &softland_workflow::Workflow) -> Self {
        if let Some(state) = self.state.as_deref().and_then(|s| wf.state_named(s)) {
            self.state_titles = Some(state.title().clone());
            self.action_titles = self.action.as_deref().and_then(|a| {
                state
                    .offered_actions()
                    .into_iter()
                    .find(|o| o.name == a)
                    .map(|o| o.title)
            });
        }
        self
    }
}

/// An application's history as `who` may see it, each entry titled by the workflow version the
/// application ran on when it was written: a `migrated` entry moves the rest to its new version
/// (a renamed step keeps its old title where it was taken). A version that no longer loads
/// leaves the titles out, not the history.
pub(super) async fn titled_history(
    store: &softland_store::Store,
    key: &str,
    current: i32,
    events: Vec<EventRecord>,
    who: &Principal,
) -> Vec<ApplicationEvent> {
    let migrated = softland_workflow::EventName::Migrated;
    let version_at = |e: &EventRecord, field: &str| {
        e.payload
            .get(field)
            .and_then(serde_json::Value::as_i64)
            .and_then(|v| i32::try_from(v).ok())
    };
    let mut version = events
        .iter()
        .find(|e| e.kind == migrated)
        .and_then(|e| version_at(e, "from_version"))
        .unwrap_or(current);
    let mut versions = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        if e.kind == migrated {
            version = version_at(&e, "to_version").unwrap_or(current);
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = versions.entry(version) {
            slot.insert(store.workflow(key, version).await.ok());
        }
        let wf = versions.get(&version).and_then(Option::as_deref);
        if let Some(entry) = ApplicationEvent::seen_by(e, who) {
            out.push(entry.titled_by(wf));
        }
    }
    out
}
