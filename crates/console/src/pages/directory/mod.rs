//! The directory, for administrators and leads: agencies, organisations, people and their API
//! keys. What each may see and change is the API's decision (an agency's lead manages its own
//! people and keys, administrators everything); the page offers the forms and shows refusals.

mod keys;
pub(crate) use keys::*;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use softland_gateway::ErrorCode;
use softland_gateway::Principal;

use super::{Frame, failure, html, in_lang, refusal_words};
use crate::Console;
use crate::i18n::Text;
use crate::visitor::{Posted, SignedIn, Visitor, encode};

const DIRECTORY: &str = r#"query($agency: String, $organization: String) {
  agencies { key name nameZhHant nameZhHans region calendar inboxEmail }
  organizations { key name nameZhHant nameZhHans registrationNumber region }
  people(agency: $agency, organization: $organization) {
    id displayName email agency organization roles service active
  }
}"#;

#[derive(Deserialize)]
struct Answer {
    agencies: Vec<Agency>,
    organizations: Vec<Organization>,
    people: Vec<Person>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Agency {
    key: String,
    name: String,
    name_zh_hant: Option<String>,
    name_zh_hans: Option<String>,
    region: String,
    calendar: Option<String>,
    inbox_email: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Organization {
    key: String,
    name: String,
    name_zh_hant: Option<String>,
    name_zh_hans: Option<String>,
    registration_number: Option<String>,
    region: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Person {
    id: String,
    display_name: String,
    email: Option<String>,
    agency: Option<String>,
    organization: Option<String>,
    roles: Vec<String>,
    service: bool,
    active: bool,
}

impl Person {
    fn membership(&self) -> String {
        match (&self.agency, &self.organization) {
            (Some(a), _) => a.clone(),
            (_, Some(o)) => o.clone(),
            _ => String::new(),
        }
    }
}

/// A membership a new person can be given: `agency:hkstp`, `organization:pengcheng-pay`.
#[derive(Debug)]
struct Membership {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct Page {
    page: Frame,
    t: &'static Text,
    admin: bool,
    notice: Option<String>,
    agencies: Vec<Agency>,
    organizations: Vec<Organization>,
    people: Vec<Person>,
    memberships: Vec<Membership>,
    roles: Vec<&'static str>,
}

impl Page {
    /// A role (`REVIEWER`) in the reader's words.
    fn role_word(&self, role: &str) -> &'static str {
        match role {
            "ADMIN" => self.t.role_admin,
            "LEAD" => self.t.role_lead,
            "REVIEWER" => self.t.role_reviewer,
            "STAFF" => self.t.role_staff,
            _ => "—",
        }
    }

    /// A person's roles in the reader's words.
    fn roles_of(&self, person: &Person) -> String {
        person
            .roles
            .iter()
            .map(|r| self.role_word(r))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A region (`hk`, `mainland`) in the reader's words.
    fn region_word(&self, region: &str) -> &'static str {
        match region {
            "hk" => self.t.region_hk,
            "mainland" => self.t.region_mainland,
            _ => "—",
        }
    }
}

/// Which people to list.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Filter {
    agency: Option<String>,
    organization: Option<String>,
}

/// `GET /directory`.
pub(crate) async fn page(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Query(filter): Query<Filter>,
) -> Response {
    render(&c, &v, filter, None).await
}

async fn render(c: &Console, v: &Visitor, filter: Filter, notice: Option<String>) -> Response {
    let Some(principal) = v.principal.as_ref() else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // A lead sees their own people unless they asked; administrators everyone.
    let (agency, organization) = match (principal, filter.agency, filter.organization) {
        (_, a @ Some(_), o) | (_, a, o @ Some(_)) => (a, o),
        (Principal::Reviewer { agency, .. } | Principal::Observer { agency, .. }, None, None) => {
            (Some(agency.clone()), None)
        }
        (Principal::Applicant { organization, .. }, None, None) => {
            (None, Some(organization.clone()))
        }
        (Principal::Admin { .. }, None, None) => (None, None),
    };
    let answer: Answer = match c
        .call(
            v,
            DIRECTORY,
            json!({"agency": agency, "organization": organization}),
        )
        .await
    {
        Ok(a) => a,
        Err(f) => return failure(v, &f),
    };
    let admin = matches!(principal, Principal::Admin { .. });
    let lang = v.lang;
    let memberships = match principal {
        Principal::Admin { .. } => answer
            .agencies
            .iter()
            .map(|a| Membership {
                value: format!("agency:{}", a.key),
                label: in_lang(
                    lang,
                    &a.name,
                    a.name_zh_hant.as_deref(),
                    a.name_zh_hans.as_deref(),
                )
                .to_owned(),
            })
            .chain(answer.organizations.iter().map(|o| {
                Membership {
                    value: format!("organization:{}", o.key),
                    label: in_lang(
                        lang,
                        &o.name,
                        o.name_zh_hant.as_deref(),
                        o.name_zh_hans.as_deref(),
                    )
                    .to_owned(),
                }
            }))
            .chain(std::iter::once(Membership {
                value: "none".into(),
                label: v.t().membership_none.into(),
            }))
            .collect(),
        Principal::Reviewer { agency, .. } | Principal::Observer { agency, .. } => {
            vec![Membership {
                value: format!("agency:{agency}"),
                label: answer
                    .agencies
                    .iter()
                    .find(|a| &a.key == agency)
                    .map_or(agency.as_str(), |a| {
                        in_lang(
                            lang,
                            &a.name,
                            a.name_zh_hant.as_deref(),
                            a.name_zh_hans.as_deref(),
                        )
                    })
                    .to_owned(),
            }]
        }
        Principal::Applicant { organization, .. } => vec![Membership {
            value: format!("organization:{organization}"),
            label: answer
                .organizations
                .iter()
                .find(|o| &o.key == organization)
                .map_or(organization.as_str(), |o| {
                    in_lang(
                        lang,
                        &o.name,
                        o.name_zh_hant.as_deref(),
                        o.name_zh_hans.as_deref(),
                    )
                })
                .to_owned(),
        }],
    };
    let status = if notice.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = Page {
        page: Frame::new(v, v.t().nav_directory, "/directory"),
        t: v.t(),
        admin,
        notice,
        agencies: answer.agencies,
        organizations: answer.organizations,
        people: answer.people,
        memberships,
        roles: if admin {
            vec!["ADMIN", "LEAD", "REVIEWER", "STAFF"]
        } else {
            vec!["LEAD", "REVIEWER", "STAFF"]
        },
    };
    (status, html(&page)).into_response()
}

/// The form's text fields as a GraphQL input object: `required` ones trimmed, `optional` ones
/// trimmed or `null` when left empty.
fn texts(p: &Posted, required: &[&str], optional: &[&str]) -> Value {
    let mut input = serde_json::Map::new();
    for name in required {
        input.insert((*name).to_owned(), Value::from(p.field(name).trim()));
    }
    for name in optional {
        input.insert(
            (*name).to_owned(),
            p.text(name).map_or(Value::Null, Value::from),
        );
    }
    Value::Object(input)
}

/// Runs a directory mutation; back to the directory, or the refusal at its top.
async fn change(c: &Console, v: &Visitor, mutation: &str, variables: Value) -> Response {
    match c.call::<Value>(v, mutation, variables).await {
        Ok(_) => Redirect::to("/directory").into_response(),
        Err(f) if f.code == ErrorCode::Internal => failure(v, &f),
        Err(f) => render(c, v, Filter::default(), Some(refusal_words(v.t(), &f))).await,
    }
}

/// `POST /directory/agencies`.
pub(crate) async fn put_agency(State(c): State<Console>, p: Posted) -> Response {
    let v = &p.v;
    let input = texts(
        &p,
        &["key", "name", "region"],
        &["nameZhHant", "nameZhHans", "calendar", "inboxEmail"],
    );
    change(
        &c,
        v,
        "mutation($input: AgencyInput!) { putAgency(input: $input) { key } }",
        json!({"input": input}),
    )
    .await
}

/// `POST /directory/organizations`.
pub(crate) async fn put_organization(State(c): State<Console>, p: Posted) -> Response {
    let v = &p.v;
    let input = texts(
        &p,
        &["key", "name"],
        &["nameZhHant", "nameZhHans", "registrationNumber", "region"],
    );
    change(
        &c,
        v,
        "mutation($input: OrganizationInput!) { putOrganization(input: $input) { key } }",
        json!({"input": input}),
    )
    .await
}

/// `POST /directory/people`.
pub(crate) async fn put_person(State(c): State<Console>, p: Posted) -> Response {
    let v = &p.v;
    let membership = p.field("membership");
    // No default: a person added without choosing would silently join the first agency.
    let (agency, organization) = match membership.split_once(':') {
        Some(("agency", a)) => (Value::from(a), Value::Null),
        Some(("organization", o)) => (Value::Null, Value::from(o)),
        _ if membership == "none" => (Value::Null, Value::Null),
        _ => {
            let notice = Some(v.t().membership_required.to_owned());
            return render(&c, v, Filter::default(), notice).await;
        }
    };
    let roles: Vec<&str> = p
        .fields
        .iter()
        .filter(|(n, _)| n == "roles")
        .map(|(_, r)| r.as_str())
        .collect();
    let input = json!({
        "id": p.field("id").trim(),
        "displayName": p.text("displayName"),
        "email": p.text("email"),
        "agency": agency,
        "organization": organization,
        "roles": roles,
        "service": p.field("service") == "true",
    });
    change(
        &c,
        v,
        "mutation($input: PersonInput!) { putPerson(input: $input) { id } }",
        json!({"input": input}),
    )
    .await
}

/// `POST /directory/people/{id}/deactivate`.
pub(crate) async fn deactivate(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted,
) -> Response {
    let v = &p.v;
    change(
        &c,
        v,
        "mutation($id: ID!) { deactivatePerson(id: $id) { id } }",
        json!({"id": id}),
    )
    .await
}

const KEYS: &str = r#"query($id: ID!) {
  apiKeys(personId: $id) { id label createdAt expiresAt revokedAt }
}"#;
