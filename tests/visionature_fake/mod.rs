//! A fake Biolovision API (one VisioNature site) on 127.0.0.1, for the visionature tests, the
//! differential test against Client-API-VN and the benchmark (`examples/fake_biolovision.rs`).
//!
//! - Verifies every request's OAuth 1.0a HMAC-SHA1 signature (its own RFC 5849 base string, not
//!   the client's crate) and the `user_email`/`user_pw` query parameters: 401 otherwise.
//! - Serves `taxo_groups`, `territorial_units`, `local_admin_units`, `places`, `species`,
//!   `observers`, `entities`, `families`, `validations`, `fields` (+ `fields/{id}`),
//!   `observations/search/` (POST, windows by sighting or entry date, one territorial unit),
//!   `observations?id_sightings_list=` and `observations/diff/` (both date formats).
//! - Answers in `pagination_key` chunks of `page_size` items (chunked transfer encoding, as the
//!   real site), records every request, and injects faults: error statuses for N requests,
//!   empty 200 bodies, JSON wrapped in text, stalled requests (answered normally after a delay,
//!   counted in `stalled` when they arrive), restricted taxo groups (401), successive reads of one
//!   sighting with different `update_date`s.
//!
//! - Serves the site's public statistics page `index.php?m_id=23` (unsigned), the number of
//!   sightings of each taxo group (or overridden ones, or another layout).
//!
//! Data come from a seeded generator: `n` sightings spread over `days` days before `end`, over
//! the taxo groups, a quarter of them in forms of 4 sightings of the same day. The records are
//! shaped as the real API writes them ([`records`]): the short form when `short_version=1` is
//! asked for, the long form otherwise (or always, with `long_form`).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

pub mod records;

pub const TZ: chrono_tz::Tz = chrono_tz::Europe::Paris;

/// One generated sighting.
#[derive(Debug, Clone)]
pub struct Sighting {
    pub id: u32,
    pub group: u32,
    pub date: i64,
    pub entry: i64,
    pub update: Option<i64>,
    pub form: Option<u32>,
    pub lat: f64,
    pub lon: f64,
}

/// An injected fault.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Substring of the path (`observations/search`, `observations`, `taxo_groups`…).
    pub path: String,
    /// Only requests whose query has these parameters containing these values.
    pub params: Vec<(String, String)>,
    pub status: u16,
    /// Body to send (an empty 200, an HTML page…); `None` = `{"error": …}`.
    pub body: Option<String>,
    /// Wrap the normal answer in this text (`Notice: …`, before the JSON, or around it where the
    /// text holds `{json}`); status ignored.
    pub wrap: Option<String>,
    /// Answer 200, then a byte at this interval, never ending (`path = "pagination_key"`: the
    /// next chunk requests of a chunked transfer).
    pub trickle: Option<std::time::Duration>,
    /// Answer 200 with a JSON body holding one string of this many bytes (streamed).
    pub huge: Option<usize>,
    /// Answer normally, but only after this delay (the request's lock on the state is released
    /// meanwhile); status ignored.
    pub stall: Option<std::time::Duration>,
    pub times: usize,
}

impl Fault {
    pub fn status(path: &str, status: u16, times: usize) -> Fault {
        Fault {
            path: path.into(),
            params: Vec::new(),
            status,
            body: None,
            wrap: None,
            trickle: None,
            huge: None,
            stall: None,
            times,
        }
    }
    /// A body that never ends on the requests of `path` (see [`Fault::trickle`]).
    pub fn trickle(path: &str, every: std::time::Duration, times: usize) -> Fault {
        Fault {
            trickle: Some(every),
            ..Fault::status(path, 200, times)
        }
    }
    /// A 200 answer of `bytes` bytes on the requests of `path`.
    pub fn huge(path: &str, bytes: usize, times: usize) -> Fault {
        Fault {
            huge: Some(bytes),
            ..Fault::status(path, 200, times)
        }
    }
    /// The next `times` requests to `path` are answered normally after `delay`.
    pub fn stall(path: &str, delay: std::time::Duration, times: usize) -> Fault {
        Fault {
            stall: Some(delay),
            ..Fault::status(path, 200, times)
        }
    }
    pub fn param(mut self, k: &str, v: &str) -> Fault {
        self.params.push((k.into(), v.into()));
        self
    }
    pub fn body(mut self, b: &str) -> Fault {
        self.body = Some(b.into());
        self
    }
    pub fn wrap(mut self, w: &str) -> Fault {
        self.wrap = Some(w.into());
        self
    }
    /// Whether the fault applies to a request (`path` without `/api/`, `q` its query).
    fn matches(&self, path: &str, q: &HashMap<String, String>) -> bool {
        self.times > 0
            && path.contains(&self.path)
            && self
                .params
                .iter()
                .all(|(k, v)| q.get(k).is_some_and(|x| x.contains(v.as_str())))
    }
}

