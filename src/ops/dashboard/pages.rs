//! The dashboard's pages: each handler reads in one read-only transaction (on a blocking thread,
//! with a statement timeout) and renders HTML — the overview and a scope's history from
//! `data_tasks.sync_run`, then what each sync registers ([`crate::syncs::ops_panels`]: sections
//! of the overview, pages of its own). A missing scope or schema answers 404, a malformed
//! parameter 400; a failed query answers 503 with a generic text — the database's message goes
//! to the server log only.

use std::sync::Arc;

use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::html::layout;
use super::AppState;
use crate::ops::runs::{self, Run, ScopeKey};
use crate::ops::stale::Verdict;
use crate::ops::status::{self, CopyStatus, Report, ScopeStatus};
use crate::pg::{run_log, PgError, Transaction};
use crate::secrets::scrub;
use crate::syncs::ops::{Page, PageError, Params, Request};
use crate::text::{cap, duration, limit};
use crate::web::chart::{line_chart, Points, Series};
use crate::web::{badge, empty, href, page_offset, pager, COLORS, PER_PAGE};

type PageResult = Result<Markup, PageError>;

/// Runs `f` in a read-only transaction on a blocking thread and turns its result into a
/// response.
async fn page<F>(st: Arc<AppState>, f: F) -> Response
where
    F: FnOnce(&mut Transaction<'_>, &AppState) -> PageResult + Send + 'static,
{
    let shared = st.clone();
    let result = tokio::task::spawn_blocking(move || -> PageResult {
        let mut client = shared.pool.get()?;
        let mut tx = client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(|e| PgError::query("start a read-only transaction", e))?;
        tx.batch_execute("SET LOCAL statement_timeout = '20s'")
            .map_err(|e| PgError::query("set statement_timeout", e))?;
        let markup = f(&mut tx, &shared)?;
        tx.commit()
            .map_err(|e| PgError::query("end the read-only transaction", e))?;
        Ok(markup)
    })
    .await;
    let message = |status: StatusCode, title: &str, text: &str| {
        let body = html! { h1 { (title) } p { (text) } p { a href=(href(&st.base, "/", &[])) { "Back to the overview" } } };
        (status, layout(&st.base, title, body)).into_response()
    };
    match result {
        // A secret of this process (its database URL's password, the dashboard's credentials)
        // never leaves it, even when a row of a log quotes it.
        Ok(Ok(markup)) => Html(scrub(&markup.into_string())).into_response(),
        Ok(Err(PageError::NotFound(what))) => message(StatusCode::NOT_FOUND, "Not found", &what),
        Ok(Err(PageError::BadRequest(what))) => (StatusCode::BAD_REQUEST, what).into_response(),
        Ok(Err(PageError::Db(e))) => {
            tracing::error!("dashboard: {}", crate::outcome::error_chain(&e));
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Database unavailable",
                "The database could not be read; the dashboard's log has the details.",
            )
        }
        Err(e) => {
            tracing::error!("dashboard: a page failed: {e}");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                "The page failed; the dashboard's log has the details.",
            )
        }
    }
}

pub(super) async fn not_found(State(st): State<Arc<AppState>>) -> Response {
    let body = html! {
        h1 { "Not found" }
        p { a href=(href(&st.base, "/", &[])) { "Back to the overview" } }
    };
    (StatusCode::NOT_FOUND, layout(&st.base, "Not found", body)).into_response()
}

// ---- overview ----------------------------------------------------------------------------------

pub(super) async fn overview(State(st): State<Arc<AppState>>) -> Response {
    page(st, overview_page).await
}

fn overview_page(tx: &mut Transaction<'_>, st: &AppState) -> PageResult {
    let base = st.base.as_str();
    let report = if run_log::exists(tx)? {
        Some(status::report(tx, &st.thresholds)?)
    } else {
        None
    };
    let (now, _) = runs::now(tx)?;
    let mut panels = Vec::new();
    for sync in crate::syncs::ops_panels() {
        if let Some(overview) = sync.overview {
            panels.push(overview(tx, base)?);
        }
    }
    let (overall, overall_class) = match &report {
        None => ("NO RUNS".to_string(), "skipped"),
        Some(r) if r.scopes.is_empty() => ("NO RUNS".to_string(), "skipped"),
        Some(r) if r.ok => ("OK".to_string(), "ok"),
        Some(r) => (format!("STALE: {}", r.stale().count()), "failed"),
    };
    let body = html! {
        h1 { "Sync runs " span id="overall" class=(format!("badge big {overall_class}")) { (overall) } }
        p.meta { "Checked at " (now) ". A scope is stale when its last success ended longer ago than its limit." }
        @match &report {
            None => (empty("data_tasks.sync_run does not exist yet (or this role cannot read it): no sync has run here.")),
            Some(r) if r.scopes.is_empty() => (empty("No run recorded yet.")),
            Some(r) => (scopes_table(base, r)),
        }
        p.meta #copies-link {
            "Is every copy complete and current? "
            a href=(href(base, "/copies", &[])) { "Completeness and lag →" }
            " (counts every stored row: not on this page, which must stay quick)"
        }
        @for panel in panels { (panel) }
    };
    Ok(layout(base, "Overview", body))
}

