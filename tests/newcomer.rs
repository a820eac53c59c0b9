//! The project tried as a new user would (issue 18), through the binary: dry runs that preview
//! and change nothing, `--help` texts naming the settings each command needs, shell
//! completions, messages that say what to fix (`check` creating nothing and logging each failure
//! once, a plain-http S3 endpoint, S3 retries following `[http]`, the JSON summary with `-q`),
//! and `ocr-file` refusing an unwritable output before any work.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use common::http::{Response, Server};
use common::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What a folder holds: every entry with its kind, size and modification time, and the bytes of
/// files under `misc/` (the `ap` store's sparse files are only stat'ed).
type Snapshot = BTreeMap<PathBuf, (bool, u64, SystemTime, Option<Vec<u8>>)>;

fn snapshot(root: &Path) -> Snapshot {
    fn walk(root: &Path, dir: &Path, out: &mut Snapshot) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let bytes =
                (meta.is_file() && rel.starts_with("misc")).then(|| std::fs::read(&path).unwrap());
            out.insert(
                rel,
                (meta.is_dir(), meta.len(), meta.modified().unwrap(), bytes),
            );
            if meta.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Snapshot::new();
    out.insert(
        PathBuf::from("."),
        (
            true,
            0,
            std::fs::metadata(root).unwrap().modified().unwrap(),
            None,
        ),
    );
    walk(root, root, &mut out);
    out
}

fn assert_unchanged(before: &Snapshot, root: &Path, what: &str) {
    let after = snapshot(root);
    let changed: Vec<_> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(changed.is_empty(), "{what} changed {changed:?}");
}