/// A recorded request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: String,
    pub status: u16,
}

/// The dataset and behaviour of the site.
pub struct State0 {
    pub key: String,
    pub secret: String,
    pub email: String,
    pub pw: String,
    pub groups: Vec<(u32, &'static str)>,
    pub restricted: BTreeSet<u32>,
    pub sightings: BTreeMap<u32, Sighting>,
    /// Sorted `(date, id)` per group.
    by_date: HashMap<u32, Vec<(i64, u32)>>,
    pub diff: Vec<(i64, u32, u32, &'static str)>,
    pub faults: Vec<Fault>,
    /// Requests that met a stall fault (counted when they arrive, before the delay).
    pub stalled: usize,
    pub seen: Vec<Seen>,
    pub page_size: usize,
    pages: HashMap<String, VecDeque<String>>,
    next_page: u64,
    /// Successive `update_date`s served for a sighting (the last one stays).
    pub reads: HashMap<u32, VecDeque<i64>>,
    pub record: bool,
    /// Sightings per taxo group shown by the statistics page instead of the real numbers.
    pub stats: BTreeMap<u32, u64>,
    /// The statistics page served as is (another layout).
    pub stats_html: Option<String>,
    /// Answer observations in the long form even when `short_version=1` is asked for.
    pub long_form: bool,
}

pub type Shared = Arc<Mutex<State0>>;

/// The running fake.
pub struct Fake {
    pub state: Shared,
    pub port: u16,
    _rt: tokio::runtime::Runtime,
}

/// Generator parameters.
#[derive(Debug, Clone)]
pub struct Gen {
    pub n: u32,
    pub groups: Vec<(u32, &'static str)>,
    pub end: NaiveDate,
    pub days: i64,
    pub seed: u64,
    pub forms_share: u32,
}

impl Default for Gen {
    fn default() -> Self {
        Gen {
            n: 1200,
            groups: vec![(1, "Oiseaux"), (2, "Chauves-souris")],
            end: chrono::Local::now().date_naive(),
            days: 120,
            seed: 7,
            forms_share: 4,
        }
    }
}

fn rng(seed: u64, i: u64) -> u64 {
    let mut x = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

fn local_midnight(d: NaiveDate) -> i64 {
    TZ.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .timestamp()
}

impl State0 {
    pub fn generate(g: &Gen) -> State0 {
        let mut sightings = BTreeMap::new();
        let start = local_midnight(g.end - chrono::Duration::days(g.days - 1));
        let span = g.days * 86400 - 3600 * 8;
        let mut form_id = 0u32;
        let mut i = 0u32;
        while i < g.n {
            let r = rng(g.seed, i as u64);
            let date = start + 3600 * 6 + ((i as i64) * span) / (g.n as i64);
            let group = g.groups[(r % g.groups.len() as u64) as usize].0;
            // Every forms_share-th block of 4 consecutive sightings is a form (same day, group).
            let in_form = g.forms_share > 0 && (i / 4) % g.forms_share == 0 && i + 4 <= g.n;
            let count = if in_form { 4 } else { 1 };
            if in_form {
                form_id += 1;
            }
            for k in 0..count {
                let id = 1000 + i + k;
                let rr = rng(g.seed, (i + k) as u64 + 17);
                sightings.insert(
                    id,
                    Sighting {
                        id,
                        group,
                        date: date + k as i64 * 60,
                        entry: date + 3600 + k as i64 * 60,
                        update: None,
                        form: in_form.then_some(form_id),
                        // Up to 6 decimals, as the sites write them.
                        lat: 44.0 + (rr % 2_000_000) as f64 / 1e6,
                        lon: 4.0 + ((rr >> 24) % 2_000_000) as f64 / 1e6,
                    },
                );
            }
            i += count;
        }
        let mut s = State0 {
            key: "ck-test".into(),
            secret: "cs-secret-1".into(),
            email: "user@example.org".into(),
            pw: "user-pw-secret".into(),
            groups: g.groups.clone(),
            restricted: BTreeSet::new(),
            sightings,
            by_date: HashMap::new(),
            diff: Vec::new(),
            faults: Vec::new(),
            stalled: 0,
            seen: Vec::new(),
            page_size: 1000,
            pages: HashMap::new(),
            next_page: 0,
            reads: HashMap::new(),
            record: true,
            stats: BTreeMap::new(),
            stats_html: None,
            long_form: false,
        };
        s.reindex();
        s
    }

    fn reindex(&mut self) {
        self.by_date.clear();
        for s in self.sightings.values() {
            self.by_date
                .entry(s.group)
                .or_default()
                .push((s.date, s.id));
        }
        for v in self.by_date.values_mut() {
            v.sort_unstable();
        }
    }

    /// Marks `id` updated now (diff entry) with `update_date = now`.
    pub fn update(&mut self, id: u32, ts: i64) {
        if let Some(s) = self.sightings.get_mut(&id) {
            s.update = Some(ts);
            let g = s.group;
            self.diff
                .push((chrono::Utc::now().timestamp(), id, g, "updated"));
        }
    }

    /// Deletes `id` (diff entry).
    pub fn delete(&mut self, id: u32) {
        if let Some(s) = self.sightings.remove(&id) {
            self.diff
                .push((chrono::Utc::now().timestamp(), id, s.group, "deleted"));
            self.reindex();
        }
    }

    fn render(&mut self, s: &Sighting, long: bool) -> String {
        let update = match self.reads.get_mut(&s.id) {
            Some(q) if q.len() > 1 => q.pop_front(),
            Some(q) => q.front().copied(),
            None => s.update,
        };
        records::sighting(s, update, long).to_string()
    }

    /// Items of an observations answer: `sightings` alone, forms with their sightings.
    fn observations(&mut self, ids: &[u32], long: bool) -> Vec<String> {
        let mut loose = Vec::new();
        let mut forms: BTreeMap<u32, (f64, f64, Vec<String>)> = BTreeMap::new();
        for id in ids {
            let Some(s) = self.sightings.get(id).cloned() else {
                continue;
            };
            let text = self.render(&s, long);
            match s.form {
                Some(f) => forms
                    .entry(f)
                    .or_insert((s.lat, s.lon, Vec::new()))
                    .2
                    .push(text),
                None => loose.push(format!("S{text}")),
            }
        }
        for (f, (lat, lon, list)) in forms {
            let sightings = list
                .iter()
                .filter_map(|t| serde_json::from_str(t).ok())
                .collect();
            loose.push(format!("F{}", records::form(f, lat, lon, sightings)));
        }
        loose
    }
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, &RFC3986).to_string()
}

const RFC3986: percent_encoding::AsciiSet = percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The RFC 5849 signature of a request, checked against the `Authorization` header.
pub fn signature_ok(
    method: &str,
    url: &str,
    query: &[(String, String)],
    auth: &str,
    secret: &str,
) -> bool {
    let Some(rest) = auth.strip_prefix("OAuth ") else {
        return false;
    };
    let mut oauth: Vec<(String, String)> = Vec::new();
    let mut signature = None;
    for part in rest.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        let v = v.trim_matches('"');
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .to_string();
        if k == "oauth_signature" {
            signature = Some(v);
        } else if k != "realm" {
            oauth.push((k.to_string(), v));
        }
    }
    if oauth.iter().all(|(k, _)| k != "oauth_signature_method")
        || !oauth
            .iter()
            .any(|(k, v)| k == "oauth_signature_method" && v == "HMAC-SHA1")
    {
        return false;
    }
    let Some(signature) = signature else {
        return false;
    };
    let mut params: Vec<(String, String)> = query
        .iter()
        .chain(oauth.iter())
        .map(|(k, v)| (enc(k), enc(v)))
        .collect();
    params.sort();
    let normalized = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        enc(url),
        enc(&normalized)
    );
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(format!("{}&", enc(secret)).as_bytes()).unwrap();
    mac.update(base.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    expected == signature
}

fn parse_diff_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%H:%M:%S %d.%m.%Y"))
        .ok()?;
    Some(TZ.from_local_datetime(&naive).earliest()?.timestamp())
}

/// The answer of a trickle or huge fault (see [`Fault`]), streamed.
fn streamed_fault(f: &Fault) -> Option<Response> {
    use futures::StreamExt;
    let stream: futures::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>> =
        if let Some(every) = f.trickle {
            futures::stream::unfold(0u32, move |n| async move {
                if n >= 1200 {
                    return None;
                }
                tokio::time::sleep(every).await;
                Some((Ok(bytes::Bytes::from_static(b" ")), n + 1))
            })
            .boxed()
        } else if let Some(n) = f.huge {
            let filler = bytes::Bytes::from(vec![b'x'; 1 << 20]);
            let parts = std::iter::once(bytes::Bytes::from_static(b"{\"data\":[{\"huge\":\""))
                .chain(std::iter::repeat_n(filler, n >> 20))
                .chain(std::iter::once(bytes::Bytes::from_static(b"\"}]}")));
            futures::stream::iter(parts.map(Ok)).boxed()
        } else {
            return None;
        };
    Some(
        Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json; charset=utf-8")
            .body(Body::from_stream(stream))
            .unwrap(),
    )
}

fn respond(status: u16, body: String, page: Option<String>) -> Response {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json; charset=utf-8");
    if let Some(p) = page {
        b = b.header("pagination_key", p);
    }
    // A stream: chunked transfer encoding, as the real site (Client-API-VN requires it).
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
    b.body(Body::from_stream(stream)).unwrap()
}

impl State0 {
    fn paged(&mut self, kind: &str, items: Vec<String>) -> (String, Option<String>) {
        let mut pages: VecDeque<String> = VecDeque::new();
        for chunk in items.chunks(self.page_size.max(1)) {
            pages.push_back(self.wrap_page(kind, chunk));
        }
        if pages.is_empty() {
            pages.push_back(self.wrap_page(kind, &[]));
        }
        let first = pages.pop_front().unwrap_or_default();
        if pages.is_empty() {
            return (first, None);
        }
        self.next_page += 1;
        let key = format!("pk{}", self.next_page);
        self.pages.insert(key.clone(), pages);
        (first, Some(key))
    }