// ---- completeness and lag ----------------------------------------------------------------------

pub(super) async fn copies(State(st): State<Arc<AppState>>, RawQuery(q): RawQuery) -> Response {
    let params = Params::parse(q.as_deref().unwrap_or(""));
    page(st, move |tx, st| copies_page(tx, st, &params)).await
}

/// The report with its copies (no run needed: a report without `sync_run` is empty).
fn copies_report(tx: &mut Transaction<'_>, st: &AppState) -> Result<Report, PgError> {
    let report = if run_log::exists(tx)? {
        status::report(tx, &st.thresholds)?
    } else {
        Report {
            checked_at: chrono::Utc::now(),
            checked_at_local: String::new(),
            ok: false,
            scopes: Vec::new(),
            copies: Vec::new(),
        }
    };
    let copies = crate::syncs::ops::copies(tx)?;
    Ok(report.with_copies(copies, &st.thresholds))
}

fn copy_limit(c: &CopyStatus) -> String {
    c.stale_after_s
        .map(|secs| limit(std::time::Duration::from_secs(secs)))
        .unwrap_or_else(|| "–".into())
}

/// `/copies[?sync=gn2pg|visionature][&state=stale]`.
fn copies_page(tx: &mut Transaction<'_>, st: &AppState, params: &Params) -> PageResult {
    let base = st.base.as_str();
    let (now, _) = runs::now(tx)?;
    let report = copies_report(tx, st)?;
    let sync = params.get("sync").filter(|s| !s.is_empty());
    let only_stale = params.get("state") == Some("stale");
    let shown: Vec<&CopyStatus> = report
        .copies
        .iter()
        .filter(|c| sync.is_none_or(|s| c.copy.sync == s))
        .filter(|c| !only_stale || c.verdict.is_stale())
        .collect();
    let num = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "–".into());
    let body = html! {
        h1 { "Completeness and lag" }
        p.meta {
            "Checked at " (now) ". Per gn2pg source × data type: rows stored in data_json, the export's last known total "
            "(the latest verify run, else the latest successful full import) and the verify outcome. Per VisioNature site × "
            "taxo group: the watermark (increment_log, the site's local time) and its age, the last count; per reference list "
            "the age of its last download. Limits: --stale-after watermark=… and reference=…."
        }
        form.filters #copy-filters method="get" action=(href(base, "/copies", &[])) {
            label { "Sync "
                select name="sync" {
                    option value="" { "any" }
                    @for s in ["gn2pg", "visionature"] { option value=(s) selected[sync == Some(s)] { (s) } }
                }
            }
            label { input type="checkbox" name="state" value="stale" checked[only_stale]; " incomplete or lagging only" }
            button type="submit" { "Filter" }
        }
        @if shown.is_empty() { (empty("No copy: no gn2pg data_json, VisioNature increment_log or controller_state is readable (or none matches).")) } @else {
            div.wide { table #copies {
                thead { tr {
                    th { "Sync" } th { "Source / site" } th { "Kind" } th { "Part" } th { "State" }
                    th.num { "Stored" } th.num { "Remote" } th { "Last check" } th { "Checked at" }
                    th { "Watermark / last download" } th.num { "Age" } th { "Limit" } th { "Schema" }
                } }
                tbody {
                    @for c in &shown {
                        @let x = &c.copy;
                        tr class=[c.verdict.is_stale().then_some("stale")] data-copy=(c.label()) {
                            td { (x.sync) } td { (x.scope) } td.nowrap.muted { (x.kind) } td { (x.part) }
                            td.state {
                                (verdict_badge(&c.verdict))
                                @if let Verdict::Stale(reason) = &c.verdict { " " span.reason { (reason) } }
                            }
                            td.num { (num(x.stored)) }
                            td.num {
                                (num(x.remote))
                                @if let Some(from) = &x.remote_from { br; span.muted { (from) } }
                            }
                            td { (x.check.as_deref().unwrap_or("–")) }
                            td.time { (x.checked_at.as_deref().unwrap_or("")) }
                            td.time { (x.watermark.as_deref().unwrap_or("")) }
                            td.num { (x.age_s.map(duration).unwrap_or_default()) }
                            td.time { (copy_limit(c)) }
                            td.muted { (x.schema) }
                        }
                    }
                }
            } }
        }
    };
    Ok(layout(base, "Completeness and lag", body))
}

