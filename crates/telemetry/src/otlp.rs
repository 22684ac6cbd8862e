//! OpenTelemetry over OTLP/HTTP: the exporter, the layer that feeds it, W3C trace context.

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::{Level, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{LevelFilter, Targets};

use crate::{Error, Traces};

/// The tracer provider: a batch of spans is posted from a thread of its own every few seconds
/// (`OTEL_BSP_SCHEDULE_DELAY`, default 5 000 ms); at most `OTEL_BSP_MAX_QUEUE_SIZE` (2 048)
/// wait, further spans are dropped rather than held.
#[derive(Debug)]
pub(crate) struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    pub(crate) fn start(traces: &Traces) -> Result<Self, Error> {
        let endpoint = format!("{}/v1/traces", traces.endpoint.trim_end_matches('/'));
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .with_timeout(traces.timeout)
            .build()
            .map_err(|e| Error::Settings(e.to_string()))?;
        let sampler =
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(traces.sample_ratio)));
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(sampler)
            // `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` still have their say.
            .with_resource(
                Resource::builder()
                    .with_service_name(service_name())
                    .with_attribute(opentelemetry::KeyValue::new(
                        "service.version",
                        env!("CARGO_PKG_VERSION"),
                    ))
                    .build(),
            )
            .build();
        Ok(Self { provider })
    }

    pub(crate) fn layer<S>(&self) -> impl tracing_subscriber::Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("softland"))
            .with_tracked_inactivity(false)
            .with_threads(false)
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        // Sends what is queued; a collector that is gone costs at most the export timeout.
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "traces still queued at the stop were not sent");
        }
    }
}

/// What becomes part of a trace: softland's spans and the events logged in them from `info`
/// up; not the database drivers' chatter, and never the exporter's own HTTP client (whose
/// events would be exported by the exporter they describe).
pub(crate) fn spans_sent() -> Targets {
    Targets::new()
        .with_default(Level::INFO)
        .with_target("sqlx", Level::WARN)
        .with_target("sea_orm", Level::WARN)
        .with_target("opentelemetry", LevelFilter::OFF)
        .with_target("opentelemetry_sdk", LevelFilter::OFF)
        .with_target("opentelemetry_otlp", LevelFilter::OFF)
        .with_target("opentelemetry_http", LevelFilter::OFF)
        .with_target("reqwest", LevelFilter::OFF)
        .with_target("hyper", LevelFilter::OFF)
        .with_target("hyper_util", LevelFilter::OFF)
}

fn service_name() -> String {
    std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "softland".to_owned())
}

/// The two W3C trace-context headers of a request.
struct Caller<'a> {
    traceparent: Option<&'a str>,
    tracestate: Option<&'a str>,
}

impl Extractor for Caller<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => self.traceparent,
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

pub(crate) fn follow_caller(span: &Span, traceparent: Option<&str>, tracestate: Option<&str>) {
    if traceparent.is_none() {
        return;
    }
    let caller = TraceContextPropagator::new().extract(&Caller {
        traceparent,
        tracestate,
    });
    if caller.span().span_context().is_valid() {
        // Fails only when traces are not sent or the span already began: then there is
        // nothing to follow.
        let _ = span.set_parent(caller);
    }
}

pub(crate) fn record_trace_id(span: &Span) {
    let cx = span.context();
    let span_context = cx.span().span_context().clone();
    if span_context.is_valid() {
        span.record("trace_id", tracing::field::display(span_context.trace_id()));
    }
}
