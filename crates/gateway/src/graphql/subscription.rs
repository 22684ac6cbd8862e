//! Subscriptions: an application's events as they commit, and an inbox's tasks arriving and
//! leaving.
//!
//! Every committed event is checked against every live subscription, so a client holding
//! thousands of them could make each event cost thousands of visibility checks. Two things keep
//! that bounded: a cap on live subscriptions per API key ([`SubscriptionSlots`], code
//! `LIMIT_EXCEEDED` beyond it), and a per-subscription memory of applications already found
//! visible (visibility only ever grows: an organization never changes, and an agency that had a
//! task keeps having had it), so the database is asked once per application, not per event.
//!
//! A subscription lives only as long as the key it was opened with: every [`KEY_CHECK`] the
//! connection's [`Credential`] is authenticated again (one look-up per connection, shared by its
//! subscriptions; PostgreSQL servers answer it from memory until a revocation is announced), and
//! a revoked key's subscriptions end with `UNAUTHENTICATED`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::{Context, Enum, ID, SimpleObject, Subscription as SubscriptionTrait};
use futures_util::stream::{Stream, StreamExt};
use softland_workflow::{Assignee, EventName};
use tokio_stream::wrappers::BroadcastStream;

use super::input::parse_id;
use super::types::{ApplicationEvent, Task};
use super::{principal, store};
use crate::codes::ErrorCode;
use crate::error::{coded, from_store, not_found, refused};
use softland_policy::Principal;

/// How often a connection's key is checked again.
pub const KEY_CHECK: Duration = Duration::from_secs(1);

/// The token a WebSocket connection authenticated with, checked again at most once per
/// [`KEY_CHECK`] however many subscriptions ask.
#[derive(Debug)]
pub struct Credential {
    token: String,
    last: tokio::sync::Mutex<(Instant, bool)>,
}

impl Credential {
    /// A credential just authenticated.
    pub fn new(token: String) -> Arc<Self> {
        Arc::new(Self {
            token,
            last: tokio::sync::Mutex::new((Instant::now(), true)),
        })
    }

    /// Whether the key (or token) still works: not revoked or expired, its person still
    /// active. A database that cannot answer keeps the last answer: an outage does not cut
    /// every subscription.
    async fn alive(&self, auth: &crate::authn::Authenticator) -> bool {
        let mut last = self.last.lock().await;
        if last.1 && last.0.elapsed() >= KEY_CHECK {
            if let Ok(found) = auth.principal(&self.token).await {
                last.1 = found.is_some();
            }
            last.0 = Instant::now();
        }
        last.1
    }
}

/// Applications a subscription remembers as visible (a bound on its memory; forgetting only
/// costs a database check again).
const REMEMBERED: usize = 10_000;

/// Live subscriptions per caller (an API key's role, name and scope).
#[derive(Debug)]
pub struct SubscriptionSlots {
    per_key: usize,
    live: Mutex<HashMap<String, usize>>,
}

impl SubscriptionSlots {
    /// At most `per_key` live subscriptions for one key.
    pub fn new(per_key: usize) -> Arc<Self> {
        Arc::new(SubscriptionSlots {
            per_key,
            live: Mutex::new(HashMap::new()),
        })
    }

    fn take(self: &Arc<Self>, key: String) -> Option<Slot> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let n = live.entry(key.clone()).or_default();
        if *n >= self.per_key {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: self.clone(),
            key,
        })
    }
}

/// One live subscription's place; given back when its stream is dropped.
struct Slot {
    slots: Arc<SubscriptionSlots>,
    key: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut live = self.slots.live.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = live.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                live.remove(&self.key);
            }
        }
    }
}

/// Root subscriptions.
#[derive(Debug, Default)]
pub struct Subscription;

