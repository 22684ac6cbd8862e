//! The directory over GraphQL: agencies, organizations, people and their API keys. Who may
//! read and change what is decided in [`crate::policy`]; the store checks the entries.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use softland_store::KeyRecord;
use softland_store::directory::{self as dir, Membership};

use super::input::parse_id;
use super::people_actions::recorded;
use super::{principal, store};
use crate::error::{GqlResult, forbidden, from_store, not_found, refused};

/// What a person may do.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "dir::Role")]
pub enum PersonRole {
    /// Publishes workflows, manages the directory; an agency lead's powers everywhere.
    Admin,
    /// An agency's lead (any claim of the agency, its people and keys) or an organization's
    /// lead (its staff and keys).
    Lead,
    /// Works an agency's inbox.
    Reviewer,
    /// Submits and answers for an organization.
    Staff,
    /// Reads every application of the programmes its agency oversees; changes nothing.
    Observer,
    /// A student applying for themselves, of no organisation.
    Student,
}

/// `From` both ways between a GraphQL type and the store's record with the same fields. The
/// struct literals name every field, so a field added to either side and not listed here
/// does not compile.
macro_rules! same_fields {
    ($view:ty, $record:ty, { $($field:ident),+ $(,)? }) => {
        impl From<$record> for $view {
            fn from(r: $record) -> Self {
                Self { $($field: r.$field),+ }
            }
        }

        impl From<$view> for $record {
            fn from(v: $view) -> Self {
                Self { $($field: v.$field),+ }
            }
        }
    };
}

/// A partner agency.
#[derive(SimpleObject, InputObject, Debug, Clone)]
#[graphql(name = "Agency", input_name = "AgencyInput")]
pub struct AgencyView {
    /// The key workflows name (`hkstp`).
    pub key: String,
    /// English name.
    pub name: String,
    /// Traditional Chinese name.
    pub name_zh_hant: Option<String>,
    /// Simplified Chinese name.
    pub name_zh_hans: Option<String>,
    /// `hk` or `mainland`.
    pub region: String,
    /// The holiday calendar its due dates count working days by, `hk` or `mainland` (default:
    /// its region's).
    pub calendar: Option<String>,
    /// Where notifications for its inbox go.
    pub inbox_email: Option<String>,
    /// An identity provider (issuer URL) whose people the directory lacks join this agency at
    /// their first sign-in, without roles (no access) until a lead gives them one. Null: nobody
    /// unknown is added (the default).
    pub sign_in_issuer: Option<String>,
    /// The language e-mail to its inbox is written in: `en` (the default), `zh-Hant` or
    /// `zh-Hans`.
    pub language: Option<String>,
    /// Task-opened e-mail to its inbox address comes once a day (08:00 Hong Kong time) as one
    /// digest instead of one message per task.
    #[graphql(default)]
    pub digest: bool,
}

same_fields!(AgencyView, dir::Agency, {
    key, name, name_zh_hant, name_zh_hans, region, calendar, inbox_email, sign_in_issuer,
    language, digest,
});

/// An applicant organization (a firm).
#[derive(SimpleObject, InputObject, Debug, Clone)]
#[graphql(name = "Organization", input_name = "OrganizationInput")]
pub struct OrganizationView {
    /// The key applications are filed under.
    pub key: String,
    /// English name.
    pub name: String,
    /// Traditional Chinese name.
    pub name_zh_hant: Option<String>,
    /// Simplified Chinese name.
    pub name_zh_hans: Option<String>,
    /// A mainland unified social credit code or a Hong Kong business registration number.
    pub registration_number: Option<String>,
    /// `hk` or `mainland`.
    pub region: Option<String>,
    /// The language its people's e-mail is written in when they have none of their own.
    pub language: Option<String>,
}

same_fields!(OrganizationView, dir::Organization, {
    key, name, name_zh_hant, name_zh_hans, registration_number, region, language,
});

