//! The operations view of the syncs: [`status`] (per sync and scope, the last run and the age of
//! the last success; per copy a sync keeps, how complete and current it is; exit 1 when one is
//! stale, incomplete or lagging — a monitoring probe) and [`dashboard`] (a read-only web app
//! showing the same plus each scope's run history, gn2pg's import history and every `error_log`
//! row, visionature's download errors and fix-sync's monitoring counts).
//!
//! Both read only the database (`OPS_DATABASE_URL`, else `DATABASE_URL`), never a sync's
//! configuration: `data_tasks.sync_run` (docs/syncs/README.md §3) for the runs, and for the dashboard what
//! each sync registers in its `ops.rs` ([`crate::syncs::ops_panels`]), which finds its own
//! tables by their columns (gn2pg's `import_log`, visionature's `download_log`, fix-sync's
//! monitoring table) — nothing here names a sync's table. A read-only
//! role suffices (docs/ops.md lists the GRANTs); `status` also marks abandoned runs when the role
//! may update `sync_run`, and otherwise shows them as abandoned without writing.
//!
//! What can fail: the database is unreachable or `data_tasks.sync_run` does not exist
//! ([`OpsError`], exit 2); the dashboard refuses a non-loopback address without credentials and a
//! malformed `--base-path`. A page whose query fails answers 503 without the database's message
//! (which the server logs).

#[cfg(feature = "dashboard")]
pub mod dashboard;
mod runs;
pub mod stale;
pub mod status;

pub use runs::{Run, ScopeKey};
pub use stale::{StaleAfter, Thresholds, Verdict};

use crate::pg::{DbUrl, PgError};
use crate::secrets::Env;

/// The variables naming the database, first set wins.
pub const DATABASE_VARS: [&str; 2] = ["OPS_DATABASE_URL", "DATABASE_URL"];

/// Fatal errors of `status` and `dashboard`.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Db(#[from] PgError),
    #[error(
        "data_tasks.sync_run does not exist in {server} (or this role cannot see it): no sync has \
         been set up there — run a sync's init-db, or grant USAGE on schema data_tasks and SELECT \
         on data_tasks.sync_run"
    )]
    NoRunTable { server: String },
    #[error(
        "refusing to listen on {addr} without credentials: set DASHBOARD_USER and \
         DASHBOARD_PASSWORD, or listen on a loopback address (127.0.0.1, ::1)"
    )]
    NoCredentials { addr: String },
    #[error("{set} is set but {missing} is not: set both (basic auth) or neither")]
    HalfCredentials {
        set: &'static str,
        missing: &'static str,
    },
    #[error("--base-path {path:?}: {reason}")]
    BasePath { path: String, reason: &'static str },
    #[error("cannot listen on {addr}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the web server's runtime")]
    Runtime(#[source] std::io::Error),
    #[error("the web server stopped")]
    Serve(#[source] std::io::Error),
}

/// The database of the operations view.
pub fn database(env: &Env) -> Result<DbUrl, OpsError> {
    Ok(DbUrl::from_env(env, &DATABASE_VARS)?)
}
