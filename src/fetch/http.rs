//! The HTTP client every download goes through: timeouts, a size cap, and retries with
//! exponential backoff and jitter on transient failures (timeouts, connection resets, truncated
//! bodies, 5xx, 429). Other statuses fail at once. Errors are classified
//! ([`HttpError::is_transient`]) so callers can tell "try again next run" from "record as failed",
//! and they carry a caller-chosen label instead of the URL, since some URLs are secrets.

use std::io::Read;
use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};
use bytes::Bytes;

use crate::config::HttpConfig;

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
    #[error("{what}: larger than the {limit}-byte limit")]
    TooLarge { what: String, limit: u64 },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl HttpError {
    /// Whether trying again later may succeed (5xx, 429, timeouts, resets, truncation).
    pub fn is_transient(&self) -> bool {
        match self {
            HttpError::Status { status, .. } => *status >= 500 || *status == 429,
            HttpError::Transport { .. } => true,
            HttpError::TooLarge { .. } | HttpError::Client(_) => false,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A shareable blocking HTTP client with the configured policy.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::blocking::Client,
    retries: u32,
    backoff: Duration,
}

impl HttpClient {
    pub fn new(cfg: &HttpConfig) -> Result<HttpClient, HttpError> {
        Self::with_timeout(cfg, Duration::from_secs(cfg.timeout_s))
    }

    /// A client whose whole-request timeout is `timeout` (the dump needs a longer one).
    pub fn with_timeout(cfg: &HttpConfig, timeout: Duration) -> Result<HttpClient, HttpError> {
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(cfg.connect_timeout_s))
            .timeout(timeout)
            .user_agent(concat!("data-tasks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Client(e.to_string()))?;
        Ok(HttpClient {
            client,
            retries: cfg.retries,
            backoff: Duration::from_millis(cfg.backoff_ms),
        })
    }

    fn policy(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.backoff)
            .with_max_delay(self.backoff * 16)
            .with_max_times(self.retries as usize)
            .with_jitter()
    }

    /// GETs `url` whole, retrying transient failures; `what` names it in errors and logs.
    pub fn get(&self, url: &str, what: &str, max_bytes: Option<u64>) -> Result<Bytes, HttpError> {
        (|| self.get_once(url, what, max_bytes))
            .retry(self.policy())
            .sleep(std::thread::sleep)
            .when(HttpError::is_transient)
            .notify(|e, delay| tracing::warn!(%e, ?delay, "retrying"))
            .call()
    }

    fn get_once(&self, url: &str, what: &str, max_bytes: Option<u64>) -> Result<Bytes, HttpError> {
        let resp = self
            .client
            .get(url)
            .send()
            .map_err(|e| transport(what, e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let body = resp.text().unwrap_or_default();
            return Err(HttpError::Status {
                what: what.into(),
                status,
                body: snippet(&body),
            });
        }
        if let (Some(limit), Some(len)) = (max_bytes, resp.content_length()) {
            if len > limit {
                return Err(HttpError::TooLarge {
                    what: what.into(),
                    limit,
                });
            }
        }
        let limit = max_bytes.unwrap_or(u64::MAX);
        let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0).min(limit) as usize);
        resp.take(limit.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| HttpError::Transport {
                what: what.into(),
                reason: format!("body interrupted: {e}"),
                timeout: e.kind() == std::io::ErrorKind::TimedOut,
            })?;
        if body.len() as u64 > limit {
            return Err(HttpError::TooLarge {
                what: what.into(),
                limit,
            });
        }
        Ok(Bytes::from(body))
    }

    /// HEADs `url` once (no retry): the status when the server answers 2xx/3xx.
    pub fn head(&self, url: &str, what: &str) -> Result<u16, HttpError> {
        let resp = self
            .client
            .head(url)
            .send()
            .map_err(|e| transport(what, e))?;
        let status = resp.status().as_u16();
        if status < 400 {
            Ok(status)
        } else {
            Err(HttpError::Status {
                what: what.into(),
                status,
                body: String::new(),
            })
        }
    }

    /// POSTs a JSON body, retrying transient failures.
    pub fn post_json(
        &self,
        url: &str,
        what: &str,
        body: &serde_json::Value,
    ) -> Result<(), HttpError> {
        (|| {
            let resp = self
                .client
                .post(url)
                .json(body)
                .send()
                .map_err(|e| transport(what, e))?;
            let status = resp.status().as_u16();
            if (200..300).contains(&status) {
                Ok(())
            } else {
                Err(HttpError::Status {
                    what: what.into(),
                    status,
                    body: snippet(&resp.text().unwrap_or_default()),
                })
            }
        })
        .retry(self.policy())
        .sleep(std::thread::sleep)
        .when(HttpError::is_transient)
        .notify(|e, delay| tracing::warn!(%e, ?delay, "retrying"))
        .call()
    }
}

fn transport(what: &str, e: reqwest::Error) -> HttpError {
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

fn snippet(body: &str) -> String {
    let t: String = body.chars().take(200).collect();
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A URL safe to print: scheme and host only (query strings and paths can hold tokens).
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "<url>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_paths_and_queries() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T0/B0/secret?x=1"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(redact("not a url"), "<url>");
    }

    #[test]
    fn classification() {
        let s = |status| HttpError::Status {
            what: "x".into(),
            status,
            body: String::new(),
        };
        assert!(s(503).is_transient());
        assert!(s(429).is_transient());
        assert!(!s(404).is_transient());
        assert!(!s(403).is_transient());
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
    }
}
