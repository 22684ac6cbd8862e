//! Subscriptions: an application's events as they commit.

use async_graphql::{Context, ID, Subscription as SubscriptionTrait};
use futures_util::stream::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;

use super::types::ApplicationEvent;
use super::{principal, store};

/// Root subscriptions.
#[derive(Debug, Default)]
pub struct Subscription;

#[SubscriptionTrait]
impl Subscription {
    /// Events of one application (or of every application the caller may see), in commit order.
    async fn application_events(
        &self,
        ctx: &Context<'_>,
        application_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = ApplicationEvent>> {
        let who = principal(ctx)?.clone();
        let store = store(ctx).clone();
        let only = application_id.and_then(|id| id.parse::<uuid::Uuid>().ok());
        let rx = store.subscribe();
        Ok(BroadcastStream::new(rx).filter_map(move |e| {
            let (who, store) = (who.clone(), store.clone());
            async move {
                let e = e.ok()?;
                if only.is_some_and(|id| id != e.application_id) {
                    return None;
                }
                let app = store.application(e.application_id).await.ok()??;
                who.can_see(&store, &app)
                    .await
                    .ok()?
                    .then(|| ApplicationEvent::from(e))
            }
        }))
    }
}
