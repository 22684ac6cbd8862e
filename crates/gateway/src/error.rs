//! Every error a client sees has a stable `extensions.code`; nothing else leaks.

use async_graphql::{Error, ErrorExtensions};

use crate::codes::ErrorCode;
use softland_store::Error as StoreError;
use softland_workflow::Rejection;

pub(crate) type GqlResult<T> = async_graphql::Result<T>;

pub(crate) fn coded(code: ErrorCode, message: impl Into<String>) -> Error {
    Error::new(message.into()).extend_with(move |_, e| e.set("code", code.as_str()))
}

pub(crate) fn unauthenticated() -> Error {
    coded(
        ErrorCode::Unauthenticated,
        "missing or invalid API key: send `Authorization: Bearer <token>`",
    )
}

pub(crate) fn forbidden(message: impl Into<String>) -> Error {
    coded(ErrorCode::Forbidden, message)
}

pub(crate) fn not_found(what: impl Into<String>) -> Error {
    coded(ErrorCode::NotFound, format!("{} not found", what.into()))
}

pub(crate) fn bad_input(message: impl Into<String>) -> Error {
    coded(ErrorCode::BadUserInput, message)
}

/// The policy's "no" as the client sees it: `FORBIDDEN` with its reason, `NOT_FOUND` for what
/// the caller may not see, and a store failure as any other.
pub(crate) fn refused(r: softland_policy::Refusal) -> Error {
    use softland_policy::Refusal;
    match r {
        Refusal::Forbidden(why) => forbidden(why),
        Refusal::Hidden(what) => not_found(what),
        Refusal::Store(e) => from_store(e),
    }
}

/// Maps a store error to a client error. Internal failures are logged, not shown.
pub(crate) fn from_store(e: StoreError) -> Error {
    let code = ErrorCode::from(&e);
    crate::metrics::error(code);
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
                    if let Some(missing) = &v.missing {
                        m.insert(
                            async_graphql::Name::new("missing"),
                            async_graphql::Value::from(missing.clone()),
                        );
                    }
                    m.insert(
                        async_graphql::Name::new("rule"),
                        async_graphql::Value::from(v.rule.clone()),
                    );
                    if let Some(limit) = v
                        .limit
                        .clone()
                        .and_then(|l| async_graphql::Value::from_json(l).ok())
                    {
                        m.insert(async_graphql::Name::new("limit"), limit);
                    }
                    async_graphql::Value::Object(m)
                })
                .collect();
            Error::new(e.to_string()).extend_with(move |_, ext| {
                ext.set("code", ErrorCode::BadUserInput.as_str());
                ext.set("violations", async_graphql::Value::List(list.clone()));
            })
        }
        // Which step's four-eyes rule refused, for clients to explain it in their words.
        StoreError::Rejected(Rejection::FourEyes { step, .. }) => {
            let step = step.clone();
            Error::new(e.to_string()).extend_with(move |_, ext| {
                ext.set("code", code.as_str());
                ext.set("reason", crate::codes::Reason::FourEyes.as_str());
                ext.set("step", step.as_str());
            })
        }
        StoreError::Rejected(Rejection::PoolFull { pool }) => {
            let pool = pool.clone();
            Error::new(e.to_string()).extend_with(move |_, ext| {
                ext.set("code", code.as_str());
                ext.set("reason", crate::codes::Reason::PoolFull.as_str());
                ext.set("pool", pool.as_str());
            })
        }
        // What failed is in the log; the caller learns only that it may try again (a command
        // with its idempotency key is safe to repeat whether or not it committed).
        _ if code == ErrorCode::Unavailable => {
            tracing::warn!(error = %e, "the database is out of reach");
            Error::new("the database is out of reach for a moment; try again").extend_with(
                |_, ext| {
                    ext.set("code", ErrorCode::Unavailable.as_str());
                    ext.set("retryable", true);
                },
            )
        }
        _ if code == ErrorCode::Internal => {
            tracing::error!(error = %e, "internal error");
            coded(ErrorCode::Internal, "internal error; it has been logged")
        }
        StoreError::InvalidDefinition(_) => coded(ErrorCode::BadUserInput, e.to_string()),
        _ => coded(code, e.to_string()),
    }
}

/// A GraphQL-shaped error response for requests that never reach the schema (a refused body,
/// credentials that cannot be checked, a download).
pub(crate) fn refuse(
    status: axum::http::StatusCode,
    code: ErrorCode,
    message: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    crate::metrics::error(code);
    let mut extensions = serde_json::json!({"code": code.as_str()});
    if code == ErrorCode::Unavailable {
        // Out of reach for a moment (the database in a failover): the same promise as a
        // resolver's UNAVAILABLE, that trying again is right.
        extensions["retryable"] = true.into();
    }
    let body = serde_json::json!({"errors": [{"message": message, "extensions": extensions}]});
    (status, axum::Json(body)).into_response()
}

/// Gives every error of a response an `extensions.code` (async-graphql's own parse and
/// validation errors come without one: they are the client's).
pub(crate) fn code_errors(errors: &mut [async_graphql::ServerError]) {
    for e in errors {
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", ErrorCode::BadUserInput.as_str());
            crate::metrics::error(ErrorCode::BadUserInput);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(res: axum::response::Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// A refusal before any resolver ran (the caller's key could not be looked up: the
    /// database is in a failover) promises what a resolver's UNAVAILABLE does: try again.
    #[tokio::test]
    async fn unavailable_refusals_say_retry() {
        use axum::http::StatusCode;
        let res = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "try again",
        );
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let e = &body(res).await["errors"][0]["extensions"];
        assert_eq!(e["code"], "UNAVAILABLE");
        assert_eq!(e["retryable"], true);
        let e = &body(refuse(StatusCode::FORBIDDEN, ErrorCode::Forbidden, "no")).await["errors"][0]
            ["extensions"];
        assert_eq!(e["code"], "FORBIDDEN");
        assert!(e.get("retryable").is_none(), "{e}");
    }
}
