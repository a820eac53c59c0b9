//! Shared helpers of the integration tests: locating fixtures, the data-tasks binary, and the
//! real services (SeaweedFS started by `scripts/test.sh`, PostgreSQL on 127.0.0.1:5432).
//!
//! A test that needs a service which is not there fails when `CI=true` and is skipped with a
//! notice otherwise — never silently.
#![allow(dead_code)]

pub mod http;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn golden() -> PathBuf {
    repo().join("testdata/golden")
}

pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// Fails under CI, skips (returns false) with a notice elsewhere.
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

/// A unique name for this test process and call.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Environment for the S3 store of the SeaweedFS server started by `scripts/test.sh`, which
/// exports `TEST_S3_ENDPOINT`. Also sets the `AWS_*` variables of this process.
pub fn s3_env() -> Option<Vec<(String, String)>> {
    let endpoint = std::env::var("TEST_S3_ENDPOINT").ok()?;
    let vars = vec![
        ("AWS_ENDPOINT".to_string(), endpoint),
        ("AWS_ALLOW_HTTP".to_string(), "true".to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID".to_string(), "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "test".to_string()),
    ];
    for (k, v) in &vars {
        std::env::set_var(k, v);
    }
    Some(vars)
}

/// Runs the data-tasks binary with `args` and extra environment.
pub fn data_tasks(args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_data-tasks"));
    cmd.args(args).env("OMP_THREAD_LIMIT", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("DATA_TASKS_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("cannot run data-tasks")
}

pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Decompresses a golden `.gz` file.
pub fn gunzip(path: &std::path::Path) -> Vec<u8> {
    use std::io::Read;
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}
