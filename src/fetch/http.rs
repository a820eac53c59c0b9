//! The HTTP client every download and API call goes through.
//!
//! One [`HttpClient`] per stage, built from an [`HttpPolicy`] (timeouts, retries, backoff base and
//! cap — the stage's own config section, with `[http]` as the default). Requests are built with
//! [`HttpClient::request`] (query parameters, headers, JSON or raw bodies; cookies are kept for
//! session APIs) and sent with [`ApiRequest::send`], which:
//! - retries what may succeed later — connection errors, timeouts, truncated bodies, 408, 429,
//!   5xx, and a 2xx whose body fails the caller's [`ApiRequest::check`] (an HTML proxy page where
//!   JSON was expected) — with exponential backoff and jitter, honouring `Retry-After` on 429/503
//!   and the policy's `unavailable_delay` on 503;
//! - fails at once on what cannot succeed on retry (other 4xx, a URL that is not one);
//! - with a [`Session`], logs in again once when the server refuses the session (401/403, or what
//!   the session recognises, e.g. a redirect to its login page) and retries once;
//! - counts its retries ([`HttpClient::retries`], shared by clones) for run summaries.
//!
//! Errors carry a caller-chosen label (`what`) instead of the URL, since some URLs are secrets;
//! debug logs show URLs with the query parameters named by [`ApiRequest::redact`] masked.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderMap;
pub use reqwest::Method;

use crate::secrets::redact_query;
use crate::settings::HttpConfig;

/// A failed request (after retries when the failure was transient).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{what}: HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        what: String,
        status: u16,
        body: String,
    },
    #[error("{what}: {reason}")]
    Transport {
        what: String,
        reason: String,
        timeout: bool,
    },
    #[error("{what}: unexpected response body: {reason}")]
    BadBody { what: String, reason: String },
    #[error("{what}: larger than the {limit}-byte limit{}", setting.as_deref().map(|s| format!(" (raise {s} if such answers are real)")).unwrap_or_default())]
    TooLarge {
        what: String,
        limit: u64,
        /// The setting that sets the limit, when it is a client-wide one.
        setting: Option<String>,
    },
    #[error("{what}: invalid request: {reason}")]
    Invalid { what: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl HttpError {
    /// Whether trying again later may succeed (5xx, 408, 429, timeouts, resets, truncation, an
    /// unexpected body).
    pub fn is_transient(&self) -> bool {
        match self {
            HttpError::Status { status, .. } => transient_status(*status),
            HttpError::Transport { .. } | HttpError::BadBody { .. } => true,
            HttpError::TooLarge { .. } | HttpError::Invalid { .. } | HttpError::Client(_) => false,
        }
    }

    /// The HTTP status, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn transient_status(status: u16) -> bool {
    status >= 500 || status == 429 || status == 408
}

/// Timeouts, size cap and retry policy of one client.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpPolicy {
    pub connect_timeout: Duration,
    /// Deadline of one attempt: connecting, the headers and the whole body. A body still
    /// arriving past it is a timeout (retried like one), however steadily its bytes trickle in.
    pub timeout: Duration,
    /// Longest wait for the next bytes of a body (a stalled server fails before the deadline).
    pub idle_timeout: Duration,
    /// Largest body accepted from this client's requests, enforced while reading.
    pub max_body: Option<BodyCap>,
    /// The settings that set the limits above, named in error messages.
    pub names: PolicyNames,
    /// Attempts after the first one on transient failures.
    pub retries: u32,
    /// First backoff delay (doubled at each retry, with jitter).
    pub backoff: Duration,
    /// Longest backoff delay (and longest `Retry-After` honoured).
    pub backoff_cap: Duration,
    /// Wait after a 503 instead of the backoff (APIs that announce maintenance this way).
    pub unavailable_delay: Option<Duration>,
}

/// A client-wide cap on the bytes of one response.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyCap {
    pub bytes: u64,
    /// The setting that sets it (`gn2pg.http.max_response_mib`).
    pub setting: String,
}

