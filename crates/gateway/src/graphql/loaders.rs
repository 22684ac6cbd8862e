//! Batched reads for lists: a page of fifty tasks asks for its fifty applications (and those
//! for their firms and their numbers) in one query each, not fifty. Built on async-graphql's
//! `DataLoader`; no answer is cached between requests (or between a subscription's events).

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Request};
use softland_policy::Principal;
use softland_store::directory::Organization;
use softland_store::{ApplicationRecord, Store};
use uuid::Uuid;

use crate::error::{GqlResult, from_store, refused};
use crate::graphql::{principal, store};

/// The applications a caller may see, by id: a request's (or a socket's) own, since what it
/// may see is the caller's.
#[derive(Debug)]
pub struct VisibleApplications {
    store: Store,
    who: Principal,
}

impl Loader<Uuid> for VisibleApplications {
    type Value = ApplicationRecord;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, ApplicationRecord>, Self::Error> {
        let found = self
            .store
            .applications_by_id(ids)
            .await
            .map_err(from_store)?;
        let seen = self
            .who
            .visible_among(&self.store, found)
            .await
            .map_err(refused)?;
        Ok(seen.into_iter().map(|a| (a.id, a)).collect())
    }
}

/// Organizations by key: the directory's, the same for every caller (one per schema).
#[derive(Debug)]
pub struct Organizations(pub(crate) Store);

impl Loader<String> for Organizations {
    type Value = Organization;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Organization>, Self::Error> {
        let found = self
            .0
            .organizations_by_key(keys)
            .await
            .map_err(from_store)?;
        Ok(found.into_iter().map(|o| (o.key.clone(), o)).collect())
    }
}

/// Applications' numbers (for their references) by id, given now to any that has none: the
/// same for every caller (one per schema; who may see the application is asked before).
#[derive(Debug)]
pub struct Numbers(pub(crate) Store);

impl Loader<Uuid> for Numbers {
    type Value = i64;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, i64>, Self::Error> {
        self.0.numbers_given(ids).await.map_err(from_store)
    }
}

/// What a request carries for its caller: who they are, and the loader of the applications
/// they may see. Every way in (HTTP, the console, a socket's initialisation) adds both.
pub fn as_caller(request: Request, store: &Store, who: Principal) -> Request {
    let seen = seen_by(store, &who);
    request.data(who).data(seen)
}

/// The loader of the applications `who` may see, for a socket's connection data.
pub fn seen_by(store: &Store, who: &Principal) -> DataLoader<VisibleApplications> {
    DataLoader::new(
        VisibleApplications {
            store: store.clone(),
            who: who.clone(),
        },
        tokio::spawn,
    )
}

/// The application `id` if the caller may see it, read with the request's other lookups.
pub(crate) async fn visible_application(
    ctx: &Context<'_>,
    id: Uuid,
) -> GqlResult<Option<ApplicationRecord>> {
    match ctx.data_opt::<DataLoader<VisibleApplications>>() {
        Some(loader) => loader.load_one(id).await,
        // A request built without `as_caller`: the same policy, asked for this one alone.
        None => principal(ctx)?
            .visible_application(store(ctx), id)
            .await
            .map_err(refused),
    }
}

/// The number of application `id`, read (or given) with the request's other lookups.
pub(crate) async fn number(ctx: &Context<'_>, id: Uuid) -> GqlResult<Option<i64>> {
    ctx.data_unchecked::<DataLoader<Numbers>>()
        .load_one(id)
        .await
}

/// The organization `key`, read with the request's other lookups.
pub(crate) async fn organization(ctx: &Context<'_>, key: &str) -> GqlResult<Option<Organization>> {
    ctx.data_unchecked::<DataLoader<Organizations>>()
        .load_one(key.to_owned())
        .await
}
