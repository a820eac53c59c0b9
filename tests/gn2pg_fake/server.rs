//! The fake's HTTP side: HTTP/1.1 with keep-alive, the endpoints, the injected faults.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::rows::{filters, parse_ts};
use super::{edit_state, mutate, Action, Logged, Refusal, State, Target};

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
    /// Send the body one byte at this interval after announcing 100 MB.
    trickle: Option<Duration>,
    /// Stream this many `x` bytes, then `filler_suffix`, after the body.
    filler: usize,
}

const FILLER_SUFFIX: &[u8] = b"\"}]}";

impl Reply {
    fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: body.into(),
            headers: Vec::new(),
            truncate: false,
            delay: Duration::ZERO,
            trickle: None,
            filler: 0,
        }
    }

    fn html(status: u16, body: &str) -> Reply {
        Reply {
            content_type: "text/html; charset=utf-8",
            ..Reply::json(status, body.as_bytes().to_vec())
        }
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

pub(super) fn serve(
    conn: TcpStream,
    state: &Mutex<State>,
    tokens: &AtomicU64,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(120)))?;
    conn.set_nodelay(true)?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    while let Some(req) = read_request(&mut reader)? {
        let (reply, mut logged) = handle(&req, state, tokens);
        std::thread::sleep(reply.delay);
        let announced = if reply.trickle.is_some() {
            10_000_000
        } else if reply.truncate {
            reply.body.len() + 64
        } else if reply.filler > 0 {
            reply.body.len() + reply.filler + FILLER_SUFFIX.len()
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
        let close = req.close || reply.truncate || reply.trickle.is_some() || reply.filler > 0;
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        logged.bytes = (head.len() + sent.len() + reply.filler) as u64;
        state.lock().unwrap().log.push(logged);
        out.write_all(head.as_bytes())?;
        if let Some(every) = reply.trickle {
            // One byte at a time, bounded (10 minutes at most), until the client gives up.
            for b in sent.iter().cycle().take(600) {
                if out
                    .write_all(std::slice::from_ref(b))
                    .and_then(|_| out.flush())
                    .is_err()
                {
                    return Ok(());
                }
                std::thread::sleep(every);
            }
            return Ok(());
        }
        out.write_all(sent)?;
        if reply.filler > 0 {
            let chunk = vec![b'x'; 1 << 20];
            let mut left = reply.filler;
            while left > 0 {
                let k = left.min(chunk.len());
                if out.write_all(&chunk[..k]).is_err() {
                    return Ok(());
                }
                left -= k;
            }
            out.write_all(FILLER_SUFFIX)?;
        }
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
        bytes: 0,
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
        None if req.path == "/_fake/ids" => {
            // Every id of the export, one a line (benchmark: what a copy should hold).
            let st = state.lock().unwrap();
            let mut body = String::new();
            for id in st.data.all_ids(&st.settings) {
                body.push_str(&id.to_string());
                body.push('\n');
            }
            Reply::json(200, body)
        }
        None if req.path == "/_fake/stats" => {
            // Requests and bytes served (head and body) since the last reset, the fake's own
            // endpoints aside (benchmark); `?reset=1` empties the log afterwards.
            let mut st = state.lock().unwrap();
            let served: Vec<&Logged> = st
                .log
                .iter()
                .filter(|l| !l.path.starts_with("/_fake/"))
                .collect();
            let export: Vec<&&Logged> = served
                .iter()
                .filter(|l| l.path.contains("/exports/api/"))
                .collect();
            let body = format!(
                "{{\"requests\":{},\"bytes\":{},\"export_requests\":{},\"export_bytes\":{}}}",
                served.len(),
                served.iter().map(|l| l.bytes).sum::<u64>(),
                export.len(),
                export.iter().map(|l| l.bytes).sum::<u64>()
            );
            if param(&req.query, "reset").is_some() {
                st.log.clear();
            }
            Reply::json(200, body)
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
    let mut trickle = None;
    let mut huge = 0usize;
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
            Action::Trickle(d) => trickle = Some(*d),
            Action::Huge(n) => huge = *n,
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
            r.trickle = trickle;
            if huge > 0 {
                r = Reply::json(
                    200,
                    r#"{"total":1,"total_filtered":1,"limit":1000,"page":0,"items":[{"id_synthese":1,"huge":""#,
                );
                r.filler = huge;
            }
            return r;
        }
        Target::Log => deletions(&st, req),
        Target::Login => unreachable!(),
    };
    reply.delay = delay;
    reply.truncate = truncate;
    reply.trickle = trickle;
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
    if let Some(mid) = st.settings.metadata_export_id {
        if req.path.ends_with(&format!("/api/exports/api/{mid}")) {
            let offset: u64 = param(q, "offset").and_then(|o| o.parse().ok()).unwrap_or(0);
            let limit = effective_limit(st, q);
            return Reply::json(200, super::meta::page(&st.settings, limit, offset));
        }
    }
    let expected = format!("/api/exports/api/{}", st.settings.export_id);
    if !req.path.ends_with(&expected) {
        return Reply::json(404, r#"{"msg":"Export not found"}"#);
    }
    let limit = effective_limit(st, q);
    let all = match filtered(st, q) {
        Ok(ids) => ids,
        Err(col) => {
            return Reply::html(
                500,
                &format!("<h1>Internal Server Error</h1><p>column \"{col}\" does not exist</p>"),
            )
        }
    };
    let ids: &[u64] = &all;
    let desc = param(q, "orderby").is_some_and(|o| o.ends_with(":desc"));
    // GeoNature's `filter_n_up_<col>` is `col >= v` and `filter_n_lo_<col>` is `col <= v`
    // (utils_flask_sqla's GenericQuery): both ends of an id range are inclusive.
    let end = param(q, "filter_n_lo_id_synthese")
        .and_then(|v| v.parse::<u64>().ok())
        .map(|c| ids.partition_point(|i| *i <= c))
        .unwrap_or(ids.len());
    let cursor = param(q, "filter_n_up_id_synthese").and_then(|v| v.parse::<u64>().ok());
    let start = cursor
        .map(|c| ids.partition_point(|i| *i < c))
        .unwrap_or(0)
        .min(end);
    let ids = &ids[..end];
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
        slice = ids[start..]
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
        "{{\"total\":{total},\"total_filtered\":{},\"page\":{offset},\"limit\":{limit},\"items\":",
        ids.len() - start
    ));
    let geo = st.settings.geometry;
    body.push_str(if geo {
        "{\"type\":\"FeatureCollection\",\"features\":["
    } else {
        "["
    });
    let mut first = true;
    for id in &slice {
        let row = st.settings.row(*id, st.data.change(*id));
        if geo {
            // GeoNature drops the features whose geometry is null.
            let Some(g) = st.settings.geometry(*id, &st.data) else {
                continue;
            };
            if !std::mem::take(&mut first) {
                body.push(',');
            }
            body.push_str(&format!(
                "{{\"type\":\"Feature\",\"id\":{id},\"geometry\":{g},\"properties\":{row}}}"
            ));
        } else {
            if !std::mem::take(&mut first) {
                body.push(',');
            }
            body.push_str(&row);
        }
    }
    body.push_str(if geo { "]}" } else { "]" });
    body.push_str(",\"license\":{\"name\":\"Licence Ouverte/Open Licence Version 2.0\",\"href\":\"https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf\"}}");
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
    // GeoNature's log holds creations and changes too; only `last_action=D` keeps deletions.
    let only_deletions = param(q, "last_action") == Some("D");
    let changes = st
        .data
        .changes
        .iter()
        .filter(|(i, c)| c.version > 0 && !st.data.deleted.contains_key(*i))
        .map(|(i, c)| (*i, c.derniere_action.as_str(), "U"))
        .chain(
            st.data
                .added
                .iter()
                .filter(|(i, _)| !st.data.deleted.contains_key(*i))
                .map(|(i, c)| (*i, c.derniere_action.as_str(), "I")),
        )
        .filter(|_| !only_deletions);
    let mut events: Vec<(u64, &str, &str)> = st
        .data
        .deleted
        .iter()
        .map(|(i, d)| (*i, d.as_str(), "D"))
        .chain(st.data.foreign.iter().map(|(i, d)| (*i, d.as_str(), "D")))
        .chain(changes)
        .filter(|(_, d, _)| match (since, parse_ts(d)) {
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
        .map(|(id, d, a)| {
            format!(
                "{{\"id_synthese\":{id},\"last_action\":\"{a}\",\"meta_last_action_date\":\"{d}\"}}"
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
