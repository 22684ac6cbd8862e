//! softland's logs and traces.
//!
//! [`init`] installs one subscriber: log lines on stderr (pretty or JSON, filtered by
//! `RUST_LOG`) and, when [`Traces`] are given and the `otlp` feature is built, an OpenTelemetry
//! layer that turns the same spans into OTLP spans sent to a collector over HTTP (protobuf,
//! `<endpoint>/v1/traces`, batched on a thread of its own). The spans that matter are made
//! where the work is: one per HTTP request in the gateway (with the GraphQL operation's name)
//! and one per command in the store (with the application's id).
//!
//! Log lines and traces meet through [`record_trace_id`]: a root span records its trace id
//! as the field `trace_id`, so every line logged inside it names the trace an operator opens.

use std::io::IsTerminal;
use std::time::Duration;

use tracing::{Level, Span};
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[cfg(feature = "otlp")]
mod otlp;

/// What the log lines on stderr look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people at a terminal.
    Pretty,
    /// One JSON object a line, with the spans it was logged in (for log collectors).
    Json,
}

/// The log filter when `RUST_LOG` says nothing: softland at `info`, the database drivers quiet.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn";

/// Where traces go.
#[derive(Debug, Clone)]
pub struct Traces {
    /// The collector's OTLP/HTTP address (`http://collector:4318`); spans are posted to
    /// `<endpoint>/v1/traces`, as `OTEL_EXPORTER_OTLP_ENDPOINT` means it.
    pub endpoint: String,
    /// The share (0 to 1) of traces begun here that are sent. A caller's `traceparent` decides
    /// for the traces it began.
    pub sample_ratio: f64,
    /// How long one export may take before it is given up (its spans are dropped, never the
    /// requests they describe).
    pub timeout: Duration,
}

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The binary was built without the `otlp` feature.
    #[error("this softland was built without the `otlp` feature: it cannot send traces")]
    NotBuilt,
    /// The endpoint or a setting is not usable.
    #[error("otlp-endpoint: {0}")]
    Settings(String),
}

/// Keeps the trace exporter running; dropped, it sends what is still queued (within its
/// timeout) and stops. Hold it until the service has stopped.
#[derive(Debug, Default)]
#[must_use = "traces stop being sent when this is dropped"]
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    exporter: Option<otlp::Exporter>,
}

impl Telemetry {
    /// Whether spans are being sent.
    pub fn sends_traces(&self) -> bool {
        #[cfg(feature = "otlp")]
        return self.exporter.is_some();
        #[cfg(not(feature = "otlp"))]
        false
    }
}

/// Checks trace settings without starting anything (what `config check` reports).
pub fn check(traces: &Traces) -> Result<(), Error> {
    if !cfg!(feature = "otlp") {
        return Err(Error::NotBuilt);
    }
    let ok = traces
        .endpoint
        .split_once("://")
        .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && !rest.is_empty());
    if !ok {
        return Err(Error::Settings(format!(
            "`{}` is not an http:// or https:// address",
            traces.endpoint
        )));
    }
    if !(0.0..=1.0).contains(&traces.sample_ratio) {
        return Err(Error::Settings(
            "the sample ratio is between 0 and 1".to_owned(),
        ));
    }
    Ok(())
}

/// Installs the log subscriber and, with `traces`, the trace exporter. A second call (tests,
/// several commands in one process) keeps the first subscriber.
pub fn init(format: LogFormat, traces: Option<&Traces>) -> Result<Telemetry, Error> {
    if let Some(traces) = traces {
        check(traces)?;
    }
    // `RUST_LOG` filters the log lines only: traces keep every request and command span
    // however quiet the log is.
    // softland's own spans (requests, commands) are kept for the log lines too, whatever
    // `RUST_LOG` says of their level: a warning logged in a request names the request and its
    // trace even when the log is quiet.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
        .or(filter_fn(|meta| {
            meta.is_span() && *meta.level() <= Level::INFO && meta.target().starts_with("softland")
        }));
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let lines = match format {
        LogFormat::Pretty => lines.with_filter(filter).boxed(),
        LogFormat::Json => lines.json().with_filter(filter).boxed(),
    };
    let registry = tracing_subscriber::registry().with(lines);
    #[cfg(feature = "otlp")]
    {
        let exporter = traces.map(otlp::Exporter::start).transpose()?;
        let layer = exporter
            .as_ref()
            .map(|e| e.layer().with_filter(otlp::spans_sent()));
        let _ = registry.with(layer).try_init();
        Ok(Telemetry { exporter })
    }
    #[cfg(not(feature = "otlp"))]
    {
        let _ = registry.try_init();
        Ok(Telemetry::default())
    }
}

/// Continues the trace a caller began (W3C `traceparent` and `tracestate` headers): `span`
/// becomes a child of the caller's span. Call it before anything is logged in `span`; a
/// malformed header is ignored (the span begins a trace of its own).
pub fn follow_caller(span: &Span, traceparent: Option<&str>, tracestate: Option<&str>) {
    #[cfg(feature = "otlp")]
    otlp::follow_caller(span, traceparent, tracestate);
    #[cfg(not(feature = "otlp"))]
    let _ = (span, traceparent, tracestate);
}

/// Records the trace id of `span` in its field `trace_id` (declared `tracing::field::Empty`
/// where the span is made), so the log lines inside it name their trace. Nothing when traces
/// are not sent.
pub fn record_trace_id(span: &Span) {
    #[cfg(feature = "otlp")]
    otlp::record_trace_id(span);
    #[cfg(not(feature = "otlp"))]
    let _ = span;
}
