//! Run summaries: one `data_tasks.sync_run` row per run of a sync and scope
//! (docs/syncs/README.md §3), the table `status` and the dashboard read.
//!
//! [`begin`] is how every sync starts a scope: it takes the scope's advisory lock (without waiting,
//! or up to a timeout), marks the scope's leftover `running` rows `failed`/`abandoned` (their run
//! died: it no longer holds the lock), and inserts this run's `running` row — or, when another run
//! holds the lock, records a `skipped` row and returns [`Begin::Skipped`]. [`RunScope::finish`]
//! writes the final status, counts and error. Run rows are written through the lock's own
//! connection in autocommit, so a data transaction that fails never takes its run row with it.
//! [`sweep_abandoned`] applies the abandoned rule to every scope (for `status`).

use std::time::Duration;

use postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::lock::{self, LockGuard};
use super::{DbUrl, PgError};
use crate::secrets::scrub;

/// Creates the `data_tasks` schema and the `sync_run` table (idempotent; for every `init-db`).
pub fn schema_sql() -> Vec<String> {
    vec![
        "CREATE SCHEMA IF NOT EXISTS data_tasks".into(),
        "CREATE TABLE IF NOT EXISTS data_tasks.sync_run (
            id bigserial PRIMARY KEY,
            sync text NOT NULL,
            scope text NOT NULL,
            mode text NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            status text NOT NULL CHECK (status IN ('running','ok','partial','failed','skipped')),
            counts jsonb,
            error text,
            version text
        )"
        .into(),
        "CREATE INDEX IF NOT EXISTS sync_run_scope_idx ON data_tasks.sync_run (sync, scope, started_at DESC)".into(),
    ]
}

/// The status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Ok,
    Partial,
    Failed,
    Skipped,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
            RunStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "running" => RunStatus::Running,
            "ok" => RunStatus::Ok,
            "partial" => RunStatus::Partial,
            "failed" => RunStatus::Failed,
            "skipped" => RunStatus::Skipped,
            _ => return None,
        })
    }
}

/// The `counts` of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub fetched: u64,
    pub upserted: u64,
    pub deleted: u64,
    pub errors: u64,
    pub http_retries: u64,
    /// Checks of completeness (`gn2pg verify`, `visionature count`): rows the source holds,
    /// rows stored, and how they differ. Absent from the row of a data run.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub remote_total: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub local_total: u64,
    /// Ids (or, for `count`, groups) the source holds and the copy lacks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub missing: u64,
    /// Ids (or groups) the copy holds and the source no longer does.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extra: u64,
    /// Missing or extra ids put right by a repair.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repaired: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RunCounts {
    /// Field-wise sum.
    pub fn add(&mut self, other: &RunCounts) {
        self.fetched += other.fetched;
        self.upserted += other.upserted;
        self.deleted += other.deleted;
        self.errors += other.errors;
        self.http_retries += other.http_retries;
        self.remote_total += other.remote_total;
        self.local_total += other.local_total;
        self.missing += other.missing;
        self.extra += other.extra;
        self.repaired += other.repaired;
    }
}

/// How to take a scope's lock.
#[derive(Debug, Clone, Copy)]
pub enum LockPolicy {
    /// Don't wait: a held lock means another run is at work → `skipped`.
    Try,
    /// Wait up to this long, then fail ([`PgError::LockTimeout`], fatal).
    Wait(Duration),
}

/// The outcome of [`begin`].
pub enum Begin {
    /// This run holds the scope.
    Run(Box<RunScope>),
    /// Another run holds the lock; a `skipped` row was written.
    Skipped,
}

/// A running scope: the lock, and the `sync_run` row being written.
pub struct RunScope {
    lock: LockGuard,
    /// The run's time limit, kept in its counts as `max_run_s` (see [`RunScope::set_max_run`]).
    max_run: Option<Duration>,
    pub id: i64,
    pub sync: String,
    pub scope: String,
    /// Rows of earlier runs of this scope found `running` and marked abandoned.
    pub abandoned: u64,
}

fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Takes the lock of `sync`/`scope` and opens its run row (see the module doc).
pub fn begin(
    url: &DbUrl,
    sync: &str,
    scope: &str,
    mode: &str,
    policy: LockPolicy,
) -> Result<Begin, PgError> {
    let key = lock::key(sync, scope);
    let guard = match policy {
        LockPolicy::Try => lock::try_lock(url, &key)?,
        LockPolicy::Wait(t) => Some(lock::lock_wait(url, &key, t)?),
    };
    let Some(mut lock) = guard else {
        tracing::warn!(sync, scope, "another run holds the lock: skipped");
        let mut client = url.connect()?;
        client
            .execute(
                "INSERT INTO data_tasks.sync_run (sync, scope, mode, finished_at, status, counts, version)
                 VALUES ($1, $2, $3, now(), 'skipped', $4, $5)",
                &[&sync, &scope, &mode, &counts_json(&RunCounts::default()), &version()],
            )
            .map_err(|e| PgError::query("record the skipped run in data_tasks.sync_run", e))?;
        return Ok(Begin::Skipped);
    };
    let client = lock.client();
    let abandoned = client
        .execute(
            "UPDATE data_tasks.sync_run SET status = 'failed', error = 'abandoned', finished_at = now()
             WHERE sync = $1 AND scope = $2 AND status = 'running'",
            &[&sync, &scope],
        )
        .map_err(|e| PgError::query("mark abandoned runs in data_tasks.sync_run", e))?;
    if abandoned > 0 {
        tracing::warn!(
            sync,
            scope,
            abandoned,
            "an earlier run died without finishing: marked abandoned"
        );
    }
    let id: i64 = client
        .query_one(
            "INSERT INTO data_tasks.sync_run (sync, scope, mode, status, counts, version)
             VALUES ($1, $2, $3, 'running', $4, $5) RETURNING id",
            &[
                &sync,
                &scope,
                &mode,
                &counts_json(&RunCounts::default()),
                &version(),
            ],
        )
        .map_err(|e| PgError::query("open the run in data_tasks.sync_run", e))?
        .get(0);
    Ok(Begin::Run(Box::new(RunScope {
        lock,
        max_run: None,
        id,
        sync: sync.to_string(),
        scope: scope.to_string(),
        abandoned,
    })))
}

fn counts_json(c: &RunCounts) -> serde_json::Value {
    serde_json::to_value(c).unwrap_or(serde_json::Value::Null)
}

/// The key of a run's time limit (seconds) in its `counts`: `status` flags a `running` row older
/// than it as hung, even while its lock is held.
pub const MAX_RUN_KEY: &str = "max_run_s";

impl RunScope {
    /// Records the run's time limit in its row (and in every later update of its counts).
    pub fn set_max_run(&mut self, max_run: Duration) -> Result<(), PgError> {
        self.max_run = Some(max_run);
        self.progress(&RunCounts::default())
    }

    fn counts(&self, counts: &RunCounts) -> serde_json::Value {
        let mut v = counts_json(counts);
        if let (Some(d), Some(map)) = (self.max_run, v.as_object_mut()) {
            map.insert(MAX_RUN_KEY.into(), serde_json::json!(d.as_secs()));
        }
        v
    }

    /// Updates the row's counts while the run goes on (progress for the dashboard).
    pub fn progress(&mut self, counts: &RunCounts) -> Result<(), PgError> {
        let id = self.id;
        let counts = self.counts(counts);
        self.lock
            .client()
            .execute(
                "UPDATE data_tasks.sync_run SET counts = $2 WHERE id = $1",
                &[&id, &counts],
            )
            .map_err(|e| PgError::query("update the run in data_tasks.sync_run", e))?;
        Ok(())
    }

    /// The connection holding the scope's lock (autocommit bookkeeping only).
    pub fn client(&mut self) -> &mut postgres::Client {
        self.lock.client()
    }

    /// Closes the run row and releases the lock.
    pub fn finish(
        mut self,
        status: RunStatus,
        counts: &RunCounts,
        error: Option<&str>,
    ) -> Result<(), PgError> {
        let id = self.id;
        let error = error.map(scrub);
        let counts = self.counts(counts);
        self.lock
            .client()
            .execute(
                "UPDATE data_tasks.sync_run SET status = $2, counts = $3, error = $4, finished_at = now()
                 WHERE id = $1",
                &[&id, &status.as_str(), &counts, &error],
            )
            .map_err(|e| PgError::query("close the run in data_tasks.sync_run", e))?;
        Ok(())
    }
}

/// Marks `failed`/`abandoned` every `running` row whose scope lock is free (its run died).
/// `client` must hold none of those locks. Returns the number of rows changed.
pub fn sweep_abandoned(client: &mut postgres::Client) -> Result<u64, PgError> {
    let scopes: Vec<(String, String)> = client
        .query(
            "SELECT DISTINCT sync, scope FROM data_tasks.sync_run WHERE status = 'running'",
            &[],
        )
        .map_err(|e| PgError::query("read running runs in data_tasks.sync_run", e))?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut changed = 0;
    for (sync, scope) in scopes {
        let key = lock::key(&sync, &scope);
        // Hold the lock while updating, so a run starting now cannot be marked by mistake.
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&key])
            .map_err(|e| PgError::query(format!("advisory lock {key}"), e))?
            .get(0);
        if got {
            let n = client
                .execute(
                    "UPDATE data_tasks.sync_run SET status = 'failed', error = 'abandoned', finished_at = now()
                     WHERE sync = $1 AND scope = $2 AND status = 'running'",
                    &[&sync, &scope],
                )
                .map_err(|e| PgError::query("mark abandoned runs in data_tasks.sync_run", e));
            client
                .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&key])
                .map_err(|e| PgError::query(format!("advisory unlock {key}"), e))?;
            changed += n?;
        }
    }
    Ok(changed)
}

/// Whether the `data_tasks.sync_run` table exists.
pub fn exists(client: &mut impl GenericClient) -> Result<bool, PgError> {
    super::schema::table_exists(client, "data_tasks", "sync_run")
}
