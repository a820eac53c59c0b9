//! The dashboard's pages: each handler reads in one read-only transaction (on a blocking thread,
//! with a statement timeout) and renders HTML. A missing scope or schema answers 404; a failed
//! query answers 503 with a generic text — the database's message goes to the server log only.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::chart::{line_chart, Points, Series};
use super::html::{badge, empty, href, layout, page_offset, pager, PER_PAGE};
use super::AppState;
use crate::ops::format::{cap, duration, limit};
use crate::ops::runs::{self, Run, ScopeKey};
use crate::ops::stale::{Verdict, FIX_SYNC};
use crate::ops::status::{self, Report, ScopeStatus};
use crate::ops::tables::{self, LogRow};
use crate::pg::{run_log, PgError, Transaction};

/// Why a page was not rendered.
pub(super) enum PageError {
    NotFound(String),
    Db(PgError),
}

impl From<PgError> for PageError {
    fn from(e: PgError) -> Self {
        PageError::Db(e)
    }
}

type PageResult = Result<Markup, PageError>;

const COLORS: [&str; 5] = ["#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#6f42c1"];

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
        Ok(Ok(markup)) => markup.into_response(),
        Ok(Err(PageError::NotFound(what))) => message(StatusCode::NOT_FOUND, "Not found", &what),
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
    let found = tables::discover(tx)?;
    let mut gn2pg = Vec::new();
    for schema in found.gn2pg.keys() {
        gn2pg.push((schema.clone(), tables::gn2pg_sources(tx, schema)?));
    }
    let mut visionature = Vec::new();
    for schema in &found.visionature {
        visionature.push((schema.clone(), tables::vn_recent_errors(tx, schema)?));
    }
    let last_fix = if found.monitoring {
        tables::monitoring(tx, 1, 0)?.0.into_iter().next()
    } else {
        None
    };
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
        h2 { "gn2pg imports" }
        @if gn2pg.is_empty() {
            (empty("No gn2pg schema (a table import_log with gn2pg's columns) is readable."))
        } @else {
            table #gn2pg-schemas {
                thead { tr { th { "Schema" } th { "Source" } th { "Latest import" } th { "Status" } th.num { "Upserts" } th { "Last success" } } }
                tbody {
                    @for (schema, sources) in &gn2pg {
                        @if sources.is_empty() {
                            tr { td { a href=(href(base, &format!("/gn2pg/{schema}"), &[])) { (schema) } } td colspan="5" .muted { "no import yet" } }
                        }
                        @for s in sources {
                            tr {
                                td { a href=(href(base, &format!("/gn2pg/{schema}"), &[])) { (schema) } }
                                td { a href=(href(base, &format!("/gn2pg/{schema}"), &[("source", &s.last.text("source"))])) { (s.last.text("source")) } }
                                td.time { (s.last.at) " " span.muted { (s.last.text("xfer_type")) } }
                                td { (badge(&s.last.text("xfer_status"))) }
                                td.num { (s.last.num("data_count_upserts")) }
                                td.time { (s.last_success.as_deref().unwrap_or("never")) }
                            }
                        }
                    }
                }
            }
        }
        h2 { "visionature downloads" }
        @if visionature.is_empty() {
            (empty("No visionature schema (a table download_log with visionature's columns) is readable."))
        } @else {
            table #visionature-schemas {
                thead { tr { th { "Schema" } th.num { "Failed requests, last 7 days" } } }
                tbody {
                    @for (schema, errors) in &visionature {
                        tr {
                            td { a href=(href(base, &format!("/visionature/{schema}"), &[])) { (schema) } }
                            td.num { (errors) }
                        }
                    }
                }
            }
        }
        h2 { "fix-sync" }
        @if !found.monitoring {
            (empty("dbadmin.monitoring_vn_check_to_prod does not exist or is not readable."))
        } @else {
            @match &last_fix {
                None => (empty("No reconciliation recorded yet.")),
                Some(f) => p #last-fix {
                    "Last reconciliation " (f.date) ": " (f.insert) " inserted, " (f.update) " updated, "
                    (f.delete) " deleted. " a href=(href(base, "/fix-sync", &[])) { "All reconciliations" }
                },
            }
        }
    };
    Ok(layout(base, "Overview", body))
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

