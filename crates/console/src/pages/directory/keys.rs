//! The API keys page: a lead's or an administrator's list of keys, making one (shown once) and revoking one.

use super::*;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct KeysAnswer {
    api_keys: Vec<Key>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub(super) struct Key {
    id: String,
    label: String,
    created_at: chrono::DateTime<chrono::Utc>,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A key as the page lists it.
#[derive(Debug)]
pub(super) struct KeyRow {
    id: String,
    label: String,
    created: String,
    expires: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "keys.html")]
pub(super) struct KeysPage {
    page: Frame,
    t: &'static Text,
    person: String,
    keys: Vec<KeyRow>,
    token: Option<String>,
    notice: Option<String>,
}

/// `GET /directory/people/{id}/keys`.
pub(crate) async fn keys(
    State(c): State<Console>,
    SignedIn(v): SignedIn,
    Path(id): Path<String>,
) -> Response {
    keys_page(&c, &v, &id, None, None).await
}

pub(super) async fn keys_page(
    c: &Console,
    v: &Visitor,
    person: &str,
    token: Option<String>,
    notice: Option<String>,
) -> Response {
    let answer: KeysAnswer = match c.call(v, KEYS, json!({"id": person})).await {
        Ok(a) => a,
        Err(f) => return failure(v, &f),
    };
    let t = v.t();
    html(&KeysPage {
        page: Frame::new(v, format!("{}: {person}", t.api_keys), "/directory"),
        t,
        person: person.to_owned(),
        keys: answer
            .api_keys
            .into_iter()
            .map(|k| KeyRow {
                id: k.id,
                label: k.label,
                created: crate::i18n::hk_time(&k.created_at, t),
                expires: k
                    .expires_at
                    .map(|e| crate::i18n::hk_time(&e, t))
                    .unwrap_or_default(),
                revoked: k.revoked_at.is_some(),
            })
            .collect(),
        token,
        notice,
    })
}

pub(super) const CREATE_KEY: &str = r#"mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { token }
}"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Created {
    create_api_key: Token,
}

#[derive(Deserialize)]
pub(super) struct Token {
    token: String,
}

/// `POST /directory/people/{id}/keys`: makes a key; its token is shown on this answer only
/// (never in a URL, never stored by the page).
pub(crate) async fn create_key(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted,
) -> Response {
    let v = &p.v;
    // A date means the end of that day in Hong Kong.
    let expires = match p.field("expires").trim() {
        "" => Value::Null,
        date => Value::from(format!("{date}T23:59:59+08:00")),
    };
    let input = json!({"personId": id, "label": p.field("label").trim(), "expiresAt": expires});
    match c
        .call::<Created>(v, CREATE_KEY, json!({"input": input}))
        .await
    {
        Ok(created) => keys_page(&c, v, &id, Some(created.create_api_key.token), None).await,
        Err(f) if f.code == ErrorCode::Internal => failure(v, &f),
        Err(f) => keys_page(&c, v, &id, None, Some(refusal_words(v.t(), &f))).await,
    }
}

/// `POST /directory/keys/{id}/revoke` (the person's id comes with the form, to go back).
pub(crate) async fn revoke_key(
    State(c): State<Console>,
    Path(key): Path<String>,
    p: Posted,
) -> Response {
    let v = &p.v;
    let person = p.field("person");
    match c
        .call::<Value>(
            v,
            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
            json!({"id": key}),
        )
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/directory/people/{}/keys", encode(person))).into_response()
        }
        Err(f) => failure(v, &f),
    }
}
