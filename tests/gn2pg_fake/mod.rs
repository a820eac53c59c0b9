//! A fake GeoNature for the gn2pg tests and benchmark, on 127.0.0.1 (std only, HTTP/1.1 with
//! keep-alive, one thread per connection): the login (`POST /api/auth/login`, session cookie,
//! HTTP 490 on a bad password like pypnusershub), the module list, one export view
//! (`/api/exports/api/<id>`: `limit` capped, `offset` as a 0-based page number,
//! `orderby=id_synthese[:asc|:desc]`, `filter_n_up_/filter_n_lo_`, `filter_d_up_/filter_d_lo_`,
//! `ilike_<col>`, `<col>=v`, unknown parameters ignored, a filter on a column the view lacks → 500)
//! and the deletion feed (`/api/synthese/log`, 1-based `page`, default `limit=50`).
//!
//! Rows are generated from a seed (nothing stored but the changes), so a million rows cost no
//! memory: [`Fake::mutate`] modifies, adds and deletes rows (stamping `derniere_action` with the
//! time the caller gives, in the source's time zone). [`Fault`]s are injected per endpoint and
//! logical page (0-based, `offset` or `cursor position / limit`): error statuses, HTML pages,
//! login pages, redirects to `login?next=`, expired sessions, bodies without `items`, truncated
//! bodies, stalls, repeated pages. Every request is recorded ([`Fake::requests`]).
//! `/_fake/mutate?modify=N&add=N&delete=N&foreign=N&stamp=…` does the same over HTTP (benchmark).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The kind of rows (the export's `data_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CdNomenclature,
    Label,
    /// Rows carry `ca_data`/`jdd_data` objects (a few carry nulls).
    Metadata,
}

/// How the fake refuses a request without a valid session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unauthorized,
    RedirectToLogin,
    LoginPage,
}

/// Which endpoint a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Login,
    Modules,
    Export,
    Log,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Answer this status (JSON body for 4xx, an nginx-like HTML page for 5xx).
    Status(u16),
    /// A 200 HTML proxy page.
    Html,
    /// A 200 HTML login form (what some SSO proxies answer after the cookie expired).
    LoginPage,
    /// 302 to `/geonature/login?next=…`.
    Redirect,
    /// Invalidate every session, then refuse as the fake's [`Refusal`] says.
    ExpireSession,
    /// A 200 JSON error object without `items`.
    NoItems,
    /// Announce more bytes than sent (a body cut mid-JSON).
    Truncate,
    /// Sleep before answering.
    Stall(Duration),
    /// Serve the previous page again (ignoring the cursor or the offset).
    RepeatPrevious,
    /// Serve only the first half of the page's rows.
    Short,
    /// Leave the module list without EXPORTS.
    HideExports,
}

/// One injected fault.
#[derive(Debug, Clone)]
pub struct Fault {
    pub target: Target,
    /// Logical page (0-based); `None`: every request of the target.
    pub page: Option<u64>,
    /// How many hits it fires for; `None`: always.
    pub times: Option<usize>,
    pub action: Action,
}

impl Fault {
    pub fn page(page: u64, times: usize, action: Action) -> Fault {
        Fault {
            target: Target::Export,
            page: Some(page),
            times: Some(times),
            action,
        }
    }

    pub fn always(target: Target, action: Action) -> Fault {
        Fault {
            target,
            page: None,
            times: None,
            action,
        }
    }
}

/// Settings of a fake.
#[derive(Debug, Clone)]
pub struct Settings {
    pub rows: u64,
    pub seed: u64,
    pub kind: Kind,
    /// The largest `limit` the server applies.
    pub max_limit: u64,
    /// Sleep before each export page.
    pub latency: Duration,
    pub user: String,
    pub password: String,
    pub export_id: u64,
    pub refusal: Refusal,
    /// Padding text per row (bytes), to get realistic row sizes.
    pub padding: usize,
    /// Status of a bad login (GeoNature: 490).
    pub bad_login_status: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rows: 100,
            seed: 1,
            kind: Kind::CdNomenclature,
            max_limit: 1000,
            latency: Duration::ZERO,
            user: "gn2pg".into(),
            password: "pw-geonature".into(),
            export_id: 12,
            refusal: Refusal::Unauthorized,
            padding: 300,
            bad_login_status: 490,
        }
    }
}

/// A change of one row.
#[derive(Debug, Clone, PartialEq)]
struct Change {
    version: u32,
    derniere_action: String,
    uuid: Option<String>,
    /// `jdd_data` object with a null `ca_data` (the shape gn2pg-client crashes on).
    jdd_without_ca: bool,
}

