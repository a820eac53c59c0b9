//! visionature's part of the dashboard ([`OPS`]): on the overview, the failed downloads of the
//! last 7 days of every visionature schema (any schema whose `download_log` has Client-API-VN's
//! columns, [`schemas`]) and fix-sync's last reconciliation; on `/visionature/<schema>`, a
//! schema's requests per site and controller and every failed request, paged, filtered by site
//! and controller, with its whole comment; on `/fix-sync`
//! (linked from every page's header), the runs of the fix-sync track and the counts of each
//! reconciliation in `dbadmin.monitoring_vn_check_to_prod`, charted; the completeness and lag of
//! each copy is [`super::copies`]'s. Nothing here reads the sync's configuration. What can fail
//! is a query.

use std::collections::BTreeSet;

use maud::{html, Markup};

use crate::pg::{ident, GenericClient, PgError, Transaction};
use crate::syncs::ops::{
    count, log_page, table_columns, LogRow, Page, PageError, Rendered, Request, SyncOps, TS,
};
use crate::text::{cap, duration};
use crate::web::chart::{line_chart, Points, Series};
use crate::web::{empty, href, page_offset, pager, COLORS, PER_PAGE};

/// What visionature shows in the dashboard.
pub const OPS: SyncOps = SyncOps {
    name: "visionature",
    nav: &[("fix-sync", "/fix-sync")],
    overview: Some(overview),
    pages: &[
        Page {
            route: "/visionature/{schema}",
            track: None,
            render: schema_page,
        },
        Page {
            route: "/fix-sync",
            track: Some("fix-sync"),
            render: fix_sync_page,
        },
    ],
    copies: Some(super::copies::copies),
};

const DOWNLOAD_LOG: &[&str] = &[
    "id",
    "site",
    "controler",
    "download_ts",
    "error_count",
    "http_status",
];
const MONITORING: &[&str] = &["date", "action", "count"];

/// The monitoring table of fix-sync.
pub const MONITORING_TABLE: &str = "dbadmin.monitoring_vn_check_to_prod";

/// The readable visionature schemas (with a `download_log`), and whether
/// `dbadmin.monitoring_vn_check_to_prod` is readable.
pub fn schemas(client: &mut impl GenericClient) -> Result<(BTreeSet<String>, bool), PgError> {
    let tables = table_columns(client, &["download_log", "monitoring_vn_check_to_prod"])?;
    let schemas = tables
        .schemas_with("download_log", DOWNLOAD_LOG)
        .into_iter()
        .collect();
    let monitoring = tables.has("dbadmin", "monitoring_vn_check_to_prod", MONITORING);
    Ok((schemas, monitoring))
}

/// What counts as a failed request in `download_log`.
const VN_ERROR: &str =
    "(coalesce(d.error_count, 0) > 0 OR d.http_status >= 400 OR d.http_status < 200)";

/// Requests and errors of the last 7 days per site and controller.
pub struct DownloadSummary {
    pub site: String,
    pub controler: String,
    pub requests: i64,
    pub errors: i64,
    pub last_error: Option<String>,
}

pub fn summary(
    client: &mut impl GenericClient,
    schema: &str,
) -> Result<Vec<DownloadSummary>, PgError> {
    let t = format!("{}.download_log", ident(schema));
    let rows = client
        .query(
            format!(
                "SELECT coalesce(d.site, ''), coalesce(d.controler, ''), count(*),
                        count(*) FILTER (WHERE {VN_ERROR}),
                        to_char(max(d.download_ts) FILTER (WHERE {VN_ERROR}), {TS})
                   FROM {t} d WHERE d.download_ts > localtimestamp - interval '7 days'
                  GROUP BY 1, 2 ORDER BY 1, 2"
            )
            .as_str(),
            &[],
        )
        .map_err(|e| PgError::query(format!("summarise {schema}.download_log"), e))?;
    Ok(rows
        .iter()
        .map(|r| DownloadSummary {
            site: r.get(0),
            controler: r.get(1),
            requests: r.get(2),
            errors: r.get(3),
            last_error: r.get(4),
        })
        .collect())
}

/// Failed requests in the last 7 days of a visionature schema (for the overview).
pub fn recent_errors(client: &mut impl GenericClient, schema: &str) -> Result<i64, PgError> {
    count(
        client,
        &format!("count errors in {schema}.download_log"),
        &format!(
            "SELECT count(*) FROM {}.download_log d
              WHERE {VN_ERROR} AND d.download_ts > localtimestamp - interval '7 days'",
            ident(schema)
        ),
        &[],
    )
}

/// One page of a visionature schema's failed requests (of one site and controller, or any),
/// newest first, and their number.
pub fn errors(
    client: &mut impl GenericClient,
    schema: &str,
    site: Option<&str>,
    controler: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<LogRow>, i64), PgError> {
    log_page(
        client,
        &format!("errors in {schema}.download_log"),
        &format!(
            "to_jsonb(d), to_char(d.download_ts, {TS}),
             extract(epoch FROM d.download_ts)::float8, NULL::text, NULL::float8"
        ),
        &format!(
            "{}.download_log d WHERE {VN_ERROR} AND ($1::text IS NULL OR d.site = $1)
               AND ($2::text IS NULL OR d.controler = $2)",
            ident(schema)
        ),
        "d.download_ts DESC, d.id DESC",
        &[&site, &controler],
        limit,
        offset,
    )
}