/// 18.3: `ocr`, `aps` and `daily --dry-run` on the golden data print what would be downloaded,
/// OCRed and published — counts, first ids, source URLs, target keys, the Slack text — and leave
/// both stores byte for byte as they were; no PDF is downloaded, nothing is posted.
#[test]
fn dry_runs_preview_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let misc = golden_misc_store(dir.path());
    let ids_json = golden_expected("georisques_ids.json");
    std::fs::write(dir.path().join("misc/georisques_ids.json"), &ids_json).unwrap();
    let ap_dir = dir.path().join("ap");
    fill_ap_store(&ap_dir);
    // The list holds duplicates, which a run reads once, in list order.
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<String> = serde_json::from_slice::<Vec<String>>(&ids_json)
        .unwrap()
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect();
    let new_ids: Vec<&String> = ids
        .iter()
        .filter(|id| {
            !ap_dir.join(format!("{id}.pdf")).exists()
                && !ap_dir.join(format!("{id}.error.txt")).exists()
        })
        .collect();
    assert!(new_ids.len() > 100, "{}", new_ids.len());

    let server = Server::start();
    server.route("/dump.tar.gz", vec![Response::ok(golden_dump())]);
    server.route("/slack", vec![Response::ok("ok")]);
    let ap_url = format!("file://{}", ap_dir.display());
    let e = env(&[
        ("DATA_TASKS_STORAGE_MISC", &misc),
        ("DATA_TASKS_STORAGE_AP", &ap_url),
        (
            "DATA_TASKS_SOURCES_GEORISQUES_DUMP",
            &server.url("/dump.tar.gz"),
        ),
        ("DATA_TASKS_SOURCES_AP_PDF_BASE", &server.url("/commun/")),
        ("DATA_TASKS_HTTP_RETRIES", "0"),
        ("SLACK_WEBHOOK_URL", &server.url("/slack")),
    ]);
    let before = snapshot(dir.path());

    let o = data_tasks(&["ocr", "--dry-run", "--limit", "3"], &e);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let shown = stdout(&o);
    assert!(
        shown.contains(&format!(
            "ids listed: {} in {misc}/georisques_ids.json",
            ids.len()
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "already processed in {ap_url}: {}",
            ids.len() - new_ids.len()
        )),
        "{shown}"
    );
    assert!(
        shown.contains("would download, OCR and store: 3 APs (--limit 3)"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "  {}  {}{}.pdf → {}.pdf",
            new_ids[0],
            server.url("/commun/"),
            new_ids[0],
            new_ids[0]
        )),
        "{shown}"
    );
    assert!(!shown.contains(new_ids[3].as_str()), "{shown}");
    assert!(
        shown.trim_end().ends_with(&format!(
            "ocr --dry-run: would process 3 of {} listed APs ({} already done); nothing downloaded, OCRed or stored",
            ids.len(),
            ids.len() - new_ids.len()
        )),
        "{shown}"
    );
    assert_unchanged(&before, dir.path(), "ocr --dry-run");

    let o = data_tasks(&["aps", "--dry-run"], &e);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let shown = stdout(&o);
    assert!(
        shown.contains(&format!(
            "would publish 7 files to {misc}, as one atomic set:"
        )),
        "{shown}"
    );
    for key in [
        "documents_all.csv",
        "documents_sample.csv",
        "documents_idf.csv",
        "aps_all.csv",
        "aps_idf.csv",
        "aps_sample.csv",
        "georisques_ids.json",
    ] {
        assert!(shown.contains(&format!("  {key} ")), "{key}: {shown}");
    }
    // aps_all.csv replaces yesterday's; the ids are those already in misc.
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("  aps_all.csv ") && l.ends_with("changed")),
        "{shown}"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("  georisques_ids.json ") && l.ends_with("unchanged")),
        "{shown}"
    );
    let slack = std::fs::read_to_string(golden().join("expected/slack_message.txt")).unwrap();
    assert!(shown.contains(&slack), "the Slack text: {shown}");
    assert!(shown.contains("aps --dry-run: would publish "), "{shown}");
    assert_unchanged(&before, dir.path(), "aps --dry-run");

    let o = data_tasks(&["daily", "--dry-run"], &e);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let shown = stdout(&o);
    for part in [
        "1. aps (the dump is downloaded and read, nothing published)",
        "would publish 7 files",
        "2. ocr (nothing downloaded, OCRed or stored)",
        &format!("would download, OCR and store: {} APs", new_ids.len()),
        "3. aps again",
        "posted to Slack (SLACK_WEBHOOK_URL is set)",
        "daily --dry-run: aps would publish ",
    ] {
        assert!(shown.contains(part), "{part}: {shown}");
    }
    assert_unchanged(&before, dir.path(), "daily --dry-run");

    let requests: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert!(
        requests.iter().all(|p| p == "/dump.tar.gz"),
        "only the dump is downloaded: {requests:?}"
    );

    // A store folder that does not exist is read as empty, and not created.
    let none = dir.path().join("no-ap-yet");
    let mut e2 = e.clone();
    e2.push((
        "DATA_TASKS_STORAGE_AP".into(),
        format!("file://{}", none.display()),
    ));
    let o = data_tasks(&["ocr", "--dry-run"], &e2);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        stdout(&o).contains(&format!("would download, OCR and store: {} APs", ids.len())),
        "{}",
        text(&o)
    );
    assert!(!none.exists());
}

fn engine_available() -> bool {
    let pdfium = repo().join(".deps/pdfium/libpdfium.so").exists()
        || std::env::var_os("PDFIUM_LIB").is_some();
    let fra = Path::new("/usr/share/tesseract-ocr/5/tessdata/fra.traineddata").exists();
    require(
        "the OCR engine (tesseract fra + libpdfium.so)",
        pdfium && fra,
    )
}

