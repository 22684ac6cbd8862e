//! Every error a client sees has a stable `extensions.code`; nothing else leaks.

use async_graphql::{Error, ErrorExtensions};
use softland_store::Error as StoreError;
use softland_workflow::Rejection;

pub(crate) type GqlResult<T> = async_graphql::Result<T>;

pub(crate) fn coded(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(message.into()).extend_with(|_, e| e.set("code", code))
}

pub(crate) fn unauthenticated() -> Error {
    coded(
        "UNAUTHENTICATED",
        "missing or invalid API key: send `Authorization: Bearer <token>`",
    )
}

pub(crate) fn forbidden(message: impl Into<String>) -> Error {
    coded("FORBIDDEN", message)
}

pub(crate) fn not_found(what: impl Into<String>) -> Error {
    coded("NOT_FOUND", format!("{} not found", what.into()))
}

pub(crate) fn bad_input(message: impl Into<String>) -> Error {
    coded("BAD_USER_INPUT", message)
}

/// Maps a store error to a client error. Internal failures are logged, not shown.
pub(crate) fn from_store(e: StoreError) -> Error {
    crate::metrics::error(e.code());
    match &e {
        StoreError::Rejected(Rejection::InvalidInput { violations }) => {
            let list: Vec<async_graphql::Value> = violations
                .iter()
                .map(|v| {
                    let mut m = async_graphql::indexmap::IndexMap::new();
                    m.insert(
                        async_graphql::Name::new("path"),
                        async_graphql::Value::from(if v.path.is_empty() {
                            "/".to_owned()
                        } else {
                            v.path.clone()
                        }),
                    );
                    m.insert(
                        async_graphql::Name::new("message"),
                        async_graphql::Value::from(v.message.clone()),
                    );
                    async_graphql::Value::Object(m)
                })
                .collect();
            Error::new(e.to_string()).extend_with(move |_, ext| {
                ext.set("code", "BAD_USER_INPUT");
                ext.set("violations", async_graphql::Value::List(list.clone()));
            })
        }
        StoreError::Db(_)
        | StoreError::Corrupt(_)
        | StoreError::Io { .. }
        | StoreError::UnsupportedUrl(_) => {
            tracing::error!(error = %e, "internal error");
            coded("INTERNAL", "internal error; it has been logged")
        }
        StoreError::InvalidDefinition(_) => coded("BAD_USER_INPUT", e.to_string()),
        _ => coded(e.code(), e.to_string()),
    }
}
