//! Reading `data_tasks.sync_run`: the latest run and the latest success of every scope
//! ([`overview`]), and one scope's history, newest first, a page at a time ([`history`]).
//!
//! Runs are grouped by sync, scope and *kind* (the mode for `fix-sync`, `verify` and `count`
//! runs, else empty), so a site's weekly repair or check is not hidden by its hourly updates. Ages and durations are
//! computed by PostgreSQL against its `now()` (never the client's clock); start times are shown
//! in the database session's time zone.
//!
//! A `running` row whose scope lock (`pg_try_advisory_lock(hashtext('data-tasks:<sync>:<scope>'))`,
//! see [`crate::pg::lock`]) nobody holds belongs to a dead run: it is reported `failed` with the
//! error `abandoned` — the rule [`crate::pg::run_log::sweep_abandoned`] writes — found through
//! `pg_locks`, without taking the lock and without writing, so a read-only role sees it too.
//! What can fail is a query ([`PgError`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::pg::run_log::RunCounts;
use crate::pg::{GenericClient, PgError, Row};

/// Every query reads this: `sync_run` plus its kind.
const RUNS: &str = "(SELECT s.*, CASE WHEN s.mode IN ('fix-sync', 'verify', 'count') THEN s.mode ELSE '' END AS kind
                      FROM data_tasks.sync_run s) r";

/// Whether a `running` row's lock is free, read from `pg_locks` (a one-`bigint` advisory lock
/// shows as classid = high 32 bits, objid = low 32 bits, objsubid = 1).
const ABANDONED: &str = "(r.status = 'running' AND NOT EXISTS (
    SELECT 1 FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid::bigint = ((hashtext('data-tasks:' || r.sync || ':' || r.scope)::bigint >> 32) & 4294967295)
       AND l.objid::bigint = (hashtext('data-tasks:' || r.sync || ':' || r.scope)::bigint & 4294967295)))";

fn columns() -> String {
    format!(
        "r.id, r.sync, r.scope, r.kind, r.mode, r.status, {ABANDONED} AS abandoned,
         r.started_at, r.finished_at,
         to_char(r.started_at, 'YYYY-MM-DD HH24:MI:SS TZ') AS started,
         extract(epoch FROM coalesce(r.finished_at, now()) - r.started_at)::float8 AS duration_s,
         extract(epoch FROM now() - coalesce(r.finished_at, r.started_at))::float8 AS age_s,
         extract(epoch FROM r.started_at)::float8 AS started_epoch,
         r.counts, r.error, r.version"
    )
}

/// What identifies a scope's runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ScopeKey {
    pub sync: String,
    pub scope: String,
    /// `fix-sync` or empty.
    pub kind: String,
}

impl ScopeKey {
    /// `sync/scope`, plus ` (fix-sync)` for that kind.
    pub fn label(&self) -> String {
        if self.kind.is_empty() {
            format!("{}/{}", self.sync, self.scope)
        } else {
            format!("{}/{} ({})", self.sync, self.scope, self.kind)
        }
    }
}

/// One row of `data_tasks.sync_run`, as shown.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub id: i64,
    pub mode: String,
    /// The stored status, or `failed` for an abandoned `running` row.
    pub status: String,
    /// A `running` row whose run is dead (its lock is free).
    pub abandoned: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Start in the database session's time zone, `YYYY-MM-DD HH:MM:SS TZ`.
    #[serde(skip)]
    pub started: String,
    /// Seconds from start to end (to now while running).
    pub duration_s: f64,
    /// Seconds since the run ended (since it started while running).
    pub age_s: f64,
    #[serde(skip)]
    pub started_epoch: f64,
    pub counts: RunCounts,
    pub error: Option<String>,
    pub version: Option<String>,
    /// The run's time limit in seconds (`max_run`), when it recorded one.
    pub max_run_s: Option<u64>,
    /// A `running` row past its time limit while its lock is still held: a hung run.
    pub hung: bool,
}

impl Run {
    fn from_row(row: &Row) -> (ScopeKey, Run) {
        let key = ScopeKey {
            sync: row.get("sync"),
            scope: row.get("scope"),
            kind: row.get("kind"),
        };
        let abandoned: bool = row.get("abandoned");
        let stored: String = row.get("status");
        let running = stored == "running";
        let mut error: Option<String> = row.get("error");
        if abandoned && error.is_none() {
            error = Some("abandoned".into());
        }
        let counts: Option<serde_json::Value> = row.get("counts");
        let max_run_s = counts
            .as_ref()
            .and_then(|c| c.get(crate::pg::run_log::MAX_RUN_KEY))
            .and_then(|v| v.as_u64());
        let duration_s = row.get::<_, Option<f64>>("duration_s").unwrap_or(0.0);
        let run = Run {
            id: row.get("id"),
            mode: row.get("mode"),
            status: if abandoned { "failed".into() } else { stored },
            abandoned,
            started_at: row.get("started_at"),
            finished_at: row.get("finished_at"),
            started: row.get("started"),
            duration_s,
            age_s: row.get::<_, Option<f64>>("age_s").unwrap_or(0.0),
            started_epoch: row.get::<_, Option<f64>>("started_epoch").unwrap_or(0.0),
            counts: counts.as_ref().map(counts_of).unwrap_or_default(),
            error,
            version: row.get("version"),
            max_run_s,
            hung: !abandoned && running && max_run_s.is_some_and(|m| duration_s > m as f64),
        };
        (key, run)
    }

