//! gn2pg's part of the dashboard ([`OPS`]): on the overview, the latest import of every source of
//! every gn2pg schema; on `/gn2pg/<schema>`, a schema's sources, its paged import history with
//! charts (filtered by source, transfer type and status; each import links to its errors), and
//! the latest rows of its `error_log`; on `/gn2pg/<schema>/errors`, every `error_log` row, paged,
//! filtered by source, uuid, controler and import id, with the whole error text and the whole
//! item pretty-printed — what gn2pg-client's own admin pages showed; the completeness of each
//! copy is [`super::copies`]'s. A gn2pg
//! schema is any schema whose `import_log` has gn2pg-client's columns ([`schemas`]), with its
//! `error_log` and `data_json` when readable; nothing here reads the sync's configuration. The
//! sources table also shows each source's last `gn2pg verify` ([`last_verifies`], from
//! `data_tasks.sync_run` when readable). What can fail is a query.

use std::collections::BTreeMap;

use maud::{html, Markup};

use crate::pg::{ident, GenericClient, PgError, Transaction};
use crate::syncs::ops::{
    log_page, log_rows, table_columns, LogRow, Page, PageError, Rendered, Request, SyncOps, TS,
};
use crate::text::{cap, duration};
use crate::web::chart::{line_chart, Points, Series};
use crate::web::{badge, empty, href, page_offset, pager, COLORS, PER_PAGE};

/// What gn2pg shows in the dashboard.
pub const OPS: SyncOps = SyncOps {
    name: "gn2pg",
    nav: &[],
    overview: Some(overview),
    pages: &[
        Page {
            route: "/gn2pg/{schema}",
            track: None,
            render: schema_page,
        },
        Page {
            route: "/gn2pg/{schema}/errors",
            track: None,
            render: errors_page,
        },
    ],
    copies: Some(super::copies::copies),
};

const IMPORT_LOG: &[&str] = &[
    "id",
    "source",
    "controler",
    "xfer_type",
    "xfer_status",
    "xfer_start_ts",
    "xfer_end_ts",
    "data_count_upserts",
];
const ERROR_LOG: &[&str] = &["source", "controler", "last_ts", "error"];

/// The gn2pg schemas, and whether each has a readable `error_log`.
pub fn schemas(client: &mut impl GenericClient) -> Result<BTreeMap<String, bool>, PgError> {
    let tables = table_columns(client, &["import_log", "error_log"])?;
    Ok(tables
        .schemas_with("import_log", IMPORT_LOG)
        .into_iter()
        .map(|s| {
            let errors = tables.has(&s, "error_log", ERROR_LOG);
            (s, errors)
        })
        .collect())
}

/// gn2pg: per source, the latest import and the start of the latest success.
pub struct SourceSummary {
    pub last: LogRow,
    pub last_success: Option<String>,
    pub imports: i64,
}

/// The sources of a gn2pg schema.
pub fn sources(
    client: &mut impl GenericClient,
    schema: &str,
) -> Result<Vec<SourceSummary>, PgError> {
    let t = format!("{}.import_log", ident(schema));
    let last = log_rows(
        client,
        &format!("read the latest imports of {schema}.import_log"),
        &format!(
            "SELECT DISTINCT ON (l.source) to_jsonb(l), to_char(l.xfer_start_ts, {TS}),
                    extract(epoch FROM l.xfer_start_ts)::float8, to_char(l.xfer_end_ts, {TS}),
                    extract(epoch FROM l.xfer_end_ts - l.xfer_start_ts)::float8
               FROM {t} l ORDER BY l.source, l.xfer_start_ts DESC, l.id DESC"
        ),
        &[],
    )?;
    let successes: BTreeMap<String, (String, i64)> = client
        .query(
            format!(
                "SELECT source, to_char(max(xfer_start_ts) FILTER (WHERE xfer_status = 'success'), {TS}),
                        count(*)
                   FROM {t} GROUP BY source"
            )
            .as_str(),
            &[],
        )
        .map_err(|e| PgError::query(format!("summarise {schema}.import_log"), e))?
        .iter()
        .map(|r| (r.get(0), (r.get::<_, Option<String>>(1).unwrap_or_default(), r.get(2))))
        .collect();
    Ok(last
        .into_iter()
        .map(|last| {
            let (ok, imports) = successes
                .get(&last.text("source"))
                .cloned()
                .unwrap_or_default();
            SourceSummary {
                last,
                last_success: (!ok.is_empty()).then_some(ok),
                imports,
            }
        })
        .collect())
}