    fn wrap_page(&self, kind: &str, items: &[String]) -> String {
        match kind {
            "obs" => {
                let s: Vec<&str> = items.iter().filter_map(|i| i.strip_prefix('S')).collect();
                let f: Vec<&str> = items.iter().filter_map(|i| i.strip_prefix('F')).collect();
                format!(
                    "{{\"data\":{{\"sightings\":[{}],\"forms\":[{}]}}}}",
                    s.join(","),
                    f.join(",")
                )
            }
            "list" => format!("[{}]", items.join(",")),
            _ => format!("{{\"data\":[{}]}}", items.join(",")),
        }
    }

    fn next(&mut self, key: &str) -> (String, Option<String>) {
        let Some(q) = self.pages.get_mut(key) else {
            return ("{\"error\":\"unknown pagination_key\"}".into(), None);
        };
        let page = q.pop_front().unwrap_or_default();
        if q.is_empty() {
            self.pages.remove(key);
            (page, None)
        } else {
            (page, Some(key.to_string()))
        }
    }

    fn reference(&self, controller: &str, q: &HashMap<String, String>) -> Vec<String> {
        let num = |k: &str| q.get(k).and_then(|v| v.parse().ok());
        records::reference(
            controller,
            &self.groups,
            num("id_commune"),
            num("id_taxo_group"),
        )
        .into_iter()
        .map(|x| x.to_string())
        .collect()
    }

