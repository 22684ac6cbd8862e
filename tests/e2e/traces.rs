//! Traces: `serve --otlp-endpoint` sends OpenTelemetry spans over OTLP/HTTP (protobuf) to a
//! collector — here a receiver on loopback that decodes what it gets with the OTLP's own
//! message types — one span per request (with the GraphQL operation's name) and one per
//! command (with the application's id); the log lines inside a request name its trace.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use serde_json::json;
use softland_store::test_util::TestDb;

use crate::support::{Server, eventually, example, gql_send, temp_dir};

/// What the collector received: each span with its service's name.
#[derive(Default)]
struct Collector {
    spans: Mutex<Vec<(String, Span)>>,
}

async fn receive(State(c): State<Arc<Collector>>, body: Bytes) -> Vec<u8> {
    let export = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
    let mut spans = c.spans.lock().unwrap();
    for resource in export.resource_spans {
        let service = resource
            .resource
            .as_ref()
            .and_then(|r| text(&r.attributes, "service.name"))
            .unwrap_or_default();
        for scope in resource.scope_spans {
            spans.extend(scope.spans.into_iter().map(|s| (service.clone(), s)));
        }
    }
    // An empty `ExportTraceServiceResponse`: everything accepted.
    Vec::new()
}

async fn collector() -> (String, Arc<Collector>) {
    let c = Arc::new(Collector::default());
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(receive))
        // A webhook receiver beside it, so deliveries are traced too.
        .route(
            "/hook",
            axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .with_state(c.clone());
    let addr = crate::support::serve_loopback(app).await;
    (format!("http://{addr}"), c)
}

impl Collector {
    /// The first span `matches` finds within 20 s (spans leave in batches).
    async fn wait_for(&self, what: &str, matches: impl Fn(&Span) -> bool) -> Span {
        let spans = || self.spans.lock().unwrap();
        let found = eventually(what, Duration::from_secs(20), || async {
            spans()
                .iter()
                .find(|(_, s)| matches(s))
                .map(|(_, s)| s.clone())
        });
        found.await
    }
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    Some(match value {
        AnyValue::StringValue(s) => s.clone(),
        AnyValue::IntValue(i) => i.to_string(),
        AnyValue::BoolValue(b) => b.to_string(),
        other => format!("{other:?}"),
    })
}

