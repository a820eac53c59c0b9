//! The hot path tried as a new user would (issue 13), through the binary: bounded inputs (a gzip
//! bomb, a 100 MB single-line file, each under `ulimit -v`), no credential guessing, the
//! environment namespace, logs a machine and a person can read (colours, the JSON summary, no
//! echoed secret, no pointless retry, each cause once) and `check` covering Slack.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::http::{Response, Server};
use common::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A gzip file of `members` copies of one member holding `unit` repeated to `member_bytes`.
fn gzip_of_members(path: &Path, unit: &[u8], member_bytes: usize, members: usize) {
    let mut plain = Vec::with_capacity(member_bytes);
    while plain.len() < member_bytes {
        plain.extend_from_slice(unit);
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&plain).unwrap();
    let member = e.finish().unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for _ in 0..members {
        f.write_all(&member).unwrap();
    }
    f.flush().unwrap();
}

fn misc(dir: &Path) -> (String, String) {
    (
        "DATA_TASKS_STORAGE_MISC".into(),
        format!("file://{}", dir.join("misc").display()),
    )
}

fn assert_nothing_published(dir: &Path) {
    let misc = dir.join("misc");
    let published: Vec<_> = std::fs::read_dir(&misc)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(published.is_empty(), "published: {published:?}");
}

/// Both output streams stay short: no input is echoed whole.
fn assert_short_output(out: &std::process::Output) {
    assert!(
        out.stdout.len() < 2000 && out.stderr.len() < 4000,
        "{} bytes on stdout, {} on stderr",
        out.stdout.len(),
        out.stderr.len()
    );
}

/// 13.1: 4000 MiB of zeros, 4 MB compressed (one 64 MiB member, 63 times): exit 2 at once in a
/// 512 MiB address space (today: an aborted allocation after gigabytes).
#[test]
fn gzip_bomb_exits_2_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("s3ic.csv.gz");
    gzip_of_members(&bomb, &[0u8; 4096], 64 << 20, 63);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 8 << 20);
    let bomb = bomb.display().to_string();
    let start = Instant::now();
    let out = data_tasks_with_memory_limit(
        &["installations", "--s3ic", &bomb, "--rubriques", &bomb],
        &[misc(dir.path())],
        512 << 10,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("line 1 is longer than 1024 KiB"),
        "{}",
        text(&out)
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_short_output(&out);
    assert_nothing_published(dir.path());
}

/// 13.1: a bomb of short lines stops at `sources.max_source_mib` (16 MiB here), in a 512 MiB
/// address space, naming the setting.
#[test]
fn bomb_of_lines_stops_at_the_source_cap() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("rubriques.csv.gz");
    gzip_of_members(&bomb, b"0001.00001;1510;A\n", 64 << 20, 63);
    let bomb = bomb.display().to_string();
    let mut e = vec![misc(dir.path())];
    e.extend(env(&[("DATA_TASKS_SOURCES_MAX_SOURCE_MIB", "16")]));
    let out = data_tasks_with_memory_limit(
        &["installations", "--s3ic", &bomb, "--rubriques", &bomb],
        &e,
        512 << 10,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("larger than 16 MiB once decompressed")
            && shown.contains("sources.max_source_mib"),
        "{shown}"
    );
    assert_short_output(&out);
    assert_nothing_published(dir.path());
}

/// 13.1: a 100 MB file without a line end: exit 2 after its first MiB in a 320 MiB address space
/// (≈ 110 MiB of it is the binary's own), its content never echoed (today: an aborted allocation
/// under 800 MiB, and 100 MB printed on stdout and on stderr with more).
#[test]
fn single_line_file_exits_2_in_bounded_memory_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s3ic.csv");
    std::fs::write(&p, vec![b'a'; 100_000_000]).unwrap();
    let p = p.display().to_string();
    let out = data_tasks_with_memory_limit(
        &["installations", "--s3ic", &p, "--rubriques", &p],
        &[misc(dir.path())],
        320 << 10,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("line 1 is longer than 1024 KiB"),
        "{}",
        text(&out)
    );
    assert_short_output(&out);
    assert_nothing_published(dir.path());
}

