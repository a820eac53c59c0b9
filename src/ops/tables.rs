//! The sync-specific tables the dashboard shows, found by their columns rather than by any
//! sync's configuration ([`discover`]): every schema whose `import_log` has gn2pg's columns (with
//! its `error_log` when readable), every schema whose `download_log` has visionature's, and
//! `dbadmin.monitoring_vn_check_to_prod`. Discovery reads `information_schema.columns`, which
//! lists only what the current role may read, so a table the role cannot read is simply absent.
//!
//! Rows are read as `to_jsonb(row)` and picked apart leniently (a column an older version lacks
//! shows as empty), timestamps formatted by PostgreSQL. Schema names come from the discovery,
//! never from a request, and are quoted ([`crate::pg::ident`]). What can fail is a query.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::pg::{ident, GenericClient, PgError};

const GN2PG_IMPORT_LOG: &[&str] = &[
    "id",
    "source",
    "controler",
    "xfer_type",
    "xfer_status",
    "xfer_start_ts",
    "xfer_end_ts",
    "data_count_upserts",
];
const GN2PG_ERROR_LOG: &[&str] = &["source", "controler", "last_ts", "error"];
const VN_DOWNLOAD_LOG: &[&str] = &[
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

/// What the database holds besides `sync_run`.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    /// gn2pg schemas, and whether each has a readable `error_log`.
    pub gn2pg: BTreeMap<String, bool>,
    /// visionature schemas (with a `download_log`).
    pub visionature: BTreeSet<String>,
    /// Whether `dbadmin.monitoring_vn_check_to_prod` is readable.
    pub monitoring: bool,
}

/// Finds the tables (see the module doc).
pub fn discover(client: &mut impl GenericClient) -> Result<Discovered, PgError> {
    let rows = client
        .query(
            "SELECT table_schema::text, table_name::text, array_agg(column_name::text)
               FROM information_schema.columns
              WHERE table_name IN ('import_log', 'error_log', 'download_log', 'monitoring_vn_check_to_prod')
              GROUP BY 1, 2",
            &[],
        )
        .map_err(|e| PgError::query("find the syncs' tables in information_schema", e))?;
    let mut tables: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in rows {
        let cols: Vec<String> = r.get(2);
        tables.insert((r.get(0), r.get(1)), cols.into_iter().collect());
    }
    let has = |schema: &str, table: &str, wanted: &[&str]| {
        tables
            .get(&(schema.to_string(), table.to_string()))
            .is_some_and(|cols| wanted.iter().all(|c| cols.contains(*c)))
    };
    let mut d = Discovered::default();
    for (schema, table) in tables.keys() {
        match table.as_str() {
            "import_log" if has(schema, table, GN2PG_IMPORT_LOG) => {
                let errors = has(schema, "error_log", GN2PG_ERROR_LOG);
                d.gn2pg.insert(schema.clone(), errors);
            }
            "download_log" if has(schema, table, VN_DOWNLOAD_LOG) => {
                d.visionature.insert(schema.clone());
            }
            _ => {}
        }
    }
    d.monitoring = has("dbadmin", "monitoring_vn_check_to_prod", MONITORING);
    Ok(d)
}

/// A row read as JSON, with PostgreSQL-formatted times and a duration.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub row: Value,
    /// The row's main timestamp, `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    /// `extract(epoch …)` of that timestamp (for charts).
    pub epoch: f64,
    /// A second timestamp (an import's end), if any.
    pub end: Option<String>,
    pub duration_s: Option<f64>,
}

impl LogRow {
    /// A text or number column as text; empty when absent or null.
    pub fn text(&self, col: &str) -> String {
        match self.row.get(col) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        }
    }

    /// A number column; 0 when absent or null.
    pub fn num(&self, col: &str) -> i64 {
        self.row.get(col).and_then(Value::as_i64).unwrap_or(0)
    }
}

const TS: &str = "'YYYY-MM-DD HH24:MI:SS'";

fn log_rows(
    client: &mut impl GenericClient,
    what: &str,
    sql: &str,
    params: &[&(dyn crate::pg::ToSql + Sync)],
) -> Result<Vec<LogRow>, PgError> {
    let rows = client
        .query(sql, params)
        .map_err(|e| PgError::query(what, e))?;
    Ok(rows
        .iter()
        .map(|r| LogRow {
            row: r.get(0),
            at: r.get::<_, Option<String>>(1).unwrap_or_default(),
            epoch: r.get::<_, Option<f64>>(2).unwrap_or(0.0),
            end: r.get(3),
            duration_s: r.get(4),
        })
        .collect())
}

