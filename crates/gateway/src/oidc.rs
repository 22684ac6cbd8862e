//! OpenID Connect bearer tokens: JWTs from configured issuers, verified against each issuer's
//! published keys.
//!
//! - At start (and on first use after a failure) each issuer's discovery document is read
//!   (`{issuer}/.well-known/openid-configuration`; its `issuer` must be the configured URL
//!   exactly) and its JWKS fetched.
//! - A token whose `kid` no cached key has makes the issuers' JWKS be fetched again, at most once
//!   per [`OidcConfig::refetch_interval`] per issuer: rotated keys are picked up, and a flood of
//!   made-up `kid`s costs one fetch per interval. Keys no longer published are forgotten at the
//!   refetch; tokens they signed stop verifying then.
//! - Only RS256 and ES256 are accepted, and only with a key of the matching type (never `none`;
//!   never an HMAC "signed" with a public key). Issuer and audience must match; `exp` is
//!   required, with [`OidcConfig::leeway`]; so is `iat`, not in the future (beyond the leeway),
//!   and a token may live at most [`MOST_LIFETIME`] (`exp` − `iat`).
//! - Which claim names the person is configured (`email` — then `email_verified` must be
//!   `true` — or `sub`, matched against directory ids). Nobody unknown to the directory gets
//!   in, and an issuer speaks only for the people tied to it (their agency's sign-in issuer,
//!   or the server's one issuer when it trusts just one: `Store::issuer_speaks_for`).
//!
//! Every refusal is the same to the caller (`UNAUTHENTICATED`, no detail); the reason is logged
//! at debug level.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Which claim of a token names the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityClaim {
    /// `sub`: the directory id.
    Sub,
    /// `email`: the directory person with that address.
    Email,
}

/// What `softland serve` is told about its identity providers.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// Issuer URLs, exactly as the providers name themselves.
    pub issuers: Vec<String>,
    /// The audience tokens must carry (softland's client id or API identifier).
    pub audience: String,
    /// Which claim names the person.
    pub claim: IdentityClaim,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// An issuer's keys are fetched again for an unknown `kid` at most this often.
    pub refetch_interval: Duration,
    /// The browser sign-in (authorization code with PKCE), when configured.
    pub browser: Option<BrowserSignIn>,
}

/// What the browser sign-in needs besides the issuers: softland's client at the provider (its
/// id is the audience) and where the provider sends the browser back.
#[derive(Clone)]
pub struct BrowserSignIn {
    /// The client secret.
    pub client_secret: String,
    /// softland's address as browsers see it (`https://softland.example`); the provider
    /// redirects to `{public_url}/auth/callback`.
    pub public_url: String,
}

impl std::fmt::Debug for BrowserSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSignIn")
            .field("client_secret", &"********")
            .field("public_url", &self.public_url)
            .finish()
    }
}

impl OidcConfig {
    /// The defaults for issuers and an audience: `email`, 60 s leeway, refetch at most every 30 s.
    pub fn new(issuers: Vec<String>, audience: String) -> Self {
        OidcConfig {
            issuers,
            audience,
            claim: IdentityClaim::Email,
            leeway: Duration::from_secs(60),
            refetch_interval: Duration::from_secs(30),
            browser: None,
        }
    }
}

/// The longest a token may live (`exp` − `iat`).
pub const MOST_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The most bytes read of a discovery document or key set.
const MOST_BYTES: usize = 512 * 1024;

/// Who a verified token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A directory id (`sub`).
    Id(String),
    /// An e-mail address.
    Email(String),
}

/// Why a token was refused (logged, never shown).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Not a JWT, or a header or claim that cannot be read.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// An algorithm outside the allow-list.
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(Algorithm),
    /// No configured issuer publishes the token's key.
    #[error("no issuer has key `{0}`")]
    UnknownKey(String),
    /// Signature, issuer, audience or time checks failed.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The claim that names the person is missing or unverified.
    #[error("no usable identity claim: {0}")]
    Identity(String),
}

struct Key {
    decoding: DecodingKey,
    algorithm: Algorithm,
}

struct Issuer {
    url: String,
    /// The authorization and token endpoints, from the discovery document.
    endpoints: RwLock<Option<(String, String)>>,
    keys: RwLock<HashMap<String, std::sync::Arc<Key>>>,
    /// When the keys were last fetched (successfully or not).
    fetched: Mutex<Option<Instant>>,
}

