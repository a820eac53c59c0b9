//! A fake GeoNature for the gn2pg tests and benchmark, on 127.0.0.1 (std only, HTTP/1.1 with
//! keep-alive, one thread per connection): the login (`POST /api/auth/login`, session cookie,
//! HTTP 490 on a bad password like pypnusershub), the module list, one export view
//! (`/api/exports/api/<id>`: `limit` capped, `offset` as a 0-based page number,
//! `orderby=id_synthese[:asc|:desc]`, `filter_n_up_/filter_n_lo_`, `filter_d_up_/filter_d_lo_`,
//! `ilike_<col>`, `<col>=v`, unknown parameters ignored, a filter on a column the view lacks → 500)
//! and the deletion feed (`/api/synthese/log`, 1-based `page`, default `limit=50`, no
//! `total_filtered`, creations and changes (`I`/`U`) mixed with the deletions unless
//! `last_action=D` is sent). Values are written as GeoNature serialises them
//! (`rows::serialise`: `numeric` as strings, a numeric zero as `null`, timestamps as Python's
//! `str(datetime)`); with [`Settings::geometry`] `items` is a GeoJSON FeatureCollection whose
//! rows with a null geometry are dropped (so a page in the middle can be short).
//!
//! Rows are generated from a seed (nothing stored but the changes), so a million rows cost no
//! memory: [`Fake::mutate`] modifies, adds and deletes rows (stamping `derniere_action` with the
//! time the caller gives, in the source's time zone). [`Fault`]s are injected per endpoint and
//! logical page (0-based, `offset` or `cursor position / limit`): error statuses, HTML pages,
//! login pages, redirects to `login?next=`, expired sessions, bodies without `items`, truncated
//! bodies, stalls, repeated pages. Every request is recorded ([`Fake::requests`]).
//! With `metadata_export_id` set, a metadata export (acquisition frameworks with their datasets,
//! see `meta.rs`) answers beside the data export.
//! `/_fake/mutate?modify=N&add=N&delete=N&foreign=N&stamp=…` does the same over HTTP (benchmark);
//! `/_fake/stats[?reset=1]` answers the requests and bytes served so far, `/_fake/ids` every id.
//! `filter_n_up_<col>`/`filter_n_lo_<col>` are inclusive (`>=`/`<=`), as GeoNature's.
#![allow(dead_code)]

mod meta;
mod rows;
mod server;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[allow(unused_imports)]
pub use meta::{dataset_uuid, datasets_of, framework_uuid};
#[allow(unused_imports)]
pub use rows::{base_id, COLUMNS};
use server::serve;

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
    /// Send the headers (announcing 10 MB), then one byte of the page at this interval: a body
    /// that never ends.
    Trickle(Duration),
    /// A 200 page holding one item with a string of this many bytes (streamed, never held).
    Huge(usize),
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
    /// The metadata export's id (frameworks with nested `datasets`, see `meta.rs`); `None`: the
    /// fake has no metadata export.
    pub metadata_export_id: Option<u64>,
    /// Acquisition frameworks in the metadata export.
    pub metadata_frameworks: u64,
    /// Bumped to edit the metadata export's names (a metadata change in GeoNature).
    pub metadata_version: u32,
    /// The view has a geometry column: `items` is a GeoJSON FeatureCollection (the geometry in
    /// each feature, the other columns in `properties`), rows with a null geometry dropped.
    pub geometry: bool,
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
            metadata_export_id: None,
            metadata_frameworks: 9,
            metadata_version: 0,
            geometry: false,
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
    /// Rows whose geometry is null.
    no_geometry: HashSet<u64>,
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
    /// Bytes sent (head and body).
    pub bytes: u64,
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

    /// Ids a client can receive: [`Fake::ids`] less the rows a GeoJSON export drops.
    pub fn served_ids(&self) -> Vec<u64> {
        let st = self.state.lock().unwrap();
        let geo = st.settings.geometry;
        st.data
            .all_ids(&st.settings)
            .filter(|id| !geo || !st.data.no_geometry.contains(id))
            .collect()
    }

    /// The current JSON of row `id` as a client stores it: the item the export serves (for a
    /// GeoJSON export, the feature's properties with its geometry under `geometry`).
    pub fn row(&self, id: u64) -> Option<serde_json::Value> {
        let st = self.state.lock().unwrap();
        if !st.data.exists(&st.settings, id) {
            return None;
        }
        let mut v: serde_json::Value =
            serde_json::from_str(&st.settings.row(id, st.data.change(id))).unwrap();
        if st.settings.geometry {
            let g = st.settings.geometry(id, &st.data)?;
            v["geometry"] = serde_json::from_str(&g).unwrap();
        }
        Some(v)
    }

    /// Gives rows `ids` a null geometry (a GeoJSON export then drops them).
    pub fn set_null_geometry(&self, ids: &[u64]) {
        self.edit(|_, d| d.no_geometry.extend(ids.iter().copied()));
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