/// 18.6: `check` in a fresh folder creates nothing (the default stores are `file://./data/…`),
/// logs a failed dependency once, as an error, and leaves no probe folder in a store that exists.
#[test]
fn check_creates_nothing_and_logs_each_failure_once() {
    let dir = tempfile::tempdir().unwrap();
    let no_pdfium = env(&[("DATA_TASKS_OCR_PDFIUM", "/nonexistent/libpdfium.so")]);
    let o = data_tasks_in(dir.path(), &["check"], &no_pdfium);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let created: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert!(created.is_empty(), "check created {created:?}");
    let err = stderr(&o);
    let failure: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("libpdfium.so not found"))
        .collect();
    assert_eq!(failure.len(), 1, "{err}");
    assert!(failure[0].contains("ERROR"), "{err}");
    assert!(
        err.contains("storage.misc (file://./data/misc)")
            && err.contains("folder does not exist yet: the first run that writes creates it"),
        "{err}"
    );
    assert!(
        stdout(&o).contains("check: 3 of 4 dependencies ok; failures above"),
        "{}",
        text(&o)
    );

    // An existing store is probed and left as it was.
    std::fs::create_dir_all(dir.path().join("data/misc")).unwrap();
    let o = data_tasks_in(dir.path(), &["check"], &no_pdfium);
    assert!(
        stderr(&o).contains("write, read and delete ok"),
        "{}",
        text(&o)
    );
    let left: Vec<_> = std::fs::read_dir(dir.path().join("data/misc"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let data: Vec<_> = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(data, ["misc"]);
}

/// 18.6: `check -v` names the `libpdfium.so` and the tessdata folder the engine loads.
#[test]
fn check_names_the_engine_files() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = data_tasks_in(dir.path(), &["-v", "check"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let line = stderr(&o)
        .lines()
        .find(|l| l.contains("OCR engine"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.contains("loaded: PDFium /") && line.contains("libpdfium.so, tessdata /"),
        "{}",
        text(&o)
    );
    assert!(line.contains("(fra)"), "{line}");
}

/// 18.6: an `http://` S3 endpoint without `AWS_ALLOW_HTTP` is refused with a message naming the
/// variable, before any request; with it, the S3 client retries as `http.retries` says.
#[test]
fn s3_plain_http_is_named_and_retries_follow_http_settings() {
    let server = Server::start();
    server.route(
        "/misc/georisques_ids.json",
        vec![Response::status(503, "SlowDown")],
    );
    let dir = tempfile::tempdir().unwrap();
    let ap = format!("file://{}", dir.path().join("ap").display());
    let base = env(&[
        ("DATA_TASKS_STORAGE_MISC", "s3://misc"),
        ("DATA_TASKS_STORAGE_AP", &ap),
        ("AWS_ENDPOINT", &server.url("")),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "dt-test-access-key"),
        ("AWS_SECRET_ACCESS_KEY", "dt-test-secret-key"),
        ("DATA_TASKS_HTTP_BACKOFF_MS", "10"),
    ]);
    let o = data_tasks(&["ocr", "--dry-run"], &base);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "AWS_ENDPOINT {} is plain http: set AWS_ALLOW_HTTP=true to allow it",
            server.url("")
        )),
        "{}",
        text(&o)
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    let mut seen = 0;
    for retries in [0, 2] {
        let mut e = base.clone();
        e.extend(env(&[
            ("AWS_ALLOW_HTTP", "true"),
            ("DATA_TASKS_HTTP_RETRIES", &retries.to_string()),
        ]));
        let o = data_tasks(&["ocr", "--dry-run"], &e);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let hits = server.hits("/misc/georisques_ids.json");
        assert_eq!(hits - seen, retries + 1, "http.retries = {retries}");
        seen = hits;
    }
}

/// 18.6: with `-q --log-format json`, the last stderr line is still the JSON summary.
#[test]
fn quiet_json_still_prints_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("missing.csv").display().to_string();
    let misc = format!("file://{}", dir.path().join("misc").display());
    let o = data_tasks(
        &[
            "-q",
            "--log-format",
            "json",
            "installations",
            "--s3ic",
            &p,
            "--rubriques",
            &p,
        ],
        &env(&[("DATA_TASKS_STORAGE_MISC", &misc)]),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = stderr(&o);
    let last: serde_json::Value =
        serde_json::from_str(err.lines().last().unwrap_or_default()).expect("a JSON line");
    assert_eq!(last["message"], "summary", "{err}");
    assert_eq!(last["summary"]["command"], "installations", "{err}");
    assert_eq!(last["summary"]["status"], "fatal", "{err}");
}