#[derive(Debug, Clone, Default)]
struct Data {
    changes: HashMap<u64, Change>,
    added: BTreeMap<u64, Change>,
    deleted: BTreeMap<u64, String>,
    foreign: Vec<(u64, String)>,
    version: u64,
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub status: u16,
    /// Logical page of an export request.
    pub page: Option<u64>,
    /// First and last id served.
    pub ids: Option<(u64, u64)>,
}

impl Logged {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    settings: Settings,
    data: Arc<Data>,
    tokens: HashSet<String>,
    faults: Vec<(Fault, usize)>,
    log: Vec<Logged>,
    cache: HashMap<String, (u64, Arc<Vec<u64>>)>,
    /// Last page served per endpoint, for [`Action::RepeatPrevious`].
    previous: Option<(u64, u64)>,
}

/// A running fake GeoNature (stops when dropped).
pub struct Fake {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    tokens: Arc<AtomicU64>,
}

pub const COLUMNS: &[&str] = &[
    "id_synthese",
    "id_perm_sinp",
    "cd_nom",
    "nom_cite",
    "observateurs",
    "date_min",
    "date_max",
    "derniere_action",
    "altitude_min",
    "wkt_4326",
    "ca_data",
    "jdd_data",
];

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn uuid_from(a: u64, b: u64) -> String {
    let b = (b & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let a2 = (a & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        b >> 32,
        (b >> 16) & 0xFFFF,
        b & 0xFFFF,
        a2 >> 48,
        a2 & 0xFFFF_FFFF_FFFF
    )
}

/// Base ids: 1, 2, … with a gap every tenth id.
pub fn base_id(i: u64) -> u64 {
    1 + i + i / 9
}

fn base_index(id: u64) -> Option<u64> {
    // Inverse of base_id (ids with id % 10 == 0 do not exist).
    if id == 0 || id % 10 == 0 {
        return None;
    }
    let k = id - 1;
    Some(k - k / 10)
}

fn ts(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn parse_ts(text: &str) -> Option<chrono::NaiveDateTime> {
    let t = text.trim();
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

const SPECIES: &[(u64, &str)] = &[
    (3764, "Parus major"),
    (4001, "Erithacus rubecula"),
    (3439, "Corvus corone"),
    (2623, "Buteo buteo"),
    (60015, "Vulpes vulpes"),
    (4117, "Fringilla coelebs"),
];

const OBSERVERS: &[&str] = &[
    "Dupont Jean (LPO)",
    "Martin Éloïse (Flavia)",
    "Durand Paul",
    "Lefèvre Anaïs (LPO)",
];

/// The values a filter can test.
enum Field {
    Num(i64),
    Text(String),
    Date(Option<chrono::NaiveDateTime>),
}

impl Settings {
    fn base_count(&self) -> u64 {
        self.rows
    }

    fn uuid(&self, id: u64) -> String {
        uuid_from(
            splitmix(self.seed ^ (id << 1)),
            splitmix(self.seed.wrapping_mul(31) ^ id),
        )
    }

    /// 2024-01-01 + up to 300 days, in seconds.
    fn base_action_secs(&self, id: u64) -> i64 {
        1_704_067_200 + (splitmix(self.seed ^ id) % (300 * 86_400)) as i64
    }

    fn base_action(&self, id: u64) -> String {
        ts(self.base_action_secs(id))
    }

    fn species(&self, id: u64, version: u32) -> (u64, &'static str) {
        SPECIES[((splitmix(id ^ self.seed) >> 7) as usize + version as usize) % SPECIES.len()]
    }

    fn observers(&self, id: u64) -> &'static str {
        OBSERVERS[(splitmix(id) >> 11) as usize % OBSERVERS.len()]
    }

    fn date_min(&self, id: u64) -> String {
        ts(1_640_995_200 + (splitmix(id ^ 7) % (700 * 86_400)) as i64)[..10].to_string()
    }

    fn field(&self, id: u64, ch: Option<&Change>, col: &str) -> Option<Field> {
        let version = ch.map(|c| c.version).unwrap_or(0);
        Some(match col {
            "id_synthese" => Field::Num(id as i64),
            "cd_nom" => Field::Num(self.species(id, version).0 as i64),
            "altitude_min" => Field::Num((splitmix(id) % 2000) as i64),
            "nom_cite" => Field::Text(self.species(id, version).1.into()),
            "observateurs" => Field::Text(self.observers(id).into()),
            "id_perm_sinp" => Field::Text(self.uuid(id)),
            "derniere_action" => Field::Date(match ch {
                Some(c) => parse_ts(&c.derniere_action),
                None => chrono::DateTime::from_timestamp(self.base_action_secs(id), 0)
                    .map(|d| d.naive_utc()),
            }),
            "date_min" | "date_max" => Field::Date(parse_ts(&self.date_min(id))),
            _ => return None,
        })
    }

    /// The JSON of row `id`.
    fn row(&self, id: u64, ch: Option<&Change>) -> String {
        let version = ch.map(|c| c.version).unwrap_or(0);
        let uuid = ch
            .and_then(|c| c.uuid.clone())
            .unwrap_or_else(|| self.uuid(id));
        let action = ch
            .map(|c| c.derniere_action.clone())
            .unwrap_or_else(|| self.base_action(id));
        let (cd_nom, nom) = self.species(id, version);
        let r = splitmix(id ^ self.seed ^ 0x55);
        let x = 4.5 + (r % 20_000) as f64 / 10_000.0;
        let y = 44.5 + ((r >> 20) % 20_000) as f64 / 10_000.0;
        let date = self.date_min(id);
        let statut = match self.kind {
            Kind::Label => "\"Présent\"",
            _ => "\"Pr\"",
        };
        let pad_len = self.padding.saturating_sub(40);
        let pad: String = "Observation réalisée dans le cadre d'un suivi; "
            .chars()
            .cycle()
            .take(pad_len)
            .collect();
        let mut s = format!(
            "{{\"id_synthese\":{id},\"id_perm_sinp\":\"{uuid}\",\"id_sinp_grp\":null,\"cd_nom\":{cd_nom},\
             \"nom_cite\":\"{nom}\",\"observateurs\":\"{obs}\",\"date_min\":\"{date}\",\"date_max\":\"{date}\",\
             \"altitude_min\":{alt},\"altitude_max\":{alt},\"denombrement_min\":{n},\"denombrement_max\":{n},\
             \"statut_observation\":{statut},\"wkt_4326\":\"POINT({x:.5} {y:.5})\",\"precision\":{prec},\
             \"derniere_action\":\"{action}\",\"version\":{version},\"comment_description\":\"{pad} #{id}.{version}\"",
            obs = self.observers(id),
            alt = splitmix(id) % 2000,
            n = 1 + splitmix(id ^ 3) % 12,
            prec = 10 + splitmix(id ^ 5) % 500,
        );
        if self.kind == Kind::Metadata {
            let jdd = splitmix(id ^ 0xdd) % 20;
            let ca = jdd % 5;
            let ca_uuid = uuid_from(self.seed ^ 0xca, ca);
            let jdd_uuid = uuid_from(self.seed ^ 0xdd, jdd);
            let ca_obj = format!(
                "{{\"uuid\":\"{ca_uuid}\",\"libelle\":\"Cadre d'acquisition {ca}\",\"date_creation\":\"2021-0{m}-01\"}}",
                m = 1 + ca
            );
            let jdd_obj = format!(
                "{{\"uuid\":\"{jdd_uuid}\",\"libelle\":\"Jeu de données {jdd}\",\"producteur\":\"LPO\",\"date_creation\":\"2022-01-{d:02}\"}}",
                d = 1 + jdd
            );
            if ch.is_some_and(|c| c.jdd_without_ca) {
                s.push_str(&format!(",\"ca_data\":null,\"jdd_data\":{jdd_obj}"));
            } else if id % 37 == 0 {
                s.push_str(",\"ca_data\":null,\"jdd_data\":null");
            } else {
                s.push_str(&format!(",\"ca_data\":{ca_obj},\"jdd_data\":{jdd_obj}"));
            }
        }
        s.push('}');
        s
    }
}

impl Data {
    fn exists(&self, s: &Settings, id: u64) -> bool {
        if self.deleted.contains_key(&id) {
            return false;
        }
        if self.added.contains_key(&id) {
            return true;
        }
        base_index(id).is_some_and(|i| i < s.base_count())
    }

    fn change(&self, id: u64) -> Option<&Change> {
        self.added.get(&id).or_else(|| self.changes.get(&id))
    }

    fn max_id(&self, s: &Settings) -> u64 {
        let base = if s.rows == 0 { 0 } else { base_id(s.rows - 1) };
        base.max(self.added.keys().next_back().copied().unwrap_or(0))
    }

    fn all_ids(&self, s: &Settings) -> impl Iterator<Item = u64> + '_ {
        let n = s.rows;
        (0..n)
            .map(base_id)
            .chain(self.added.keys().copied())
            .filter(move |id| !self.deleted.contains_key(id))
    }
}

/// A parsed filter.
enum Filter {
    NumUp(String, i64),
    NumLo(String, i64),
    DateUp(String, chrono::NaiveDateTime),
    DateLo(String, chrono::NaiveDateTime),
    Ilike(String, String),
    Eq(String, String),
}

fn ilike(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    fn m(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| m(&p[1..], &t[i..])),
            Some('_') => !t.is_empty() && m(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && m(&p[1..], &t[1..]),
        }
    }
    m(&p, &t)
}

