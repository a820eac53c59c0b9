//! Shared helpers of the integration tests: locating fixtures, the data-tasks binary, and the
//! real services (SeaweedFS and PostgreSQL, started by `scripts/test.sh`). The policy for a
//! missing service ([`require`]), the PostgreSQL harness ([`pg`]) and the scriptable HTTP server
//! ([`http`]) come from the workspace's `testkit` crate.
//!
//! A test that needs a service which is not there fails when `CI=true` and is skipped with a
//! notice otherwise — never silently. Tests never change their own process's environment: child
//! processes get theirs explicitly, in-process code gets an explicit [`Env`].
#![allow(dead_code)]

#[allow(unused_imports)]
pub use testkit::{http, in_ci, pg, require, unique};

use data_tasks::secrets::Env;
use data_tasks::storage::{S3Settings, Store};

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn golden() -> PathBuf {
    repo().join("testdata/golden")
}

/// Environment for the S3 store of the SeaweedFS server started by `scripts/test.sh`, which
/// exports `TEST_S3_ENDPOINT` (pass it to child processes; in-process, use [`store`]). The keys
/// (any are accepted) are long and unlike words: the binary masks every secret in what it prints,
/// and a key `test` would turn `ams/latest.zip` into `ams/la***.zip`.
pub fn s3_env() -> Option<Vec<(String, String)>> {
    let endpoint = std::env::var("TEST_S3_ENDPOINT").ok()?;
    let vars = vec![
        ("AWS_ENDPOINT".to_string(), endpoint),
        ("AWS_ALLOW_HTTP".to_string(), "true".to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            "dt-test-access-key".to_string(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_string(),
            "dt-test-secret-key".to_string(),
        ),
    ];
    Some(vars)
}

/// Opens `url` in this process: `s3://` stores on the tests' SeaweedFS server.
pub fn store(url: &str) -> Store {
    let env = Env::from_pairs(s3_env().unwrap_or_default());
    let settings = S3Settings::from_env(
        &env,
        Default::default(),
        &data_tasks::settings::HttpConfig::default(),
    );
    Store::open_with(url, &settings).unwrap_or_else(|e| panic!("open {url}: {e}"))
}

/// Runs the data-tasks binary with `args` and extra environment.
pub fn data_tasks(args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_data-tasks"));
    cmd.args(args);
    output_with(cmd, env)
}

/// [`data_tasks`] run from the folder `dir` (relative store URLs resolve there).
pub fn data_tasks_in(dir: &std::path::Path, args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_data-tasks"));
    cmd.args(args).current_dir(dir);
    output_with(cmd, env)
}

/// Variables of the test process a child must not inherit: settings, and the services and
/// secrets `scripts/test.sh` exports (a test passes the ones it wants explicitly).
fn inherited_but_not_passed(name: &str) -> bool {
    name.starts_with("DATA_TASKS_")
        || name.starts_with("AWS_")
        || name.ends_with("DATABASE_URL")
        || name == "SLACK_WEBHOOK_URL"
        || name == "SMTP_URL"
}

/// Runs `cmd` with `OMP_THREAD_LIMIT=1`, without the settings, service addresses and secrets of
/// this process, and with `env`.
fn output_with(mut cmd: Command, env: &[(String, String)]) -> Output {
    cmd.env("OMP_THREAD_LIMIT", "1");
    for (k, _) in std::env::vars() {
        if inherited_but_not_passed(&k) {
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

/// Recreates the golden `ap` bucket listing in `dir` as sparse files.
pub fn fill_ap_store(dir: &std::path::Path) {
    let listing = gunzip(&golden().join("sources/ap_bucket_listing.csv.gz"));
    let text = String::from_utf8(listing).unwrap();
    for line in text.lines().skip(1) {
        let (name, size) = line.rsplit_once(',').unwrap();
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(size.parse().unwrap()).unwrap();
    }
}

/// A fresh `misc` store in `dir/misc` holding the golden installations files and the previous
/// `aps_all.csv`: what `aps` reads. Returns its URL.
pub fn golden_misc_store(dir: &std::path::Path) -> String {
    let misc = dir.join("misc");
    std::fs::create_dir_all(&misc).unwrap();
    for ds in ["all", "idf", "sample"] {
        let name = format!("installations_{ds}.csv");
        std::fs::write(misc.join(&name), golden_expected(&name)).unwrap();
    }
    std::fs::write(misc.join("aps_all.csv"), previous_aps_all()).unwrap();
    format!("file://{}", misc.display())
}

/// The golden run's previous `aps_all.csv`.
pub fn previous_aps_all() -> Vec<u8> {
    gunzip(&golden().join("sources/previous_aps_all.csv.gz"))
}

/// The golden Géorisques dump (tar.gz).
pub fn golden_dump() -> Vec<u8> {
    std::fs::read(golden().join("sources/georisques_data.tar.gz")).unwrap()
}

/// A golden output of the original pipeline, decompressed.
pub fn golden_expected(name: &str) -> Vec<u8> {
    gunzip(&golden().join("expected").join(format!("{name}.gz")))
}

/// [`data_tasks`] with its address space capped at `max_vm_kib` KiB (`ulimit -v`): what a memory
/// bound looks like from outside. glibc and rayon are told to keep their reservations small, as
/// they would be on a machine of any size.
pub fn data_tasks_with_memory_limit(
    args: &[&str],
    env: &[(String, String)],
    max_vm_kib: u64,
) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {max_vm_kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_data-tasks"))
        .args(args)
        .env("MALLOC_ARENA_MAX", "2")
        .env("RAYON_NUM_THREADS", "2");
    output_with(cmd, env)
}

/// [`data_tasks`] under `/usr/bin/time` (Debian's `time`, installed by scripts/install-deps.sh):
/// the output without time's line, and the child's peak resident set in KiB.
pub fn data_tasks_peak_rss(args: &[&str], env: &[(String, String)]) -> (Output, u64) {
    const MARK: &str = "data-tasks-peak-rss-kib=";
    let time = std::path::Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "/usr/bin/time is missing: run scripts/install-deps.sh"
    );
    let mut cmd = Command::new(time);
    cmd.arg("-f")
        .arg(format!("{MARK}%M"))
        .arg(env!("CARGO_BIN_EXE_data-tasks"))
        .args(args);
    let mut out = output_with(cmd, env);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let (rest, kib) = match stderr.rsplit_once(MARK) {
        Some((rest, n)) => (rest.to_string(), n.trim().parse().unwrap_or(u64::MAX)),
        None => panic!("no peak RSS line from /usr/bin/time: {stderr}"),
    };
    out.stderr = rest.into_bytes();
    (out, kib)
}