/// A person (or service account) of the directory.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Person")]
pub struct PersonView {
    /// The stable id the record names as the actor.
    pub id: ID,
    /// How people see them.
    pub display_name: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Their agency, if they belong to one.
    pub agency: Option<String>,
    /// Their organization, if they belong to one.
    pub organization: Option<String>,
    /// What they may do.
    pub roles: Vec<PersonRole>,
    /// Only machines act as this account.
    pub service: bool,
    /// False once deactivated.
    pub active: bool,
    /// When added.
    pub created_at: DateTime<Utc>,
    /// When deactivated.
    pub deactivated_at: Option<DateTime<Utc>>,
    /// The language their e-mail is written in (`en`, `zh-Hant`, `zh-Hans`).
    pub language: Option<String>,
}

impl From<dir::Person> for PersonView {
    fn from(p: dir::Person) -> Self {
        let (agency, organization) = match p.membership {
            Membership::Agency(a) => (Some(a), None),
            Membership::Organization(o) => (None, Some(o)),
            Membership::None => (None, None),
        };
        PersonView {
            id: ID(p.id),
            display_name: p.display_name,
            email: p.email,
            agency,
            organization,
            roles: p.roles.into_iter().map(Into::into).collect(),
            service: p.service,
            active: p.active,
            created_at: p.created_at,
            deactivated_at: p.deactivated_at,
            language: p.language,
        }
    }
}

/// A person to add, or to change (display name, e-mail, roles, service flag; never the
/// membership).
#[derive(InputObject, Debug)]
pub struct PersonInput {
    /// The stable id (letters, digits, `.`, `_`, `-`, `@`; up to 64).
    pub id: String,
    /// How people see them (default: the id).
    pub display_name: Option<String>,
    /// E-mail address (unique).
    pub email: Option<String>,
    /// Their agency (exclusive with `organization`).
    pub agency: Option<String>,
    /// Their organization (exclusive with `agency`).
    pub organization: Option<String>,
    /// What they may do.
    pub roles: Vec<PersonRole>,
    /// A service account (a firm's or agency's back-office system).
    #[graphql(default)]
    pub service: bool,
    /// The language their e-mail is written in (`en`, `zh-Hant`, `zh-Hans`).
    pub language: Option<String>,
}

