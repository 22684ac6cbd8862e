//! The GraphQL schema: types, queries, mutations, the subscription.

mod dashboard;
mod directory;
mod documents;
mod events;
mod input;
mod intakes;
pub(crate) mod limits;
mod loaders;
mod locale;
mod migrations;
mod mutation;
mod operation;
mod people_actions;
mod positions;
mod profile;
mod query;
mod reports;
mod subscription;
mod types;
mod uploads;
mod webhooks;

use std::path::PathBuf;

use async_graphql::{Context, Schema};
use softland_store::Store;

use crate::error::{GqlResult, unauthenticated};
use softland_policy::Principal;

pub use events::ApplicationEvent;
pub use loaders::{as_caller, seen_by};
pub use locale::{Locale, RequestLang};
pub use uploads::{Document, Documents, UploadLimits};
pub use webhooks::Webhooks;
/// Root queries: the applications', the directory's and the dashboard's.
#[derive(async_graphql::MergedObject, Debug, Default)]
pub struct Query(
    query::AppQuery,
    directory::DirectoryQuery,
    dashboard::DashboardQuery,
    uploads::DocumentsQuery,
    webhooks::WebhookQuery,
    people_actions::PeopleActionsQuery,
    migrations::MigrationQuery,
    reports::ReportQuery,
    positions::PositionsQuery,
    intakes::IntakesQuery,
    profile::ProfileQuery,
);

/// Root mutations: the applications' and the directory's.
#[derive(async_graphql::MergedObject, Debug, Default)]
pub struct Mutation(
    mutation::AppMutation,
    directory::DirectoryMutation,
    uploads::UploadMutation,
    uploads::EraseMutation,
    webhooks::WebhookMutation,
    migrations::MigrationMutation,
    positions::PositionsMutation,
    intakes::IntakesMutation,
    profile::ProfileMutation,
);
pub use subscription::{Credential, Subscription, SubscriptionSlots};

/// Live subscriptions one API key may hold.
pub const SUBSCRIPTIONS_PER_KEY: usize = 256;

/// The schema type.
pub type SoftlandSchema = Schema<Query, Mutation, Subscription>;

/// Where relative `form: {file: …}` paths of published YAML are resolved.
#[derive(Debug, Clone)]
pub struct WorkflowsDir(pub PathBuf);

/// Builds the schema with its limits (depth, complexity, page size via the store).
pub fn build_schema(
    store: Store,
    workflows_dir: PathBuf,
    auth: crate::authn::Authenticator,
    documents: Documents,
    webhooks: Webhooks,
) -> SoftlandSchema {
    let organizations = async_graphql::dataloader::DataLoader::new(
        loaders::Organizations(store.clone()),
        tokio::spawn,
    );
    let numbers =
        async_graphql::dataloader::DataLoader::new(loaders::Numbers(store.clone()), tokio::spawn);
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .data(organizations)
        .data(numbers)
        .data(store)
        .data(documents)
        .data(webhooks)
        .data(auth)
        .data(WorkflowsDir(workflows_dir))
        .data(SubscriptionSlots::new(SUBSCRIPTIONS_PER_KEY))
        // The standard introspection query (graphql-js's `getIntrospectionQuery`, which
        // GraphiQL, Postman, Apollo and graphql-codegen send) nests `ofType` up to depth 15.
        .limit_depth(16)
        // The cost limit (lists counted by their size) is `limits::MAX_COST`, coded.
        .limit_recursive_depth(32)
        .limit_directives(8)
        // Outermost: it sees every parsed document, remembered ones too.
        .extension(operation::OperationName)
        // Parses (or remembers) and measures every document before async-graphql sees it.
        .extension(limits::RequestLimits::new(
            documents::DocumentCache::default(),
        ))
        .finish()
}

/// The schema in SDL (exported to `schemas/graphql/schema.graphql`).
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .finish()
        .sdl()
}

pub(crate) fn store<'c>(ctx: &Context<'c>) -> &'c Store {
    ctx.data_unchecked::<Store>()
}

/// The caller, or UNAUTHENTICATED.
pub(crate) fn principal<'c>(ctx: &Context<'c>) -> GqlResult<&'c Principal> {
    ctx.data_opt::<Principal>().ok_or_else(unauthenticated)
}