fn help(args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("--help");
    let o = data_tasks(&all, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    stdout(&o)
}

/// 18.5: each command's `--help` names the settings and secrets it needs, and every setting a
/// help text names is one the binary knows.
#[test]
fn help_names_the_settings_each_command_needs() {
    let cases: &[(&str, &[&str])] = &[
        (
            "check",
            &[
                "storage.misc",
                "storage.ap",
                "storage.am",
                "sources.georisques_dump",
                "SLACK_WEBHOOK_URL",
                "AM_DATABASE_URL",
                "check creates nothing",
            ],
        ),
        (
            "installations",
            &[
                "DATA_TASKS_SOURCES_S3IC",
                "DATA_TASKS_SOURCES_RUBRIQUES",
                "DATA_TASKS_STORAGE_MISC",
            ],
        ),
        (
            "aps",
            &[
                "DATA_TASKS_SOURCES_GEORISQUES_DUMP",
                "installations_*.csv",
                "SLACK_WEBHOOK_URL",
                "--dry-run",
            ],
        ),
        (
            "ocr",
            &[
                "georisques_ids.json",
                "PDFIUM_LIB",
                "TESSDATA_PREFIX",
                "DATA_TASKS_OCR_PDFIUM",
                "DATA_TASKS_STORAGE_AP",
                "DATA_TASKS_SOURCES_AP_PDF_BASE",
                "--dry-run",
            ],
        ),
        (
            "daily",
            &[
                "DATA_TASKS_SOURCES_GEORISQUES_DUMP",
                "PDFIUM_LIB",
                "SLACK_WEBHOOK_URL",
                "--dry-run",
            ],
        ),
        ("ocr-file", &["PDFIUM_LIB", "TESSDATA_PREFIX", "writable"]),
        ("am-export", &["AM_DATABASE_URL", "DATA_TASKS_STORAGE_AM"]),
        (
            "visionature",
            &[
                "[[visionature.site]]",
                "VISIONATURE_DATABASE_URL",
                "VN_<SITE>_USER_EMAIL",
                "VN_<SITE>_CLIENT_SECRET",
            ],
        ),
        (
            "gn2pg",
            &[
                "[[gn2pg.source]]",
                "GN2PG_DATABASE_URL",
                "GN2PG_<STD_NAME>_PASSWORD",
                "--gn2pg-config",
            ],
        ),
        (
            "ecospheres",
            &[
                "ECOSPHERES_DATABASE_URL",
                "DATA_TASKS_ECOSPHERES_SOURCE",
                "AWS_ACCESS_KEY_ID",
            ],
        ),
        ("status", &["OPS_DATABASE_URL", "DATABASE_URL"]),
        ("dashboard", &["OPS_DATABASE_URL", "DASHBOARD_USER"]),
    ];
    let known = data_tasks::config::env_setting_names();
    let vars = regex::Regex::new(r"DATA_TASKS_[A-Z0-9_<>]+").unwrap();
    let keys = regex::Regex::new(
        r"\b(storage|sources|ocr|http|visionature|gn2pg|ecospheres)\.[a-z0-9_.]*[a-z0-9_]",
    )
    .unwrap();
    for (command, needs) in cases {
        let shown = help(&[command]);
        for need in *needs {
            assert!(
                shown.contains(need),
                "`{command} --help` does not name {need}:\n{shown}"
            );
        }
        for var in vars.find_iter(&shown).map(|m| m.as_str()) {
            assert!(
                var == "DATA_TASKS_<SECTION>_<KEY>" || known.contains_key(var),
                "`{command} --help` names {var}, which is not a setting"
            );
        }
        // Setting paths, not file names (docs/syncs/visionature.md).
        let setting_paths = keys
            .find_iter(&shown)
            .filter(|m| !shown[..m.start()].ends_with('/'))
            .map(|m| m.as_str());
        for key in setting_paths {
            let prefix = format!("{key}.");
            assert!(
                known.values().any(|k| k == key || k.starts_with(&prefix)),
                "`{command} --help` names {key}, which is not a setting"
            );
        }
    }
    assert!(help(&[]).contains("completions"));
}

/// 18.5: `data-tasks completions SHELL` prints a completion script and nothing else, needing no
/// configuration; the bash one registers itself.
#[test]
fn completions_for_bash_zsh_and_fish() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        // A broken environment does not matter: no configuration is read.
        let o = data_tasks(&["completions", shell], &env(&[("DATA_TASKS_NOPE", "x")]));
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", text(&o));
        assert!(o.stderr.is_empty(), "{shell}: {}", text(&o));
        let script = stdout(&o);
        for word in ["data-tasks", "installations", "am-export", "dry-run"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
        let path = dir.path().join(format!("data-tasks.{shell}"));
        std::fs::write(&path, &script).unwrap();
        let check = match shell {
            "bash" => Some(format!(
                "source {} && complete -p data-tasks",
                path.display()
            )),
            "zsh" => Some(format!("zsh -n {}", path.display())),
            _ => Some(format!("fish --no-execute {}", path.display())),
        };
        let tool = if shell == "bash" { "bash" } else { shell };
        let available = std::process::Command::new(tool)
            .arg("-c")
            .arg("true")
            .output()
            .is_ok_and(|o| o.status.success());
        if !available {
            eprintln!("NOTE: {tool} not installed, {shell} script only checked for its words");
            continue;
        }
        if let Some(cmd) = check {
            let o = std::process::Command::new("bash")
                .arg("-c")
                .arg(&cmd)
                .output()
                .unwrap();
            assert!(o.status.success(), "{shell}: {}", text(&o));
            if shell == "bash" {
                assert!(stdout(&o).contains("data-tasks"), "{}", text(&o));
            }
        }
    }
}