/// One fix-sync reconciliation: the rows it wrote to the monitoring table (same `date`).
#[derive(Debug, Clone)]
pub struct Reconciliation {
    pub date: String,
    pub epoch: f64,
    pub insert: i64,
    pub update: i64,
    pub delete: i64,
}

/// One page of fix-sync reconciliations, newest first, and their number.
pub fn reconciliations(
    client: &mut impl GenericClient,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Reconciliation>, i64), PgError> {
    let total = count(
        client,
        "count dbadmin.monitoring_vn_check_to_prod",
        &format!("SELECT count(DISTINCT date) FROM {MONITORING_TABLE}"),
        &[],
    )?;
    let rows = client
        .query(
            format!(
                "SELECT to_char(date, 'YYYY-MM-DD HH24:MI:SS TZ'), extract(epoch FROM date)::float8,
                        coalesce(sum(count) FILTER (WHERE action = 'insert'), 0)::bigint,
                        coalesce(sum(count) FILTER (WHERE action = 'update'), 0)::bigint,
                        coalesce(sum(count) FILTER (WHERE action = 'delete'), 0)::bigint
                   FROM {MONITORING_TABLE} GROUP BY date ORDER BY date DESC LIMIT $1 OFFSET $2"
            )
            .as_str(),
            &[&limit, &offset],
        )
        .map_err(|e| PgError::query("read dbadmin.monitoring_vn_check_to_prod", e))?;
    Ok((
        rows.iter()
            .map(|r| Reconciliation {
                date: r.get(0),
                epoch: r.get(1),
                insert: r.get(2),
                update: r.get(3),
                delete: r.get(4),
            })
            .collect(),
        total,
    ))
}

fn overview(tx: &mut Transaction<'_>, base: &str) -> Result<Markup, PgError> {
    let (schemas, monitoring) = schemas(tx)?;
    let mut visionature = Vec::new();
    for schema in &schemas {
        visionature.push((schema.clone(), recent_errors(tx, schema)?));
    }
    let last_fix = if monitoring {
        reconciliations(tx, 1, 0)?.0.into_iter().next()
    } else {
        None
    };
    Ok(html! {
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
        @if !monitoring {
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
    })
}

/// `/visionature/<schema>[?page=N]`.
fn schema_page(tx: &mut Transaction<'_>, req: &Request<'_>) -> Result<Rendered, PageError> {
    let (base, schema) = (req.base, req.capture);
    let page_no = req.params.page()?;
    if !schemas(tx)?.0.contains(schema) {
        return Err(PageError::NotFound(format!(
            "No visionature schema named {} is readable.",
            cap(schema)
        )));
    }
    let (page, offset) = page_offset(page_no);
    let param = |k: &str| req.params.get(k).map(str::trim).filter(|v| !v.is_empty());
    let (site, controler) = (param("site"), param("controler"));
    let summary = summary(tx, schema)?;
    let (rows, total) = errors(tx, schema, site, controler, PER_PAGE, offset)?;
    let filtered = |site: Option<&str>, controler: Option<&str>, p: Option<i64>| {
        let p = p.map(|p| p.to_string());
        let params: Vec<(&str, &str)> = [
            ("site", site),
            ("controler", controler),
            ("page", p.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        href(base, &format!("/visionature/{schema}"), &params)
    };
    let link = |p: i64| filtered(site, controler, Some(p));
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
                            td.num { (s.requests) }
                            td.num {
                                @if s.errors > 0 {
                                    a href=(filtered(Some(&s.site), Some(&s.controler), None)) { (s.errors) }
                                } @else { "0" }
                            }
                            td.time { (s.last_error.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        h2 { "Failed requests" }
        p.meta { "Rows of download_log with an error count, or an HTTP status outside 200–399, with their whole comment." }
        form.filters #download-filters method="get" action=(href(base, &format!("/visionature/{schema}"), &[])) {
            label { "Site " input type="text" name="site" value=(site.unwrap_or("")); }
            label { "Controller " input type="text" name="controler" value=(controler.unwrap_or("")); }
            button type="submit" { "Filter" }
            " " a href=(href(base, &format!("/visionature/{schema}"), &[])) { "clear" }
        }
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
                            td.text { pre.error { (r.text("comment")) } }
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
    Ok(Rendered { title, body })
}

/// `/fix-sync[?page=N]`.
fn fix_sync_page(tx: &mut Transaction<'_>, req: &Request<'_>) -> Result<Rendered, PageError> {
    let base = req.base;
    let page_no = req.params.page()?;
    let (_, monitoring) = schemas(tx)?;
    let (page, offset) = page_offset(page_no);
    let (rows, total) = if monitoring {
        reconciliations(tx, PER_PAGE, offset)?
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
        (req.runs)
        h2 { "Reconciliations (dbadmin.monitoring_vn_check_to_prod)" }
        @if !monitoring {
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
    Ok(Rendered {
        title: "fix-sync".into(),
        body,
    })
}