impl Filter {
    fn matches(&self, s: &Settings, id: u64, ch: Option<&Change>) -> bool {
        let (col, f) = match self {
            Filter::NumUp(c, _) | Filter::NumLo(c, _) => (c, s.field(id, ch, c)),
            Filter::DateUp(c, _) | Filter::DateLo(c, _) => (c, s.field(id, ch, c)),
            Filter::Ilike(c, _) | Filter::Eq(c, _) => (c, s.field(id, ch, c)),
        };
        let _ = col;
        match (self, f) {
            (Filter::NumUp(_, v), Some(Field::Num(n))) => n >= *v,
            (Filter::NumLo(_, v), Some(Field::Num(n))) => n <= *v,
            (Filter::DateUp(_, v), Some(Field::Date(Some(d)))) => d >= *v,
            (Filter::DateLo(_, v), Some(Field::Date(Some(d)))) => d <= *v,
            (Filter::Ilike(_, p), Some(Field::Text(t))) => ilike(p, &t),
            (Filter::Eq(_, v), Some(Field::Text(t))) => t == *v,
            (Filter::Eq(_, v), Some(Field::Num(n))) => n.to_string() == *v,
            _ => false,
        }
    }
}

/// Parses the export filters; `Err(column)` for a column the view lacks.
fn filters(query: &[(String, String)]) -> Result<(Vec<Filter>, String), String> {
    let mut out = Vec::new();
    let mut key = Vec::new();
    for (k, v) in query {
        let f = if let Some(col) = k.strip_prefix("filter_n_up_") {
            if col == "id_synthese" {
                continue; // keyset: applied by position
            }
            Filter::NumUp(col.into(), v.parse().map_err(|_| col.to_string())?)
        } else if let Some(col) = k.strip_prefix("filter_n_lo_") {
            Filter::NumLo(col.into(), v.parse().map_err(|_| col.to_string())?)
        } else if let Some(col) = k.strip_prefix("filter_d_up_") {
            Filter::DateUp(col.into(), parse_ts(v).ok_or_else(|| col.to_string())?)
        } else if let Some(col) = k.strip_prefix("filter_d_lo_") {
            Filter::DateLo(col.into(), parse_ts(v).ok_or_else(|| col.to_string())?)
        } else if let Some(col) = k.strip_prefix("ilike_") {
            Filter::Ilike(col.into(), v.clone())
        } else if COLUMNS.contains(&k.as_str()) {
            Filter::Eq(k.clone(), v.clone())
        } else {
            continue;
        };
        let col = match &f {
            Filter::NumUp(c, _)
            | Filter::NumLo(c, _)
            | Filter::DateUp(c, _)
            | Filter::DateLo(c, _)
            | Filter::Ilike(c, _)
            | Filter::Eq(c, _) => c.clone(),
        };
        if !COLUMNS.contains(&col.as_str()) || col == "ca_data" || col == "jdd_data" {
            return Err(col);
        }
        key.push(format!("{k}={v}"));
        out.push(f);
    }
    key.sort();
    Ok((out, key.join("&")))
}