/// 13.2: `s3://` storage with an endpoint but no keys: exit 2 naming both variables, and not one
/// request — neither to the endpoint nor to the instance-metadata service (pointed at a local
/// server here, so that a request would be seen).
#[test]
fn s3_without_keys_exits_2_naming_both_and_sends_nothing() {
    let endpoint = Server::start();
    let metadata = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("x.csv");
    std::fs::write(&src, "a;b\n").unwrap();
    let src = src.display().to_string();
    let stores = |name: &str| format!("file://{}", dir.path().join(name).display());
    let (ap, am) = (stores("ap"), stores("am"));
    let base = env(&[
        ("DATA_TASKS_STORAGE_MISC", "s3://misc"),
        ("DATA_TASKS_STORAGE_AP", &ap),
        ("DATA_TASKS_STORAGE_AM", &am),
        ("AWS_ENDPOINT", &endpoint.url("")),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_METADATA_ENDPOINT", &metadata.url("")),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata.url("")),
    ]);
    for args in [
        vec!["installations", "--s3ic", &src, "--rubriques", &src],
        vec!["check"],
    ] {
        let out = data_tasks(&args, &base);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            "{}",
            text(&out)
        );
    }
    assert!(endpoint.requests().is_empty(), "{:?}", endpoint.requests());
    assert!(metadata.requests().is_empty(), "{:?}", metadata.requests());
    // Only the setting sends the client to the metadata service.
    let mut instance = base.clone();
    instance.extend(env(&[
        ("DATA_TASKS_STORAGE_S3_CREDENTIALS", "instance"),
        ("DATA_TASKS_HTTP_RETRIES", "0"),
    ]));
    let out = data_tasks(&["check"], &instance);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!metadata.requests().is_empty(), "{}", text(&out));
}

/// 13.3: the scripts' variables are `DT_*`; every `DATA_TASKS_*` name in scripts and
/// deployment files is one the binary accepts.
#[test]
fn scripts_use_their_own_namespace() {
    let known = data_tasks::config::env_setting_names();
    let mut files = Vec::new();
    for dir in ["scripts", "docker", ".ci"] {
        let Ok(entries) = std::fs::read_dir(repo().join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_file() {
                files.push(e.path());
            }
        }
    }
    files.push(repo().join("Dockerfile"));
    let mut bad = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let mut rest = text.as_str();
        while let Some(at) = rest.find("DATA_TASKS_") {
            let name: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let accepted = known.contains_key(&name)
                || data_tasks::config::NON_SETTING_VARS.contains(&name.as_str())
                || name == data_tasks::config::ENV_PREFIX;
            if !accepted {
                bad.push(format!("{}: {name}", f.display()));
            }
            rest = &rest[at + name.len().max(1)..];
        }
    }
    assert!(bad.is_empty(), "unknown DATA_TASKS_ names: {bad:?}");
    // The binary's log filter is in its namespace and accepted.
    let dir = tempfile::tempdir().unwrap();
    let out = data_tasks(
        &["installations"],
        &[misc(dir.path()), ("DATA_TASKS_LOG".into(), "debug".into())],
    );
    assert!(
        text(&out).contains("no S3IC source") && !text(&out).contains("known setting"),
        "{}",
        text(&out)
    );
}

/// 13.4: no ANSI colour in logs written to a pipe, nor on a terminal with `NO_COLOR`.
#[test]
fn colours_only_on_a_terminal_without_no_color() {
    let out = data_tasks(&["installations"], &[]);
    assert!(!out.stderr.contains(&0x1b), "{}", text(&out));
    // On a pseudo-terminal (util-linux `script`).
    if !require("script (util-linux)", which("script")) {
        return;
    }
    let on_tty = |no_color: bool| {
        let mut cmd = std::process::Command::new("script");
        cmd.args([
            "-qec",
            &format!("{} installations", env!("CARGO_BIN_EXE_data-tasks")),
            "/dev/null",
        ])
        .env("OMP_THREAD_LIMIT", "1")
        .env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        cmd.output().unwrap()
    };
    let coloured = on_tty(false);
    assert!(coloured.stdout.contains(&0x1b), "{}", text(&coloured));
    let plain = on_tty(true);
    assert!(!plain.stdout.contains(&0x1b), "{}", text(&plain));
    assert!(text(&plain).contains("no S3IC source"), "{}", text(&plain));
}

fn which(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok()
}

