//! The Biolovision API of one VisioNature site (`{url}api/{controller}`),
//! docs/syncs/visionature.md §6.
//!
//! Every request is signed with OAuth 1.0a one-legged HMAC-SHA1 (consumer key and secret, no
//! token; the signature covers the query parameters, not a JSON body), computed anew for each
//! attempt by the `oauth1-request` crate, and carries the user's credentials as the query
//! parameters `user_email`/`user_pw` — masked in every URL we log ([`REDACT`]). Answers are read
//! in `pagination_key` chunks (more than `max_chunks` → [`ApiError::TooManyChunks`]) and
//! concatenated (`data.sightings` + `data.forms`, `data`, or a top-level list). Bodies: JSON may
//! be wrapped in text (parsed from the first `{`/`[` to the last `}`/`]`, else the one value at
//! the first bracket), an empty 200 is an empty chunk, any other non-JSON 200 is retried like a
//! 5xx; 503 waits `unavailable_delay`. The site's public pages (its statistics page) are read by
//! [`Api::page`], unsigned.
//! What can fail: [`ApiError::Refused`] (401/403: a restricted taxo group, or wrong credentials at
//! the healthcheck), transport and status errors after retries, too many chunks.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fetch::http::{HttpClient, HttpError, HttpPolicy, Method};
use crate::secrets::{Env, Secret};

/// Query parameters masked in logged URLs.
pub const REDACT: &[&str] = &["user_email", "user_pw"];

/// A site's secrets, from `VN_<SITE>_…`.
pub struct Credentials {
    user_email: Secret,
    user_pw: Secret,
    client_key: Secret,
    client_secret: Secret,
}

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{what}: access refused (HTTP {status})")]
    Refused { what: String, status: u16 },
    #[error(transparent)]
    Http(HttpError),
    #[error("{what}: more than {max} pagination chunks (max_chunks)")]
    TooManyChunks { what: String, max: usize },
    #[error("secret {var} is not set")]
    MissingSecret { var: String },
    /// `out_proj` names a projection that cannot be set up (local coordinates are computed for
    /// every sighting, so no call is made without it).
    #[error("visionature.out_proj: cannot set up the projection")]
    Projection(#[source] super::proj::ProjError),
}

impl From<HttpError> for ApiError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Status { what, status, .. } if status == 401 || status == 403 => {
                ApiError::Refused { what, status }
            }
            other => ApiError::Http(other),
        }
    }
}

impl ApiError {
    /// The HTTP status of the failure, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Refused { status, .. } => Some(*status),
            ApiError::Http(e) => e.status(),
            _ => None,
        }
    }
}

impl Credentials {
    /// Reads the four secrets of `site` from `env`.
    pub fn from_env(env: &Env, site: &str) -> Result<Credentials, ApiError> {
        let [email, pw, key, secret] = super::config::secret_vars(site);
        let get = |var: &str| {
            env.secret(var).ok_or_else(|| ApiError::MissingSecret {
                var: var.to_string(),
            })
        };
        Ok(Credentials {
            user_email: get(&email)?,
            user_pw: get(&pw)?,
            client_key: get(&key)?,
            client_secret: get(&secret)?,
        })
    }
}

/// What one (chunked) call returned.
#[derive(Debug, Default)]
pub struct Fetched {
    pub sightings: Vec<Value>,
    pub forms: Vec<Value>,
    /// `data` lists and top-level lists.
    pub data: Vec<Value>,
    pub chunks: usize,
    pub bytes: u64,
    pub status: u16,
    pub duration: Duration,
}

impl Fetched {
    /// Sightings in the answer, those inside forms included.
    pub fn sighting_count(&self) -> usize {
        self.sightings.len()
            + self
                .forms
                .iter()
                .map(|f| match f.get("sightings") {
                    Some(Value::Array(a)) => a.len(),
                    _ => usize::from(f.get("@id").is_none()),
                })
                .sum::<usize>()
    }
}

/// The API of one site.
pub struct Api {
    http: HttpClient,
    /// The site (`{url}`), for its public pages.
    site: String,
    base: String,
    creds: Credentials,
    max_chunks: usize,
}