const HTML_502: &str = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
const HTML_LOGIN: &str = "<!doctype html><html><head><title>GeoNature</title></head><body><form action=\"/login\" method=\"post\"><input name=\"login\"><input type=\"password\" name=\"password\"><button>Se connecter</button></form></body></html>";
const HTML_PROXY: &str = "<!doctype html><html><body><h1>Service en maintenance</h1><p>Merci de réessayer plus tard.</p></body></html>";

struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    truncate: bool,
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: body.into(),
            headers: Vec::new(),
            truncate: false,
            delay: Duration::ZERO,
        }
    }

    fn html(status: u16, body: &str) -> Reply {
        Reply {
            content_type: "text/html; charset=utf-8",
            ..Reply::json(status, body.as_bytes().to_vec())
        }
    }
}

impl Fake {
    /// Starts a fake on a free port of 127.0.0.1.
    pub fn start(settings: Settings) -> Fake {
        Fake::start_on("127.0.0.1:0", settings)
    }

    /// Starts a fake on `addr`.
    pub fn start_on(addr: &str, settings: Settings) -> Fake {
        let listener = TcpListener::bind(addr).expect("bind the fake GeoNature");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            settings,
            data: Arc::new(Data::default()),
            tokens: HashSet::new(),
            faults: Vec::new(),
            log: Vec::new(),
            cache: HashMap::new(),
            previous: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let tokens = Arc::new(AtomicU64::new(1));
        let (st, sp, tk) = (state.clone(), stop.clone(), tokens.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (st, tk) = (st.clone(), tk.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &st, &tk);
                });
            }
        });
        Fake {
            addr,
            state,
            stop,
            tokens,
        }
    }

    /// The base URL to configure (`url` of the source).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn settings(&self) -> Settings {
        self.state.lock().unwrap().settings.clone()
    }

    pub fn set_settings(&self, f: impl FnOnce(&mut Settings)) {
        let mut st = self.state.lock().unwrap();
        f(&mut st.settings);
        st.cache.clear();
    }

    pub fn add_fault(&self, fault: Fault) {
        self.state.lock().unwrap().faults.push((fault, 0));
    }

    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().unwrap().log.clear();
    }

    /// Export requests answered 200, in order.
    pub fn export_pages(&self) -> Vec<Logged> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.contains("/exports/api/") && r.status == 200)
            .collect()
    }

    /// Ids currently in the export.
    pub fn ids(&self) -> Vec<u64> {
        let st = self.state.lock().unwrap();
        st.data.all_ids(&st.settings).collect()
    }

    /// The current JSON of row `id` (as the export serves it).
    pub fn row(&self, id: u64) -> Option<serde_json::Value> {
        let st = self.state.lock().unwrap();
        st.data
            .exists(&st.settings, id)
            .then(|| serde_json::from_str(&st.settings.row(id, st.data.change(id))).unwrap())
    }

    /// The UUID row `id` has (or would have).
    pub fn uuid(&self, id: u64) -> String {
        let st = self.state.lock().unwrap();
        st.data
            .change(id)
            .and_then(|c| c.uuid.clone())
            .unwrap_or_else(|| st.settings.uuid(id))
    }

    fn edit<R>(&self, f: impl FnOnce(&Settings, &mut Data) -> R) -> R {
        edit_state(&self.state, f)
    }

    /// Modifies the rows `ids` (new version, `derniere_action = stamp`).
    pub fn modify(&self, ids: &[u64], stamp: &str) {
        self.edit(|_, d| modify(d, ids, stamp));
    }

    /// Gives row `id` another `id_perm_sinp` (and stamps it unless `stamp` is empty).
    pub fn set_uuid(&self, id: u64, uuid: &str, stamp: &str) {
        self.edit(|s, d| {
            let c = change_of(s, d, id);
            c.uuid = Some(uuid.into());
            if !stamp.is_empty() {
                c.derniere_action = stamp.into();
            }
        });
    }

    /// Makes row `id` carry a `jdd_data` object with a null `ca_data`.
    pub fn set_jdd_without_ca(&self, id: u64) {
        self.edit(|s, d| change_of(s, d, id).jdd_without_ca = true);
    }

    /// Adds `n` rows after the largest id; returns their ids.
    pub fn add(&self, n: u64, stamp: &str) -> Vec<u64> {
        self.edit(|s, d| add(s, d, n, stamp))
    }

    /// Deletes rows (they leave the export and enter the deletion feed at `stamp`).
    pub fn delete(&self, ids: &[u64], stamp: &str) {
        self.edit(|_, d| {
            for id in ids {
                d.deleted.insert(*id, stamp.into());
            }
        });
    }

    /// Logs deletions of ids this export never had (other sources of the instance).
    pub fn foreign_deletions(&self, ids: &[u64], stamp: &str) {
        self.edit(|_, d| {
            d.foreign
                .extend(ids.iter().map(|i| (*i, stamp.to_string())))
        });
    }

    /// Spreads `modify`, `add`, `delete` and `foreign` changes over the export (benchmark).
    pub fn mutate(&self, modify: u64, add: u64, delete: u64, foreign: u64, stamp: &str) {
        self.edit(|s, d| mutate(s, d, modify, add, delete, foreign, stamp));
    }
}