// ---- gn2pg -------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(super) struct Gn2pgQuery {
    source: Option<String>,
    page: Option<u32>,
}

pub(super) async fn gn2pg(
    State(st): State<Arc<AppState>>,
    Path(schema): Path<String>,
    Query(q): Query<Gn2pgQuery>,
) -> Response {
    page(st, move |tx, st| gn2pg_page(tx, st, &schema, q)).await
}

/// `xfer_filters` as gn2pg-client writes it (a JSON array holding one JSON string) or any JSON.
fn filters_text(row: &LogRow) -> String {
    match row.row.get("xfer_filters") {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::Array(items)) if items.len() == 1 => match &items[0] {
            serde_json::Value::String(s) => cap(s),
            other => cap(&other.to_string()),
        },
        Some(other) => cap(&other.to_string()),
    }
}

fn gn2pg_page(tx: &mut Transaction<'_>, st: &AppState, schema: &str, q: Gn2pgQuery) -> PageResult {
    let base = st.base.as_str();
    let found = tables::discover(tx)?;
    let Some(&has_errors) = found.gn2pg.get(schema) else {
        return Err(PageError::NotFound(format!(
            "No gn2pg schema named {} is readable.",
            cap(schema)
        )));
    };
    let source = q.source.filter(|s| !s.is_empty());
    let (page, offset) = page_offset(q.page);
    let sources = tables::gn2pg_sources(tx, schema)?;
    let (imports, total) = tables::gn2pg_imports(tx, schema, source.as_deref(), PER_PAGE, offset)?;
    let errors = if has_errors {
        Some(tables::gn2pg_errors(tx, schema, source.as_deref(), 20)?)
    } else {
        None
    };
    let self_link = |source: Option<&str>, page: Option<i64>| {
        let page = page.map(|p| p.to_string());
        let mut params = Vec::new();
        if let Some(s) = source {
            params.push(("source", s));
        }
        if let Some(p) = &page {
            params.push(("page", p.as_str()));
        }
        href(base, &format!("/gn2pg/{schema}"), &params)
    };
    let oldest_first: Vec<&LogRow> = imports.iter().rev().collect();
    let points = Points {
        epochs: oldest_first.iter().map(|r| r.epoch).collect(),
        labels: oldest_first
            .iter()
            .map(|r| format!("{} {}", r.at, r.text("source")))
            .collect(),
    };
    let col = |c: &'static str| oldest_first.iter().map(|r| r.num(c) as f64).collect();
    let count_series = [
        Series {
            name: "API items",
            color: COLORS[0],
            values: col("api_count_items"),
        },
        Series {
            name: "upserts",
            color: COLORS[1],
            values: col("data_count_upserts"),
        },
        Series {
            name: "deletes",
            color: COLORS[2],
            values: col("data_count_delete"),
        },
        Series {
            name: "errors",
            color: COLORS[3],
            values: col("data_count_errors"),
        },
    ];
    let duration_series = [Series {
        name: "duration",
        color: COLORS[4],
        values: oldest_first
            .iter()
            .map(|r| r.duration_s.unwrap_or(0.0))
            .collect(),
    }];
    let title = format!("gn2pg imports · {schema}");
    let body = html! {
        h1 { (title) }
        h2 { "Sources" }
        @if sources.is_empty() { (empty("No import yet.")) } @else {
            table #sources {
                thead { tr {
                    th { "Source" } th.num { "Imports" } th { "Latest import" } th { "Status" } th.num { "Duration" }
                    th.num { "API items" } th.num { "Upserts" } th.num { "Deletes" } th.num { "Errors" } th { "Last success" }
                } }
                tbody {
                    @for s in &sources {
                        @let name = s.last.text("source");
                        tr data-source=(name) {
                            td { a href=(self_link(Some(&name), None)) { (name) } }
                            td.num { (s.imports) }
                            td.time { (s.last.at) " " span.muted { (s.last.text("xfer_type")) } }
                            td { (badge(&s.last.text("xfer_status"))) }
                            td.num { (s.last.duration_s.map(duration).unwrap_or_default()) }
                            td.num { (s.last.num("api_count_items")) }
                            td.num { (s.last.num("data_count_upserts")) }
                            td.num { (s.last.num("data_count_delete")) }
                            td.num { (s.last.num("data_count_errors")) }
                            td.time { (s.last_success.as_deref().unwrap_or("never")) }
                        }
                    }
                }
            }
        }
        h2 {
            "Import history"
            @if let Some(s) = &source { " of " (s) " " a href=(self_link(None, None)) { "(all sources)" } }
        }
        div.charts {
            (line_chart("Rows per import", "", &points, &count_series))
            (line_chart("Duration per import (seconds)", " s", &points, &duration_series))
        }
        (pager(page, total, |p| self_link(source.as_deref(), Some(p))))
        @if imports.is_empty() { (empty("No import.")) } @else {
            div.wide { table #imports {
                thead { tr {
                    th.num { "id" } th { "Source" } th { "Controler" } th { "Type" } th { "Status" } th { "Start" } th { "End" }
                    th.num { "Duration" } th.num { "API items" } th.num { "API errors" } th.num { "Upserts" } th.num { "Deletes" }
                    th.num { "Data errors" } th.num { "Metadata upserts" } th.num { "Metadata errors" } th { "Filters" } th { "Comment" }
                } }
                tbody {
                    @for r in &imports {
                        tr data-import=(r.num("id")) {
                            td.num { (r.num("id")) }
                            td { (r.text("source")) }
                            td { (r.text("controler")) }
                            td { (r.text("xfer_type")) }
                            td { (badge(&r.text("xfer_status"))) }
                            td.time { (r.at) }
                            td.time { (r.end.as_deref().unwrap_or("")) }
                            td.num { (r.duration_s.map(duration).unwrap_or_default()) }
                            td.num { (r.num("api_count_items")) }
                            td.num { (r.num("api_count_errors")) }
                            td.num { (r.num("data_count_upserts")) }
                            td.num { (r.num("data_count_delete")) }
                            td.num { (r.num("data_count_errors")) }
                            td.num { (r.num("metadata_count_upserts")) }
                            td.num { (r.num("metadata_count_errors")) }
                            td.text { (filters_text(r)) }
                            td.text { (cap(&r.text("comment"))) }
                        }
                    }
                }
            } }
        }
        h2 { "Error log" }
        @match &errors {
            None => (empty("This schema has no readable error_log.")),
            Some((rows, _)) if rows.is_empty() => (empty("No error recorded.")),
            Some((rows, n)) => {
                p.meta { "The " (rows.len()) " latest of " (n) " rows." }
                div.wide { table #errors {
                    thead { tr { th { "When" } th { "Source" } th { "Controler" } th { "UUID" } th.num { "Import" } th { "Error" } th { "Item" } } }
                    tbody {
                        @for e in rows {
                            tr {
                                td.time { (e.at) }
                                td { (e.text("source")) }
                                td { (e.text("controler")) }
                                td { (e.text("uuid")) }
                                td.num { (e.text("import_id")) }
                                td.text { (cap(&e.text("error"))) }
                                td.text { (cap(&e.text("item"))) }
                            }
                        }
                    }
                } }
            }
        }
    };
    Ok(layout(base, &title, body))
}