fn runs_link(base: &str, key: &ScopeKey, page: Option<i64>) -> String {
    let page = page.map(|p| p.to_string());
    let mut params = vec![("sync", key.sync.as_str()), ("scope", key.scope.as_str())];
    if !key.kind.is_empty() {
        params.push(("kind", key.kind.as_str()));
    }
    if let Some(p) = &page {
        params.push(("page", p.as_str()));
    }
    href(base, "/runs", &params)
}

fn success_cell(s: &ScopeStatus) -> Markup {
    match &s.last_success {
        None => html! { "never" },
        Some(ok) => html! { (duration(ok.age_s)) " ago" },
    }
}

fn limit_text(s: &ScopeStatus) -> String {
    s.stale_after_s
        .map(|secs| limit(std::time::Duration::from_secs(secs)))
        .unwrap_or_else(|| "–".into())
}

fn scopes_table(base: &str, report: &Report) -> Markup {
    html! {
        div.wide { table #scopes {
            thead { tr {
                th { "Sync" } th { "Scope" } th { "Last run" } th { "Started" } th.num { "Duration" }
                th.num { "Fetched" } th.num { "Upserted" } th.num { "Deleted" } th.num { "Errors" }
                th { "Last success" } th { "Limit" } th { "State" } th.num { "24 h runs / failed" }
            } }
            tbody {
                @for s in &report.scopes {
                    @let r = &s.last_run;
                    tr class=[s.verdict.is_stale().then_some("stale")] data-scope=(s.key.label()) {
                        td { (s.key.sync) }
                        td {
                            a href=(runs_link(base, &s.key, None)) { (s.key.scope) }
                            @if !s.key.kind.is_empty() { " " span.muted { "(" (s.key.kind) ")" } }
                        }
                        td.nowrap { (badge(&r.status)) " " span.muted { (r.mode) } }
                        td.time { (r.started) }
                        td.num { (duration(r.duration_s)) }
                        td.num { (r.counts.fetched) }
                        td.num { (r.counts.upserted) }
                        td.num { (r.counts.deleted) }
                        td.num { (r.counts.errors) }
                        td.time { (success_cell(s)) }
                        td.time { (limit_text(s)) }
                        td { (verdict_badge(&s.verdict)) }
                        td.num { (s.runs_24h) " / " (s.failed_24h) }
                    }
                    @if let Some(e) = &r.error {
                        tr.error.stale[s.verdict.is_stale()] data-error-of=(s.key.label()) {
                            td {}
                            td colspan="12" { "error: " (cap(e)) }
                        }
                    }
                }
            }
        } }
    }
}

fn verdict_badge(v: &Verdict) -> Markup {
    match v {
        Verdict::Stale(reason) => html! { span.badge.failed title=(reason) { "STALE" } },
        other => badge(other.label()),
    }
}

// ---- one scope's history -----------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(super) struct RunsQuery {
    sync: String,
    scope: String,
    #[serde(default)]
    kind: String,
    page: Option<u32>,
}

pub(super) async fn runs(State(st): State<Arc<AppState>>, Query(q): Query<RunsQuery>) -> Response {
    page(st, move |tx, st| runs_page(tx, st, q)).await
}