fn attr(span: &Span, key: &str) -> Option<String> {
    text(&span.attributes, key)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const SUBMIT: &str = "mutation SubmitForTrace($k: String!, $d: JSON!) { submitApplication(input: {workflowKey: $k, data: $d}) { id status activeStates openTasks { id state assignee } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_commands_become_spans_and_log_lines_name_their_trace() {
    let (endpoint, collector) = collector().await;
    let log = temp_dir("traces").join("serve.log");
    let server = Server::start_logged(
        TestDb::sqlite(),
        "127.0.0.1:0",
        &[
            ("SOFTLAND_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("SOFTLAND_LOG_FORMAT", "json"),
            // The log is quiet but for each request's line; traces are not filtered by it.
            ("RUST_LOG", "warn,tower_http=debug"),
            ("SOFTLAND_WEBHOOK_ALLOW", "127.0.0.0/8"),
        ],
        Some(&log),
    );
    let hook =
        json!({"i": {"url": format!("{endpoint}/hook"), "eventTypes": ["application.submitted"]}});
    let r = server
        .gql(
            Some(&server.admin),
            "mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }",
            hook,
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let firm = server.applicant_key("acme", "ann");
    let key = "soft-landing-sz-to-hk";

    // A caller that began a trace (a proxy, a firm's own traced client): the request is part
    // of it.
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let req = reqwest::Client::new()
        .post(format!("{}/graphql", server.url))
        .bearer_auth(&firm)
        .header("traceparent", format!("00-{caller_trace}-{caller_span}-01"));
    let r = gql_send(req, SUBMIT, json!({"k": key, "d": example(key)})).await;
    assert!(r["errors"].is_null(), "{r}");
    let app = r["data"]["submitApplication"].clone();
    let app_id = app["id"].as_str().unwrap().to_owned();

    let request = collector
        .wait_for("the submission's request", |s| {
            s.kind == SpanKind::Server as i32 && hex(&s.trace_id) == caller_trace
        })
        .await;
    assert_eq!(request.name, "POST /graphql");
    assert_eq!(
        hex(&request.parent_span_id),
        caller_span,
        "the caller's span is its parent"
    );
    // The request is found by its operation, and by the application it changed.
    for (key, want) in [
        ("graphql.operation.name", "SubmitForTrace"),
        ("graphql.operation.type", "mutation"),
        ("http.request.method", "POST"),
        ("http.response.status_code", "200"),
        ("application.id", app_id.as_str()),
    ] {
        assert_eq!(attr(&request, key).as_deref(), Some(want), "{key}");
    }
    let submit = collector
        .wait_for("the submit command", |s| {
            s.name == "submit" && hex(&s.trace_id) == caller_trace
        })
        .await;
    assert_eq!(
        submit.parent_span_id, request.span_id,
        "the command runs inside the request"
    );
    assert_eq!(
        attr(&submit, "application.id").as_deref(),
        Some(app_id.as_str())
    );
    assert_eq!(attr(&submit, "outcome").as_deref(), Some("done"));

    // Its webhook delivery, later, is a trace of its own that names the application.
    let delivery = collector
        .wait_for("the webhook delivery", |s| {
            s.name == "deliver webhook"
                && attr(s, "application.id").as_deref() == Some(app_id.as_str())
        })
        .await;
    assert!(delivery.parent_span_id.is_empty());
    assert_eq!(
        attr(&delivery, "event.type").as_deref(),
        Some("application.submitted")
    );
    assert_eq!(attr(&delivery, "outcome").as_deref(), Some("delivered"));
    assert_eq!(attr(&delivery, "attempt").as_deref(), Some("1"));

    // A request that begins its own trace: a reviewer acts on the application.
    server.play(key, app, &firm, 0..1).await;
    let act = collector
        .wait_for("the action", |s| {
            s.name == "act" && attr(s, "application.id").as_deref() == Some(app_id.as_str())
        })
        .await;
    assert_ne!(hex(&act.trace_id), caller_trace);
    let act_request = collector
        .wait_for("the action's request", |s| s.span_id == act.parent_span_id)
        .await;
    assert!(act_request.parent_span_id.is_empty(), "a trace of its own");
    assert_eq!(
        attr(&act_request, "graphql.operation.name"),
        None,
        "the script's operation is anonymous"
    );
    assert_eq!(
        attr(&act_request, "graphql.operation.type").as_deref(),
        Some("mutation")
    );

    // A malformed `traceparent` is ignored: the request is served in a trace of its own.
    let req = reqwest::Client::new()
        .post(format!("{}/graphql", server.url))
        .bearer_auth(&firm)
        .header("traceparent", "00-not-a-trace-01");
    let r = gql_send(
        req,
        "query MyApplications { applications(first: 1) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert!(r["errors"].is_null(), "{r}");
    let listed = collector
        .wait_for("the listing", |s| {
            attr(s, "graphql.operation.name").as_deref() == Some("MyApplications")
        })
        .await;
    assert!(listed.parent_span_id.is_empty());
    assert_eq!(listed.trace_id.len(), 16);

    // Every span says which service sent it.
    let services: Vec<String> = collector
        .spans
        .lock()
        .unwrap()
        .iter()
        .map(|(s, _)| s.clone())
        .collect();
    assert!(services.iter().all(|s| s == "softland"), "{services:?}");

    // The log lines of each request name its trace.
    let lines = std::fs::read_to_string(&log).unwrap();
    for trace in [
        caller_trace.to_owned(),
        hex(&act.trace_id),
        hex(&listed.trace_id),
    ] {
        let named = lines
            .lines()
            .filter(|l| l.contains("finished processing request"))
            .any(|l| l.contains(&format!("\"trace_id\":\"{trace}\"")));
        assert!(named, "no log line names trace {trace}:\n{lines}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_costs_the_service_nothing() {
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let endpoint = format!("http://{closed}");
    let mut server = Server::start_with_env(
        TestDb::sqlite(),
        "127.0.0.1:0",
        &[
            ("SOFTLAND_OTLP_ENDPOINT", &endpoint),
            ("SOFTLAND_OTLP_TIMEOUT_SECONDS", "1"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let firm = server.applicant_key("acme", "ann");
    for _ in 0..3 {
        let app = server.submit_sample(&firm).await;
        assert_eq!(app["status"], "ACTIVE", "{app}");
    }
    let started = std::time::Instant::now();
    assert!(server.stop(), "a graceful stop");
    println!(
        "stopped in {:?} with spans the collector never took",
        started.elapsed()
    );
}