    pub fn is_running(&self) -> bool {
        self.status == "running"
    }
}

/// The `counts` object, tolerant: a missing or non-numeric key counts 0.
fn counts_of(v: &serde_json::Value) -> RunCounts {
    let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    RunCounts {
        fetched: n("fetched"),
        upserted: n("upserted"),
        deleted: n("deleted"),
        errors: n("errors"),
        http_retries: n("http_retries"),
        remote_total: n("remote_total"),
        local_total: n("local_total"),
        missing: n("missing"),
        extra: n("extra"),
        repaired: n("repaired"),
    }
}

/// A scope's latest run, latest success and the last 24 hours.
#[derive(Debug, Clone)]
pub struct ScopeRuns {
    pub key: ScopeKey,
    pub last: Run,
    pub last_success: Option<Run>,
    pub runs_24h: i64,
    pub failed_24h: i64,
}

/// Every scope, ordered by sync, scope, kind.
pub fn overview(client: &mut impl GenericClient) -> Result<Vec<ScopeRuns>, PgError> {
    let latest = |client: &mut _, filter: &str| -> Result<Vec<(ScopeKey, Run)>, PgError> {
        let sql = format!(
            "SELECT DISTINCT ON (r.sync, r.scope, r.kind) {} FROM {RUNS} {filter}
              ORDER BY r.sync, r.scope, r.kind, r.started_at DESC, r.id DESC",
            columns()
        );
        let rows = GenericClient::query(client, sql.as_str(), &[])
            .map_err(|e| PgError::query("read the latest runs of data_tasks.sync_run", e))?;
        Ok(rows.iter().map(Run::from_row).collect())
    };
    let last = latest(client, "")?;
    let mut ok: HashMap<ScopeKey, Run> = latest(client, "WHERE r.status = 'ok'")?
        .into_iter()
        .collect();
    let sql = format!(
        "SELECT r.sync, r.scope, r.kind, count(*),
                count(*) FILTER (WHERE r.status IN ('failed', 'partial') OR {ABANDONED})
           FROM {RUNS} WHERE r.started_at > now() - interval '24 hours'
          GROUP BY 1, 2, 3"
    );
    let mut day: HashMap<ScopeKey, (i64, i64)> = client
        .query(sql.as_str(), &[])
        .map_err(|e| PgError::query("count the last day's runs of data_tasks.sync_run", e))?
        .iter()
        .map(|r| {
            let key = ScopeKey {
                sync: r.get(0),
                scope: r.get(1),
                kind: r.get(2),
            };
            (key, (r.get(3), r.get(4)))
        })
        .collect();
    Ok(last
        .into_iter()
        .map(|(key, last)| {
            let (runs_24h, failed_24h) = day.remove(&key).unwrap_or((0, 0));
            ScopeRuns {
                last_success: ok.remove(&key),
                key,
                last,
                runs_24h,
                failed_24h,
            }
        })
        .collect())
}

/// One page of a scope's runs, newest first, and the scope's number of runs.
#[cfg(feature = "dashboard")]
pub fn history(
    client: &mut impl GenericClient,
    key: &ScopeKey,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Run>, i64), PgError> {
    let filter = "r.sync = $1 AND r.scope = $2 AND r.kind = $3";
    let total: i64 = client
        .query_one(
            format!("SELECT count(*) FROM {RUNS} WHERE {filter}").as_str(),
            &[&key.sync, &key.scope, &key.kind],
        )
        .map_err(|e| PgError::query("count a scope's runs in data_tasks.sync_run", e))?
        .get(0);
    let sql = format!(
        "SELECT {} FROM {RUNS} WHERE {filter}
          ORDER BY r.started_at DESC, r.id DESC LIMIT $4 OFFSET $5",
        columns()
    );
    let rows = client
        .query(
            sql.as_str(),
            &[&key.sync, &key.scope, &key.kind, &limit, &offset],
        )
        .map_err(|e| PgError::query("read a scope's runs in data_tasks.sync_run", e))?;
    Ok((rows.iter().map(|r| Run::from_row(r).1).collect(), total))
}

/// PostgreSQL's `now()`, in the session's time zone (`YYYY-MM-DD HH:MM:SS TZ`) and as UTC.
pub fn now(client: &mut impl GenericClient) -> Result<(String, DateTime<Utc>), PgError> {
    let row = client
        .query_one(
            "SELECT to_char(now(), 'YYYY-MM-DD HH24:MI:SS TZ'), now()",
            &[],
        )
        .map_err(|e| PgError::query("read the database clock", e))?;
    Ok((row.get(0), row.get(1)))
}
