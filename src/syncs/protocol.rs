//! The run protocol every sync follows for one scope (a gn2pg source, a VisioNature site ×
//! schema, the ecospheres table), written once (docs/syncs/README.md §9):
//!
//! 1. take the scope's advisory lock, or record a `skipped` row and stop (another run is at work);
//! 2. open the `running` row of `data_tasks.sync_run`, with the run's time limit (`max_run`) in
//!    its counts, so `status` can tell a hung run from a long one;
//! 3. run the sync's work, which checks the [`Deadline`] between pages; a watchdog thread is the
//!    backstop when the work is stuck where it cannot check (a database wait): past the limit
//!    plus [`GRACE`] it records the run `failed` and ends the process (exit 2), which releases the
//!    lock and rolls back the open transaction;
//! 4. decide the status — `failed` when the work returned an error, `partial` when it reported
//!    problems or rows in error, `ok` otherwise — and the stored error text (the error's chain,
//!    scrubbed of secrets, or the problems);
//! 5. close the row. A row that cannot be closed is logged and reported once, the same way for
//!    every sync ([`Ran::close_error`]): the data is committed, the bookkeeping is not.
//!
//! [`summary_counts`] sums the counts of several scopes into a [`Summary`] the same way for all.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::outcome::{error_chain, Summary};
use crate::pg::run_log::{self, Begin, LockPolicy, RunCounts, RunScope, RunStatus};
use crate::pg::{DbUrl, PgError};
use crate::secrets::{scrub, Env};

/// How long the watchdog lets a run that passed its time limit go on before it ends the process.
pub const GRACE: Duration = Duration::from_secs(60);

/// A run's time limit, checked between pages.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    max_run: Duration,
    setting: &'static str,
}

/// The run went past its time limit.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the run took longer than {setting} ({}) and stopped itself", humantime::format_duration(*max_run))]
pub struct Overrun {
    pub max_run: Duration,
    pub setting: &'static str,
}

impl Deadline {
    /// A limit of `max_run` from now; `setting` names it in messages (`gn2pg.max_run`).
    pub fn new(max_run: Duration, setting: &'static str) -> Deadline {
        Deadline {
            at: Instant::now() + max_run,
            max_run,
            setting,
        }
    }

    /// `Err` once the limit has passed.
    pub fn check(&self) -> Result<(), Overrun> {
        if Instant::now() >= self.at {
            return Err(self.overrun());
        }
        Ok(())
    }

    fn overrun(&self) -> Overrun {
        Overrun {
            max_run: self.max_run,
            setting: self.setting,
        }
    }
}

/// One scope to run.
pub struct Scope<'a> {
    pub sync: &'a str,
    pub scope: &'a str,
    /// `full`, `update`, `fix-sync`…
    pub mode: &'a str,
    pub lock: LockPolicy,
    pub max_run: Duration,
    /// The setting of `max_run` (`gn2pg.max_run`).
    pub max_run_setting: &'static str,
}

/// What the work of a scope sees: the deadline, its counts and problems, the run row.
// Each sync uses part of what a run offers: with some syncs left out, part of it goes unread.
#[cfg_attr(
    not(all(feature = "gn2pg", feature = "visionature", feature = "ecospheres")),
    allow(dead_code)
)]
pub struct Work<'r> {
    run: &'r mut RunScope,
    pub deadline: Deadline,
    pub counts: RunCounts,
    /// Row- or item-level problems: the run ends `partial`.
    pub problems: Vec<String>,
}

#[cfg_attr(not(all(feature = "gn2pg", feature = "visionature")), allow(dead_code))]
impl Work<'_> {
    /// The id of the run row (`data_tasks.sync_run.id`), for rows that name their run.
    pub fn run_id(&self) -> i64 {
        self.run.id
    }

    /// Writes the counts so far into the run row (progress for `status` and the dashboard); a
    /// failure is only logged, the next update or the close will try again.
    pub fn progress(&mut self) {
        if let Err(e) = self.run.progress(&self.counts) {
            tracing::debug!(error = %error_chain(&e), "cannot update the run's progress");
        }
    }
}

/// How a scope's run ended.
// Each sync uses part of what a run offers: with some syncs left out, part of it goes unread.
#[cfg_attr(
    not(all(feature = "gn2pg", feature = "visionature", feature = "ecospheres")),
    allow(dead_code)
)]
pub struct Ran<T, E> {
    /// What the work returned.
    pub result: Result<T, E>,
    pub status: RunStatus,
    pub counts: RunCounts,
    /// The text stored in the row: the error's chain, or the problems.
    pub error: Option<String>,
    pub problems: Vec<String>,
    pub run_id: i64,
    /// Why the row could not be closed, if it could not.
    pub close_error: Option<String>,
}

/// The outcome of [`run_scope`].
pub enum Scoped<T, E> {
    /// Another run holds the scope's lock; a `skipped` row was recorded.
    Skipped,
    Ran(Box<Ran<T, E>>),
}

