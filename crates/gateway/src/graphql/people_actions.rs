//! What people did besides moving applications, for administrators: `peopleActions`.

use async_graphql::{Context, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::limits::DEFAULT_PAGE;
use super::{principal, store};
use crate::error::{GqlResult, from_store, refused};

/// One thing a person did: a claim, release or hand-over, a key made or revoked, a directory
/// change, a workflow published, retired or brought back.
#[derive(SimpleObject, Debug)]
pub struct PersonAction {
    /// Its id (the `before` of the next page).
    pub id: ID,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: a person's id (`cli` for the command line).
    pub actor: String,
    /// `claim`, `release`, `hand_over`, `put_person`, `deactivate_person`, `create_key`,
    /// `revoke_key`, `put_agency`, `put_organization`, `publish`, `retire`, `unretire`.
    pub kind: String,
    /// To what: a task's id, a person's, a key's, an agency's or organization's key, or
    /// `workflow vN`.
    pub subject: String,
    /// The application it concerns, if any.
    pub application_id: Option<ID>,
    /// The rest (`{"to": "carl"}`, the roles given, …).
    pub detail: Json<serde_json::Value>,
}

impl From<softland_store::people_actions::PersonAction> for PersonAction {
    fn from(a: softland_store::people_actions::PersonAction) -> Self {
        Self {
            id: ID(a.id.to_string()),
            at: a.at,
            actor: a.actor,
            kind: a.kind,
            subject: a.subject,
            application_id: a.application_id.map(|id| ID(id.to_string())),
            detail: Json(a.detail),
        }
    }
}

/// The query.
#[derive(Debug, Default)]
pub struct PeopleActionsQuery;

#[Object]
impl PeopleActionsQuery {
    /// What people did, newest first (administrators): at most `first` (100 at most), before
    /// the action `before`, within `[from, to)` when given. `audit-export` writes them too.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn people_actions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        before: Option<ID>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> GqlResult<Vec<PersonAction>> {
        principal(ctx)?.require_admin().map_err(refused)?;
        let before = before
            .map(|b| super::input::parse_id(&b, "action"))
            .transpose()?;
        let first = first.unwrap_or(DEFAULT_PAGE).max(1) as u64;
        Ok(store(ctx)
            .people_actions(from, to, before, first)
            .await
            .map_err(from_store)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// Records what the caller did (administrators read it, `audit-export` writes it). The act is
/// done already: failing to record it is logged, not answered as the act's failure.
pub(crate) async fn recorded(
    ctx: &Context<'_>,
    kind: &str,
    subject: String,
    application_id: Option<uuid::Uuid>,
    detail: serde_json::Value,
) {
    let Ok(who) = principal(ctx) else {
        return;
    };
    let action = softland_store::people_actions::NewPersonAction {
        actor: who.name(),
        kind,
        subject,
        application_id,
        detail,
    };
    if let Err(e) = store(ctx).record_action(action).await {
        tracing::error!(error = %e, kind, "an action was done but not recorded");
    }
}
