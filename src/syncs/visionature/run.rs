//! `transfer --full` and `transfer --update` of one site into one schema
//! (docs/syncs/visionature.md §7).
//!
//! - Reference controllers first (territorial units before observations, local admin units
//!   before places), each in one transaction with its `controller_state` time; `--update`
//!   downloads only those older than their `refresh` age.
//! - Full, per taxo group: windows walked backwards from `--to`/today down to
//!   `--from`/`start_date` (clamped), one search per window × territorial unit, the window length
//!   steered towards `pid.setpoint` sightings per request ([`next_delta`]). Downloads run one
//!   request ahead of the database writes (a producer thread). The group's watermark (its search
//!   start time, site-local) is inserted only where none exists, in the transaction of the
//!   group's last batch, and only when every request of the group succeeded.
//! - Update, per taxo group and its own watermark: `diff` since the watermark, `updated` ids
//!   re-fetched in `max_list_length` chunks, `deleted` ids removed with their tombstones and
//!   orphan forms; or, when the watermark is older than `diff_max_age`, a windowed search by entry
//!   date. The new watermark (`now − diff_overlap`) is written in the last transaction, with the
//!   last chunk and the deletions, only when every chunk succeeded.
//!
//! What can fail: an API request (the group is named in a problem, exit 1; 401/403 skips the
//! group), the database (fatal, [`PgError`]).

use std::sync::mpsc;

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use serde_json::{json, Value};

use super::config::{SiteConfig, TypeDate, VisionatureConfig};
use super::proj::Projector;
use super::remote::{Api, ApiError, Fetched};
use super::store::{self, LogRow, Prepared};
use crate::fetch::http::Method;
use crate::pg::run_log::RunCounts;
use crate::pg::{Client, PgError};
use crate::progress::{Progress, Unit};

/// One site, one schema.
pub struct Ctx<'a> {
    pub cfg: &'a VisionatureConfig,
    pub site: &'a SiteConfig,
    pub api: Api,
    pub schema: String,
    pub tz: Tz,
    pub proj: Projector,
}

/// What a transfer did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub counts: RunCounts,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
    /// Requests that failed after their retries (fix-sync's completeness).
    pub failed_requests: u64,
    pub forms_deleted: u64,
}

impl Outcome {
    fn problem(&mut self, text: String) {
        tracing::warn!("{text}");
        self.counts.errors += 1;
        self.problems.push(text);
    }
}

/// Options of a full transfer.
#[derive(Debug, Clone)]
pub struct FullOptions {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub type_date: TypeDate,
    /// Insert missing watermarks (not for fix-sync's check download).
    pub watermarks: bool,
}

/// A taxo group to download.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: i32,
    pub name: String,
}

/// The authenticated healthcheck: `GET taxo_groups`.
pub fn healthcheck(ctx: &Ctx<'_>) -> Result<Fetched, ApiError> {
    ctx.api.list("taxo_groups", &[])
}

/// The groups to download: not `access_mode == "none"`, not excluded.
pub fn groups(ctx: &Ctx<'_>, taxo: &Fetched) -> Vec<Group> {
    taxo.data
        .iter()
        .filter(|g| g.get("access_mode").and_then(Value::as_str) != Some("none"))
        .filter(|g| {
            let constant = g.get("name_constant").and_then(Value::as_str).unwrap_or("");
            !ctx.cfg.filter.taxo_exclude.iter().any(|x| x == constant)
        })
        .filter_map(|g| {
            let id = match g.get("id")? {
                Value::Number(n) => n.as_i64()?,
                Value::String(s) => s.trim().parse().ok()?,
                _ => return None,
            };
            Some(Group {
                id: i32::try_from(id).ok()?,
                name: g
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            })
        })
        .collect()
}

