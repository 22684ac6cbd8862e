//! A span per command, named for what the command does and carrying the application's id
//! (also recorded on the request's span, where it declares the field), so a trace shows which
//! application a request changed and the log lines of a command name it. A command outside any request (a timer the scheduler fires) begins a trace of its own;
//! its log lines carry that trace's id.

use std::future::Future;

use tracing::Instrument;
use tracing::field::{Empty, display};
use uuid::Uuid;

use crate::{Outcome, Result, TaskRecord};

/// What a command's result says about the application it touched.
pub(crate) trait OfApplication {
    fn application_id(&self) -> Uuid;

    /// `done` or, for a command an idempotency key had already seen, `replayed`.
    fn outcome(&self) -> &'static str {
        "done"
    }
}

impl OfApplication for Outcome {
    fn application_id(&self) -> Uuid {
        self.application.id
    }

    fn outcome(&self) -> &'static str {
        if self.replayed { "replayed" } else { "done" }
    }
}

impl OfApplication for TaskRecord {
    fn application_id(&self) -> Uuid {
        self.application_id
    }
}

/// Runs `work` in the span of command `kind` (`submit`, `act`, …), on application `known`
/// if the caller knows it already (else the result names it). A refusal (conflict, rejection,
/// not found) is an outcome of the command, not a failure of the span: only failures of the
/// database or of stored data mark it `error`.
pub(crate) async fn command<T: OfApplication>(
    kind: &'static str,
    known: Option<Uuid>,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    // The request the command runs in, if any: it is named for the application too, so a
    // trace backend finds the request by the application it changed.
    let parent = tracing::Span::current();
    let root = parent.is_none();
    let span = tracing::info_span!(
        "command",
        otel.name = kind,
        otel.status_code = Empty,
        command = kind,
        application.id = Empty,
        outcome = Empty,
        trace_id = Empty,
    );
    if let Some(id) = known {
        span.record("application.id", display(id));
    }
    if root {
        softland_telemetry::record_trace_id(&span);
    }
    let result = work.instrument(span.clone()).await;
    match &result {
        Ok(done) => {
            let id = display(done.application_id());
            span.record("application.id", &id);
            parent.record("application.id", &id);
            span.record("outcome", done.outcome());
        }
        Err(e) if e.is_refusal() => {
            span.record("outcome", "refused");
        }
        Err(_) => {
            span.record("outcome", "failed");
            span.record("otel.status_code", "error");
        }
    }
    result
}
