//! How requests arrive: plain HTTP, or HTTPS terminated here with a certificate reloaded from
//! its files when they change (no restart); and what a request's scheme is when a reverse proxy
//! terminated TLS — said by `X-Forwarded-Proto`, believed only from the configured proxies.
//!
//! Cookies are `Secure` whenever the browser sees HTTPS: [`secure_cookies`] adds the attribute
//! to every `Set-Cookie` of such a request, whichever handler wrote it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

/// A certificate chain and its key, as PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain (leaf first).
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// How often the files are looked at for a change.
    pub reload_every: Duration,
}

/// The connection a request came on: who sent it and whether it was TLS here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The remote address (a proxy's, behind one).
    pub addr: SocketAddr,
    /// TLS terminated by softland itself.
    pub tls: bool,
}

/// Which peers' `X-Forwarded-*` headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: std::net::IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }
}

/// Whether the browser sees HTTPS: TLS here, or a trusted proxy says `X-Forwarded-Proto:
/// https`.
pub fn sees_https(req: &Request, proxies: &TrustedProxies) -> bool {
    let Some(peer) = req.extensions().get::<Peer>() else {
        return false;
    };
    peer.tls
        || (proxies.trusts(peer.addr.ip())
            && req
                .headers()
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")))
}

/// Whether the browser sees HTTPS, for a handler behind [`secure_cookies`] (which drops the
/// forwarded headers of untrusted peers, so the ones left are believed).
pub fn browser_https(headers: &axum::http::HeaderMap, peer: Option<&Peer>) -> bool {
    peer.is_some_and(|p| p.tls)
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// Whether the request's `Origin` is this server's; `None` when it sends none. The host (with
/// port) must be this one; where the server knows the browser uses HTTPS (TLS here, or a
/// trusted proxy's `X-Forwarded-Proto`) the scheme must be `https` too, so a page served over
/// plain HTTP under the same name cannot act on the HTTPS console. A server that cannot know
/// (behind a proxy it was not told to trust) accepts either scheme for its own host rather
/// than refuse every form: name the proxy (`--trusted-proxies`) to get the strict check.
pub fn origin_matches(headers: &axum::http::HeaderMap, https: bool) -> Option<bool> {
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or_default();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let rest = if https {
        origin.strip_prefix("https://")
    } else {
        origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
    };
    Some(rest.is_some_and(|o| host.is_some_and(|h| o.eq_ignore_ascii_case(h))))
}

/// Middleware: forwarded headers from an untrusted peer are dropped (nothing after this can
/// believe them); on a request the browser made over HTTPS every cookie set is `Secure`.
pub async fn secure_cookies(
    State(proxies): State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    let trusted = req
        .extensions()
        .get::<Peer>()
        .is_some_and(|p| proxies.trusts(p.addr.ip()));
    if !trusted {
        for h in [
            "x-forwarded-proto",
            "x-forwarded-for",
            "x-forwarded-host",
            "forwarded",
        ] {
            req.headers_mut().remove(h);
        }
    }
    let https = sees_https(&req, &proxies);
    let mut res = next.run(req).await;
    if https {
        let cookies: Vec<HeaderValue> = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        if !cookies.is_empty() {
            res.headers_mut().remove(header::SET_COOKIE);
            for c in cookies {
                let text = c.to_str().unwrap_or_default();
                let secured = if text
                    .split(';')
                    .any(|a| a.trim().eq_ignore_ascii_case("secure"))
                {
                    c
                } else {
                    HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(c)
                };
                res.headers_mut().append(header::SET_COOKIE, secured);
            }
        }
    }
    res
}

/// The certificate served, replaced when its files change.
#[derive(Debug)]
pub struct ReloadingCert {
    current: RwLock<Arc<CertifiedKey>>,
    files: TlsFiles,
    seen: RwLock<Option<(SystemTime, SystemTime)>>,
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| c.clone())
    }
}

fn modified(files: &TlsFiles) -> Option<(SystemTime, SystemTime)> {
    let m = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Some((m(&files.cert)?, m(&files.key)?))
}

