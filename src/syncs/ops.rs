//! What a sync adds to the operations view ([`SyncOps`]): sections of the dashboard's overview,
//! pages of its own with their routes, links in the header. Each sync declares one in its
//! `ops.rs` (`syncs::<name>::ops::OPS`), next to the tables it reads; [`super::ops_panels`]
//! gathers those of the syncs compiled in, and `ops::dashboard` renders them around what it reads
//! itself (`data_tasks.sync_run`: runs, staleness, history). `status` reads only `sync_run`.
//!
//! A sync finds its tables by their columns ([`table_columns`]), never through its configuration:
//! `information_schema.columns` lists only what the current role may read, so a table the role
//! cannot read is simply absent. Rows are read as `to_jsonb(row)` and picked apart leniently
//! ([`LogRow`]: a column an older version lacks shows as empty), timestamps formatted by
//! PostgreSQL. Schema names come from the discovery, never from a request, and are quoted
//! ([`crate::pg::ident`]). What can fail is a query ([`PgError`]), or a page's parameters
//! ([`PageError`]).
//!
//! A sync also says how complete and current its copies are ([`SyncOps::copies`], one
//! [`CopyState`] per gn2pg source × data type, VisioNature site × taxo group or reference list),
//! which `status` judges and the dashboard's `/copies` page shows.

use std::collections::{BTreeMap, BTreeSet};

use maud::Markup;
use serde_json::Value;

use crate::pg::{GenericClient, PgError, ToSql, Transaction};

/// A sync's part of the dashboard.
pub struct SyncOps {
    /// The sync's name, as in `data_tasks.sync_run.sync`.
    pub name: &'static str,
    /// Links of the pages' header, after the overview's: `(label, path under the base path)`.
    pub nav: &'static [(&'static str, &'static str)],
    /// Its sections of the overview, shown after the table of scopes (`base`: the base path).
    pub overview: Option<Section>,
    /// Its own pages.
    pub pages: &'static [Page],
    /// How complete and current its copies are, read in one transaction.
    pub copies: Option<Copies>,
}

/// Reads a sync's [`CopyState`] lines.
pub type Copies = fn(&mut Transaction<'_>) -> Result<Vec<CopyState>, PgError>;

/// One copy a sync keeps (a gn2pg source × data type, a VisioNature site × taxo group, a
/// VisioNature reference list): what is stored, what the remote holds as last known, the last
/// completeness check, and the age of its watermark or refresh. `None`: not known.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CopyState {
    /// The sync (`gn2pg`, `visionature`).
    pub sync: &'static str,
    /// The schema holding it.
    pub schema: String,
    /// The source or site (as `data_tasks.sync_run.scope`).
    pub scope: String,
    /// What `part` names: `data type`, `taxo group`, `reference list`.
    pub kind: &'static str,
    /// The data type, taxo group id or reference list (controller).
    pub part: String,
    /// Rows stored.
    pub stored: Option<i64>,
    /// The remote's last known total.
    pub remote: Option<i64>,
    /// Where [`CopyState::remote`] comes from (`verify run #12`, `full import #3`).
    pub remote_from: Option<String>,
    /// The last completeness check (`verify`/`count`): its outcome, `ok` or what is wrong.
    pub check: Option<String>,
    /// When that check ran, in the database session's time zone.
    pub checked_at: Option<String>,
    /// Rows missing according to that check (0: complete).
    pub missing: i64,
    /// The watermark (VisioNature: `increment_log.last_ts`, the site's local time) or last
    /// refresh (`controller_state.last_success`), as text.
    pub watermark: Option<String>,
    /// Its age in seconds against the database's clock.
    pub age_s: Option<f64>,
}

/// The copies of every sync compiled in ([`super::ops_panels`]).
pub fn copies(tx: &mut Transaction<'_>) -> Result<Vec<CopyState>, PgError> {
    let mut out = Vec::new();
    for sync in super::ops_panels() {
        if let Some(read) = sync.copies {
            out.extend(read(tx)?);
        }
    }
    Ok(out)
}

impl CopyState {
    /// `sync/scope/part`, the name a `--stale-after` scope pattern matches after its track.
    pub fn label(&self) -> String {
        format!("{}/{}/{}", self.sync, self.scope, self.part)
    }
}