/// The names of the settings behind a policy's limits, for messages that say what to raise.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyNames {
    pub timeout: String,
    pub idle_timeout: String,
}

impl PolicyNames {
    /// The keys of a `[<prefix>]` settings block (`timeout`, `idle_timeout`).
    pub fn of_block(prefix: &str) -> PolicyNames {
        PolicyNames {
            timeout: format!("{prefix}.timeout"),
            idle_timeout: format!("{prefix}.idle_timeout"),
        }
    }
}

impl From<&HttpConfig> for HttpPolicy {
    fn from(cfg: &HttpConfig) -> Self {
        HttpPolicy {
            connect_timeout: Duration::from_secs(cfg.connect_timeout_s),
            timeout: Duration::from_secs(cfg.timeout_s),
            // `[http]` has one timeout: the whole request, with no separate idle limit.
            idle_timeout: Duration::from_secs(cfg.timeout_s),
            max_body: None,
            names: PolicyNames {
                timeout: "http.timeout_s".into(),
                idle_timeout: "http.timeout_s".into(),
            },
            retries: cfg.retries,
            backoff: Duration::from_millis(cfg.backoff_ms),
            backoff_cap: Duration::from_millis(cfg.backoff_ms.saturating_mul(16)),
            unavailable_delay: None,
        }
    }
}

impl HttpPolicy {
    /// The delay before retry number `n` (0-based): `backoff × 2ⁿ`, ±25 % jitter, capped.
    pub fn delay(&self, n: u32) -> Duration {
        let base = self.backoff.saturating_mul(2u32.saturating_pow(n.min(30)));
        let jitter = 0.75 + fastrand::f64() * 0.5;
        base.mul_f64(jitter).min(self.backoff_cap.max(self.backoff))
    }
}

/// A login the client can redo when the server refuses the session.
pub trait Session: Sync {
    /// Logs in (again) with `client` (whose cookie store keeps the new session).
    fn login(&self, client: &HttpClient) -> Result<(), HttpError>;

    /// Whether `resp` (any status) means the session is gone. Default: 401 or 403.
    fn refused(&self, resp: &Response) -> bool {
        matches!(resp.status, 401 | 403)
    }
}

/// Called while a body downloads with the bytes received so far and the announced length.
pub type OnProgress<'a> = &'a (dyn Fn(u64, Option<u64>) + Sync);

/// A shareable blocking HTTP client with a policy. Clones share connections, cookies and the
/// retry counter.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::blocking::Client,
    policy: HttpPolicy,
    retries: Arc<AtomicU64>,
}

/// A complete answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The URL after redirects.
    pub final_url: String,
}

impl Response {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first ~200 characters of the body on one line (for messages).
    pub fn snippet(&self) -> String {
        snippet(&String::from_utf8_lossy(
            &self.body[..self.body.len().min(4096)],
        ))
    }
}

enum Body {
    None,
    Json(serde_json::Value),
    Raw(Bytes, String),
}

type Check<'a> = Box<dyn Fn(&Response) -> Result<(), String> + 'a>;

/// Computes headers anew for each attempt from the method, the URL without its query and the
/// query parameters (signatures with a nonce and a timestamp, e.g. OAuth 1).
type Signer<'a> = Box<dyn Fn(&str, &str, &[(String, String)]) -> Vec<(String, String)> + 'a>;

/// A request being built; see [`HttpClient::request`].
pub struct ApiRequest<'a> {
    client: &'a HttpClient,
    method: Method,
    url: String,
    what: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Body,
    max_bytes: Option<u64>,
    progress: Option<OnProgress<'a>>,
    check: Option<Check<'a>>,
    session: Option<&'a dyn Session>,
    redact: &'a [&'a str],
    retry: bool,
    signer: Option<Signer<'a>>,
}