fn edit_state<R>(state: &Mutex<State>, f: impl FnOnce(&Settings, &mut Data) -> R) -> R {
    let mut st = state.lock().unwrap();
    let mut data = (*st.data).clone();
    let r = f(&st.settings, &mut data);
    data.version += 1;
    st.data = Arc::new(data);
    st.cache.clear();
    r
}

fn change_of<'d>(s: &Settings, d: &'d mut Data, id: u64) -> &'d mut Change {
    if d.added.contains_key(&id) {
        return d.added.get_mut(&id).unwrap();
    }
    let base = s.base_action(id);
    d.changes.entry(id).or_insert(Change {
        version: 0,
        derniere_action: base,
        uuid: None,
        jdd_without_ca: false,
    })
}

fn modify(d: &mut Data, ids: &[u64], stamp: &str) {
    for id in ids {
        let c = match d.added.get_mut(id) {
            Some(c) => c,
            None => d.changes.entry(*id).or_insert(Change {
                version: 0,
                derniere_action: String::new(),
                uuid: None,
                jdd_without_ca: false,
            }),
        };
        c.version += 1;
        c.derniere_action = stamp.into();
    }
}

fn add(s: &Settings, d: &mut Data, n: u64, stamp: &str) -> Vec<u64> {
    let first = d.max_id(s) + 1;
    let ids: Vec<u64> = (first..first + n).collect();
    for id in &ids {
        d.added.insert(
            *id,
            Change {
                version: 0,
                derniere_action: stamp.into(),
                uuid: None,
                jdd_without_ca: false,
            },
        );
    }
    ids
}