#[SubscriptionTrait]
impl Subscription {
    /// Events of one application (or of every application the caller may see), in commit order.
    /// Each API key may hold a limited number of live subscriptions (`LIMIT_EXCEEDED` beyond).
    async fn application_events(
        &self,
        ctx: &Context<'_>,
        application_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ApplicationEvent>>> {
        let who = principal(ctx)?.clone();
        let store = store(ctx).clone();
        let slot = take_slot(ctx, &who)?;
        let only = match application_id {
            None => None,
            Some(id) => {
                // A malformed id, or one the caller may not see, is `NOT_FOUND`: never a silent
                // subscription to everything else.
                let id = parse_id(&id, "application")?;
                let app = store.application(id).await.map_err(from_store)?;
                match app {
                    Some(app) if who.can_see(&store, &app).await.map_err(refused)? => Some(id),
                    _ => return Err(not_found("application")),
                }
            }
        };
        let credential = ctx.data_opt::<Arc<Credential>>().cloned();
        let visible: Arc<Mutex<HashSet<uuid::Uuid>>> = Arc::default();
        let rx = store.subscribe();
        let auth = ctx.data_unchecked::<crate::authn::Authenticator>().clone();
        let events = BroadcastStream::new(rx).filter_map(move |e| {
            let _held = &slot;
            let (who, store, visible) = (who.clone(), store.clone(), visible.clone());
            async move {
                let e = e.ok()?;
                if only.is_some_and(|id| id != e.application_id) {
                    return None;
                }
                let known = visible
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .contains(&e.application_id);
                if !known {
                    let app = store.application(e.application_id).await.ok()??;
                    if !who.can_see(&store, &app).await.ok()? {
                        return None;
                    }
                    let mut known = visible.lock().unwrap_or_else(|p| p.into_inner());
                    if known.len() >= REMEMBERED {
                        known.clear();
                    }
                    known.insert(e.application_id);
                }
                ApplicationEvent::seen_by(e, &who)
            }
        });
        Ok(until_revoked(events, credential, auth))
    }

    /// Tasks arriving in the caller's inbox (opened for its agency or firm, or reassigned to
    /// it), leaving it (completed, cancelled, reassigned elsewhere) and falling overdue, as
    /// they commit. Administrators have no inbox (`FORBIDDEN`). Shares the per-key cap.
    async fn inbox_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<InboxEvent>>> {
        let who = principal(ctx)?.clone();
        if who.inbox().is_none() {
            return Err(coded(
                ErrorCode::Forbidden,
                "administrators have no inbox; subscribe to applicationEvents instead",
            ));
        };
        let store = store(ctx).clone();
        let slot = take_slot(ctx, &who)?;
        let credential = ctx.data_opt::<Arc<Credential>>().cloned();
        let rx = store.subscribe();
        let auth = ctx.data_unchecked::<crate::authn::Authenticator>().clone();
        let events = BroadcastStream::new(rx).filter_map(move |e| {
            let _held = &slot;
            let (who, store) = (who.clone(), store.clone());
            async move { inbox_event(&store, &who, e.ok()?).await }
        });
        Ok(until_revoked(events, credential, auth))
    }
}

/// What a committed event does to `who`'s inbox, if anything.
async fn inbox_event(
    store: &softland_store::Store,
    who: &Principal,
    e: softland_store::EventRecord,
) -> Option<InboxEvent> {
    let change = match e.kind {
        EventName::TaskOpened | EventName::TaskReassigned => InboxChange::Arrived,
        EventName::TaskCompleted | EventName::TaskCancelled => InboxChange::Left,
        EventName::TaskOverdue => InboxChange::Overdue,
        EventName::Submitted
        | EventName::Entered
        | EventName::Exited
        | EventName::NoteAdded
        | EventName::ChoiceMade
        | EventName::BranchDone
        | EventName::Completed
        | EventName::Withdrawn
        | EventName::DocumentLinked
        | EventName::ClockPaused
        | EventName::ClockResumed
        | EventName::Migrated
        | EventName::PlaceChanged => return None,
    };
    // An event that names its assignees (opened, reassigned) and none of them this inbox's
    // kind is dropped without asking the database: every subscriber sees every event.
    let named: Vec<softland_workflow::Assignee> = ["assignee", "from"]
        .iter()
        .filter_map(|k| serde_json::from_value(e.payload.get(*k)?.clone()).ok())
        .collect();
    if !named.is_empty() && !named.iter().any(|a| who.inbox_may_hold(a)) {
        return None;
    }
    let no = u32::try_from(e.payload.get("task")?.as_u64()?).ok()?;
    let task = store
        .tasks_of(e.application_id, false)
        .await
        .ok()?
        .into_iter()
        .find(|t| t.task_no == no)?;
    let holds = |assignee: &Assignee| who.inbox_holds(assignee, &task.organization);
    let change = if holds(&task.assignee) {
        change
    } else if change == InboxChange::Arrived
        && e.kind == EventName::TaskReassigned
        && e.payload
            .get("from")
            .and_then(|f| serde_json::from_value::<Assignee>(f.clone()).ok())
            .is_some_and(|from| holds(&from))
    {
        InboxChange::Left
    } else {
        return None;
    };
    Some(InboxEvent {
        change,
        at: e.at,
        task: task.into(),
    })
}

/// A change to an inbox.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum InboxChange {
    /// A task opened for the inbox's owner, or was reassigned to it.
    Arrived,
    /// A task left: completed, cancelled, or reassigned to someone else.
    Left,
    /// A task in the inbox fell overdue.
    Overdue,
}

/// A task arriving in, leaving or changing in an inbox.
#[derive(SimpleObject, Debug)]
pub struct InboxEvent {
    /// What happened.
    pub change: InboxChange,
    /// The task as it is now.
    pub task: Task,
    /// When it happened.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// One of the caller's live subscriptions, or `LIMIT_EXCEEDED`.
fn take_slot(ctx: &Context<'_>, who: &Principal) -> async_graphql::Result<Slot> {
    let slots = ctx.data_unchecked::<Arc<SubscriptionSlots>>();
    slots.take(who.identity()).ok_or_else(|| {
        coded(
            ErrorCode::LimitExceeded,
            format!(
                "this API key already holds {} live subscriptions; close some, or subscribe \
                 without an application id to receive every visible application's events",
                slots.per_key
            ),
        )
    })
}

/// `items` until the connection's key stops working; the revocation itself is the last item.
fn until_revoked<T: Send + 'static>(
    items: impl Stream<Item = T> + Send + 'static,
    credential: Option<Arc<Credential>>,
    auth: crate::authn::Authenticator,
) -> impl Stream<Item = async_graphql::Result<T>> {
    // Resolves once the key stopped working (never without a credential).
    let revocation = async move {
        let Some(c) = credential else {
            return std::future::pending().await;
        };
        loop {
            tokio::time::sleep(KEY_CHECK).await;
            if !c.alive(&auth).await {
                return revoked();
            }
        }
    };
    let state = (Box::pin(items), Box::pin(revocation), false);
    futures_util::stream::unfold(state, |(mut items, mut revocation, ended)| async move {
        if ended {
            return None;
        }
        tokio::select! {
            e = items.next() => e.map(|e| (Ok(e), (items, revocation, false))),
            err = &mut revocation => Some((Err(err), (items, revocation, true))),
        }
    })
}

fn revoked() -> async_graphql::Error {
    coded(
        ErrorCode::Unauthenticated,
        "the API key of this connection was revoked; its subscriptions have ended",
    )
}