/// The last `gn2pg verify` of a source (its `data_tasks.sync_run` row).
pub struct LastVerify {
    pub at: String,
    pub status: String,
    pub counts: crate::pg::run_log::RunCounts,
}

/// The last verify of every gn2pg source, by source name; empty when `data_tasks.sync_run` is
/// absent or not readable.
pub fn last_verifies(
    client: &mut impl GenericClient,
) -> Result<BTreeMap<String, LastVerify>, PgError> {
    let readable: Option<bool> = client
        .query_one(
            "SELECT bool_or(has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'data_tasks' AND c.relname = 'sync_run'",
            &[],
        )
        .map_err(|e| PgError::query("look for data_tasks.sync_run", e))?
        .get(0);
    if readable != Some(true) {
        return Ok(BTreeMap::new());
    }
    let rows = client
        .query(
            format!(
                "SELECT DISTINCT ON (scope) scope, to_char(started_at, {TS}), status,
                        coalesce(counts, '{{}}'::jsonb)
                   FROM data_tasks.sync_run WHERE sync = 'gn2pg' AND mode = 'verify'
                  ORDER BY scope, started_at DESC, id DESC"
            )
            .as_str(),
            &[],
        )
        .map_err(|e| PgError::query("read the last verify of each gn2pg source", e))?;
    Ok(rows
        .iter()
        .map(|r| {
            let counts: serde_json::Value = r.get(3);
            (
                r.get(0),
                LastVerify {
                    at: r.get::<_, Option<String>>(1).unwrap_or_default(),
                    status: r.get(2),
                    counts: serde_json::from_value(counts).unwrap_or_default(),
                },
            )
        })
        .collect())
}

/// Filters of the import history: `None` = any.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportFilter<'a> {
    pub source: Option<&'a str>,
    pub xfer_type: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// One page of a gn2pg schema's imports (filtered), newest first, and their number.
pub fn imports(
    client: &mut impl GenericClient,
    schema: &str,
    filter: ImportFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<LogRow>, i64), PgError> {
    log_page(
        client,
        &format!("{schema}.import_log"),
        &format!(
            "to_jsonb(l), to_char(l.xfer_start_ts, {TS}),
             extract(epoch FROM l.xfer_start_ts)::float8, to_char(l.xfer_end_ts, {TS}),
             extract(epoch FROM l.xfer_end_ts - l.xfer_start_ts)::float8"
        ),
        &format!(
            "{}.import_log l WHERE ($1::text IS NULL OR l.source = $1)
               AND ($2::text IS NULL OR l.xfer_type = $2) AND ($3::text IS NULL OR l.xfer_status = $3)",
            ident(schema)
        ),
        "l.xfer_start_ts DESC, l.id DESC",
        &[&filter.source, &filter.xfer_type, &filter.status],
        limit,
        offset,
    )
}

/// The transfer types and statuses present in a schema's `import_log`, for the filters.
pub fn import_kinds(
    client: &mut impl GenericClient,
    schema: &str,
) -> Result<(Vec<String>, Vec<String>), PgError> {
    let t = format!("{}.import_log", ident(schema));
    let mut list = |col: &str| -> Result<Vec<String>, PgError> {
        Ok(client
            .query(
                format!("SELECT DISTINCT {col}::text FROM {t} WHERE {col} IS NOT NULL ORDER BY 1")
                    .as_str(),
                &[],
            )
            .map_err(|e| PgError::query(format!("list {schema}.import_log.{col}"), e))?
            .iter()
            .map(|r| r.get(0))
            .collect())
    };
    Ok((list("xfer_type")?, list("xfer_status")?))
}

/// Filters of the error log: `None` = any.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorFilter<'a> {
    pub source: Option<&'a str>,
    pub uuid: Option<&'a str>,
    pub controler: Option<&'a str>,
    pub import_id: Option<i32>,
}