impl HttpClient {
    /// A client with the `[http]` policy.
    pub fn new(cfg: &HttpConfig) -> Result<HttpClient, HttpError> {
        Self::with_policy(&HttpPolicy::from(cfg))
    }

    /// A client with the `[http]` policy and another whole-request timeout (the dump's).
    pub fn with_timeout(cfg: &HttpConfig, timeout: Duration) -> Result<HttpClient, HttpError> {
        let mut policy = HttpPolicy::from(cfg);
        policy.timeout = timeout;
        policy.idle_timeout = timeout;
        policy.names = PolicyNames {
            timeout: "http.dump_timeout_s".into(),
            idle_timeout: "http.dump_timeout_s".into(),
        };
        Self::with_policy(&policy)
    }

    /// A client with `policy` and a cookie store.
    pub fn with_policy(policy: &HttpPolicy) -> Result<HttpClient, HttpError> {
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.timeout)
            .cookie_store(true)
            .user_agent(concat!("data-tasks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Client(e.to_string()))?;
        Ok(HttpClient {
            client,
            policy: policy.clone(),
            retries: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The client's policy.
    pub fn policy(&self) -> &HttpPolicy {
        &self.policy
    }

    /// Retries done so far by this client and its clones.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Starts a request; `what` names it in errors and logs.
    pub fn request<'a>(&'a self, method: Method, url: &str, what: &str) -> ApiRequest<'a> {
        ApiRequest {
            client: self,
            method,
            url: url.to_string(),
            what: what.to_string(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::None,
            max_bytes: None,
            progress: None,
            check: None,
            session: None,
            redact: &[],
            retry: true,
            signer: None,
        }
    }

    /// GETs `url` whole, retrying transient failures.
    pub fn get(&self, url: &str, what: &str, max_bytes: Option<u64>) -> Result<Bytes, HttpError> {
        let mut r = self.request(Method::GET, url, what);
        r.max_bytes = max_bytes;
        r.send().map(|resp| resp.body)
    }

    /// HEADs `url` once (no retry): the status when the server answers 2xx/3xx.
    pub fn head(&self, url: &str, what: &str) -> Result<u16, HttpError> {
        self.request(Method::HEAD, url, what)
            .no_retry()
            .send()
            .map(|r| r.status)
    }

    /// POSTs a JSON body, retrying transient failures.
    pub fn post_json(
        &self,
        url: &str,
        what: &str,
        body: &serde_json::Value,
    ) -> Result<(), HttpError> {
        self.request(Method::POST, url, what)
            .json(body)
            .send()
            .map(|_| ())
    }
}

impl<'a> ApiRequest<'a> {
    /// Adds a query parameter.
    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    /// Adds query parameters.
    pub fn queries<K: ToString, V: ToString>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.query.extend(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sends `body` as JSON.
    pub fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = Body::Json(body.clone());
        self
    }

    /// Sends raw bytes with a content type.
    pub fn body(mut self, bytes: impl Into<Bytes>, content_type: &str) -> Self {
        self.body = Body::Raw(bytes.into(), content_type.to_string());
        self
    }

    /// Refuses bodies larger than `limit` bytes.
    pub fn max_bytes(mut self, limit: u64) -> Self {
        self.max_bytes = Some(limit);
        self
    }

    /// Reports the download of the body as it goes (a progress bar); a retried attempt starts
    /// again from 0.
    pub fn progress(mut self, on_progress: OnProgress<'a>) -> Self {
        self.progress = Some(on_progress);
        self
    }

    /// A check of every 2xx answer; its failure is a transient [`HttpError::BadBody`].
    pub fn check(mut self, check: impl Fn(&Response) -> Result<(), String> + 'a) -> Self {
        self.check = Some(Box::new(check));
        self
    }

    /// The session to renew once when the server refuses it.
    pub fn session(mut self, session: &'a dyn Session) -> Self {
        self.session = Some(session);
        self
    }

    /// Query parameters to mask in logged URLs (credentials sent as parameters).
    pub fn redact(mut self, keys: &'a [&'a str]) -> Self {
        self.redact = keys;
        self
    }

    /// Headers computed for each attempt (a fresh signature per retry): `sign(method, url,
    /// query)` with the URL as given to [`HttpClient::request`] and the query parameters added.
    pub fn sign_each_attempt(
        mut self,
        sign: impl Fn(&str, &str, &[(String, String)]) -> Vec<(String, String)> + 'a,
    ) -> Self {
        self.signer = Some(Box::new(sign));
        self
    }

    /// One attempt only.
    pub fn no_retry(mut self) -> Self {
        self.retry = false;
        self
    }

    /// Sends the request with the client's policy (see the module doc).
    pub fn send(self) -> Result<Response, HttpError> {
        let policy = &self.client.policy;
        let max_retries = if self.retry { policy.retries } else { 0 };
        let mut retry = 0u32;
        let mut relogged = false;
        loop {
            let outcome = self.attempt();
            let (error, wait) = match outcome {
                Ok(resp) => {
                    if let Some(session) = self.session {
                        if session.refused(&resp) {
                            if relogged {
                                return Err(self.status_error(&resp));
                            }
                            relogged = true;
                            tracing::info!(what = %self.what, status = resp.status, "session refused: logging in again");
                            session.login(self.client)?;
                            continue;
                        }
                    }
                    if (200..300).contains(&resp.status) {
                        match self.check.as_ref().map(|c| c(&resp)).unwrap_or(Ok(())) {
                            Ok(()) => return Ok(resp),
                            Err(reason) => (
                                HttpError::BadBody {
                                    what: self.what.clone(),
                                    reason: crate::secrets::scrub(&reason),
                                },
                                None,
                            ),
                        }
                    } else {
                        let wait = self.retry_after(&resp);
                        let e = self.status_error(&resp);
                        (e, wait)
                    }
                }
                Err(e) => (e, None),
            };
            if !error.is_transient() || retry >= max_retries {
                return Err(error);
            }
            let delay = wait.unwrap_or_else(|| policy.delay(retry));
            tracing::warn!(error = %error, delay = ?delay, attempt = retry + 1, "retrying");
            self.client.retries.fetch_add(1, Ordering::Relaxed);
            retry += 1;
            std::thread::sleep(delay);
        }
    }

    /// The wait a 429/503 answer asks for (`Retry-After`, capped), or the policy's
    /// `unavailable_delay` on 503.
    fn retry_after(&self, resp: &Response) -> Option<Duration> {
        let policy = &self.client.policy;
        if !matches!(resp.status, 429 | 503) {
            return None;
        }
        if resp.status == 503 {
            if let Some(d) = policy.unavailable_delay {
                return Some(d);
            }
        }
        let value = resp.header("retry-after")?;
        let wait = match value.trim().parse::<u64>() {
            Ok(secs) => Duration::from_secs(secs),
            Err(_) => httpdate::parse_http_date(value.trim())
                .ok()?
                .duration_since(std::time::SystemTime::now())
                .unwrap_or(Duration::ZERO),
        };
        Some(wait.min(policy.backoff_cap.max(policy.backoff)))
    }

    fn status_error(&self, resp: &Response) -> HttpError {
        HttpError::Status {
            what: self.what.clone(),
            status: resp.status,
            body: resp.snippet(),
        }
    }

    fn shown_url(&self) -> String {
        let mut u = match url::Url::parse(&self.url) {
            Ok(u) => u,
            Err(_) => return "<url>".into(),
        };
        if !self.query.is_empty() {
            u.query_pairs_mut().extend_pairs(&self.query);
        }
        redact_query(u.as_str(), self.redact)
    }

    fn attempt(&self) -> Result<Response, HttpError> {
        let start = Instant::now();
        let mut req = self.client.client.request(self.method.clone(), &self.url);
        if !self.query.is_empty() {
            req = req.query(&self.query);
        }
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(sign) = &self.signer {
            for (k, v) in sign(self.method.as_str(), &self.url, &self.query) {
                req = req.header(k.as_str(), v.as_str());
            }
        }
        req = match &self.body {
            Body::None => req,
            Body::Json(v) => req.json(v),
            Body::Raw(b, ct) => req
                .header(reqwest::header::CONTENT_TYPE, ct.as_str())
                .body(b.clone()),
        };
        let resp = req.send().map_err(|e| transport(&self.what, e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let final_url = resp.url().to_string();
        let policy = &self.client.policy;
        let cap = policy.max_body.as_ref();
        let (limit, setting) = match (self.max_bytes, cap) {
            (Some(own), Some(c)) if c.bytes < own => (c.bytes, Some(c.setting.clone())),
            (Some(own), _) => (own, None),
            (None, Some(c)) => (c.bytes, Some(c.setting.clone())),
            (None, None) => (u64::MAX, None),
        };
        let too_large = || HttpError::TooLarge {
            what: self.what.clone(),
            limit,
            setting: setting.clone(),
        };
        if let Some(len) = resp.content_length() {
            if len > limit && (200..300).contains(&status) {
                return Err(too_large());
            }
        }
        let body = self.read_body(resp, start + policy.timeout, limit, &too_large)?;
        tracing::debug!(
            method = %self.method,
            url = %self.shown_url(),
            status,
            bytes = body.len(),
            ms = start.elapsed().as_millis() as u64,
            "http"
        );
        Ok(Response {
            status,
            headers,
            body: Bytes::from(body),
            final_url,
        })
    }

    /// Reads the body within the attempt's `deadline`, waiting at most the idle limit for each
    /// chunk, and never holding more than `limit` bytes. The blocking reads happen on a helper
    /// thread, so a server that trickles bytes or stalls cannot hold the caller past either
    /// limit; when the caller gives up, the helper stops at its next read and the connection is
    /// dropped.
    fn read_body(
        &self,
        resp: reqwest::blocking::Response,
        deadline: Instant,
        limit: u64,
        too_large: &dyn Fn() -> HttpError,
    ) -> Result<Vec<u8>, HttpError> {
        use std::sync::mpsc::{sync_channel, RecvTimeoutError};
        let policy = &self.client.policy;
        let announced = resp.content_length();
        let (tx, rx) = sync_channel::<std::io::Result<Vec<u8>>>(4);
        std::thread::Builder::new()
            .name("http-body".into())
            .spawn(move || {
                let mut resp = resp;
                loop {
                    let mut chunk = vec![0u8; 64 << 10];
                    let read = match resp.read(&mut chunk) {
                        Ok(n) => {
                            chunk.truncate(n);
                            Ok(chunk)
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => Err(e),
                    };
                    let last = !matches!(&read, Ok(c) if !c.is_empty());
                    if tx.send(read).is_err() || last {
                        return;
                    }
                }
            })
            .map_err(|e| HttpError::Client(format!("cannot start the body reader: {e}")))?;
        let timed_out = |reason: String| HttpError::Transport {
            what: self.what.clone(),
            reason,
            timeout: true,
        };
        let mut body = Vec::with_capacity(announced.unwrap_or(0).min(limit).min(64 << 20) as usize);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let wait = left.min(policy.idle_timeout);
            if wait.is_zero() {
                return Err(timed_out(self.deadline_reason(body.len())));
            }
            match rx.recv_timeout(wait) {
                Ok(Ok(chunk)) if chunk.is_empty() => return Ok(body),
                Ok(Ok(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > limit {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                    if let Some(on_progress) = self.progress {
                        on_progress(body.len() as u64, announced);
                    }
                }
                Ok(Err(e)) => {
                    return Err(HttpError::Transport {
                        what: self.what.clone(),
                        reason: format!("body interrupted: {}", io_reason(&e)),
                        timeout: e.kind() == std::io::ErrorKind::TimedOut,
                    })
                }
                Err(RecvTimeoutError::Timeout) if wait < left => {
                    return Err(timed_out(format!(
                        "no data for {} while reading the body ({} bytes received; {})",
                        humantime::format_duration(policy.idle_timeout),
                        body.len(),
                        policy.names.idle_timeout
                    )))
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(timed_out(self.deadline_reason(body.len())))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(HttpError::Transport {
                        what: self.what.clone(),
                        reason: "body interrupted: the reader stopped".into(),
                        timeout: false,
                    })
                }
            }
        }
    }

    fn deadline_reason(&self, received: usize) -> String {
        let policy = &self.client.policy;
        format!(
            "no complete answer within {} ({received} bytes of the body received; {})",
            humantime::format_duration(policy.timeout),
            policy.names.timeout
        )
    }
}

/// The innermost cause of an I/O error (reqwest wraps its errors in `io::Error`s).
fn io_reason(e: &std::io::Error) -> String {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    reason
}

fn transport(what: &str, e: reqwest::Error) -> HttpError {
    if e.is_builder() {
        return HttpError::Invalid {
            what: what.into(),
            reason: e.without_url().to_string(),
        };
    }
    // reqwest's message includes the URL; keep only the cause chain.
    let mut reason = String::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    let timeout = e.is_timeout();
    if reason.is_empty() {
        reason = e.without_url().to_string();
    }
    HttpError::Transport {
        what: what.into(),
        reason,
        timeout,
    }
}

/// The first 200 characters of `body` on one line, without HTML tags.
pub fn snippet(body: &str) -> String {
    let mut text = String::with_capacity(body.len().min(1024));
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
        if text.len() > 1024 {
            break;
        }
    }
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(200).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let s = |status| HttpError::Status {
            what: "x".into(),
            status,
            body: String::new(),
        };
        assert!(s(503).is_transient());
        assert!(s(429).is_transient());
        assert!(s(408).is_transient());
        assert!(!s(404).is_transient());
        assert!(!s(403).is_transient());
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = HttpPolicy {
            backoff: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(500),
            ..HttpPolicy::from(&HttpConfig::default())
        };
        let d0 = p.delay(0);
        assert!(
            d0 >= Duration::from_millis(75) && d0 <= Duration::from_millis(125),
            "{d0:?}"
        );
        let d2 = p.delay(2);
        assert!(
            d2 >= Duration::from_millis(300) && d2 <= Duration::from_millis(500),
            "{d2:?}"
        );
        assert_eq!(p.delay(20), Duration::from_millis(500));
    }

    #[test]
    fn snippets_strip_html_and_are_short() {
        assert_eq!(
            snippet("<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>"),
            "502 Bad Gateway nginx"
        );
        assert_eq!(snippet(&"x".repeat(500)).chars().count(), 201);
    }

    #[test]
    fn unreachable_host_is_a_transport_error() {
        let cfg = HttpConfig {
            retries: 1,
            backoff_ms: 1,
            connect_timeout_s: 1,
            timeout_s: 2,
            ..HttpConfig::default()
        };
        let c = HttpClient::new(&cfg).unwrap();
        // Port 9 (discard) on loopback: connection refused.
        let e = c.get("http://127.0.0.1:9/x", "probe", None).unwrap_err();
        assert!(matches!(e, HttpError::Transport { .. }), "{e}");
        assert!(e.is_transient());
        assert_eq!(c.retries(), 1);
    }

    #[test]
    fn a_source_that_is_not_a_url_fails_at_once() {
        let c = HttpClient::new(&HttpConfig::default()).unwrap();
        let t = Instant::now();
        let e = c.get("http://", "source", None).unwrap_err();
        assert!(!e.is_transient(), "{e}");
        assert!(t.elapsed() < Duration::from_millis(400));
        assert_eq!(c.retries(), 0);
    }
}