/// Verifies bearer JWTs against the configured issuers.
pub struct OidcVerifier {
    config: OidcConfig,
    issuers: Vec<Issuer>,
    http: reqwest::Client,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("issuers", &self.config.issuers)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    nonce: Option<String>,
    sub: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    exp: i64,
    iat: Option<i64>,
}

/// The `iss` a token claims, read without verifying anything (to choose whose keys verify it).
fn unverified_issuer(token: &str) -> Result<String, Refused> {
    use base64::Engine as _;
    #[derive(Deserialize)]
    struct Iss {
        iss: String,
    }
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| Refused::Malformed("no payload".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| Refused::Malformed(e.to_string()))?;
    serde_json::from_slice::<Iss>(&bytes)
        .map(|c| c.iss)
        .map_err(|e| Refused::Malformed(e.to_string()))
}

/// Whether a string has the shape of a JWT (three dot-separated parts): API keys never do.
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

/// The algorithm a published key may verify, if it is one softland accepts.
fn algorithm_of(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Some(Algorithm::ES256)
        }
        _ => None,
    }
}

impl OidcVerifier {
    /// A verifier for `config` (nothing is fetched yet; see [`OidcVerifier::warm`]).
    pub fn new(config: OidcConfig) -> Result<Self, String> {
        if config.issuers.is_empty() {
            return Err("no OpenID Connect issuer configured".into());
        }
        if config.audience.trim().is_empty() {
            return Err("an OpenID Connect issuer needs an audience (--oidc-audience)".into());
        }
        for url in &config.issuers {
            let loopback = url.starts_with("http://127.0.0.1")
                || url.starts_with("http://localhost")
                || url.starts_with("http://[::1]");
            if !url.starts_with("https://") && !loopback {
                return Err(format!(
                    "issuer `{url}` must be an https:// URL (plain http only on loopback)"
                ));
            }
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        let issuers = config
            .issuers
            .iter()
            .map(|url| Issuer {
                url: url.trim_end_matches('/').to_owned(),
                endpoints: RwLock::new(None),
                keys: RwLock::new(HashMap::new()),
                fetched: Mutex::new(None),
            })
            .collect();
        Ok(OidcVerifier {
            config,
            issuers,
            http,
        })
    }

    /// Fetches every issuer's keys now (at start); failures are logged and retried on use.
    pub async fn warm(&self) {
        for issuer in &self.issuers {
            if let Err(e) = self.fetch(issuer).await {
                tracing::warn!(issuer = issuer.url, error = %e, "cannot read the issuer's keys yet");
            }
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let mut resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("{url}: HTTP {}", resp.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("{url}: {e}"))? {
            if body.len() + chunk.len() > MOST_BYTES {
                return Err(format!("{url}: larger than {MOST_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))
    }

    /// Reads the discovery document and replaces the issuer's keys with those published now.
    async fn fetch(&self, issuer: &Issuer) -> Result<(), String> {
        *issuer.fetched.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        let discovery: Discovery = self
            .get_json(&format!("{}/.well-known/openid-configuration", issuer.url))
            .await?;
        if discovery.issuer.trim_end_matches('/') != issuer.url {
            return Err(format!(
                "the discovery document names issuer `{}`, not `{}`",
                discovery.issuer, issuer.url
            ));
        }
        if let (Some(a), Some(t)) = (discovery.authorization_endpoint, discovery.token_endpoint) {
            *issuer.endpoints.write().unwrap_or_else(|e| e.into_inner()) = Some((a, t));
        }
        let set: JwkSet = self.get_json(&discovery.jwks_uri).await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Some(algorithm)) = (&jwk.common.key_id, algorithm_of(jwk)) else {
                continue;
            };
            if let Ok(decoding) = DecodingKey::from_jwk(jwk) {
                keys.insert(
                    kid.clone(),
                    std::sync::Arc::new(Key {
                        decoding,
                        algorithm,
                    }),
                );
            }
        }
        tracing::info!(
            issuer = issuer.url,
            keys = keys.len(),
            "read the issuer's keys"
        );
        *issuer.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        Ok(())
    }

    /// The key `kid` of the issuer the token says it comes from (key ids are each issuer's
    /// own: two providers may both call a key `k1`). The claim is read unverified only to pick
    /// the keys; the signature and the issuer are checked with them afterwards.
    fn find(&self, iss: &str, kid: &str) -> Option<(&Issuer, std::sync::Arc<Key>)> {
        let issuer = self
            .issuers
            .iter()
            .find(|i| i.url == iss.trim_end_matches('/'))?;
        let keys = issuer.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(kid).map(|k| (issuer, k.clone()))
    }

    /// Refetches the keys of every issuer not fetched within the interval.
    async fn refetch(&self) {
        for issuer in &self.issuers {
            let due = issuer
                .fetched
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_none_or(|t| t.elapsed() >= self.config.refetch_interval);
            if due && let Err(e) = self.fetch(issuer).await {
                tracing::warn!(issuer = issuer.url, error = %e, "cannot read the issuer's keys");
            }
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// The authorization and token endpoints of issuer number `i` (read from its discovery
    /// document if not yet known).
    pub async fn endpoints(&self, i: usize) -> Result<(String, String), String> {
        let issuer = self.issuers.get(i).ok_or("no such issuer")?;
        let known = issuer
            .endpoints
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(e) = known {
            return Ok(e);
        }
        self.fetch(issuer).await?;
        issuer
            .endpoints
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| "the discovery document names no authorization or token endpoint".into())
    }

    /// Who an ID token from the browser sign-in names: as [`OidcVerifier::verify`], and its
    /// `nonce` must be the one the sign-in sent.
    pub async fn verify_id_token(
        &self,
        token: &str,
        nonce: &str,
    ) -> Result<(String, Identity), Refused> {
        self.check(token, Some(nonce)).await
    }

    /// Who a token names, and its issuer, if it is a valid token of a configured issuer.
    pub async fn verify(&self, token: &str) -> Result<(String, Identity), Refused> {
        self.check(token, None).await
    }

    async fn check(&self, token: &str, nonce: Option<&str>) -> Result<(String, Identity), Refused> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| Refused::Malformed(e.to_string()))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(Refused::Algorithm(header.alg));
        }
        let kid = header
            .kid
            .ok_or_else(|| Refused::Malformed("no `kid` in the header".into()))?;
        let iss = unverified_issuer(token)?;
        let found = match self.find(&iss, &kid) {
            Some(found) => found,
            None => {
                self.refetch().await;
                self.find(&iss, &kid).ok_or(Refused::UnknownKey(kid))?
            }
        };
        let (issuer, key) = found;
        if key.algorithm != header.alg {
            return Err(Refused::Algorithm(header.alg));
        }
        let mut validation = Validation::new(key.algorithm);
        validation.set_issuer(&[issuer.url.as_str(), &format!("{}/", issuer.url)]);
        validation.set_audience(&[self.config.audience.as_str()]);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|e| Refused::Invalid(e.to_string()))?;
        let claims = data.claims;
        // A token says when it was issued, not in the future, and lives a bounded time: a
        // token minted to last a century is no sign-in.
        let now = chrono::Utc::now().timestamp();
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(60);
        let iat = claims
            .iat
            .ok_or_else(|| Refused::Invalid("no `iat`".into()))?;
        if iat > now + leeway {
            return Err(Refused::Invalid("`iat` is in the future".into()));
        }
        let most = i64::try_from(MOST_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        if claims.exp.saturating_sub(iat) > most {
            return Err(Refused::Invalid(format!(
                "the token lives longer than {} hours",
                most / 3600
            )));
        }
        debug_assert!(claims.iss.trim_end_matches('/') == issuer.url);
        if let Some(nonce) = nonce
            && claims.nonce.as_deref() != Some(nonce)
        {
            return Err(Refused::Invalid("the nonce is not the sign-in's".into()));
        }
        let identity = match self.config.claim {
            IdentityClaim::Sub => claims
                .sub
                .filter(|s| !s.is_empty())
                .map(Identity::Id)
                .ok_or_else(|| Refused::Identity("no `sub`".into())),
            IdentityClaim::Email => {
                // The address names the person only if the provider checked it is theirs.
                if claims.email_verified != Some(true) {
                    return Err(Refused::Identity("`email_verified` is not true".into()));
                }
                claims
                    .email
                    .filter(|e| e.contains('@'))
                    .map(Identity::Email)
                    .ok_or_else(|| Refused::Identity("no `email`".into()))
            }
        }?;
        Ok((issuer.url.clone(), identity))
    }
}
