//! Subscriptions: an application's events as they commit.
//!
//! Every committed event is checked against every live subscription, so a client holding
//! thousands of them could make each event cost thousands of visibility checks. Two things keep
//! that bounded: a cap on live subscriptions per API key ([`SubscriptionSlots`], code
//! `LIMIT_EXCEEDED` beyond it), and a per-subscription memory of applications already found
//! visible (visibility only ever grows: an organization never changes, and an agency that had a
//! task keeps having had it), so the database is asked once per application, not per event.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_graphql::{Context, ID, Subscription as SubscriptionTrait};
use futures_util::stream::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;

use super::types::ApplicationEvent;
use super::{principal, store};
use crate::error::coded;

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
    ) -> async_graphql::Result<impl Stream<Item = ApplicationEvent>> {
        let who = principal(ctx)?.clone();
        let store = store(ctx).clone();
        let slots = ctx.data_unchecked::<Arc<SubscriptionSlots>>();
        let slot = slots.take(who.identity()).ok_or_else(|| {
            coded(
                "LIMIT_EXCEEDED",
                format!(
                    "this API key already holds {} live subscriptions; close some, or subscribe \
                     without an application id to receive every visible application's events",
                    slots.per_key
                ),
            )
        })?;
        let only = application_id.and_then(|id| id.parse::<uuid::Uuid>().ok());
        let visible: Arc<Mutex<HashSet<uuid::Uuid>>> = Arc::default();
        let rx = store.subscribe();
        Ok(BroadcastStream::new(rx).filter_map(move |e| {
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
                Some(ApplicationEvent::from(e))
            }
        }))
    }
}
