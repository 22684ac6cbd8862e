//! `/graphql/ws`: subscriptions over the graphql-transport-ws protocol, with the protocol's own
//! rules enforced before async-graphql sees a message.
//!
//! - Only `graphql-transport-ws` is spoken (the legacy `graphql-ws` subprotocol is refused).
//! - `connection_init` must arrive within [`INIT_WAIT`], else the socket closes with **4408**; a
//!   `subscribe` before it closes with **4401**; a second `connection_init` with **4429**; a
//!   `subscribe` whose id is still running with **4409**; a message that is not the protocol's
//!   with **4400**.
//! - The caller is authenticated at `connection_init`: a bearer token in its payload (or the
//!   upgrade request's `Authorization` header), or the console's session cookie when the
//!   upgrade came from this server's own pages (its `Origin` is this server's, scheme
//!   included). Without one the socket closes with **4403**.
//! - Every error in a `next` or `error` message carries `extensions.code`, as over HTTP.
//! - At most [`Sockets`]' share of the connection cap is WebSocket at once; a message is at
//!   most the HTTP body limit.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::{ClientMessage, WebSocket as GqlSocket, WsMessage};
use async_graphql::{Data, Executor, Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::http::HeaderMap;
use futures_util::SinkExt;
use futures_util::stream::{BoxStream, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use crate::authn::Authenticator;
use crate::graphql::SoftlandSchema;
use softland_policy::Principal;

/// How long a client has, after the upgrade, to send `connection_init`.
pub const INIT_WAIT: Duration = Duration::from_secs(10);

/// The subprotocol spoken.
pub const SUBPROTOCOL: &str = "graphql-transport-ws";

/// The close codes of graphql-transport-ws.
mod close {
    pub const BAD_MESSAGE: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const DUPLICATE_ID: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
    pub const UNAVAILABLE: u16 = 1011;
}

/// How many WebSocket connections may be open at once (a share of the connection cap, so
/// sockets that stay open can never take every descriptor from plain requests).
#[derive(Debug, Clone)]
pub struct Sockets(Arc<Semaphore>);

impl Sockets {
    /// At most `n` sockets at once.
    pub fn new(n: usize) -> Self {
        Sockets(Arc::new(Semaphore::new(n.max(1))))
    }

    /// A place for one more socket, if there is one.
    pub fn admit(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

/// The schema, with every error of every response coded.
#[derive(Clone)]
struct Coded(SoftlandSchema);

impl Executor for Coded {
    async fn execute(&self, request: Request) -> Response {
        let mut resp = self.0.execute(request).await;
        crate::error::code_errors(&mut resp.errors);
        resp
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        Executor::execute_stream(&self.0, request, session_data)
            .map(|mut resp| {
                crate::error::code_errors(&mut resp.errors);
                resp
            })
            .boxed()
    }
}

/// What the upgrade request says about its caller.
pub struct Upgrade {
    /// `Authorization: Bearer …` of the upgrade request.
    pub bearer: Option<String>,
    /// The upgrade request's headers, when its `Origin` is this server's (the console's
    /// session cookie may then be used).
    pub same_origin_headers: Option<HeaderMap>,
    /// The request's language.
    pub lang: crate::graphql::RequestLang,
    /// Where failed authentications are counted, and the peer's address.
    pub failures: (crate::throttle::Failures, Option<std::net::IpAddr>),
    /// Where the socket's loaders read (see `graphql::seen_by`).
    pub store: softland_store::Store,
}

/// A protocol violation: the close code and its reason.
type Closing = (u16, &'static str);

/// What the gate makes of one client message.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Init(Option<serde_json::Value>),
    Subscribe(String),
    Complete(String),
    Other,
}

fn classify(text: &[u8]) -> Result<Seen, Closing> {
    let v: serde_json::Value =
        serde_json::from_slice(text).map_err(|_| (close::BAD_MESSAGE, "Invalid message"))?;
    let id = || {
        v.get("id")
            .and_then(|i| i.as_str())
            .filter(|i| !i.is_empty() && i.len() <= 128)
            .map(str::to_owned)
            .ok_or((close::BAD_MESSAGE, "Invalid message id"))
    };
    match v.get("type").and_then(|t| t.as_str()) {
        Some("connection_init") => Ok(Seen::Init(v.get("payload").cloned())),
        Some("subscribe") => Ok(Seen::Subscribe(id()?)),
        Some("complete") => Ok(Seen::Complete(id()?)),
        Some("ping" | "pong") => Ok(Seen::Other),
        _ => Err((close::BAD_MESSAGE, "Invalid message type")),
    }
}

/// The token of a `connection_init` payload (`{"authorization": "Bearer …"}`).
fn payload_token(payload: Option<&serde_json::Value>) -> Option<String> {
    let p = payload?;
    p.get("authorization")
        .or_else(|| p.get("Authorization"))
        .and_then(|v| v.as_str())
        .map(|s| s.strip_prefix("Bearer ").unwrap_or(s).trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Who a `connection_init` names: its token's person, else the upgrade's bearer token's, else
/// (same origin only) the session cookie's. `Err` with the close to send otherwise.
async fn authenticate(
    auth: &Authenticator,
    upgrade: &Upgrade,
    payload: Option<&serde_json::Value>,
) -> Result<(Principal, Option<String>), Closing> {
    let unavailable = (
        close::UNAVAILABLE,
        "the server cannot check credentials right now",
    );
    let token = payload_token(payload).or_else(|| upgrade.bearer.clone());
    if let Some(token) = token {
        return match auth.token_caller(Some(&token)).await {
            Ok(Some(p)) => Ok((p, Some(token))),
            Ok(None) => {
                let (failures, ip) = &upgrade.failures;
                if let Some(ip) = ip {
                    failures.failed(*ip);
                }
                Err((close::FORBIDDEN, "Forbidden"))
            }
            Err(_) => Err(unavailable),
        };
    }
    let Some(headers) = &upgrade.same_origin_headers else {
        return Err((close::FORBIDDEN, "Forbidden"));
    };
    match auth.reader(headers).await {
        Ok(Some(p)) => Ok((p, None)),
        Ok(None) => Err((close::FORBIDDEN, "Forbidden")),
        Err(_) => Err(unavailable),
    }
}

/// Runs one socket until either side ends it.
pub async fn serve(
    socket: WebSocket,
    schema: SoftlandSchema,
    auth: Authenticator,
    upgrade: Upgrade,
    _permit: OwnedSemaphorePermit,
) {
    let (mut sink, mut source) = socket.split();
    // Ids of running subscriptions: the gate adds, completions (either side's) remove.
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let (to_gql, from_gate) = mpsc::channel::<serde_json::Result<ClientMessage>>(16);
    let (closing_tx, mut closing) = mpsc::channel::<Closing>(1);
    let (data_tx, data_rx) = oneshot::channel::<Data>();

    let gate = {
        let running = running.clone();
        async move {
            let refuse = |c: Closing| {
                let closing_tx = closing_tx.clone();
                async move {
                    let _ = closing_tx.send(c).await;
                }
            };
            let deadline = tokio::time::Instant::now() + INIT_WAIT;
            let mut data_tx = Some(data_tx);
            loop {
                let next = if data_tx.is_some() {
                    match tokio::time::timeout_at(deadline, source.next()).await {
                        Ok(m) => m,
                        Err(_) => {
                            return refuse((
                                close::INIT_TIMEOUT,
                                "Connection initialisation timeout",
                            ))
                            .await;
                        }
                    }
                } else {
                    source.next().await
                };
                let text = match next {
                    Some(Ok(Message::Text(t))) => t.as_bytes().to_vec(),
                    Some(Ok(Message::Binary(_))) => {
                        return refuse((close::BAD_MESSAGE, "Binary messages are not spoken"))
                            .await;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                };
                let seen = match classify(&text) {
                    Ok(s) => s,
                    Err(c) => return refuse(c).await,
                };
                match (&seen, data_tx.is_some()) {
                    (Seen::Init(payload), true) => {
                        match authenticate(&auth, &upgrade, payload.as_ref()).await {
                            Ok((principal, token)) => {
                                let mut data = Data::default();
                                data.insert(upgrade.lang);
                                data.insert(crate::graphql::seen_by(&upgrade.store, &principal));
                                data.insert(principal);
                                if let Some(t) = token {
                                    data.insert(crate::graphql::Credential::new(t));
                                }
                                if let Some(tx) = data_tx.take() {
                                    let _ = tx.send(data);
                                }
                            }
                            Err(c) => return refuse(c).await,
                        }
                    }
                    (Seen::Init(_), false) => {
                        return refuse((close::TOO_MANY_INITS, "Too many initialisation requests"))
                            .await;
                    }
                    (_, true) if seen != Seen::Other => {
                        return refuse((close::UNAUTHORIZED, "Unauthorized")).await;
                    }
                    (Seen::Subscribe(id), false) => {
                        let fresh = running.lock().is_ok_and(|mut r| r.insert(id.clone()));
                        if !fresh {
                            return refuse((close::DUPLICATE_ID, "Subscriber already exists"))
                                .await;
                        }
                    }
                    (Seen::Complete(id), false) => {
                        if let Ok(mut r) = running.lock() {
                            r.remove(id);
                        }
                    }
                    _ => {}
                }
                if to_gql.send(ClientMessage::from_bytes(text)).await.is_err() {
                    return;
                }
            }
        }
    };

    let input = futures_util::stream::unfold(from_gate, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    });
    let mut output = GqlSocket::from_message_stream(
        Coded(schema),
        input,
        async_graphql::http::WebSocketProtocols::GraphQLWS,
    )
    .on_connection_init(move |_payload| async move {
        data_rx
            .await
            .map_err(|_| async_graphql::Error::new("connection closed"))
    })
    .boxed();

    let gate = tokio::spawn(gate);
    loop {
        tokio::select! {
            biased;
            c = closing.recv() => {
                if let Some((code, reason)) = c {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame { code, reason: reason.into() })))
                        .await;
                }
                break;
            }
            m = output.next() => {
                let Some(m) = m else {
                    // The gate ended async-graphql's input: say why, if it refused something
                    // (its refusal is queued before its end of the input is dropped).
                    if let Ok((code, reason)) = closing.try_recv() {
                        let _ = sink
                            .send(Message::Close(Some(CloseFrame { code, reason: reason.into() })))
                            .await;
                    }
                    break;
                };
                let m = match m {
                    WsMessage::Text(text) => {
                        forget_finished(&running, &text);
                        Message::Text(text.into())
                    }
                    WsMessage::Close(code, reason) => {
                        Message::Close(Some(CloseFrame { code, reason: reason.into() }))
                    }
                };
                if sink.send(m).await.is_err() {
                    break;
                }
            }
        }
    }
    gate.abort();
}

/// A `complete` or `error` the server sends ends its id: the client may reuse it.
fn forget_finished(running: &Mutex<HashSet<String>>, text: &str) {
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        id: Option<String>,
    }
    if let Ok(Head {
        kind: "complete" | "error",
        id: Some(id),
    }) = serde_json::from_str::<Head>(text)
        && let Ok(mut r) = running.lock()
    {
        r.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_classified_by_the_protocol() {
        assert_eq!(
            classify(br#"{"type":"connection_init"}"#),
            Ok(Seen::Init(None))
        );
        assert_eq!(
            classify(br#"{"type":"subscribe","id":"1","payload":{}}"#),
            Ok(Seen::Subscribe("1".into()))
        );
        assert_eq!(
            classify(br#"{"type":"complete","id":"1"}"#),
            Ok(Seen::Complete("1".into()))
        );
        assert_eq!(classify(br#"{"type":"ping"}"#), Ok(Seen::Other));
        for bad in [
            &b"not json"[..],
            br#"{"type":"start","id":"1"}"#,
            br#"{"type":"subscribe"}"#,
            br#"{"type":"subscribe","id":""}"#,
        ] {
            assert_eq!(classify(bad).map_err(|c| c.0), Err(close::BAD_MESSAGE));
        }
    }

    #[test]
    fn tokens_come_from_the_init_payload() {
        let p = serde_json::json!({"authorization": "Bearer sl_x"});
        assert_eq!(payload_token(Some(&p)).as_deref(), Some("sl_x"));
        let p = serde_json::json!({"Authorization": "sl_y"});
        assert_eq!(payload_token(Some(&p)).as_deref(), Some("sl_y"));
        assert_eq!(payload_token(Some(&serde_json::json!({}))), None);
        assert_eq!(payload_token(None), None);
    }
}