/// Sections of the overview: HTML read in the page's transaction, links under `base`.
pub type Section = fn(&mut Transaction<'_>, base: &str) -> Result<Markup, PgError>;

/// One page of a sync, read in a read-only transaction and shown in the dashboard's frame.
pub struct Page {
    /// Its path under the base path, as axum writes routes: `/fix-sync`, or with one capture,
    /// `/gn2pg/{schema}`.
    pub route: &'static str,
    /// The track whose scopes the page links to, with their state ([`Request::runs`]).
    pub track: Option<&'static str>,
    pub render: fn(&mut Transaction<'_>, &Request<'_>) -> Result<Rendered, PageError>,
}

/// What a page is asked.
pub struct Request<'a> {
    /// The base path (`""` or `/ops`).
    pub base: &'a str,
    /// The route's capture (`""` without one).
    pub capture: &'a str,
    pub params: &'a Params,
    /// Links to the runs of the page's [`Page::track`] with their state (empty without).
    pub runs: &'a Markup,
}

/// A rendered page: its title and the content of its frame.
pub struct Rendered {
    pub title: String,
    pub body: Markup,
}

/// Why a page was not rendered: 404 with a text, 400 with a text, or 503 (the message logged
/// only).
pub enum PageError {
    NotFound(String),
    BadRequest(String),
    Db(PgError),
}

impl From<PgError> for PageError {
    fn from(e: PgError) -> Self {
        PageError::Db(e)
    }
}