    /// The statistics page: each group's sightings (or the `stats` override), or `stats_html`.
    pub fn stats_page(&self) -> String {
        if let Some(h) = &self.stats_html {
            return h.clone();
        }
        let groups: Vec<(String, u64)> =
            self.groups
                .iter()
                .map(|(id, name)| {
                    let n = self.stats.get(id).copied().unwrap_or_else(|| {
                        self.by_date.get(id).map(|v| v.len() as u64).unwrap_or(0)
                    });
                    (name.to_string(), n)
                })
                .collect();
        records::stats_page(&groups)
    }
}

/// A request's controller path (without `/api/` and the trailing `/`) and query parameters.
fn path_and_query(uri: &Uri) -> (String, Vec<(String, String)>) {
    let path = uri
        .path()
        .trim_start_matches("/api/")
        .trim_end_matches('/')
        .to_string();
    let query = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    (path, query)
}

/// The delay of the first stall fault that applies to the request, counted in `stalled`.
fn stall(st: &mut State0, uri: &Uri) -> Option<std::time::Duration> {
    let (path, query) = path_and_query(uri);
    let q: HashMap<String, String> = query.into_iter().collect();
    let i = st
        .faults
        .iter()
        .position(|f| f.stall.is_some() && f.matches(&path, &q))?;
    st.faults[i].times -= 1;
    st.stalled += 1;
    st.faults[i].stall
}

fn handle(
    st: &mut State0,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let (path, query) = path_and_query(uri);
    let q: HashMap<String, String> = query.iter().cloned().collect();
    let body_text = String::from_utf8_lossy(body).into_owned();
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let url = format!("http://{host}{}", uri.path());
    let auth = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let record = |st: &mut State0, status: u16| {
        if st.record {
            st.seen.push(Seen {
                method: method.to_string(),
                path: path.clone(),
                query: query.clone(),
                body: body_text.clone(),
                status,
            });
        }
    };
    // The public statistics page (no API, no signature).
    if path == "/index.php" && q.get("m_id").map(String::as_str) == Some("23") {
        record(st, 200);
        let page = st.stats_page();
        return Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "text/html; charset=utf-8")
            .body(Body::from(page))
            .unwrap();
    }
    if !signature_ok(method.as_str(), &url, &query, auth, &st.secret)
        || q.get("user_email") != Some(&st.email)
        || q.get("user_pw") != Some(&st.pw)
    {
        record(st, 401);
        return respond(
            401,
            "{\"error\":\"invalid signature or credentials\"}".into(),
            None,
        );
    }
    // Continuation chunks.
    if let Some(key) = q.get("pagination_key") {
        if let Some(i) = st
            .faults
            .iter()
            .position(|f| f.times > 0 && f.path == "pagination_key")
        {
            st.faults[i].times -= 1;
            let f = st.faults[i].clone();
            if let Some(r) = streamed_fault(&f) {
                record(st, 200);
                return r;
            }
        }
        let (b, p) = st.next(key);
        record(st, 200);
        return respond(200, b, p);
    }
    // Faults.
    let mut wrap = None;
    if let Some(i) = st
        .faults
        .iter()
        .position(|f| f.stall.is_none() && f.matches(&path, &q))
    {
        st.faults[i].times -= 1;
        let f = st.faults[i].clone();
        if let Some(r) = streamed_fault(&f) {
            record(st, 200);
            return r;
        }
        if let Some(w) = f.wrap {
            wrap = Some(w);
        } else {
            record(st, f.status);
            let b = f
                .body
                .unwrap_or_else(|| format!("{{\"error\":\"injected {}\"}}", f.status));
            return respond(f.status, b, None);
        }
    }
    let search: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let group: Option<u32> = q
        .get("id_taxo_group")
        .cloned()
        .or_else(|| {
            search
                .get("taxonomic_group")
                .and_then(|v| v.as_str().map(str::to_string))
        })
        .and_then(|g| g.parse().ok());
    if let Some(g) = group {
        if st.restricted.contains(&g) && path.starts_with("observations") {
            record(st, 401);
            return respond(401, "{\"error\":\"restricted taxo group\"}".into(), None);
        }
    }
    // The short form only when asked for (`short_version=1`), as the real API.
    let long = st.long_form || q.get("short_version").map(String::as_str) != Some("1");
    let (status, (b, p)) = match path.as_str() {
        "observations/search" => {
            let day = |k: &str| {
                search
                    .get(k)
                    .and_then(Value::as_str)
                    .and_then(|s| NaiveDate::parse_from_str(s, "%d.%m.%Y").ok())
            };
            let (Some(from), Some(to), Some(g)) = (day("date_from"), day("date_to"), group) else {
                record(st, 400);
                return respond(400, "{\"error\":\"bad search\"}".into(), None);
            };
            let unit_ok = search
                .get("territorial_unit_ids")
                .and_then(Value::as_array)
                .is_none_or(|u| u.iter().any(|x| x == "FR07"));
            let lo = local_midnight(from);
            let hi = local_midnight(to + chrono::Duration::days(1));
            let entry = search.get("entry_date").and_then(Value::as_str) == Some("1");
            let ids: Vec<u32> = if !unit_ok {
                Vec::new()
            } else if entry {
                st.sightings
                    .values()
                    .filter(|s| s.group == g && s.entry >= lo && s.entry < hi)
                    .map(|s| s.id)
                    .collect()
            } else {
                let v = st.by_date.get(&g).cloned().unwrap_or_default();
                let a = v.partition_point(|(d, _)| *d < lo);
                let b = v.partition_point(|(d, _)| *d < hi);
                v[a..b].iter().map(|(_, id)| *id).collect()
            };
            let items = st.observations(&ids, long);
            (200, st.paged("obs", items))
        }
        "observations/diff" => {
            let since = q.get("date").and_then(|d| parse_diff_date(d));
            let Some(since) = since else {
                record(st, 400);
                return respond(400, "{\"error\":\"bad date\"}".into(), None);
            };
            let only_deleted =
                q.get("modification_type").map(String::as_str) == Some("only_deleted");
            let items: Vec<String> = st
                .diff
                .iter()
                .filter(|(t, _, g, kind)| {
                    *t >= since && Some(*g) == group && (!only_deleted || *kind == "deleted")
                })
                .map(|(_, id, _, kind)| records::diff_entry(*id, kind).to_string())
                .collect();
            (200, (format!("[{}]", items.join(",")), None))
        }
        "observations" => {
            let ids: Vec<u32> = q
                .get("id_sightings_list")
                .map(|l| l.split(',').filter_map(|x| x.trim().parse().ok()).collect())
                .unwrap_or_default();
            let ids: Vec<u32> = ids
                .into_iter()
                .filter(|id| st.sightings.get(id).is_some_and(|s| Some(s.group) == group))
                .collect();
            let items = st.observations(&ids, long);
            (200, st.paged("obs", items))
        }
        p if p.starts_with("fields/") => {
            let id = p.trim_start_matches("fields/");
            let items = vec![
                json!({"id": format!("{id}_1"), "name": "Nicheur possible"}).to_string(),
                json!({"id": format!("{id}_2"), "name": "Nicheur certain"}).to_string(),
            ];
            (200, st.paged("data", items))
        }
        c @ ("taxo_groups" | "territorial_units" | "local_admin_units" | "places" | "species"
        | "observers" | "entities" | "families" | "validations" | "fields") => {
            let items = st.reference(c, &q);
            (200, st.paged("data", items))
        }
        _ => {
            record(st, 404);
            return respond(404, "{\"error\":\"no such controller\"}".into(), None);
        }
    };
    record(st, status);
    let b = match wrap {
        Some(w) if w.contains("{json}") => w.replace("{json}", &b),
        Some(w) => format!("{w}{b}\n"),
        None => b,
    };
    respond(status, b, p)
}