fn mutate(
    s: &Settings,
    d: &mut Data,
    modify_n: u64,
    add_n: u64,
    delete_n: u64,
    foreign_n: u64,
    stamp: &str,
) {
    let ids: Vec<u64> = d.all_ids(s).collect();
    let n = ids.len() as u64;
    let pick = |count: u64, salt: u64| -> Vec<u64> {
        if count == 0 || n == 0 {
            return Vec::new();
        }
        let step = (n / count).max(1);
        (0..count.min(n))
            .map(|k| ids[((k * step + salt % step) % n) as usize])
            .collect()
    };
    let modified = pick(modify_n, 1);
    let modified_set: HashSet<u64> = modified.iter().copied().collect();
    modify(d, &modified, stamp);
    for id in pick(delete_n, 2)
        .into_iter()
        .filter(|i| !modified_set.contains(i))
    {
        d.deleted.insert(id, stamp.into());
    }
    add(s, d, add_n, stamp);
    let top = d.max_id(s);
    d.foreign
        .extend((0..foreign_n).map(|k| (top + 1_000_000 + k, stamp.to_string())));
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    cookie: Option<String>,
    body: Vec<u8>,
    close: bool,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut length = 0usize;
    let mut cookie = None;
    let mut close = false;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => length = v.parse().unwrap_or(0),
                "cookie" => cookie = Some(v.to_string()),
                "connection" => close = v.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (path, qs) = target.split_once('?').unwrap_or((&target, ""));
    let query = url::form_urlencoded::parse(qs.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok(Some(Request {
        method,
        path: path.to_string(),
        query,
        cookie,
        body,
        close,
    }))
}

fn serve(conn: TcpStream, state: &Mutex<State>, tokens: &AtomicU64) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(120)))?;
    conn.set_nodelay(true)?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    while let Some(req) = read_request(&mut reader)? {
        let (reply, logged) = handle(&req, state, tokens);
        std::thread::sleep(reply.delay);
        let announced = if reply.truncate {
            reply.body.len() + 64
        } else {
            reply.body.len()
        };
        let sent = if reply.truncate {
            &reply.body[..reply.body.len() / 2]
        } else {
            &reply.body[..]
        };
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {announced}\r\n",
            reply.status,
            reason(reply.status),
            reply.content_type
        );
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let close = req.close || reply.truncate;
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        state.lock().unwrap().log.push(logged);
        out.write_all(head.as_bytes())?;
        out.write_all(sent)?;
        out.flush()?;
        if close {
            let _ = out.shutdown(std::net::Shutdown::Both);
            return Ok(());
        }
    }
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        490 => "Bad Login",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "X",
    }
}

fn token_of(cookie: &Option<String>) -> Option<String> {
    cookie.as_ref().and_then(|c| {
        c.split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v.to_string())
    })
}

