//! The GeoNature side (docs/syncs/gn2pg.md §6): login with a session cookie, discovery of
//! the export module, export pages and the deletion feed.
//!
//! Every request goes through [`crate::fetch::http`]: transient failures (connect, timeouts,
//! truncated bodies, 429/5xx, a 200 whose body is not the expected JSON — an HTML proxy page, an
//! error object without `items`) are retried with backoff; a refused session (401/403/490, a
//! redirect to `login?next=`, a 200 HTML login form) triggers one re-login and one retry
//! ([`GnSession`]). A refused login is not retried. An export page's envelope is checked and
//! split into item slices once, in the request's check ([`ExportPage`]); the items themselves
//! are parsed by [`super::page`]. Errors name the source's page, never the password (the login
//! body holds it; it is registered with [`crate::secrets::scrub`]).

use std::cell::RefCell;
use std::ops::Range;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::config::SourceConfig;
use crate::fetch::http::{HttpClient, HttpError, HttpPolicy, Method, Response, Session};
use crate::secrets::Secret;

const ACCEPT: &str = "application/json, text/plain, */*";

/// What can go wrong talking to a source.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("login refused (HTTP {status}): check user_name and {password_var}{}", if body.is_empty() { String::new() } else { format!(" — server said: {body}") })]
    LoginRefused {
        status: u16,
        password_var: String,
        body: String,
    },
    #[error("export module not visible to user {user:?}: the EXPORTS module is absent from gn_commons/modules (missing permission on the export module?)")]
    NoExportModule { user: String },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{what}: {reason}")]
    Protocol { what: String, reason: String },
}

/// A logged-in connection to one source's API.
pub struct Api {
    client: HttpClient,
    api: String,
    export_url: String,
    /// The metadata export (`metadata_export_id`), for the separated-metadata kinds.
    metadata_url: Option<String>,
    session: GnSession,
}

/// The login GeoNature's API expects, redone when the session is refused.
pub struct GnSession {
    url: String,
    body: serde_json::Value,
}

fn is_login_page(resp: &Response) -> bool {
    if resp.final_url.contains("login?next=") {
        return true;
    }
    let html = resp
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().contains("html"));
    if !html {
        return false;
    }
    let head = String::from_utf8_lossy(&resp.body[..resp.body.len().min(65536)]).to_lowercase();
    head.contains("type=\"password\"") || head.contains("type='password'")
}

impl Session for GnSession {
    fn login(&self, client: &HttpClient) -> Result<(), HttpError> {
        client
            .request(Method::POST, &self.url, "login")
            .header("Accept", ACCEPT)
            .json(&self.body)
            .send()
            .map(|_| ())
    }

    fn refused(&self, resp: &Response) -> bool {
        matches!(resp.status, 401 | 403 | 490) || is_login_page(resp)
    }
}

/// One export page: the body and where each item lies in it.
#[derive(Debug, Clone)]
pub struct ExportPage {
    pub body: Bytes,
    pub items: Vec<Range<usize>>,
    /// The `limit` the server applied.
    pub limit: u64,
    pub total: Option<u64>,
    pub total_filtered: Option<u64>,
    /// `id_synthese` of the last item (keyset cursor), when it is an integer.
    pub last_id: Option<i64>,
}

impl ExportPage {
    /// The JSON text of item `i`.
    pub fn item(&self, i: usize) -> &str {
        std::str::from_utf8(&self.body[self.items[i].clone()]).unwrap_or("")
    }