fn load(files: &TlsFiles) -> std::io::Result<CertifiedKey> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{what}: {e}"))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| bad(&files.cert.display().to_string(), &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&files.cert.display().to_string(), &e))?;
    if chain.is_empty() {
        return Err(bad(
            &files.cert.display().to_string(),
            &"no certificate in the file",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| bad(&files.key.display().to_string(), &e))?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    CertifiedKey::from_der(chain, key, &provider)
        .map_err(|e| bad("the certificate and key do not go together", &e))
}

impl ReloadingCert {
    /// Loads the files (an error names the file and why).
    pub fn open(files: TlsFiles) -> std::io::Result<Arc<Self>> {
        let seen = modified(&files);
        let key = load(&files)?;
        Ok(Arc::new(Self {
            current: RwLock::new(Arc::new(key)),
            files,
            seen: RwLock::new(seen),
        }))
    }

    /// Loads the files again if they changed; a bad new pair is logged and the old one kept.
    pub fn refresh(&self) {
        let now = modified(&self.files);
        if now.is_none() || self.seen.read().is_ok_and(|s| *s == now) {
            return;
        }
        match load(&self.files) {
            Ok(key) => {
                if let Ok(mut c) = self.current.write() {
                    *c = Arc::new(key);
                }
                if let Ok(mut s) = self.seen.write() {
                    *s = now;
                }
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
            }
            Err(e) => {
                tracing::warn!(error = %e, "the new TLS certificate cannot be used; keeping the old one")
            }
        }
    }

    /// A TLS acceptor serving this certificate (TLS 1.2 and 1.3, HTTP/1.1).
    pub fn acceptor(self: &Arc<Self>) -> std::io::Result<tokio_rustls::TlsAcceptor> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }

    /// Looks at the files every `reload_every` until the returned task is aborted.
    pub fn spawn_watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(me.files.reload_every);
            loop {
                tick.tick().await;
                let again = me.clone();
                let _ = tokio::task::spawn_blocking(move || again.refresh()).await;
            }
        })
    }
}

/// Serves until `shutdown` resolves; in-flight requests finish first.
///
/// Each connection must send its request head within the header timeout, and at most
/// `max_connections` are open at once: a flood of connections that never finish their
/// request is shed within seconds, while the listen queue holds other clients until a slot
/// frees — the process never runs out of descriptors.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    header_timeout: Duration,
    max_connections: usize,
    tls: Option<Arc<ReloadingCert>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(Semaphore::new(max_connections));
    let acceptor = tls.as_ref().map(|t| t.acceptor()).transpose()?;
    let watch_files = tls.as_ref().map(|t| t.spawn_watch());
    let (stop_tx, stop_rx) = watch::channel(false);
    let (open_tx, open_rx) = watch::channel(());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: back off
                    // briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let peer = crate::transport::Peer {
            addr,
            tls: acceptor.is_some(),
        };
        // Each request knows its connection (for the scheme, behind a proxy or not).
        let service =
            hyper_util::service::TowerToHyperService::new(tower::ServiceExt::map_request(
                router.clone(),
                move |mut req: Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(peer);
                    req
                },
            ));
        let (mut stop, open) = (stop_rx.clone(), open_rx.clone());
        let (http, acceptor, handshake) = (http.clone(), acceptor.clone(), header_timeout);
        tokio::spawn(async move {
            let _slot = slot;
            let _open = open;
            macro_rules! serve {
                ($io:expr) => {{
                    let conn = http
                        .serve_connection(TokioIo::new($io), service)
                        .with_upgrades();
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                }};
            }
            match acceptor {
                None => serve!(stream),
                // The handshake, like the request head, has the header timeout.
                Some(tls) => match tokio::time::timeout(handshake, tls.accept(stream)).await {
                    Ok(Ok(tls_stream)) => serve!(tls_stream),
                    Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                },
            }
        });
    }
    if let Some(w) = watch_files {
        w.abort();
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(open_rx);
    // Every connection task holds a receiver: closed once the last one finished.
    open_tx.closed().await;
    Ok(())
}