fn refuse(refusal: Refusal, path: &str) -> Reply {
    match refusal {
        Refusal::Unauthorized => Reply::json(401, r#"{"msg":"Token expired or invalid"}"#),
        Refusal::LoginPage => Reply::html(200, HTML_LOGIN),
        Refusal::RedirectToLogin => {
            let mut r = Reply::json(302, Vec::new());
            r.headers.push((
                "Location".into(),
                format!("/geonature/login?next={}", path.trim_start_matches('/')),
            ));
            r
        }
    }
}

fn fault_reply(action: &Action, refusal: Refusal, path: &str) -> Option<Reply> {
    Some(match action {
        Action::Status(s) if *s >= 500 => Reply::html(*s, HTML_502),
        Action::Status(s) => Reply::json(*s, format!("{{\"msg\":\"error {s}\"}}")),
        Action::Html => Reply::html(200, HTML_PROXY),
        Action::LoginPage => Reply::html(200, HTML_LOGIN),
        Action::Redirect => refuse(Refusal::RedirectToLogin, path),
        Action::ExpireSession => refuse(refusal, path),
        Action::NoItems => Reply::json(200, r#"{"msg":"Une erreur est survenue","type":"error"}"#),
        _ => return None,
    })
}

fn handle(req: &Request, state: &Mutex<State>, tokens: &AtomicU64) -> (Reply, Logged) {
    let mut logged = Logged {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        status: 0,
        page: None,
        ids: None,
    };
    let target = if req.path.ends_with("/api/auth/login") {
        Some(Target::Login)
    } else if req.path.ends_with("/api/gn_commons/modules") {
        Some(Target::Modules)
    } else if req.path.contains("/api/exports/api/") {
        Some(Target::Export)
    } else if req.path.ends_with("/api/synthese/log") {
        Some(Target::Log)
    } else {
        None
    };
    let reply = match target {
        Some(t) => endpoint(t, req, state, tokens, &mut logged),
        None if req.path.ends_with("/login") => Reply::html(200, HTML_LOGIN),
        None if req.path == "/_fake/mutate" => {
            let q = |k: &str| {
                req.query
                    .iter()
                    .find(|(a, _)| a == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let n = |k: &str| q(k).parse::<u64>().unwrap_or(0);
            edit_state(state, |s, d| {
                mutate(
                    s,
                    d,
                    n("modify"),
                    n("add"),
                    n("delete"),
                    n("foreign"),
                    &q("stamp"),
                )
            });
            Reply::json(200, "{\"ok\":true}")
        }
        None => Reply::json(404, r#"{"msg":"not found"}"#),
    };
    logged.status = reply.status;
    (reply, logged)
}

fn endpoint(
    target: Target,
    req: &Request,
    state: &Mutex<State>,
    tokens: &AtomicU64,
    logged: &mut Logged,
) -> Reply {
    let mut st = state.lock().unwrap();
    let refusal = st.settings.refusal;
    // Logical page of an export request (for faults).
    let page = if target == Target::Export {
        export_page_index(&mut st, &req.query)
    } else if target == Target::Log {
        param(&req.query, "page")
            .and_then(|p| p.parse::<u64>().ok())
            .map(|p| p.saturating_sub(1))
    } else {
        None
    };
    logged.page = page;
    let mut fired: Option<Action> = None;
    for (f, hits) in st.faults.iter_mut() {
        if f.target != target {
            continue;
        }
        if f.page.is_some() && f.page != page {
            continue;
        }
        if let Some(t) = f.times {
            if *hits >= t {
                continue;
            }
        }
        *hits += 1;
        fired = Some(f.action.clone());
        break;
    }
    let mut delay = Duration::ZERO;
    let mut truncate = false;
    let mut repeat = false;
    let mut short = false;
    let mut hide_exports = false;
    if let Some(action) = &fired {
        if *action == Action::ExpireSession {
            st.tokens.clear();
        }
        match action {
            Action::Stall(d) => delay = *d,
            Action::Truncate => truncate = true,
            Action::RepeatPrevious => repeat = true,
            Action::Short => short = true,
            Action::HideExports => hide_exports = true,
            a => {
                if let Some(r) = fault_reply(a, refusal, &req.path) {
                    return r;
                }
            }
        }
    }
    if target == Target::Login {
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let ok = body["login"] == st.settings.user.as_str()
            && body["password"] == st.settings.password.as_str();
        if !ok {
            let status = st.settings.bad_login_status;
            return Reply::json(
                status,
                r#"{"type":"password","msg":"Mot de passe ou identifiant incorrect"}"#,
            );
        }
        let token = format!("tk{}", tokens.fetch_add(1, Ordering::SeqCst));
        st.tokens.insert(token.clone());
        let mut r = Reply::json(
            200,
            format!(
                "{{\"user\":{{\"identifiant\":\"{}\",\"id_role\":3}},\"expires\":\"2099-01-01T00:00:00\"}}",
                st.settings.user
            ),
        );
        r.headers.push((
            "Set-Cookie".into(),
            format!("token={token}; Path=/; HttpOnly"),
        ));
        return r;
    }
    let authed = token_of(&req.cookie).is_some_and(|t| st.tokens.contains(&t));
    if !authed {
        return refuse(refusal, &req.path);
    }
    let mut reply = match target {
        Target::Modules => {
            let mut mods = vec![
                r#"{"id_module":1,"module_code":"GEONATURE","module_path":"geonature","module_label":"GeoNature"}"#,
                r#"{"id_module":3,"module_code":"SYNTHESE","module_path":"synthese","module_label":"Synthèse"}"#,
            ];
            if !hide_exports {
                mods.push(r#"{"id_module":7,"module_code":"EXPORTS","module_path":"exports","module_label":"Exports"}"#);
            }
            Reply::json(200, format!("[{}]", mods.join(",")))
        }
        Target::Export => {
            let latency = st.settings.latency;
            let r = export(&mut st, req, repeat, short, logged);
            drop(st);
            std::thread::sleep(latency);
            let mut r = r;
            r.delay = delay;
            r.truncate = truncate;
            return r;
        }
        Target::Log => deletions(&st, req),
        Target::Login => unreachable!(),
    };
    reply.delay = delay;
    reply.truncate = truncate;
    reply
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
}

fn effective_limit(st: &State, q: &[(String, String)]) -> u64 {
    param(q, "limit")
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(1000)
        .clamp(1, st.settings.max_limit)
}

/// The filtered ids of a query (cached per filter set and data version).
fn filtered(st: &mut State, q: &[(String, String)]) -> Result<Arc<Vec<u64>>, String> {
    let (fs, key) = filters(q)?;
    if let Some((v, ids)) = st.cache.get(&key) {
        if *v == st.data.version {
            return Ok(ids.clone());
        }
    }
    let data = st.data.clone();
    let s = &st.settings;
    let ids: Vec<u64> = data
        .all_ids(s)
        .filter(|id| {
            let ch = data.change(*id);
            fs.iter().all(|f| f.matches(s, *id, ch))
        })
        .collect();
    let ids = Arc::new(ids);
    if st.cache.len() > 16 {
        st.cache.clear();
    }
    st.cache.insert(key, (data.version, ids.clone()));
    Ok(ids)
}

fn export_page_index(st: &mut State, q: &[(String, String)]) -> Option<u64> {
    let limit = effective_limit(st, q);
    let ids = filtered(st, q).ok()?;
    let start = match param(q, "filter_n_up_id_synthese").and_then(|v| v.parse::<u64>().ok()) {
        Some(c) => ids.partition_point(|i| *i < c),
        None => 0,
    };
    let offset: u64 = param(q, "offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    Some(start as u64 / limit + offset)
}

fn export(st: &mut State, req: &Request, repeat: bool, short: bool, logged: &mut Logged) -> Reply {
    let q = &req.query;
    let expected = format!("/api/exports/api/{}", st.settings.export_id);
    if !req.path.ends_with(&expected) {
        return Reply::json(404, r#"{"msg":"Export not found"}"#);
    }
    let limit = effective_limit(st, q);
    let ids = match filtered(st, q) {
        Ok(ids) => ids,
        Err(col) => {
            return Reply::html(
                500,
                &format!("<h1>Internal Server Error</h1><p>column \"{col}\" does not exist</p>"),
            )
        }
    };
    let desc = param(q, "orderby").is_some_and(|o| o.ends_with(":desc"));
    let cursor = param(q, "filter_n_up_id_synthese").and_then(|v| v.parse::<u64>().ok());
    let start = cursor.map(|c| ids.partition_point(|i| *i < c)).unwrap_or(0);
    let offset: u64 = param(q, "offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let available = ids.len() - start;
    let (from, to) = if repeat {
        st.previous
            .map(|(a, b)| (a as usize, b as usize))
            .unwrap_or((0, 0))
    } else {
        let from = start + ((offset * limit) as usize).min(available);
        (from, (from + limit as usize).min(ids.len()))
    };
    let to = if short { from + (to - from) / 2 } else { to };
    st.previous = Some((from as u64, to as u64));
    let mut slice: Vec<u64> = ids[from..to].to_vec();
    if desc {
        slice = ids
            .iter()
            .rev()
            .skip(offset as usize * limit as usize)
            .take(limit as usize)
            .copied()
            .collect();
    }
    let total = st.settings.rows as usize + st.data.added.len() - st.data.deleted.len();
    let mut body = String::with_capacity(slice.len() * 1100 + 256);
    body.push_str(&format!(
        "{{\"total\":{total},\"total_filtered\":{},\"page\":{offset},\"limit\":{limit},\"items\":[",
        ids.len() - start
    ));
    for (k, id) in slice.iter().enumerate() {
        if k > 0 {
            body.push(',');
        }
        body.push_str(&st.settings.row(*id, st.data.change(*id)));
    }
    body.push_str("],\"license\":{\"name\":\"Licence Ouverte/Open Licence Version 2.0\",\"href\":\"https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf\"}}");
    logged.ids = slice.first().map(|f| (*f, *slice.last().unwrap()));
    Reply::json(200, body)
}

fn deletions(st: &State, req: &Request) -> Reply {
    let q = &req.query;
    let limit = param(q, "limit")
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(50)
        .clamp(1, st.settings.max_limit);
    let page = param(q, "page")
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    let since = param(q, "meta_last_action_date")
        .and_then(|d| d.strip_prefix("gte:"))
        .and_then(parse_ts);
    let mut events: Vec<(u64, &str)> = st
        .data
        .deleted
        .iter()
        .map(|(i, d)| (*i, d.as_str()))
        .chain(st.data.foreign.iter().map(|(i, d)| (*i, d.as_str())))
        .filter(|(_, d)| match (since, parse_ts(d)) {
            (Some(s), Some(d)) => d >= s,
            _ => true,
        })
        .collect();
    events.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
    let total = events.len();
    let items: Vec<String> = events
        .iter()
        .skip(((page - 1) * limit) as usize)
        .take(limit as usize)
        .map(|(id, d)| {
            format!(
                "{{\"id_synthese\":{id},\"last_action\":\"D\",\"meta_last_action_date\":\"{d}\"}}"
            )
        })
        .collect();
    Reply::json(
        200,
        format!(
            "{{\"items\":[{}],\"total\":{total},\"limit\":{limit},\"page\":{page}}}",
            items.join(",")
        ),
    )
}