    /// `total_filtered`, else `total`.
    pub fn count(&self) -> Option<u64> {
        self.total_filtered.or(self.total)
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    items: Vec<&'a RawValue>,
    limit: Option<serde_json::Value>,
    total: Option<serde_json::Value>,
    total_filtered: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct IdProbe {
    id_synthese: Option<serde_json::Value>,
}

fn not_json(resp: &Response) -> Option<String> {
    let ct = resp
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.contains("html") {
        return Some(format!(
            "expected JSON, got an HTML page: {}",
            resp.snippet()
        ));
    }
    None
}

fn count(v: &Option<serde_json::Value>) -> Option<u64> {
    v.as_ref().and_then(|v| v.as_u64())
}

/// Checks an export page and locates its items (the request's `check`).
fn split_page(resp: &Response) -> Result<ExportPage, String> {
    if let Some(e) = not_json(resp) {
        return Err(e);
    }
    let env: Envelope<'_> = serde_json::from_slice(&resp.body)
        .map_err(|e| format!("not an export page ({e}): {}", resp.snippet()))?;
    let limit = env
        .limit
        .as_ref()
        .and_then(|l| l.as_u64())
        .filter(|l| *l > 0)
        .ok_or_else(|| format!("export page without a positive `limit`: {}", resp.snippet()))?;
    let base = resp.body.as_ptr() as usize;
    let items: Vec<Range<usize>> = env
        .items
        .iter()
        .map(|raw| {
            let start = raw.get().as_ptr() as usize - base;
            start..start + raw.get().len()
        })
        .collect();
    let last_id = env.items.last().and_then(|raw| {
        serde_json::from_str::<IdProbe>(raw.get())
            .ok()
            .and_then(|p| p.id_synthese)
            .and_then(|v| v.as_i64())
    });
    Ok(ExportPage {
        body: resp.body.clone(),
        items,
        limit,
        total: count(&env.total),
        total_filtered: count(&env.total_filtered),
        last_id,
    })
}

/// One page of the deletion feed.
#[derive(Debug, Clone, Default)]
pub struct LogPage {
    /// `id_synthese` of the items whose `last_action` is `D`.
    pub ids: Vec<i64>,
    pub items: usize,
    pub total: u64,
    pub limit: u64,
}

#[derive(Deserialize)]
struct LogEnvelope {
    items: Vec<LogItem>,
    total: Option<serde_json::Value>,
    limit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct LogItem {
    id_synthese: Option<serde_json::Value>,
    last_action: Option<String>,
}

fn split_log(resp: &Response) -> Result<LogPage, String> {
    if let Some(e) = not_json(resp) {
        return Err(e);
    }
    let env: LogEnvelope = serde_json::from_slice(&resp.body)
        .map_err(|e| format!("not a synthese/log page ({e}): {}", resp.snippet()))?;
    let limit = count(&env.limit)
        .filter(|l| *l > 0)
        .ok_or_else(|| format!("log page without a positive `limit`: {}", resp.snippet()))?;
    let ids = env
        .items
        .iter()
        .filter(|i| i.last_action.as_deref().is_none_or(|a| a == "D"))
        .filter_map(|i| i.id_synthese.as_ref().and_then(|v| v.as_i64()))
        .collect();
    Ok(LogPage {
        ids,
        items: env.items.len(),
        total: count(&env.total).unwrap_or(0),
        limit,
    })
}

impl Api {
    /// Logs in and finds the export module (the source's healthcheck).
    pub fn connect(
        source: &SourceConfig,
        password: &Secret,
        policy: &HttpPolicy,
    ) -> Result<Api, ApiError> {
        let client = HttpClient::with_policy(policy)?;
        let api = source.api_url();
        let session = GnSession {
            url: format!("{api}auth/login"),
            body: serde_json::json!({"login": source.user_name, "password": password.expose()}),
        };
        session.login(&client).map_err(|e| match e {
            HttpError::Status { status, body, .. } if (400..500).contains(&status) => {
                ApiError::LoginRefused {
                    status,
                    password_var: source.password_var(),
                    body: crate::secrets::scrub(&body),
                }
            }
            other => ApiError::Http(other),
        })?;
        let modules = client
            .request(
                Method::GET,
                &format!("{api}gn_commons/modules"),
                "gn_commons/modules",
            )
            .header("Accept", ACCEPT)
            .session(&session)
            .check(|resp| {
                if resp.final_url.contains("login?next=") {
                    return Ok(());
                }
                if let Some(e) = not_json(resp) {
                    return Err(e);
                }
                serde_json::from_slice::<Vec<serde_json::Value>>(&resp.body)
                    .map(|_| ())
                    .map_err(|e| format!("not a module list ({e}): {}", resp.snippet()))
            })
            .send();
        let modules = match modules {
            Ok(m) => m,
            Err(HttpError::Status {
                status: 200..=299 | 401 | 403 | 490,
                ..
            }) => {
                return Err(ApiError::NoExportModule {
                    user: source.user_name.clone(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        if modules.final_url.contains("login?next=") {
            return Err(ApiError::NoExportModule {
                user: source.user_name.clone(),
            });
        }
        let list: Vec<serde_json::Value> =
            serde_json::from_slice(&modules.body).unwrap_or_default();
        let path = list
            .iter()
            .find(|m| m.get("module_code").and_then(|c| c.as_str()) == Some("EXPORTS"))
            .and_then(|m| m.get("module_path"))
            .and_then(|p| p.as_str())
            .map(|p| p.trim_matches('/').to_string())
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ApiError::NoExportModule {
                user: source.user_name.clone(),
            })?;
        let export_url = format!("{api}{path}/api/{}", source.export().unwrap_or_default());
        let metadata_url = source
            .metadata_export_id
            .filter(|_| source.separated_metadata())
            .map(|id| format!("{api}{path}/api/{id}"));
        Ok(Api {
            client,
            api,
            export_url,
            metadata_url,
            session,
        })
    }

    /// Retries done so far on this source.
    pub fn retries(&self) -> u64 {
        self.client.retries()
    }

    /// GETs one export page with `params`; `what` names it in errors ("page 3").
    pub fn export_page(
        &self,
        params: &[(String, String)],
        what: &str,
    ) -> Result<ExportPage, ApiError> {
        let parsed: RefCell<Option<ExportPage>> = RefCell::new(None);
        let resp = self
            .client
            .request(Method::GET, &self.export_url, what)
            .header("Accept", ACCEPT)
            .queries(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .session(&self.session)
            .check(|resp| {
                let page = split_page(resp)?;
                *parsed.borrow_mut() = Some(page);
                Ok(())
            })
            .send()?;
        let page = parsed
            .into_inner()
            .filter(|p| p.body.len() == resp.body.len());
        match page {
            Some(mut p) => {
                p.body = resp.body;
                Ok(p)
            }
            None => split_page(&resp).map_err(|reason| ApiError::Protocol {
                what: what.into(),
                reason,
            }),
        }
    }

    /// GETs page `offset` (0-based, gn2pg-client's paging) of the metadata export: acquisition
    /// frameworks, each with its `datasets`.
    pub fn metadata_page(&self, limit: u64, offset: u64) -> Result<ExportPage, ApiError> {
        let what = format!("metadata export page {offset}");
        let Some(url) = &self.metadata_url else {
            return Err(ApiError::Protocol {
                what,
                reason: "the source has no metadata_export_id".into(),
            });
        };
        let resp = self
            .client
            .request(Method::GET, url, &what)
            .header("Accept", ACCEPT)
            .query("limit", limit)
            .query("offset", offset)
            .session(&self.session)
            .check(|resp| split_page(resp).map(|_| ()))
            .send()?;
        split_page(&resp).map_err(|reason| ApiError::Protocol { what, reason })
    }

    /// GETs page `page` (1-based) of the deletion feed since `since`.
    pub fn deletion_page(&self, since: &str, limit: u64, page: u64) -> Result<LogPage, ApiError> {
        let what = format!("synthese/log page {page}");
        let parsed: RefCell<Option<LogPage>> = RefCell::new(None);
        self.client
            .request(Method::GET, &format!("{}synthese/log", self.api), &what)
            .header("Accept", ACCEPT)
            .query("last_action", "D")
            .query("meta_last_action_date", format!("gte:{since}"))
            .query("limit", limit)
            .query("page", page)
            .session(&self.session)
            .check(|resp| {
                *parsed.borrow_mut() = Some(split_log(resp)?);
                Ok(())
            })
            .send()?;
        parsed.into_inner().ok_or_else(|| ApiError::Protocol {
            what,
            reason: "no page".into(),
        })
    }
}