/// 13.4: with `--log-format json` every stderr line is a JSON object and the last one holds the
/// summary as an object (today: a string holding JSON).
#[test]
fn json_summary_is_an_object() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("missing.csv").display().to_string();
    let out = data_tasks(
        &[
            "--log-format",
            "json",
            "installations",
            "--s3ic",
            &p,
            "--rubriques",
            &p,
        ],
        &[misc(dir.path())],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["message"], "summary", "{last}");
    let summary = &last["summary"];
    assert!(summary.is_object(), "{last}");
    assert_eq!(summary["command"], "installations");
    assert_eq!(summary["status"], "fatal");
    assert!(summary["headline"]
        .as_str()
        .unwrap()
        .contains("No such file or directory"));
}

/// 13.4: a type error in the configuration names the key, never its value (which may be a
/// secret).
#[test]
fn config_type_errors_never_echo_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[sources]\ngeorisques_dump = 778899\n").unwrap();
    let out = data_tasks(&["--config", cfg.to_str().unwrap(), "check"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!text(&out).contains("778899"), "{}", text(&out));
    assert!(text(&out).contains("georisques_dump"), "{}", text(&out));
}

/// 13.4: what cannot succeed on retry fails at once — a 404 source is asked once, a source that
/// is not a URL is not asked at all — although four retries with backoff are configured.
#[test]
fn errors_that_cannot_succeed_on_retry_fail_at_once() {
    let server = Server::start();
    server.route("/s3ic.csv", vec![Response::status(404, "not found")]);
    let dir = tempfile::tempdir().unwrap();
    let e = vec![
        misc(dir.path()),
        ("DATA_TASKS_HTTP_RETRIES".into(), "4".into()),
        ("DATA_TASKS_HTTP_BACKOFF_MS".into(), "1000".into()),
    ];
    for (src, want) in [
        (server.url("/s3ic.csv"), "HTTP 404"),
        ("http://".to_string(), "invalid request"),
    ] {
        let start = Instant::now();
        let out = data_tasks(&["installations", "--s3ic", &src, "--rubriques", &src], &e);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(want), "{}", text(&out));
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }
    // Two sources named the same URL: one request each, no retry.
    assert_eq!(server.hits("/s3ic.csv"), 2);
}

/// 13.4: an I/O error prints its cause once (today: `No such file or directory (os error 2)`
/// three times in one line).
#[test]
fn io_errors_print_their_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("missing.csv").display().to_string();
    let out = data_tasks(
        &["installations", "--s3ic", &p, "--rubriques", &p],
        &[misc(dir.path())],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    for stream in [&out.stdout, &out.stderr] {
        let s = String::from_utf8_lossy(stream);
        assert_eq!(
            s.matches("No such file or directory (os error 2)").count(),
            1,
            "{s}"
        );
    }
    let headline = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        headline.trim(),
        format!("installations: failed, nothing published: cannot read source: cannot read {p}: No such file or directory (os error 2)")
    );
}

/// 13.5: `check` probes the Slack webhook with an empty payload — which a valid webhook refuses
/// with 400 `no_text` and a revoked one with 403/404 — so nothing is ever posted.
#[test]
fn check_covers_slack_without_posting() {
    let server = Server::start();
    server.route("/valid", vec![Response::status(400, "no_text")]);
    server.route("/revoked", vec![Response::status(404, "no_service")]);
    let dir = tempfile::tempdir().unwrap();
    let stores = |name: &str| {
        (
            format!("DATA_TASKS_STORAGE_{}", name.to_uppercase()),
            format!("file://{}", dir.path().join(name).display()),
        )
    };
    let base = vec![stores("misc"), stores("ap"), stores("am")];
    let run = |hook: &str| {
        let mut e = base.clone();
        e.push(("SLACK_WEBHOOK_URL".into(), server.url(hook)));
        data_tasks(&["check"], &e)
    };
    let valid = run("/valid");
    let shown = text(&valid);
    assert!(shown.contains("SLACK_WEBHOOK_URL"), "{shown}");
    assert!(shown.contains("nothing posted"), "{shown}");
    assert!(
        !shown.contains("/valid"),
        "the webhook URL is a secret: {shown}"
    );
    let revoked = run("/revoked");
    assert_eq!(revoked.status.code(), Some(2), "{}", text(&revoked));
    assert!(
        text(&revoked).contains("HTTP 404: no_service"),
        "{}",
        text(&revoked)
    );
    for r in server.requests() {
        assert_eq!((r.method.as_str(), &r.body[..]), ("POST", &b"{}"[..]));
    }
}