fn count(
    client: &mut impl GenericClient,
    what: &str,
    sql: &str,
    params: &[&(dyn crate::pg::ToSql + Sync)],
) -> Result<i64, PgError> {
    Ok(client
        .query_one(sql, params)
        .map_err(|e| PgError::query(what, e))?
        .get(0))
}

/// gn2pg: per source, the latest import and the start of the latest success.
pub struct SourceSummary {
    pub last: LogRow,
    pub last_success: Option<String>,
    pub imports: i64,
}

/// The sources of a gn2pg schema.
pub fn gn2pg_sources(
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

/// One page of a gn2pg schema's imports (one source, or all), newest first, and their number.
pub fn gn2pg_imports(
    client: &mut impl GenericClient,
    schema: &str,
    source: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<LogRow>, i64), PgError> {
    let t = format!("{}.import_log", ident(schema));
    let total = count(
        client,
        &format!("count {schema}.import_log"),
        &format!("SELECT count(*) FROM {t} l WHERE $1::text IS NULL OR l.source = $1"),
        &[&source],
    )?;
    let rows = log_rows(
        client,
        &format!("read {schema}.import_log"),
        &format!(
            "SELECT to_jsonb(l), to_char(l.xfer_start_ts, {TS}),
                    extract(epoch FROM l.xfer_start_ts)::float8, to_char(l.xfer_end_ts, {TS}),
                    extract(epoch FROM l.xfer_end_ts - l.xfer_start_ts)::float8
               FROM {t} l WHERE $1::text IS NULL OR l.source = $1
              ORDER BY l.xfer_start_ts DESC, l.id DESC LIMIT $2 OFFSET $3"
        ),
        &[&source, &limit, &offset],
    )?;
    Ok((rows, total))
}

/// The latest rows of a gn2pg schema's `error_log` (one source, or all) and their number.
pub fn gn2pg_errors(
    client: &mut impl GenericClient,
    schema: &str,
    source: Option<&str>,
    limit: i64,
) -> Result<(Vec<LogRow>, i64), PgError> {
    let t = format!("{}.error_log", ident(schema));
    let total = count(
        client,
        &format!("count {schema}.error_log"),
        &format!("SELECT count(*) FROM {t} e WHERE $1::text IS NULL OR e.source = $1"),
        &[&source],
    )?;
    let rows = log_rows(
        client,
        &format!("read {schema}.error_log"),
        &format!(
            "SELECT to_jsonb(e), to_char(e.last_ts, {TS}), extract(epoch FROM e.last_ts)::float8,
                    NULL::text, NULL::float8
               FROM {t} e WHERE $1::text IS NULL OR e.source = $1
              ORDER BY e.last_ts DESC LIMIT $2"
        ),
        &[&source, &limit],
    )?;
    Ok((rows, total))
}

/// What counts as a failed request in `download_log`.
const VN_ERROR: &str =
    "(coalesce(d.error_count, 0) > 0 OR d.http_status >= 400 OR d.http_status < 200)";

/// visionature: requests and errors of the last 7 days per site and controller.
pub struct DownloadSummary {
    pub site: String,
    pub controler: String,
    pub requests: i64,
    pub errors: i64,
    pub last_error: Option<String>,
}

pub fn vn_summary(
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
pub fn vn_recent_errors(client: &mut impl GenericClient, schema: &str) -> Result<i64, PgError> {
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

/// One page of a visionature schema's failed requests, newest first, and their number.
pub fn vn_errors(
    client: &mut impl GenericClient,
    schema: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<LogRow>, i64), PgError> {
    let t = format!("{}.download_log", ident(schema));
    let total = count(
        client,
        &format!("count errors in {schema}.download_log"),
        &format!("SELECT count(*) FROM {t} d WHERE {VN_ERROR}"),
        &[],
    )?;
    let rows = log_rows(
        client,
        &format!("read errors in {schema}.download_log"),
        &format!(
            "SELECT to_jsonb(d), to_char(d.download_ts, {TS}),
                    extract(epoch FROM d.download_ts)::float8, NULL::text, NULL::float8
               FROM {t} d WHERE {VN_ERROR}
              ORDER BY d.download_ts DESC, d.id DESC LIMIT $1 OFFSET $2"
        ),
        &[&limit, &offset],
    )?;
    Ok((rows, total))
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
pub fn monitoring(
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