async fn route(
    State(st): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let delay = stall(&mut st.lock().unwrap_or_else(|p| p.into_inner()), &uri);
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let mut guard = st.lock().unwrap_or_else(|p| p.into_inner());
    handle(&mut guard, &method, &uri, &headers, &body)
}

impl Fake {
    /// Starts the fake on a free loopback port (`port` 0) with `state`.
    pub fn start(state: State0, port: u16, threads: usize) -> Fake {
        let state = Arc::new(Mutex::new(state));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new()
            .fallback(route)
            .with_state(state.clone());
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake {
            state,
            port,
            _rt: rt,
        }
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State0) -> R) -> R {
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// Requests seen whose path contains `path`.
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.with(|s| {
            s.seen
                .iter()
                .filter(|r| r.path.contains(path))
                .cloned()
                .collect()
        })
    }

    /// The environment a client needs for site `site` (credentials of the fake).
    pub fn env(&self, site: &str) -> Vec<(String, String)> {
        let up = site.to_ascii_uppercase().replace('-', "_");
        self.with(|s| {
            vec![
                (format!("VN_{up}_USER_EMAIL"), s.email.clone()),
                (format!("VN_{up}_USER_PW"), s.pw.clone()),
                (format!("VN_{up}_CLIENT_KEY"), s.key.clone()),
                (format!("VN_{up}_CLIENT_SECRET"), s.secret.clone()),
            ]
        })
    }
}