/// The JSON inside a body: from the first `{`/`[` to the last `}`/`]`, else the one value that
/// starts at the first bracket (stray text after it holds brackets too). `Ok(None)` for an empty
/// body; `Err` for a body that holds no JSON.
pub(crate) fn extract_json(body: &[u8]) -> Result<Option<Value>, String> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let start = trimmed.iter().position(|b| *b == b'{' || *b == b'[');
    let end = trimmed.iter().rposition(|b| *b == b'}' || *b == b']');
    match (start, end) {
        (Some(s), Some(e)) if s <= e => match serde_json::from_slice(&trimmed[s..=e]) {
            Ok(v) => Ok(Some(v)),
            // Text after the JSON that holds brackets itself (`<!-- {…} -->`): the one value
            // that starts at the first bracket, whatever follows it.
            Err(err) => serde_json::Deserializer::from_slice(&trimmed[s..])
                .into_iter::<Value>()
                .next()
                .and_then(Result::ok)
                .map(Some)
                .ok_or_else(|| format!("not JSON ({err})")),
        },
        _ => Err("not JSON".into()),
    }
}

impl Api {
    /// A client for the site at `url` (ending with `/`).
    pub fn new(
        url: &str,
        creds: Credentials,
        policy: &HttpPolicy,
        max_chunks: usize,
    ) -> Result<Api, ApiError> {
        Ok(Api {
            http: HttpClient::with_policy(policy)?,
            site: url.to_string(),
            base: format!("{url}api/"),
            creds,
            max_chunks,
        })
    }

    /// Retries done so far.
    pub fn retries(&self) -> u64 {
        self.http.retries()
    }

    fn sign(&self, method: &str, url: &str, query: &[(String, String)]) -> Vec<(String, String)> {
        let list = oauth1_request::ParameterList::new(
            query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        );
        let client = oauth1_request::Credentials::new(
            self.creds.client_key.expose(),
            self.creds.client_secret.expose(),
        );
        let mut builder =
            oauth1_request::Builder::<_, _, &str>::new(client, oauth1_request::HmacSha1::new());
        builder.version(true);
        vec![(
            "Authorization".to_string(),
            builder.authorize(method, url, &list),
        )]
    }

    /// Calls `path` (relative to `api/`) with `params`, following pagination chunks.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        body: Option<&Value>,
        what: &str,
    ) -> Result<Fetched, ApiError> {
        let url = format!("{}{path}", self.base);
        let mut out = Fetched::default();
        let start = Instant::now();
        let mut pagination: Option<String> = None;
        loop {
            if out.chunks >= self.max_chunks {
                return Err(ApiError::TooManyChunks {
                    what: what.to_string(),
                    max: self.max_chunks,
                });
            }
            let parsed: RefCell<Option<Value>> = RefCell::new(None);
            let mut req = self
                .http
                .request(method.clone(), &url, what)
                .query("user_email", self.creds.user_email.expose())
                .query("user_pw", self.creds.user_pw.expose())
                .queries(params.iter().map(|(k, v)| (*k, v.as_str())))
                .redact(REDACT)
                .header("Content-Type", "application/json;charset=UTF-8")
                .sign_each_attempt(|m, u, q| self.sign(m, u, q))
                .check(|resp| {
                    *parsed.borrow_mut() = extract_json(&resp.body)?;
                    Ok(())
                });
            if let Some(key) = &pagination {
                req = req.query("pagination_key", key);
            }
            if let Some(b) = body {
                req = req.body(
                    serde_json::to_vec(b).unwrap_or_default(),
                    "application/json;charset=UTF-8",
                );
            }
            let resp = req.send()?;
            out.chunks += 1;
            out.bytes += resp.body.len() as u64;
            out.status = resp.status;
            if let Some(v) = parsed.into_inner() {
                merge(&mut out, v);
            }
            match resp.header("pagination_key") {
                Some(key) if !key.trim().is_empty() => pagination = Some(key.trim().to_string()),
                _ => break,
            }
        }
        out.duration = start.elapsed();
        Ok(out)
    }

    /// A public page of the site (`{url}{path}`, not the API: unsigned, no credentials), as text.
    pub fn page(&self, path: &str, what: &str) -> Result<String, ApiError> {
        let url = format!("{}{path}", self.site);
        let resp = self.http.request(Method::GET, &url, what).send()?;
        Ok(resp.text())
    }

    /// `GET {controller}` with `params`.
    pub fn list(&self, controller: &str, params: &[(&str, String)]) -> Result<Fetched, ApiError> {
        self.call(Method::GET, controller, params, None, controller)
    }
}

fn merge(out: &mut Fetched, v: Value) {
    match v {
        Value::Array(items) => out.data.extend(items),
        Value::Object(mut map) => match map.remove("data") {
            Some(Value::Object(mut data)) => {
                if let Some(Value::Array(s)) = data.remove("sightings") {
                    out.sightings.extend(s);
                }
                if let Some(Value::Array(f)) = data.remove("forms") {
                    out.forms.extend(f);
                }
            }
            Some(Value::Array(items)) => out.data.extend(items),
            _ => {}
        },
        _ => {}
    }
}