/// An API key (never its token).
#[derive(SimpleObject, Debug)]
#[graphql(name = "ApiKey")]
pub struct ApiKeyView {
    /// Its id.
    pub id: ID,
    /// What it is for.
    pub label: String,
    /// The person it acts as.
    pub person_id: ID,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<KeyRecord> for ApiKeyView {
    fn from(k: KeyRecord) -> Self {
        ApiKeyView {
            id: ID(k.id.to_string()),
            label: k.label,
            person_id: ID(k.person.id),
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key and its token: shown only now.
#[derive(SimpleObject, Debug)]
pub struct CreatedApiKey {
    /// The key.
    pub key: ApiKeyView,
    /// `Authorization: Bearer <token>`; stored only as a hash.
    pub token: String,
}

/// A key to make.
#[derive(InputObject, Debug)]
pub struct CreateApiKeyInput {
    /// The person (or service account) it acts as.
    pub person_id: ID,
    /// What it is for ("back office", "laptop").
    pub label: String,
    /// When it stops working — no later than the key you are signed in with, if that one
    /// expires (the answer's `expiresAt` says when it does).
    pub expires_at: Option<DateTime<Utc>>,
}

fn membership_of(agency: Option<String>, organization: Option<String>) -> Membership {
    match (agency, organization) {
        (Some(a), _) => Membership::Agency(a),
        (None, Some(o)) => Membership::Organization(o),
        (None, None) => Membership::None,
    }
}

/// The person `id`, if the caller may see them (else `NOT_FOUND`, as for nobody).
async fn visible_person(ctx: &Context<'_>, id: &str) -> GqlResult<dir::Person> {
    let who = principal(ctx)?;
    match store(ctx).person(id).await.map_err(from_store)? {
        Some(p) if who.sees_people_of(&p.membership) => Ok(p),
        _ => Err(not_found("person")),
    }
}

/// Directory queries.
#[derive(Debug, Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// The partner agencies (everyone signed in).
    async fn agencies(&self, ctx: &Context<'_>) -> GqlResult<Vec<AgencyView>> {
        principal(ctx)?;
        Ok(store(ctx)
            .agencies()
            .await
            .map_err(from_store)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Organizations: every one for administrators, one's own for its staff, none for others.
    async fn organizations(&self, ctx: &Context<'_>) -> GqlResult<Vec<OrganizationView>> {
        let who = principal(ctx)?;
        Ok(store(ctx)
            .organizations()
            .await
            .map_err(from_store)?
            .into_iter()
            .filter(|o| who.sees_people_of(&Membership::Organization(o.key.clone())))
            .map(Into::into)
            .collect())
    }

    /// People of an agency or organization (of one's own; administrators any, or everyone
    /// when both are left out).
    async fn people(
        &self,
        ctx: &Context<'_>,
        agency: Option<String>,
        organization: Option<String>,
    ) -> GqlResult<Vec<PersonView>> {
        let who = principal(ctx)?;
        let asked = match (agency, organization) {
            (None, None) => None,
            (a, o) => Some(membership_of(a, o)),
        };
        let of = who.people_scope(asked);
        if let Some(m) = &of
            && !who.sees_people_of(m)
        {
            return Err(forbidden(
                "you may see the people of your own agency or organization",
            ));
        }
        Ok(store(ctx)
            .people(of.as_ref())
            .await
            .map_err(from_store)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// A person's API keys: one's own, a lead's people's, an administrator's anyone's.
    async fn api_keys(&self, ctx: &Context<'_>, person_id: ID) -> GqlResult<Vec<ApiKeyView>> {
        let who = principal(ctx)?;
        let p = visible_person(ctx, &person_id).await?;
        if p.id != who.name() && !who.manages(&p.membership) {
            return Err(forbidden(
                "only the person, their lead or an administrator lists keys",
            ));
        }
        Ok(store(ctx)
            .keys_of(&p.id)
            .await
            .map_err(from_store)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// Directory mutations.
#[derive(Debug, Default)]
pub struct DirectoryMutation;

#[Object]
impl DirectoryMutation {
    /// Adds or changes an agency (administrators).
    async fn put_agency(&self, ctx: &Context<'_>, input: AgencyView) -> GqlResult<AgencyView> {
        principal(ctx)?.require_admin().map_err(refused)?;
        let a = store(ctx)
            .put_agency(&input.into())
            .await
            .map_err(from_store)?;
        let detail = serde_json::json!({"name": a.name, "region": a.region});
        recorded(ctx, "put_agency", a.key.clone(), None, detail).await;
        Ok(a.into())
    }

    /// Adds or changes an organization (administrators).
    async fn put_organization(
        &self,
        ctx: &Context<'_>,
        input: OrganizationView,
    ) -> GqlResult<OrganizationView> {
        principal(ctx)?.require_admin().map_err(refused)?;
        let o = store(ctx)
            .put_organization(&input.into())
            .await
            .map_err(from_store)?;
        let detail = serde_json::json!({"name": o.name, "region": o.region});
        recorded(ctx, "put_organization", o.key.clone(), None, detail).await;
        Ok(o.into())
    }

    /// Adds or changes a person: administrators anyone; a lead the people of their own agency
    /// or organization, with any role but `ADMIN`.
    async fn put_person(&self, ctx: &Context<'_>, input: PersonInput) -> GqlResult<PersonView> {
        let who = principal(ctx)?;
        let membership = membership_of(input.agency.clone(), input.organization.clone());
        let roles: Vec<dir::Role> = input.roles.iter().map(|r| (*r).into()).collect();
        who.may_put_person(&membership, &roles).map_err(refused)?;
        // An id or address held by someone the caller may not see is refused in words that
        // do not say whose, or which of the two it is.
        let unavailable = || {
            crate::error::bad_input("that id or e-mail address is not available; choose another")
        };
        if let Some(existing) = store(ctx).person(&input.id).await.map_err(from_store)?
            && !who.manages(&existing.membership)
        {
            return Err(unavailable());
        }
        if let Some(email) = input.email.as_deref()
            && let Some(other) = store(ctx)
                .person_by_email(email)
                .await
                .map_err(from_store)?
            && other.id != input.id
            && !who.manages(&other.membership)
        {
            return Err(unavailable());
        }
        let p = dir::NewPerson {
            id: input.id,
            display_name: input.display_name,
            email: input.email,
            agency: input.agency,
            organization: input.organization,
            roles,
            service: input.service,
            language: input.language,
        };
        let person = store(ctx).put_person(&p).await.map_err(from_store)?;
        let roles: Vec<&str> = person.roles.iter().map(|r| r.as_str()).collect();
        let detail = serde_json::json!({"membership": person.membership.label(), "roles": roles});
        recorded(ctx, "put_person", person.id.clone(), None, detail).await;
        Ok(person.into())
    }

    /// Deactivates a person (administrators, or their lead): their keys are revoked, their
    /// claims released and their subscriptions end.
    async fn deactivate_person(&self, ctx: &Context<'_>, id: ID) -> GqlResult<PersonView> {
        let who = principal(ctx)?;
        let p = visible_person(ctx, &id).await?;
        if !who.manages(&p.membership) {
            return Err(forbidden(
                "only their lead or an administrator deactivates a person",
            ));
        }
        store(ctx)
            .deactivate_person(&p.id)
            .await
            .map_err(from_store)?;
        recorded(
            ctx,
            "deactivate_person",
            p.id.clone(),
            None,
            serde_json::json!({}),
        )
        .await;
        Ok(visible_person(ctx, &p.id).await?.into())
    }

    /// Makes an API key for a person or service account (administrators, or the person's
    /// lead); the token is shown only in this answer.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> GqlResult<CreatedApiKey> {
        let who = principal(ctx)?;
        let p = visible_person(ctx, &input.person_id).await?;
        who.may_make_key_for(&p).map_err(refused)?;
        super::input::bounded("label", Some(&input.label), super::input::MAX_NAME)?;
        let authority = ctx
            .data_opt::<softland_policy::Authority>()
            .copied()
            .unwrap_or_default();
        let minted = softland_policy::key_minting(who, authority, &p.id, input.expires_at);
        let (key, token) = store(ctx)
            .mint_key(&p.id, &input.label, minted.expires_at, minted.minted_by)
            .await
            .map_err(from_store)?;
        let detail =
            serde_json::json!({"person": p.id, "label": key.label, "expires_at": key.expires_at});
        recorded(ctx, "create_key", key.id.to_string(), None, detail).await;
        Ok(CreatedApiKey {
            key: key.into(),
            token,
        })
    }

    /// Revokes a key (administrators, the owning lead, or the key's person).
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ApiKeyView> {
        let who = principal(ctx)?;
        let key_id = parse_id(&id, "API key")?;
        let key = store(ctx)
            .keys()
            .await
            .map_err(from_store)?
            .into_iter()
            .find(|k| k.id == key_id)
            .filter(|k| k.person.id == who.name() || who.manages(&k.person.membership))
            .ok_or_else(|| not_found("API key"))?;
        store(ctx).revoke_key(key.id).await.map_err(from_store)?;
        let detail = serde_json::json!({"person": key.person.id, "label": key.label});
        recorded(ctx, "revoke_key", key.id.to_string(), None, detail).await;
        let key = store(ctx)
            .keys_of(&key.person.id)
            .await
            .map_err(from_store)?
            .into_iter()
            .find(|k| k.id == key_id)
            .ok_or_else(|| not_found("API key"))?;
        Ok(key.into())
    }
}