fn log_row(controler: &str, comment: String, f: Option<&Fetched>, e: Option<&ApiError>) -> LogRow {
    LogRow {
        controler: controler.into(),
        error_count: i32::from(e.is_some()),
        http_status: f
            .map(|f| f.status)
            .or_else(|| e.and_then(ApiError::status))
            .unwrap_or(0)
            .into(),
        comment: comment.chars().take(500).collect(),
        length: f.map(|f| f.bytes as i64).unwrap_or(0),
        duration_us: f.map(|f| f.duration.as_micros() as i64).unwrap_or(0),
    }
}

/// A reference request: target controller, path, query parameters.
type Request<'a> = (&'a str, String, Vec<(&'a str, String)>);

const REFERENCE: &[&str] = &[
    "taxo_groups",
    "territorial_units",
    "local_admin_units",
    "places",
    "species",
    "observers",
    "entities",
    "families",
    "validations",
    "fields",
];

/// Downloads the site's reference controllers (all it downloads, or only those older than their
/// refresh age); one refused (401/403) is a problem naming the setting that disables it.
pub fn references(
    ctx: &Ctx<'_>,
    client: &mut Client,
    taxo: &Fetched,
    only_stale: bool,
    out: &mut Outcome,
) -> Result<(), PgError> {
    let site = ctx.site.name.as_str();
    let fresh = if only_stale {
        store::fresh_controllers(client, &ctx.schema, site, &|c| ctx.cfg.refresh.of(c))?
    } else {
        Vec::new()
    };
    let units = &ctx.cfg.filter.territorial_unit_ids;
    for &controller in REFERENCE {
        if !ctx.site.downloads(controller) {
            tracing::info!(site, controller, "controller disabled: table left as it is");
            continue;
        }
        if fresh.iter().any(|c| c == controller) {
            continue;
        }
        // Each item: (target table, request path, params).
        let mut requests: Vec<Request<'_>> = Vec::new();
        let json_table = |c: &str| format!("{c}_json");
        match controller {
            "taxo_groups" => {}
            "local_admin_units" if !units.is_empty() => {
                for u in units {
                    requests.push((
                        controller,
                        controller.into(),
                        vec![("id_canton", u.clone())],
                    ));
                }
            }
            "places" if !units.is_empty() => {
                let communes = store::local_admin_units(client, &ctx.schema, site, units)?;
                if communes.is_empty() && !ctx.site.downloads("local_admin_units") {
                    out.warnings.push(format!(
                        "{site}: places: no local admin unit of the territorial units is stored and local_admin_units is disabled: no place downloaded"
                    ));
                }
                for commune in communes {
                    requests.push((
                        controller,
                        controller.into(),
                        vec![
                            ("id_commune", commune.to_string()),
                            ("get_hidden", "1".into()),
                        ],
                    ));
                }
            }
            "species" => {
                for g in taxo
                    .data
                    .iter()
                    .filter(|g| g.get("access_mode").and_then(Value::as_str) != Some("none"))
                {
                    if let Some(id) = g.get("id") {
                        let id = match id {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        requests.push((controller, controller.into(), vec![("id_taxo_group", id)]));
                    }
                }
            }
            _ => requests.push((controller, controller.into(), Vec::new())),
        }
        let mut items: Vec<(String, Vec<Value>)> = Vec::new();
        let mut logs = Vec::new();
        let mut failed = None;
        if controller == "taxo_groups" {
            items.push((json_table(controller), taxo.data.clone()));
        }
        for (c, path, params) in &requests {
            match ctx.api.list(path, params) {
                Ok(f) => {
                    logs.push(log_row(c, format!("{c} {params:?}"), Some(&f), None));
                    if controller == "fields" {
                        for group in &f.data {
                            let Some(gid) = group.get("id").map(|v| match v {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            }) else {
                                continue;
                            };
                            match ctx.api.list(&format!("fields/{gid}"), &[]) {
                                Ok(d) => {
                                    let details = d
                                        .data
                                        .into_iter()
                                        .map(|mut v| {
                                            if let Value::Object(m) = &mut v {
                                                m.insert("group".into(), group["id"].clone());
                                            }
                                            v
                                        })
                                        .collect();
                                    items.push(("field_details_json".into(), details));
                                }
                                Err(e) => {
                                    failed = Some(e);
                                    break;
                                }
                            }
                        }
                        items.push(("field_groups_json".into(), f.data));
                    } else {
                        let mut data = f.data;
                        if matches!(controller, "local_admin_units" | "places") {
                            for v in &mut data {
                                store::add_local_coords(v, &ctx.proj);
                            }
                        }
                        items.push((json_table(controller), data));
                    }
                }
                Err(e) => {
                    logs.push(log_row(
                        c,
                        format!("HTTP error during download: {e}"),
                        None,
                        Some(&e),
                    ));
                    failed = Some(e);
                }
            }
            if failed.is_some() {
                break;
            }
        }
        let mut tx = client
            .transaction()
            .map_err(|e| PgError::query("begin", e))?;
        store::log_requests(&mut tx, &ctx.schema, site, &logs)?;
        if let Some(e) = failed {
            tx.commit().map_err(|e| PgError::query("commit", e))?;
            out.failed_requests += 1;
            out.problem(match e {
                ApiError::Refused { status, .. } => format!(
                    "{site}: reference list {controller}: access refused (HTTP {status}): the API user may not read it; to stop downloading it, {}",
                    ctx.site.how_to_disable(controller)
                ),
                e => format!("{site}: reference list {controller}: {e}"),
            });
            continue;
        }
        let mut n = 0;
        for (target, list) in &items {
            let (w, rejected) = store::write_reference(&mut tx, &ctx.schema, site, target, list)?;
            n += w;
            for r in rejected {
                out.problem(format!("{site}: {r}"));
            }
        }
        store::controller_done(&mut tx, &ctx.schema, site, controller)?;
        tx.commit()
            .map_err(|e| PgError::query(format!("commit {controller}"), e))?;
        tracing::info!(site, controller, rows = n, "reference list stored");
    }
    Ok(())
}

/// The next window length: `clamp(Δ + ki·(setpoint − n), limit_min, limit_max)`.
pub fn next_delta(cfg: &VisionatureConfig, delta: f64, n: usize) -> f64 {
    let p = &cfg.pid;
    (delta + p.ki * (p.setpoint - n as f64)).clamp(p.limit_min, p.limit_max)
}

/// The search windows `(start, end)` of a full transfer for a given sequence of answer sizes
/// (used by tests to check the clamping).
pub fn window_start(end: NaiveDate, delta: f64, from: NaiveDate) -> NaiveDate {
    let days = delta.round().max(1.0) as i64;
    end.checked_sub_signed(chrono::Duration::days(days))
        .unwrap_or(from)
        .max(from)
}

enum Msg {
    Batch(Prepared, LogRow, usize),
    Failed(String, LogRow, bool),
}

fn search_body(
    g: &Group,
    start: NaiveDate,
    end: NaiveDate,
    type_date: TypeDate,
    unit: Option<&str>,
) -> Value {
    let mut body = json!({
        "period_choice": "range",
        "date_from": start.format("%d.%m.%Y").to_string(),
        "date_to": end.format("%d.%m.%Y").to_string(),
        "species_choice": "all",
        "taxonomic_group": g.id.to_string(),
        "entry_date": if type_date == TypeDate::Entry { "1" } else { "0" },
    });
    if let (Some(u), Value::Object(m)) = (unit, &mut body) {
        m.insert("location_choice".into(), json!("territorial_unit"));
        m.insert("territorial_unit_ids".into(), json!([u]));
    }
    body
}

/// The units searched: `id_country || short_name` of the stored territorial units, filtered by
/// `filter.territorial_unit_ids`; read from the API when none is stored.
fn units(ctx: &Ctx<'_>, client: &mut Client) -> Result<Vec<Option<String>>, PgError> {
    let mut all = store::territorial_units(client, &ctx.schema, &ctx.site.name)?;
    if all.is_empty() {
        if let Ok(f) = ctx.api.list("territorial_units", &[]) {
            all = f
                .data
                .iter()
                .map(|u| {
                    let s = |k: &str| u.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    (
                        format!("{}{}", s("id_country"), s("short_name")),
                        s("short_name"),
                    )
                })
                .collect();
        }
    }
    let wanted = &ctx.cfg.filter.territorial_unit_ids;
    let list: Vec<Option<String>> = all
        .into_iter()
        .filter(|(_, short)| wanted.is_empty() || wanted.contains(short))
        .map(|(id, _)| Some(id))
        .collect();
    Ok(if list.is_empty() { vec![None] } else { list })
}

/// Runs windowed searches of one group and writes them; the last batch commits with `watermark`
/// (when given and every request succeeded). Returns whether every request succeeded.
#[allow(clippy::too_many_arguments)]
fn search_group(
    ctx: &Ctx<'_>,
    client: &mut Client,
    g: &Group,
    from: NaiveDate,
    to: NaiveDate,
    type_date: TypeDate,
    watermark: Option<(NaiveDateTime, bool)>,
    out: &mut Outcome,
) -> Result<bool, PgError> {
    let site = ctx.site.name.as_str();
    let units = units(ctx, client)?;
    let progress = Progress::new(
        &format!("{site} group {}", g.id),
        None,
        Unit::Items("sightings"),
    );
    let (tx_msg, rx) = mpsc::sync_channel::<Msg>(2);
    let mut ok = true;
    let mut pending: Option<(Prepared, LogRow)> = None;
    let result: Result<(), PgError> = std::thread::scope(|scope| {
        scope.spawn(|| {
            let tx_msg = tx_msg;
            let mut end = to;
            let mut delta = f64::from(ctx.cfg.pid.delta_days);
            loop {
                let start = window_start(end, delta, from);
                let mut n_max = 0;
                for unit in &units {
                    let body = search_body(g, start, end, type_date, unit.as_deref());
                    let comment = format!(
                        "{site} => taxo_group: {}, territorial_unit: {}, {} .. {}",
                        g.id,
                        unit.as_deref().unwrap_or("all"),
                        start,
                        end
                    );
                    let r = ctx.api.call(
                        Method::POST,
                        "observations/search/",
                        &[("short_version", "1".into())],
                        Some(&body),
                        "observations/search",
                    );
                    let msg = match r {
                        Ok(f) => {
                            let n = f.sighting_count();
                            n_max = n_max.max(n);
                            let log = log_row("observations", comment, Some(&f), None);
                            Msg::Batch(
                                store::prepare(f.sightings, f.forms, &ctx.proj, &ctx.tz),
                                log,
                                n,
                            )
                        }
                        Err(e) => {
                            let refused = matches!(e, ApiError::Refused { .. });
                            let log = log_row("observations", comment.clone(), None, Some(&e));
                            Msg::Failed(format!("{comment}: {e}"), log, refused)
                        }
                    };
                    let stop = matches!(msg, Msg::Failed(_, _, true));
                    if tx_msg.send(msg).is_err() || stop {
                        return;
                    }
                }
                if start <= from {
                    return;
                }
                end = start;
                delta = next_delta(ctx.cfg, delta, n_max);
            }
        });
        for msg in rx {
            match msg {
                Msg::Batch(p, log, n) => {
                    out.counts.fetched += n as u64;
                    progress.inc(n as u64);
                    if let Some((prev, prev_log)) = pending.replace((p, log)) {
                        write_batch(ctx, client, &prev, &[prev_log], None, out)?;
                    }
                }
                Msg::Failed(text, log, refused) => {
                    ok = false;
                    out.failed_requests += 1;
                    store::log_requests(client, &ctx.schema, site, &[log])?;
                    if refused {
                        out.problem(format!(
                            "{site}: taxo group {} ({}) is restricted: skipped ({text})",
                            g.id, g.name
                        ));
                    } else {
                        out.problem(format!("{site}: taxo group {} ({}): {text}", g.id, g.name));
                    }
                }
            }
        }
        Ok(())
    });
    result?;
    let mark = watermark.filter(|_| ok);
    let (p, logs) = match pending.take() {
        Some((p, l)) => (p, vec![l]),
        None => (Prepared::default(), Vec::new()),
    };
    write_batch(ctx, client, &p, &logs, mark.map(|m| (g.id, m)), out)?;
    progress.finish();
    Ok(ok)
}

fn write_batch(
    ctx: &Ctx<'_>,
    client: &mut Client,
    p: &Prepared,
    logs: &[LogRow],
    watermark: Option<(i32, (NaiveDateTime, bool))>,
    out: &mut Outcome,
) -> Result<(), PgError> {
    let site = ctx.site.name.as_str();
    let mut tx = client
        .transaction()
        .map_err(|e| PgError::query("begin", e))?;
    out.counts.upserted += store::write_prepared(&mut tx, &ctx.schema, site, p)?;
    store::log_requests(&mut tx, &ctx.schema, site, logs)?;
    if let Some((group, (ts, replace))) = watermark {
        store::set_watermark(&mut tx, &ctx.schema, site, group, ts, replace)?;
    }
    tx.commit()
        .map_err(|e| PgError::query("commit observations", e))?;
    for r in &p.rejected {
        out.problem(format!("{site}: {r}"));
    }
    Ok(())
}

/// `transfer --full` of one group.
pub fn full_group(
    ctx: &Ctx<'_>,
    client: &mut Client,
    g: &Group,
    opts: &FullOptions,
    out: &mut Outcome,
) -> Result<(), PgError> {
    let now = store::local_now(client, &ctx.tz)?;
    let start_date = ctx.cfg.start_date().unwrap_or(NaiveDate::MIN);
    let from = opts.from.unwrap_or(start_date);
    let to = opts.to.unwrap_or(now.date());
    if from > to {
        out.problem(format!(
            "{}: taxo group {}: --from {from} is after --to {to}",
            ctx.site.name, g.id
        ));
        return Ok(());
    }
    let mark = opts.watermarks.then_some((now, false));
    search_group(ctx, client, g, from, to, opts.type_date, mark, out)?;
    Ok(())
}

fn diff_ids(items: &[Value]) -> (Vec<i32>, Vec<i32>, usize) {
    let mut updated = Vec::new();
    let mut deleted = Vec::new();
    let mut unknown = 0;
    for it in items {
        let id = match it.get("id_sighting") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .and_then(|i| i32::try_from(i).ok());
        match (id, it.get("modification_type").and_then(Value::as_str)) {
            (Some(id), Some("updated")) => updated.push(id),
            (Some(id), Some("deleted")) => deleted.push(id),
            _ => unknown += 1,
        }
    }
    updated.sort_unstable();
    updated.dedup();
    deleted.sort_unstable();
    deleted.dedup();
    updated.retain(|id| deleted.binary_search(id).is_err());
    (updated, deleted, unknown)
}

/// The diff endpoint: `(updated, deleted)` ids of `group` since `since` (site-local).
pub fn diff(
    ctx: &Ctx<'_>,
    g: &Group,
    since: NaiveDateTime,
    modification_type: &str,
) -> Result<(Vec<i32>, Vec<i32>, usize, Fetched), ApiError> {
    let f = ctx.api.call(
        Method::GET,
        "observations/diff/",
        &[
            ("id_taxo_group", g.id.to_string()),
            ("modification_type", modification_type.to_string()),
            ("date", since.format("%Y-%m-%d %H:%M:%S").to_string()),
        ],
        None,
        "observations/diff",
    )?;
    let (u, d, unknown) = diff_ids(&f.data);
    Ok((u, d, unknown, f))
}

/// `transfer --update` of one group.
pub fn update_group(
    ctx: &Ctx<'_>,
    client: &mut Client,
    g: &Group,
    out: &mut Outcome,
) -> Result<(), PgError> {
    let site = ctx.site.name.as_str();
    let Some(mark) = store::watermark(client, &ctx.schema, site, g.id)? else {
        out.problem(format!(
            "{site}: taxo group {} ({}) has no watermark in {}.increment_log: run transfer --full first",
            g.id, g.name, ctx.schema
        ));
        return Ok(());
    };
    let now = store::local_now(client, &ctx.tz)?;
    let overlap = chrono::Duration::from_std(ctx.cfg.diff_overlap).unwrap_or_default();
    let max_age = chrono::Duration::from_std(ctx.cfg.diff_max_age).unwrap_or_default();
    let t0 = now - overlap;
    if mark < now - max_age {
        out.warnings.push(format!(
            "{site}: taxo group {}: watermark {mark} is older than diff_max_age: windowed search by entry date (deletions since then are not seen)",
            g.id
        ));
        let from = mark.date().pred_opt().unwrap_or(mark.date());
        search_group(
            ctx,
            client,
            g,
            from,
            now.date(),
            TypeDate::Entry,
            Some((t0, true)),
            out,
        )?;
        return Ok(());
    }
    let (updated, deleted, unknown, f) = match diff(ctx, g, mark, "all") {
        Ok(r) => r,
        Err(e) => {
            out.failed_requests += 1;
            let log = log_row("observations", format!("diff since {mark}"), None, Some(&e));
            store::log_requests(client, &ctx.schema, site, &[log])?;
            let what = if matches!(e, ApiError::Refused { .. }) {
                "is restricted: skipped"
            } else {
                "diff failed"
            };
            out.problem(format!(
                "{site}: taxo group {} ({}) {what}: {e}",
                g.id, g.name
            ));
            return Ok(());
        }
    };
    if unknown > 0 {
        out.warnings.push(format!(
            "{site}: taxo group {}: {unknown} diff entries of unknown type ignored",
            g.id
        ));
    }
    tracing::info!(site, group = g.id, updated = updated.len(), deleted = deleted.len(), since = %mark, "diff");
    let mut logs = vec![log_row(
        "observations",
        format!("diff since {mark}"),
        Some(&f),
        None,
    )];
    let mut ok = true;
    let mut pending: Option<Prepared> = None;
    for chunk in updated.chunks(ctx.cfg.max_list_length) {
        let list = chunk
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let comment = format!("Creating or updating {} observations", chunk.len());
        match ctx.api.call(
            Method::GET,
            "observations",
            &[
                ("id_taxo_group", g.id.to_string()),
                ("id_sightings_list", list),
                ("short_version", "1".into()),
            ],
            None,
            "observations (id_sightings_list)",
        ) {
            Ok(f) => {
                out.counts.fetched += f.sighting_count() as u64;
                logs.push(log_row("observations", comment, Some(&f), None));
                let p = store::prepare(f.sightings, f.forms, &ctx.proj, &ctx.tz);
                if let Some(prev) = pending.replace(p) {
                    write_batch(ctx, client, &prev, &std::mem::take(&mut logs), None, out)?;
                }
            }
            Err(e) => {
                ok = false;
                out.failed_requests += 1;
                logs.push(log_row("observations", comment, None, Some(&e)));
                out.problem(format!(
                    "{site}: taxo group {} ({}): updated sightings {}..{}: {e}; watermark kept at {mark}",
                    g.id,
                    g.name,
                    chunk.first().copied().unwrap_or_default(),
                    chunk.last().copied().unwrap_or_default()
                ));
                if matches!(e, ApiError::Refused { .. }) {
                    break;
                }
            }
        }
    }
    // The last transaction: the last chunk, the deletions, the watermark.
    let p = pending.unwrap_or_default();
    let mut tx = client
        .transaction()
        .map_err(|e| PgError::query("begin", e))?;
    out.counts.upserted += store::write_prepared(&mut tx, &ctx.schema, site, &p)?;
    let (d, forms) = store::delete_sightings(&mut tx, &ctx.schema, site, &deleted)?;
    out.counts.deleted += d;
    out.forms_deleted += forms;
    store::log_requests(&mut tx, &ctx.schema, site, &logs)?;
    if ok {
        store::set_watermark(&mut tx, &ctx.schema, site, g.id, t0, true)?;
    }
    tx.commit()
        .map_err(|e| PgError::query("commit the update", e))?;
    for r in &p.rejected {
        out.problem(format!("{site}: {r}"));
    }
    Ok(())
}