fn runs_page(tx: &mut Transaction<'_>, st: &AppState, q: RunsQuery) -> PageResult {
    let base = st.base.as_str();
    if !run_log::exists(tx)? {
        return Err(PageError::NotFound(
            "data_tasks.sync_run does not exist".into(),
        ));
    }
    let key = ScopeKey {
        sync: q.sync,
        scope: q.scope,
        kind: q.kind,
    };
    let (page, offset) = page_offset(q.page);
    let (rows, total) = runs::history(tx, &key, PER_PAGE, offset)?;
    if total == 0 {
        return Err(PageError::NotFound(format!(
            "No run of {} is recorded.",
            cap(&key.label())
        )));
    }
    let report = status::report(tx, &st.thresholds)?;
    let state = report.scopes.iter().find(|s| s.key == key);
    let oldest_first: Vec<&Run> = rows.iter().rev().collect();
    let points = Points {
        epochs: oldest_first.iter().map(|r| r.started_epoch).collect(),
        labels: oldest_first.iter().map(|r| r.started.clone()).collect(),
    };
    let counts = |f: fn(&Run) -> u64| oldest_first.iter().map(|r| f(r) as f64).collect();
    let count_series = [
        Series {
            name: "fetched",
            color: COLORS[0],
            values: counts(|r| r.counts.fetched),
        },
        Series {
            name: "upserted",
            color: COLORS[1],
            values: counts(|r| r.counts.upserted),
        },
        Series {
            name: "deleted",
            color: COLORS[2],
            values: counts(|r| r.counts.deleted),
        },
        Series {
            name: "errors",
            color: COLORS[3],
            values: counts(|r| r.counts.errors),
        },
    ];
    let duration_series = [Series {
        name: "duration",
        color: COLORS[4],
        values: oldest_first.iter().map(|r| r.duration_s).collect(),
    }];
    let title = key.label();
    let body = html! {
        h1 { (title) }
        @if let Some(s) = state {
            p.meta #scope-state {
                (verdict_badge(&s.verdict)) " last success: " (success_cell(s)) " · limit " (limit_text(s))
                " (track " (s.track) ") · " (s.runs_24h) " runs in the last 24 h, " (s.failed_24h) " failed or partial"
            }
        }
        div.charts {
            (line_chart("Counts per run", "", &points, &count_series))
            (line_chart("Duration per run (seconds)", " s", &points, &duration_series))
        }
        (pager(page, total, |p| runs_link(base, &key, Some(p))))
        table #runs {
            thead { tr {
                th.num { "#" } th { "Mode" } th { "Status" } th { "Started" } th.num { "Duration" }
                th.num { "Fetched" } th.num { "Upserted" } th.num { "Deleted" } th.num { "Errors" }
                th.num { "HTTP retries" } th { "Version" } th { "Error" }
            } }
            tbody {
                @for r in &rows {
                    tr data-run=(r.id) {
                        td.num { (r.id) }
                        td { (r.mode) }
                        td { (badge(&r.status)) }
                        td.time { (r.started) }
                        td.num { (duration(r.duration_s)) }
                        td.num { (r.counts.fetched) }
                        td.num { (r.counts.upserted) }
                        td.num { (r.counts.deleted) }
                        td.num { (r.counts.errors) }
                        td.num { (r.counts.http_retries) }
                        td { (r.version.as_deref().unwrap_or("")) }
                        td.text { (r.error.as_deref().map(cap).unwrap_or_default()) }
                    }
                }
            }
        }
        (pager(page, total, |p| runs_link(base, &key, Some(p))))
    };
    Ok(layout(base, &title, body))
}

// ---- the syncs' pages --------------------------------------------------------------------------

/// A page a sync registered, at its route (`capture`: the route's `{…}` part, if any).
pub(super) async fn sync_page(
    st: Arc<AppState>,
    p: &'static Page,
    capture: String,
    query: Option<String>,
) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or(""));
    page(st, move |tx, st| {
        let runs = match p.track {
            Some(track) => track_runs(tx, st, track)?,
            None => html! {},
        };
        let req = Request {
            base: &st.base,
            capture: &capture,
            params: &params,
            runs: &runs,
        };
        let out = (p.render)(tx, &req)?;
        Ok(layout(&st.base, &out.title, out.body))
    })
    .await
}

/// Links to the runs of every scope of `track`, with their state (nothing when there are none).
fn track_runs(tx: &mut Transaction<'_>, st: &AppState, track: &str) -> Result<Markup, PgError> {
    let scopes: Vec<ScopeStatus> = if run_log::exists(tx)? {
        status::report(tx, &st.thresholds)?
            .scopes
            .into_iter()
            .filter(|s| s.track == track)
            .collect()
    } else {
        Vec::new()
    };
    Ok(html! {
        @if !scopes.is_empty() {
            p.meta {
                "Runs: "
                @for s in &scopes {
                    a href=(runs_link(&st.base, &s.key, None)) { (s.key.label()) } " " (verdict_badge(&s.verdict)) " "
                }
            }
        }
    })
}
