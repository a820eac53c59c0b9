//! Test helpers shared by every crate of the workspace (a dev-dependency only):
//! - [`in_ci`] / [`require`]: the one policy for missing services — a test that needs a service
//!   which is not there fails when `CI` is set to `true` or `1`, and is skipped with a notice
//!   elsewhere, never silently;
//! - [`pg`]: the PostgreSQL the tests use — a database per test on the server `scripts/test.sh`
//!   started (or pointed at), and throwaway clusters with custom settings (TLS-only, …);
//! - [`http`]: a tiny scriptable HTTP/1.1 server with injectable faults.
#![allow(clippy::new_without_default)]

pub mod http;
pub mod pg;

use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether the tests run under CI (`CI=true` or `CI=1`): then a missing dependency is a failure.
pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// `true` when `available`; otherwise fails under CI and returns `false` (skip) with a notice.
pub fn require(what: &str, available: bool) -> bool {
    if available {
        return true;
    }
    if in_ci() {
        panic!("{what} is required when CI=true: run the tests through scripts/test.sh");
    }
    eprintln!("SKIPPED: {what} not available (run scripts/test.sh to start it)");
    false
}

/// A name unique to this test process and call (`prefix-<pid>-<n>`).
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
