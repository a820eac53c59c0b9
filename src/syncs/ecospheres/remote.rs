//! Where the catalogue pages come from (docs/syncs/ecospheres.md §2): an object-store prefix read
//! through [`crate::storage::Store`] — every object whose key contains `.json`, in natural key
//! order (`page-2` before `page-10`), gzip-compressed objects decompressed — or the CKAN export
//! over HTTP(S), one page at a time, following `hydra:nextPage`.
//!
//! What can fail: an unusable source URL ([`SourceError::Invalid`]), a listing that fails or
//! finds nothing (fatal), one object or page that cannot be fetched (the caller decides with
//! `on_bad_page`). HTTP pages are fetched with the shared client: timeouts, resets, 429, 5xx and
//! 200 answers that are not JSON (an HTML proxy page) are retried with backoff; URLs are shown
//! without their query values beyond `page` ([`shown_url`]), since a catalogue URL may carry a
//! token.

use std::cmp::Ordering;

use bytes::Bytes;

use crate::fetch::http::{HttpClient, HttpError, Method};
use crate::storage::{S3Settings, StorageError, Store, StoreUrl};

/// A source that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("invalid catalogue source {url:?}: {reason}")]
    Invalid { url: String, reason: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("no object whose name contains .json under {store}")]
    Empty { store: String },
    #[error(transparent)]
    Content(#[from] crate::fetch::FetchError),
}

/// The setting that caps a page's bytes (as read, and once decompressed).
const MAX_PAGE_SETTING: &str = "ecospheres.http.max_response_mib";

/// A parsed catalogue source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceUrl {
    /// `s3://…`, `file://…` or `memory://…` (a plain path is read as `file://`).
    Store(String),
    /// The first page of a CKAN DCAT export.
    Http(String),
}

impl SourceUrl {
    pub fn parse(src: &str) -> Result<SourceUrl, SourceError> {
        let src = src.trim();
        let invalid = |reason: String| SourceError::Invalid {
            url: shown_url(src),
            reason,
        };
        if src.is_empty() {
            return Err(invalid("empty".into()));
        }
        if src.starts_with("http://") || src.starts_with("https://") {
            let url = url::Url::parse(src).map_err(|e| invalid(e.to_string()))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(invalid("no host".into()));
            }
            return Ok(SourceUrl::Http(src.to_string()));
        }
        let store = if src.contains("://") {
            src.to_string()
        } else {
            format!("file://{src}")
        };
        StoreUrl::parse(&store).map_err(|e| invalid(e.to_string()))?;
        Ok(SourceUrl::Store(store))
    }
}

/// `url` for messages: scheme, host, path and the `page` parameter only.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.scheme().starts_with("http") => {
            let mut out = format!(
                "{}://{}{}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.port().map(|p| format!(":{p}")).unwrap_or_default()
            );
            out.push_str(u.path());
            let page: Vec<String> = u
                .query_pairs()
                .filter(|(k, _)| k == "page")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if !page.is_empty() {
                out.push('?');
                out.push_str(&page.join("&"));
            } else if u.query().is_some() {
                out.push_str("?…");
            }
            out
        }
        _ => url.chars().take(200).collect(),
    }
}

/// The pages of an object-store prefix.
pub struct StorePages {
    pub store: Store,
    /// Keys holding `.json`, in natural order.
    pub keys: Vec<String>,
    /// Largest page accepted, as stored and once decompressed.
    pub max_page_bytes: u64,
}

impl StorePages {
    /// Opens the store and lists its pages.
    pub fn open(
        url: &str,
        s3: &S3Settings,
        max_page_bytes: u64,
    ) -> Result<StorePages, SourceError> {
        let store = Store::open_with(url, s3)?;
        let mut keys = Vec::new();
        for item in store.list(None)? {
            let info = item?;
            if info.key.contains(".json") {
                keys.push(info.key);
            }
        }
        if keys.is_empty() {
            return Err(SourceError::Empty {
                store: store.url().to_string(),
            });
        }
        keys.sort_by(|a, b| natural_cmp(a, b));
        Ok(StorePages {
            store,
            keys,
            max_page_bytes,
        })
    }

    /// Reads one page (decompressed when gzip).
    pub fn fetch(&self, key: &str) -> Result<Bytes, SourceError> {
        let raw = self
            .store
            .get_capped(key, self.max_page_bytes, MAX_PAGE_SETTING)?;
        let limits = crate::fetch::Limits {
            max_bytes: self.max_page_bytes,
            max_line_bytes: None,
            setting:
                "ecospheres.http.max_response_mib, DATA_TASKS_ECOSPHERES_HTTP_MAX_RESPONSE_MIB",
        };
        Ok(crate::fetch::decompress(key, raw, &limits)?)
    }
}

/// Compares keys with digit runs compared as numbers (`page-2` < `page-10`).
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let dx = x.iter().take_while(|b| b.is_ascii_digit()).count();
                let dy = y.iter().take_while(|b| b.is_ascii_digit()).count();
                let (nx, ny) = (trim_zeros(&x[..dx]), trim_zeros(&y[..dy]));
                let ord = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny));
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[dx..];
                y = &y[dy..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let i = d.iter().position(|&b| b != b'0').unwrap_or(d.len());
    &d[i..]
}

/// GETs one catalogue page: a 2xx whose body is not JSON (an HTML proxy page, a cut body) is
/// retried like a 5xx.
pub fn fetch_page(client: &HttpClient, url: &str) -> Result<Bytes, HttpError> {
    let what = format!("catalogue page {}", shown_url(url));
    client
        .request(Method::GET, url, &what)
        .header("Accept", "application/ld+json, application/json;q=0.9")
        .check(|resp| {
            serde_json::from_slice::<serde::de::IgnoredAny>(&resp.body)
                .map(|_| ())
                .map_err(|e| match super::jsonld::parse(&resp.body) {
                    Err(page) => page.to_string(),
                    Ok(_) => format!("not JSON: {e}"),
                })
        })
        .send()
        .map(|r| r.body)
}

/// The page number of a `…?page=N` URL.
pub fn page_number(url: &str) -> Option<u64> {
    let u = url::Url::parse(url).ok()?;
    let n = u
        .query_pairs()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok());
    n
}

/// `url` with its `page` parameter set to `n`.
pub fn with_page(url: &str, n: u64) -> Option<String> {
    let mut u = url::Url::parse(url).ok()?;
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            if k == "page" {
                (k.into_owned(), n.to_string())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    Some(u.to_string())
}

/// Resolves a `hydra:nextPage` link against the page it was read on.
pub fn resolve(base: &str, link: &str) -> Option<String> {
    let base = url::Url::parse(base).ok()?;
    base.join(link).ok().map(|u| u.to_string())
}