/// A request's query parameters.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `a=1&b=x` (percent-decoded; the last of repeated keys wins).
    pub fn parse(query: &str) -> Params {
        Params(
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `?page=N`: a 1-based page number; not a number is a bad request.
    pub fn page(&self) -> Result<Option<u32>, PageError> {
        self.get("page")
            .map(|p| {
                p.parse().map_err(|e| {
                    PageError::BadRequest(format!("Failed to deserialize query string: page: {e}"))
                })
            })
            .transpose()
    }
}

/// The columns of tables, by schema and table name, as this role sees them.
#[derive(Debug, Clone, Default)]
pub struct Tables(BTreeMap<(String, String), BTreeSet<String>>);

impl Tables {
    /// Whether `schema.table` exists and has every column of `wanted`.
    pub fn has(&self, schema: &str, table: &str, wanted: &[&str]) -> bool {
        self.0
            .get(&(schema.to_string(), table.to_string()))
            .is_some_and(|cols| wanted.iter().all(|c| cols.contains(*c)))
    }

    /// The schemas holding a table `table` with every column of `wanted`, sorted.
    pub fn schemas_with(&self, table: &str, wanted: &[&str]) -> Vec<String> {
        self.0
            .keys()
            .filter(|(s, t)| t == table && self.has(s, t, wanted))
            .map(|(s, _)| s.clone())
            .collect()
    }
}

/// Reads the columns of every readable table named one of `names`, in any schema.
pub fn table_columns(client: &mut impl GenericClient, names: &[&str]) -> Result<Tables, PgError> {
    let rows = client
        .query(
            "SELECT table_schema::text, table_name::text, array_agg(column_name::text)
               FROM information_schema.columns
              WHERE table_name::text = ANY($1)
              GROUP BY 1, 2",
            &[&names],
        )
        .map_err(|e| PgError::query("find the syncs' tables in information_schema", e))?;
    let mut tables = BTreeMap::new();
    for r in rows {
        let cols: Vec<String> = r.get(2);
        tables.insert((r.get(0), r.get(1)), cols.into_iter().collect());
    }
    Ok(Tables(tables))
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

/// The format of [`LogRow::at`], for `to_char`.
pub const TS: &str = "'YYYY-MM-DD HH24:MI:SS'";

/// The latest finished run of a completeness check (`gn2pg verify`, `visionature count`) of one
/// scope, from `data_tasks.sync_run`.
pub(crate) struct CheckRun {
    pub scope: String,
    pub id: i64,
    pub status: String,
    /// Its start, formatted with [`TS`].
    pub at: String,
    pub counts: Value,
    pub error: Option<String>,
}

/// The latest finished run of `sync` in `mode` per scope; none when `sync_run` is not readable.
pub(crate) fn latest_checks(
    client: &mut impl GenericClient,
    sync: &str,
    mode: &str,
) -> Result<Vec<CheckRun>, PgError> {
    let tables = table_columns(client, &["sync_run"])?;
    if !tables.has(
        "data_tasks",
        "sync_run",
        &["sync", "scope", "mode", "counts"],
    ) {
        return Ok(Vec::new());
    }
    Ok(client
        .query(
            &format!(
                "SELECT DISTINCT ON (scope) scope, id, status, to_char(started_at, {TS}),
                        coalesce(counts, '{{}}'::jsonb), error
                   FROM data_tasks.sync_run
                  WHERE sync = $1 AND mode = $2 AND status <> 'running'
                  ORDER BY scope, started_at DESC, id DESC"
            ),
            &[&sync, &mode],
        )
        .map_err(|e| {
            PgError::query(
                "read the latest completeness checks of data_tasks.sync_run",
                e,
            )
        })?
        .iter()
        .map(|r| CheckRun {
            scope: r.get(0),
            id: r.get(1),
            status: r.get(2),
            at: r.get::<_, Option<String>>(3).unwrap_or_default(),
            counts: r.get(4),
            error: r.get(5),
        })
        .collect())
}

/// What a completeness check's counts say: `ok`, or what is missing, extra, repaired; the
/// number still missing. Shared by gn2pg's `verify` (`unit` = `rows`) and visionature's `count`
/// (`taxo groups`).
pub fn check_outcome(
    status: &str,
    counts: &serde_json::Value,
    error: Option<&str>,
    unit: &str,
) -> (String, i64) {
    let n = |k: &str| {
        counts
            .get(k)
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0)
    };
    let (missing, extra, repaired) = (n("missing"), n("extra"), n("repaired"));
    let left = (missing - repaired).max(0);
    let mut parts = Vec::new();
    if left > 0 {
        parts.push(format!("{left} {unit} missing"));
    }
    if extra > 0 {
        parts.push(format!("{extra} {unit} extra"));
    }
    if repaired > 0 {
        parts.push(format!("{repaired} {unit} repaired"));
    }
    let text = match status {
        "ok" | "partial" if parts.is_empty() => "ok".to_string(),
        "ok" | "partial" => parts.join(", "),
        other => match error {
            Some(e) => format!("{other}: {}", crate::text::cap(e)),
            None => other.to_string(),
        },
    };
    (text, left)
}

/// Runs `sql`, whose columns are `to_jsonb(row)`, the main timestamp as text, its epoch, a
/// second timestamp as text and a duration in seconds; `what` names it in errors.
pub fn log_rows(
    client: &mut impl GenericClient,
    what: &str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
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

/// One page of a log table and the number of its matching rows: `from` is the `FROM … WHERE …`
/// clause (with `params` as `$1…`), `columns` the five [`LogRow`] columns, `order` the
/// `ORDER BY` list; `what` (`gn2pg_lpo.import_log`) names the queries in errors.
#[allow(clippy::too_many_arguments)]
pub fn log_page(
    client: &mut impl GenericClient,
    what: &str,
    columns: &str,
    from: &str,
    order: &str,
    params: &[&(dyn ToSql + Sync)],
    limit: i64,
    offset: i64,
) -> Result<(Vec<LogRow>, i64), PgError> {
    let total = count(
        client,
        &format!("count {what}"),
        &format!("SELECT count(*) FROM {from}"),
        params,
    )?;
    let n = params.len();
    let mut all: Vec<&(dyn ToSql + Sync)> = params.to_vec();
    all.push(&limit);
    all.push(&offset);
    let sql = format!(
        "SELECT {columns} FROM {from} ORDER BY {order} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let rows = log_rows(client, &format!("read {what}"), &sql, &all)?;
    Ok((rows, total))
}

/// Runs `sql`, whose one row holds one `bigint`; `what` names it in errors.
pub fn count(
    client: &mut impl GenericClient,
    what: &str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<i64, PgError> {
    Ok(client
        .query_one(sql, params)
        .map_err(|e| PgError::query(what, e))?
        .get(0))
}