/// 18.8: `ocr-file IN OUT` checks OUT's folder (and the sidecar's) before any work: before
/// reading IN or loading the engine (PDFium is missing here, and not what the message says).
#[test]
fn ocr_file_checks_the_output_folder_first() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo().join("testdata/ocr/fixtures/scan_arrete.pdf");
    let input = input.to_str().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let good = dir.path().join("out.pdf");
    let no_pdfium = env(&[("DATA_TASKS_OCR_PDFIUM", "/nonexistent/libpdfium.so")]);
    let missing = dir.path().join("missing");
    for (args, want) in [
        (
            vec![
                input.to_string(),
                missing.join("out.pdf").display().to_string(),
            ],
            format!("{} does not exist", missing.display()),
        ),
        (
            vec![
                input.to_string(),
                file.join("out.pdf").display().to_string(),
            ],
            format!("{} is not a folder", file.display()),
        ),
        (
            vec![
                input.to_string(),
                good.display().to_string(),
                "--sidecar".into(),
                missing.join("out.txt").display().to_string(),
            ],
            format!("{} does not exist", missing.display()),
        ),
    ] {
        let mut all = vec!["ocr-file"];
        all.extend(args.iter().map(String::as_str));
        let o = data_tasks(&all, &no_pdfium);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains("cannot write") && text(&o).contains(&want),
            "{want}: {}",
            text(&o)
        );
        assert!(!text(&o).contains("PDFium"), "{}", text(&o));
    }
    assert!(!good.exists());
}

/// 18.3 on S3: `ocr --dry-run` reads the id list and the `ap` listing from SeaweedFS and writes
/// nothing there (no probe, no staging, no object).
#[test]
fn ocr_dry_run_on_s3_writes_nothing() {
    let Some(s3) = s3_env() else {
        require("SeaweedFS (TEST_S3_ENDPOINT)", false);
        return;
    };
    let prefix = unique("dry-run");
    let (misc_url, ap_url) = (
        format!("s3://misc/{prefix}"),
        format!("s3://envinorma-ap/{prefix}"),
    );
    let (misc, ap) = (store(&misc_url), store(&ap_url));
    let ids = [
        "Q/1/0123456789abcdef0123456789abcdef",
        "Q/2/00000000000000000000000000000002",
    ];
    misc.put("georisques_ids.json", serde_json::to_vec(&ids).unwrap())
        .unwrap();
    ap.put(&format!("{}.pdf", ids[0]), b"%PDF-1.4 done".to_vec())
        .unwrap();
    let listing = |s: &data_tasks::storage::Store| {
        let mut keys: Vec<(String, Vec<u8>)> = s
            .list(None)
            .unwrap()
            .map(|o| {
                let key = o.unwrap().key;
                let bytes = s.get(&key).unwrap().to_vec();
                (key, bytes)
            })
            .collect();
        keys.sort();
        keys
    };
    let before = (listing(&misc), listing(&ap));
    let mut e = s3.clone();
    e.extend(env(&[
        ("DATA_TASKS_STORAGE_MISC", &misc_url),
        ("DATA_TASKS_STORAGE_AP", &ap_url),
    ]));
    let o = data_tasks(&["ocr", "--dry-run"], &e);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        stdout(&o).contains("would process 1 of 2 listed APs (1 already done)"),
        "{}",
        text(&o)
    );
    assert!(stdout(&o).contains(ids[1]), "{}", text(&o));
    assert_eq!((listing(&misc), listing(&ap)), before);
}