/// Runs `work` for `scope` under the protocol of the module doc. `Err` only when the lock or the
/// run row cannot be had (nothing was done).
pub fn run_scope<T, E>(
    db: &DbUrl,
    scope: &Scope<'_>,
    work: impl FnOnce(&mut Work<'_>) -> Result<T, E>,
) -> Result<Scoped<T, E>, PgError>
where
    E: std::error::Error + 'static,
{
    let mut run = match run_log::begin(db, scope.sync, scope.scope, scope.mode, scope.lock)? {
        Begin::Skipped => return Ok(Scoped::Skipped),
        Begin::Run(run) => run,
    };
    let deadline = Deadline::new(scope.max_run, scope.max_run_setting);
    if let Err(e) = run.set_max_run(scope.max_run) {
        tracing::debug!(error = %error_chain(&e), "cannot record the run's time limit");
    }
    let watchdog = Watchdog::start(db, run.id, deadline);
    let mut w = Work {
        run: &mut run,
        deadline,
        counts: RunCounts::default(),
        problems: Vec::new(),
    };
    let result = work(&mut w);
    let Work {
        counts, problems, ..
    } = w;
    drop(watchdog);
    let (status, error) = match &result {
        Err(e) => (RunStatus::Failed, Some(scrub(&error_chain(e)))),
        Ok(_) if !problems.is_empty() => (RunStatus::Partial, Some(problems.join("; "))),
        Ok(_) if counts.errors > 0 => (RunStatus::Partial, None),
        Ok(_) => (RunStatus::Ok, None),
    };
    let run_id = run.id;
    let close_error = run
        .finish(status, &counts, error.as_deref())
        .err()
        .map(|e| {
            let text = error_chain(&e);
            tracing::error!(sync = scope.sync, scope = scope.scope, error = %text,
            "cannot close the run row in data_tasks.sync_run");
            format!(
                "{}: the run row {run_id} could not be closed: {text}",
                scope.scope
            )
        });
    Ok(Scoped::Ran(Box::new(Ran {
        result,
        status,
        counts,
        error,
        problems,
        run_id,
        close_error,
    })))
}

/// Ends the process when a run is stuck past its limit (see the module doc).
struct Watchdog {
    stop: Option<mpsc::Sender<()>>,
}

impl Watchdog {
    fn start(db: &DbUrl, run_id: i64, deadline: Deadline) -> Watchdog {
        let (tx, rx) = mpsc::channel::<()>();
        let db = db.clone();
        let wait = deadline.max_run.saturating_add(GRACE);
        let spawned = std::thread::Builder::new()
            .name("run-watchdog".into())
            .spawn(move || {
                if rx.recv_timeout(wait) != Err(mpsc::RecvTimeoutError::Timeout) {
                    return;
                }
                let reason = format!(
                    "{}; it did not stop within {} of its limit and was ended",
                    deadline.overrun(),
                    humantime::format_duration(GRACE)
                );
                tracing::error!("{reason}");
                if let Ok(mut client) = db.connect() {
                    let _ = client.execute(
                        "UPDATE data_tasks.sync_run SET status = 'failed', error = $2, finished_at = now()
                         WHERE id = $1 AND status = 'running'",
                        &[&run_id, &reason],
                    );
                }
                std::process::exit(2);
            });
        Watchdog {
            stop: spawned.ok().map(|_| tx),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The database of a sync: the first set of `vars` (`GN2PG_DATABASE_URL`, `DATABASE_URL`), else
/// what the replaced tool's own configuration says (`legacy`: gn2pg-client's `[db]` table, the
/// original ETL's `POSTGRES_*` variables; `Ok(None)` when it says nothing), else an error naming
/// the variables and `legacy_hint` (where else a URL may come from).
pub fn database_url(
    env: &Env,
    vars: &[&str],
    legacy: impl FnOnce() -> Result<Option<DbUrl>, PgError>,
    legacy_hint: &str,
) -> Result<DbUrl, PgError> {
    match DbUrl::from_env(env, vars) {
        Err(PgError::NotConfigured { .. }) => legacy()?.ok_or_else(|| PgError::NotConfigured {
            vars: format!("{}{legacy_hint}", vars.join(" or ")),
        }),
        found => found,
    }
}

/// Adds `counts` (the sum over a command's scopes) to `summary`, the same keys for every sync.
#[cfg_attr(not(any(feature = "gn2pg", feature = "visionature")), allow(dead_code))]
pub fn summary_counts(summary: &mut Summary, counts: &RunCounts) {
    for (k, v) in [
        ("fetched", counts.fetched),
        ("upserted", counts.upserted),
        ("deleted", counts.deleted),
        ("errors", counts.errors),
        ("http_retries", counts.http_retries),
    ] {
        summary.counts.insert(k.into(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_names_its_setting_once_past() {
        let d = Deadline::new(Duration::ZERO, "gn2pg.max_run");
        let e = d.check().unwrap_err();
        assert_eq!(
            e.to_string(),
            "the run took longer than gn2pg.max_run (0s) and stopped itself"
        );
        assert!(Deadline::new(Duration::from_secs(60), "x").check().is_ok());
    }
}