// ---- visionature -------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(super) struct PageQuery {
    page: Option<u32>,
}

pub(super) async fn visionature(
    State(st): State<Arc<AppState>>,
    Path(schema): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    page(st, move |tx, st| visionature_page(tx, st, &schema, q.page)).await
}

fn visionature_page(
    tx: &mut Transaction<'_>,
    st: &AppState,
    schema: &str,
    page_no: Option<u32>,
) -> PageResult {
    let base = st.base.as_str();
    if !tables::discover(tx)?.visionature.contains(schema) {
        return Err(PageError::NotFound(format!(
            "No visionature schema named {} is readable.",
            cap(schema)
        )));
    }
    let (page, offset) = page_offset(page_no);
    let summary = tables::vn_summary(tx, schema)?;
    let (rows, total) = tables::vn_errors(tx, schema, PER_PAGE, offset)?;
    let link = |p: i64| {
        href(
            base,
            &format!("/visionature/{schema}"),
            &[("page", &p.to_string())],
        )
    };
    let title = format!("visionature downloads · {schema}");
    let body = html! {
        h1 { (title) }
        h2 { "Last 7 days" }
        @if summary.is_empty() { (empty("No request in the last 7 days.")) } @else {
            table #download-summary {
                thead { tr { th { "Site" } th { "Controller" } th.num { "Requests" } th.num { "Failed" } th { "Last failure" } } }
                tbody {
                    @for s in &summary {
                        tr {
                            td { (s.site) } td { (s.controler) }
                            td.num { (s.requests) } td.num { (s.errors) }
                            td.time { (s.last_error.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        h2 { "Failed requests" }
        p.meta { "Rows of download_log with an error count, or an HTTP status outside 200–399." }
        (pager(page, total, link))
        @if rows.is_empty() { (empty("No failed request.")) } @else {
            table #download-errors {
                thead { tr {
                    th { "When" } th { "Site" } th { "Controller" } th.num { "HTTP status" } th.num { "Errors" }
                    th { "Comment" } th.num { "Length" } th.num { "Duration" }
                } }
                tbody {
                    @for r in &rows {
                        tr data-download=(r.num("id")) {
                            td.time { (r.at) }
                            td { (r.text("site")) }
                            td { (r.text("controler")) }
                            td.num { (r.text("http_status")) }
                            td.num { (r.num("error_count")) }
                            td.text { (cap(&r.text("comment"))) }
                            td.num { (r.text("length")) }
                            td.num {
                                @if r.row.get("duration").is_some_and(|d| !d.is_null()) {
                                    (duration(r.num("duration") as f64 / 1e6))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(base, &title, body))
}

// ---- fix-sync ----------------------------------------------------------------------------------

pub(super) async fn fix_sync(
    State(st): State<Arc<AppState>>,
    Query(q): Query<PageQuery>,
) -> Response {
    page(st, move |tx, st| fix_sync_page(tx, st, q.page)).await
}

fn fix_sync_page(tx: &mut Transaction<'_>, st: &AppState, page_no: Option<u32>) -> PageResult {
    let base = st.base.as_str();
    let scopes: Vec<ScopeStatus> = if run_log::exists(tx)? {
        status::report(tx, &st.thresholds)?
            .scopes
            .into_iter()
            .filter(|s| s.track == FIX_SYNC)
            .collect()
    } else {
        Vec::new()
    };
    let found = tables::discover(tx)?;
    let (page, offset) = page_offset(page_no);
    let (rows, total) = if found.monitoring {
        tables::monitoring(tx, PER_PAGE, offset)?
    } else {
        (Vec::new(), 0)
    };
    let oldest_first: Vec<_> = rows.iter().rev().collect();
    let points = Points {
        epochs: oldest_first.iter().map(|r| r.epoch).collect(),
        labels: oldest_first.iter().map(|r| r.date.clone()).collect(),
    };
    let series = [
        Series {
            name: "inserted",
            color: COLORS[1],
            values: oldest_first.iter().map(|r| r.insert as f64).collect(),
        },
        Series {
            name: "updated",
            color: COLORS[0],
            values: oldest_first.iter().map(|r| r.update as f64).collect(),
        },
        Series {
            name: "deleted",
            color: COLORS[2],
            values: oldest_first.iter().map(|r| r.delete as f64).collect(),
        },
    ];
    let body = html! {
        h1 { "fix-sync" }
        @if !scopes.is_empty() {
            p.meta {
                "Runs: "
                @for s in &scopes {
                    a href=(runs_link(base, &s.key, None)) { (s.key.label()) } " " (verdict_badge(&s.verdict)) " "
                }
            }
        }
        h2 { "Reconciliations (dbadmin.monitoring_vn_check_to_prod)" }
        @if !found.monitoring {
            (empty("dbadmin.monitoring_vn_check_to_prod does not exist or is not readable."))
        } @else if rows.is_empty() {
            (empty("No reconciliation recorded yet."))
        } @else {
            div.charts { (line_chart("Rows reconciled into production", "", &points, &series)) }
            (pager(page, total, |p| href(base, "/fix-sync", &[("page", &p.to_string())])))
            table #reconciliations {
                thead { tr { th { "Date" } th.num { "Inserted" } th.num { "Updated" } th.num { "Deleted" } } }
                tbody {
                    @for r in &rows {
                        tr { td.time { (r.date) } td.num { (r.insert) } td.num { (r.update) } td.num { (r.delete) } }
                    }
                }
            }
        }
    };
    Ok(layout(base, "fix-sync", body))
}
