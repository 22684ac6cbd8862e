//! The console is a GraphQL client of its own server: every page asks the API's schema, in
//! process, as the signed-in person — so a page can show and do exactly what that person's
//! GraphQL client could, under the same policy, and nothing else.

use async_graphql::{Request, Variables};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use softland_gateway::graphql::RequestLang;
use softland_gateway::{ErrorCode, Reason};

use crate::Console;
use crate::form::Violation;
use crate::visitor::Visitor;

/// Why the API said no.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// `extensions.code`.
    pub code: ErrorCode,
    /// The API's message (words for people, never internals: see the gateway's error module).
    pub message: String,
    /// Each input violation.
    pub violations: Vec<Violation>,
    /// Which rule refused, when the API says.
    pub reason: Option<Reason>,
    /// The step a four-eyes rule names (its name; the page puts its title here).
    pub step: String,
}

/// A failure of the server, nothing else said (set the fields that apply).
impl Default for Failure {
    fn default() -> Self {
        Failure::of(ErrorCode::Internal)
    }
}

impl Failure {
    /// A refusal with `code` and nothing else said.
    pub fn of(code: ErrorCode) -> Self {
        Failure {
            code,
            message: String::new(),
            violations: Vec::new(),
            reason: None,
            step: String::new(),
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<ApiError>,
}

#[derive(Deserialize)]
struct ApiError {
    message: String,
    #[serde(default)]
    extensions: Extensions,
}

#[derive(Deserialize, Default)]
struct Extensions {
    #[serde(default)]
    code: String,
    #[serde(default)]
    violations: Vec<Violation>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    step: String,
}

impl Console {
    /// Runs `query` with `variables` as `visitor`, in their language; the answer's `data` as
    /// `T`, or the first error.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        visitor: &Visitor,
        query: &str,
        variables: Value,
    ) -> Result<T, Failure> {
        let mut request = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(RequestLang(visitor.lang));
        if let Some(p) = &visitor.principal {
            request = softland_gateway::graphql::as_caller(request, &self.store, p.clone());
        }
        let response = self.schema.execute(request).await;
        let answer: Answer = serde_json::to_value(&response)
            .and_then(serde_json::from_value)
            .map_err(|e| internal(&e))?;
        if let Some(first) = answer.errors.into_iter().next() {
            // Errors without a code are async-graphql's own refusals of the request (a value
            // that does not coerce, say): the visitor's mistake, as over HTTP.
            // A code this console does not know is a server it is not built with: a failure.
            let code = if first.extensions.code.is_empty() {
                ErrorCode::BadUserInput
            } else {
                ErrorCode::parse(&first.extensions.code).unwrap_or(ErrorCode::Internal)
            };
            return Err(Failure {
                code,
                message: first.message,
                violations: first.extensions.violations,
                reason: Reason::parse(&first.extensions.reason),
                step: first.extensions.step,
            });
        }
        serde_json::from_value(answer.data.unwrap_or(Value::Null)).map_err(|e| internal(&e))
    }
}

fn internal(e: &serde_json::Error) -> Failure {
    tracing::error!(error = %e, "the console cannot read the API's answer");
    Failure::of(ErrorCode::Internal)
}