/// One page of a gn2pg schema's `error_log` rows (filtered), newest first, and their number.
pub fn error_page(
    client: &mut impl GenericClient,
    schema: &str,
    filter: ErrorFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<LogRow>, i64), PgError> {
    log_page(
        client,
        &format!("{schema}.error_log"),
        &format!(
            "to_jsonb(e), to_char(e.last_ts, {TS}), extract(epoch FROM e.last_ts)::float8,
             NULL::text, NULL::float8"
        ),
        &format!(
            "{}.error_log e WHERE ($1::text IS NULL OR e.source = $1)
               AND ($2::text IS NULL OR e.uuid::text = lower($2))
               AND ($3::text IS NULL OR e.controler = $3)
               AND ($4::int IS NULL OR e.import_id = $4)",
            ident(schema)
        ),
        "e.last_ts DESC, e.uuid",
        &[
            &filter.source,
            &filter.uuid.map(str::trim),
            &filter.controler,
            &filter.import_id,
        ],
        limit,
        offset,
    )
}

/// The number of `error_log` rows of each of `imports`.
fn errors_per_import(
    client: &mut impl GenericClient,
    schema: &str,
    imports: &[LogRow],
) -> Result<BTreeMap<i64, i64>, PgError> {
    let ids: Vec<i32> = imports
        .iter()
        .filter_map(|r| i32::try_from(r.num("id")).ok())
        .collect();
    Ok(client
        .query(
            format!(
                "SELECT import_id::bigint, count(*) FROM {}.error_log
                  WHERE import_id = ANY($1) GROUP BY 1",
                ident(schema)
            )
            .as_str(),
            &[&ids],
        )
        .map_err(|e| PgError::query(format!("count {schema}.error_log per import"), e))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The latest rows of a gn2pg schema's `error_log` (one source, or all) and their number.
pub fn errors(
    client: &mut impl GenericClient,
    schema: &str,
    source: Option<&str>,
    limit: i64,
) -> Result<(Vec<LogRow>, i64), PgError> {
    log_page(
        client,
        &format!("{schema}.error_log"),
        &format!(
            "to_jsonb(e), to_char(e.last_ts, {TS}), extract(epoch FROM e.last_ts)::float8,
             NULL::text, NULL::float8"
        ),
        &format!(
            "{}.error_log e WHERE $1::text IS NULL OR e.source = $1",
            ident(schema)
        ),
        "e.last_ts DESC",
        &[&source],
        limit,
        0,
    )
}

fn overview(tx: &mut Transaction<'_>, base: &str) -> Result<Markup, PgError> {
    let mut gn2pg = Vec::new();
    for schema in schemas(tx)?.keys() {
        gn2pg.push((schema.clone(), sources(tx, schema)?));
    }
    Ok(html! {
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
    })
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

/// A non-empty query parameter.
fn param<'a>(req: &'a Request<'_>, key: &str) -> Option<&'a str> {
    req.params.get(key).map(str::trim).filter(|s| !s.is_empty())
}

/// A `<select>` of a filter form: "any" and `options`, `current` selected.
fn select(name: &str, label: &str, options: &[String], current: Option<&str>) -> Markup {
    html! {
        label { (label) " "
            select name=(name) {
                option value="" { "any" }
                @for o in options {
                    option value=(o) selected[current == Some(o.as_str())] { (o) }
                }
            }
        }
    }
}

/// `/gn2pg/<schema>[?source=NAME][&type=T][&status=S][&page=N]`.
fn schema_page(tx: &mut Transaction<'_>, req: &Request<'_>) -> Result<Rendered, PageError> {
    let (base, schema) = (req.base, req.capture);
    let page_no = req.params.page()?;
    let Some(&has_errors) = schemas(tx)?.get(schema) else {
        return Err(PageError::NotFound(format!(
            "No gn2pg schema named {} is readable.",
            cap(schema)
        )));
    };
    let filter = ImportFilter {
        source: param(req, "source"),
        xfer_type: param(req, "type"),
        status: param(req, "status"),
    };
    let source = filter.source;
    let (page, offset) = page_offset(page_no);
    let sources = sources(tx, schema)?;
    let verifies = last_verifies(tx)?;
    let (types, statuses) = import_kinds(tx, schema)?;
    let (imports, total) = imports(tx, schema, filter, PER_PAGE, offset)?;
    let (errors, per_import) = if has_errors {
        (
            Some(errors(tx, schema, source, 20)?),
            errors_per_import(tx, schema, &imports)?,
        )
    } else {
        (None, BTreeMap::new())
    };
    let self_link = |source: Option<&str>, page: Option<i64>| {
        let page = page.map(|p| p.to_string());
        let mut params = Vec::new();
        if let Some(s) = source {
            params.push(("source", s));
        }
        if let Some(t) = filter.xfer_type {
            params.push(("type", t));
        }
        if let Some(st) = filter.status {
            params.push(("status", st));
        }
        if let Some(p) = &page {
            params.push(("page", p.as_str()));
        }
        href(base, &format!("/gn2pg/{schema}"), &params)
    };
    let errors_link =
        |params: &[(&str, &str)]| href(base, &format!("/gn2pg/{schema}/errors"), params);
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
                    th.num { "API items" } th.num { "Upserts" } th.num { "Deletes" } th.num { "Errors" } th { "Last success" } th { "Last verify" }
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
                            td.verify {
                                @match verifies.get(&name) {
                                    None => span.muted { "never" },
                                    Some(v) => {
                                        span.time { (v.at) } " " (badge(&v.status)) " "
                                        span.muted { "remote " (v.counts.remote_total) ", local " (v.counts.local_total)
                                            ", missing " (v.counts.missing) ", extra " (v.counts.extra)
                                            ", repaired " (v.counts.repaired) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 {
            "Import history"
            @if let Some(s) = source { " of " (s) " " a href=(href(base, &format!("/gn2pg/{schema}"), &[])) { "(all sources)" } }
        }
        form.filters #import-filters method="get" action=(href(base, &format!("/gn2pg/{schema}"), &[])) {
            label { "Source " input type="text" name="source" value=(source.unwrap_or("")); }
            (select("type", "Transfer type", &types, filter.xfer_type))
            (select("status", "Status", &statuses, filter.status))
            button type="submit" { "Filter" }
        }
        div.charts {
            (line_chart("Rows per import", "", &points, &count_series))
            (line_chart("Duration per import (seconds)", " s", &points, &duration_series))
        }
        (pager(page, total, |p| self_link(source, Some(p))))
        @if imports.is_empty() { (empty("No import.")) } @else {
            div.wide { table #imports {
                thead { tr {
                    th.num { "id" } th { "Source" } th { "Controler" } th { "Type" } th { "Status" } th.num { "error_log rows" } th { "Start" } th { "End" }
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
                            td.num {
                                @let n = per_import.get(&r.num("id")).copied().unwrap_or(0);
                                @if n > 0 {
                                    a.errors href=(errors_link(&[("import_id", &r.num("id").to_string())])) { (n) " errors" }
                                } @else { "0" }
                            }
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
                p.meta {
                    "The " (rows.len()) " latest of " (n) " rows. "
                    a #all-errors href=(errors_link(&source.map(|s| vec![("source", s)]).unwrap_or_default())) { "Every row, with filters and whole items →" }
                }
                div.wide { table #errors {
                    thead { tr { th { "When" } th { "Source" } th { "Controler" } th { "UUID" } th.num { "Import" } th { "Error" } th { "Item" } } }
                    tbody {
                        @for e in rows {
                            tr {
                                td.time { (e.at) }
                                td { (e.text("source")) }
                                td { (e.text("controler")) }
                                td { a href=(errors_link(&[("uuid", &e.text("uuid"))])) { (e.text("uuid")) } }
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
    Ok(Rendered { title, body })
}

/// The item of an `error_log` row pretty-printed (a JSON string holding JSON, as some writers
/// store it, is unwrapped).
fn pretty_item(row: &LogRow) -> String {
    let item = match row.row.get("item") {
        None | Some(serde_json::Value::Null) => return String::new(),
        Some(serde_json::Value::String(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.clone()))
        }
        Some(v) => v.clone(),
    };
    serde_json::to_string_pretty(&item).unwrap_or_default()
}

/// `/gn2pg/<schema>/errors[?source=…][&uuid=…][&controler=…][&import_id=N][&page=N]`.
fn errors_page(tx: &mut Transaction<'_>, req: &Request<'_>) -> Result<Rendered, PageError> {
    let (base, schema) = (req.base, req.capture);
    let page_no = req.params.page()?;
    let import_id = param(req, "import_id")
        .map(|v| {
            v.parse::<i32>().map_err(|e| {
                PageError::BadRequest(format!(
                    "Failed to deserialize query string: import_id: {e}"
                ))
            })
        })
        .transpose()?;
    match schemas(tx)?.get(schema) {
        Some(true) => {}
        Some(false) => {
            return Err(PageError::NotFound(format!(
                "The gn2pg schema {} has no readable error_log.",
                cap(schema)
            )))
        }
        None => {
            return Err(PageError::NotFound(format!(
                "No gn2pg schema named {} is readable.",
                cap(schema)
            )))
        }
    }
    let filter = ErrorFilter {
        source: param(req, "source"),
        uuid: param(req, "uuid"),
        controler: param(req, "controler"),
        import_id,
    };
    let (page, offset) = page_offset(page_no);
    let (rows, total) = error_page(tx, schema, filter, PER_PAGE, offset)?;
    let import_text = import_id.map(|i| i.to_string());
    let link = |p: Option<i64>| {
        let p = p.map(|p| p.to_string());
        let mut params = Vec::new();
        for (k, v) in [
            ("source", filter.source),
            ("uuid", filter.uuid),
            ("controler", filter.controler),
            ("import_id", import_text.as_deref()),
            ("page", p.as_deref()),
        ] {
            if let Some(v) = v {
                params.push((k, v));
            }
        }
        href(base, &format!("/gn2pg/{schema}/errors"), &params)
    };
    let title = format!("gn2pg error log · {schema}");
    let body = html! {
        h1 { (title) }
        p.meta {
            "Rows of " code { (schema) ".error_log" } ": the items gn2pg could not store, with the whole error and the whole item. "
            a href=(href(base, &format!("/gn2pg/{schema}"), &[])) { "← imports of " (schema) }
        }
        form.filters #error-filters method="get" action=(href(base, &format!("/gn2pg/{schema}/errors"), &[])) {
            label { "Source " input type="text" name="source" value=(filter.source.unwrap_or("")); }
            label { "UUID " input type="text" name="uuid" size="36" value=(filter.uuid.unwrap_or("")); }
            label { "Controler " input type="text" name="controler" value=(filter.controler.unwrap_or("")); }
            label { "Import id " input type="text" name="import_id" size="6" value=(import_text.as_deref().unwrap_or("")); }
            button type="submit" { "Filter" }
            " " a href=(href(base, &format!("/gn2pg/{schema}/errors"), &[])) { "clear" }
        }
        (pager(page, total, |p| link(Some(p))))
        @if rows.is_empty() { (empty("No error_log row matches.")) } @else {
            div #error-rows {
                @for e in &rows {
                    section.error-row data-uuid=(e.text("uuid")) {
                        p.row-head {
                            span.time { (e.at) } " · source " b { (e.text("source")) }
                            " · controler " b { (e.text("controler")) }
                            " · uuid " a href=(href(base, &format!("/gn2pg/{schema}/errors"), &[("uuid", &e.text("uuid"))])) { (e.text("uuid")) }
                            " · import "
                            @let id = e.text("import_id");
                            @if id.is_empty() { "–" } @else {
                                a href=(href(base, &format!("/gn2pg/{schema}/errors"), &[("import_id", &id)])) { "#" (id) }
                            }
                        }
                        pre.error { (e.text("error")) }
                        details open[rows.len() == 1] {
                            summary { "Item" }
                            pre.item { (pretty_item(e)) }
                        }
                    }
                }
            }
            (pager(page, total, |p| link(Some(p))))
        }
    };
    Ok(Rendered { title, body })
}
