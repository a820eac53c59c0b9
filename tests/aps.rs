//! End-to-end tests of `data-tasks aps` through the binary: the golden differential test
//! (byte-identical outputs and Slack text, the summary posted to a local Slack endpoint), the
//! dump served by a local HTTP server with injected faults (5xx then success, 404, unsafe
//! archive), a Slack endpoint that fails, the OCR-ratio validation and a missing dump URL.
//! Every fatal case must exit 2 and publish nothing.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::http::{Response, Server};
use common::*;
use data_tasks::storage::Store;

const OUTPUTS: [&str; 7] = [
    "documents_all.csv",
    "documents_sample.csv",
    "documents_idf.csv",
    "aps_all.csv",
    "aps_idf.csv",
    "aps_sample.csv",
    "georisques_ids.json",
];

/// The golden `ap` store: the bucket listing recreated as sparse files (built once).
fn golden_ap_store() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        fill_ap_store(dir.path());
        dir
    })
    .path()
}

fn env(misc: &str, ap: &Path, dump: Option<String>) -> Vec<(String, String)> {
    let mut e = vec![
        ("DATA_TASKS_STORAGE_MISC".to_string(), misc.to_string()),
        (
            "DATA_TASKS_STORAGE_AP".to_string(),
            format!("file://{}", ap.display()),
        ),
        ("DATA_TASKS_HTTP_BACKOFF_MS".to_string(), "10".to_string()),
        ("DATA_TASKS_HTTP_RETRIES".to_string(), "3".to_string()),
        ("SLACK_WEBHOOK_URL".to_string(), String::new()),
    ];
    if let Some(d) = dump {
        e.push(("DATA_TASKS_SOURCES_GEORISQUES_DUMP".to_string(), d));
    }
    e
}

fn slack_text() -> String {
    std::fs::read_to_string(golden().join("expected/slack_message.txt")).unwrap()
}

fn assert_golden(misc: &str) {
    let store = store(misc);
    for name in OUTPUTS {
        let got = store.get(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = golden_expected(name);
        assert!(
            got[..] == want[..],
            "{name} differs from the original's output ({} vs {} bytes)",
            got.len(),
            want.len()
        );
    }
}

/// Nothing of the run is in `misc`: no new file, the previous `aps_all.csv` untouched.
fn assert_nothing_published(misc: &str) {
    let store = store(misc);
    for name in OUTPUTS {
        if name == "aps_all.csv" {
            assert_eq!(store.get(name).unwrap()[..], previous_aps_all()[..]);
        } else {
            assert!(!store.exists(name).unwrap(), "{name} was published");
        }
    }
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().to_path_buf();
    (dir, p)
}

#[test]
fn golden_outputs_are_byte_identical_and_posted_to_slack() {
    let (_d, dir) = tmp();
    let misc = golden_misc_store(&dir);
    let server = Server::start();
    server.route(
        "/dump/georisques_data.tar.gz",
        vec![Response::ok(golden_dump())],
    );
    server.route("/slack/T0/B0/secret", vec![Response::ok("ok")]);
    let mut e = env(
        &misc,
        golden_ap_store(),
        Some(server.url("/dump/georisques_data.tar.gz")),
    );
    e.push((
        "SLACK_WEBHOOK_URL".into(),
        server.url("/slack/T0/B0/secret"),
    ));
    let out = data_tasks(&["aps"], &e);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_golden(&misc);
    let printed = stdout(&out);
    assert!(printed.starts_with(&slack_text()), "{printed}");
    let posts: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/slack/T0/B0/secret")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].method, "POST");
    let body: serde_json::Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(body, serde_json::json!({ "text": slack_text() }));
    // The secret URLs never appear in the output.
    let all = text(&out);
    assert!(
        !all.contains("/dump/georisques") && !all.contains("secret"),
        "{all}"
    );
}

#[test]
fn dump_5xx_is_retried_then_succeeds() {
    let (_d, dir) = tmp();
    let misc = golden_misc_store(&dir);
    let server = Server::start();
    let mut seq = Response::status(500, "busy").times(2);
    seq.push(Response::ok(golden_dump()));
    server.route("/d.tgz", seq);
    let out = data_tasks(
        &["aps"],
        &env(&misc, golden_ap_store(), Some(server.url("/d.tgz"))),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(server.hits("/d.tgz"), 3);
    assert_golden(&misc);
}

#[test]
fn slack_failure_is_a_problem_and_outputs_stay_published() {
    let (_d, dir) = tmp();
    let misc = golden_misc_store(&dir);
    let server = Server::start();
    server.route("/d.tgz", vec![Response::ok(golden_dump())]);
    server.route("/slack", vec![Response::status(403, "invalid_token")]);
    let mut e = env(&misc, golden_ap_store(), Some(server.url("/d.tgz")));
    e.push(("SLACK_WEBHOOK_URL".into(), server.url("/slack")));
    let out = data_tasks(&["aps"], &e);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("Slack"), "{}", text(&out));
    assert!(stdout(&out).starts_with(&slack_text()));
    assert_golden(&misc);
}

#[test]
fn dump_404_is_fatal_and_publishes_nothing() {
    let (_d, dir) = tmp();
    let misc = golden_misc_store(&dir);
    let server = Server::start();
    server.route("/d.tgz", vec![Response::not_found()]);
    let out = data_tasks(
        &["aps"],
        &env(&misc, golden_ap_store(), Some(server.url("/d.tgz"))),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("404"), "{}", text(&out));
    assert_eq!(server.hits("/d.tgz"), 1, "a 404 is not retried");
    assert_nothing_published(&misc);
}

#[test]
fn unsafe_archive_is_fatal_and_writes_nothing() {
    let (_d, dir) = tmp();
    let misc = golden_misc_store(&dir);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    let name = b"../evil";
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_size(4);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &b"evil"[..]).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &b.into_inner().unwrap()).unwrap();
    let server = Server::start();
    server.route("/d.tgz", vec![Response::ok(gz.finish().unwrap())]);
    let out = data_tasks(
        &["aps"],
        &env(&misc, golden_ap_store(), Some(server.url("/d.tgz"))),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("../evil"), "{}", text(&out));
    assert_nothing_published(&misc);
    assert!(!dir.join("evil").exists());
}

#[test]
fn low_ocr_ratio_is_fatal_and_publishes_nothing() {
    let (_d, dir) = tmp();
    let misc = golden_misc_store(&dir);
    let empty_ap = dir.join("ap");
    std::fs::create_dir_all(&empty_ap).unwrap();
    let server = Server::start();
    server.route("/d.tgz", vec![Response::ok(golden_dump())]);
    let out = data_tasks(&["aps"], &env(&misc, &empty_ap, Some(server.url("/d.tgz"))));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("Only 0.0% of APs have been successfully OCR'ed."),
        "{}",
        text(&out)
    );
    assert_nothing_published(&misc);
}

#[test]
fn missing_dump_url_is_fatal_and_named() {
    let (_d, dir) = tmp();
    let misc = golden_misc_store(&dir);
    let out = data_tasks(&["aps"], &env(&misc, golden_ap_store(), None));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("DATA_TASKS_SOURCES_GEORISQUES_DUMP"),
        "{}",
        text(&out)
    );
    assert_nothing_published(&misc);
}

#[test]
fn truncated_dump_is_retried_then_succeeds() {
    let (_d, dir) = tmp();
    let misc = golden_misc_store(&dir);
    let server = Server::start();
    let dump = golden_dump();
    server.route(
        "/d.tgz",
        vec![
            Response::ok(dump[..dump.len() / 2].to_vec()).truncated(dump.len() - dump.len() / 2),
            Response::ok(dump),
        ],
    );
    let out = data_tasks(
        &["aps"],
        &env(&misc, golden_ap_store(), Some(server.url("/d.tgz"))),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(server.hits("/d.tgz"), 2);
    assert_golden(&misc);
}

#[test]
fn dump_timeout_is_fatal_and_publishes_nothing() {
    let (_d, dir) = tmp();
    let misc = golden_misc_store(&dir);
    let server = Server::start();
    server.route(
        "/d.tgz",
        vec![Response::ok(golden_dump()).delayed(std::time::Duration::from_secs(3))],
    );
    let mut e = env(&misc, golden_ap_store(), Some(server.url("/d.tgz")));
    e.push(("DATA_TASKS_HTTP_DUMP_TIMEOUT_S".into(), "1".into()));
    e.push(("DATA_TASKS_HTTP_RETRIES".into(), "1".into()));
    let out = data_tasks(&["aps"], &e);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(server.hits("/d.tgz"), 2, "one retry after the timeout");
    assert_nothing_published(&misc);
}

/// `daily` twice on the golden data: the first run publishes, OCRs the new ids (a few served as
/// real scans, the rest 404 → error records) and posts one report; the second OCRs nothing and
/// reports no new AP.
#[test]
fn daily_twice_second_run_has_nothing_to_do() {
    let pdfium = repo().join(".deps/pdfium/libpdfium.so").exists();
    if !require("the OCR engine (libpdfium.so)", pdfium) {
        return;
    }
    let (_d, dir) = tmp();
    let misc = golden_misc_store(&dir);
    let ap_dir = dir.join("ap");
    fill_ap_store(&ap_dir);
    let server = Server::start();
    server.route(
        "/dump/georisques_data.tar.gz",
        vec![Response::ok(golden_dump())],
    );
    server.route("/slack/hook", vec![Response::ok("ok")]);
    let scan = std::fs::read(repo().join("testdata/ocr/fixtures/scan_arrete.pdf")).unwrap();
    let expected_ids: Vec<String> =
        serde_json::from_slice(&golden_expected("georisques_ids.json")).unwrap();
    let ap = Store::open(&format!("file://{}", ap_dir.display())).unwrap();
    let new_ids: Vec<&String> = expected_ids
        .iter()
        .filter(|id| {
            !ap.exists(&format!("{id}.pdf")).unwrap()
                && !ap.exists(&format!("{id}.error.txt")).unwrap()
        })
        .collect();
    assert!(new_ids.len() > 100, "{}", new_ids.len());
    for id in new_ids.iter().take(3) {
        server.route(
            &format!("/commun/{id}.pdf"),
            vec![Response::ok(scan.clone())],
        );
    }
    let mut e = env(
        &misc,
        &ap_dir,
        Some(server.url("/dump/georisques_data.tar.gz")),
    );
    e.push(("SLACK_WEBHOOK_URL".into(), server.url("/slack/hook")));
    e.push((
        "DATA_TASKS_SOURCES_AP_PDF_BASE".into(),
        server.url("/commun/"),
    ));

    let first = data_tasks(&["daily", "--jobs", "2"], &e);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let printed = stdout(&first);
    assert!(printed.starts_with("*Depuis la dernière mise à jour du fichier aps_all.csv*\n12095 AP supprimés.\n414 nouveaux AP.\n"), "{printed}");
    assert!(printed.contains("Durées : aps"), "{printed}");
    let posts = server.hits("/slack/hook");
    assert_eq!(posts, 1, "one Slack message per daily run");
    for id in new_ids.iter().take(3) {
        assert!(ap.exists(&format!("{id}.pdf")).unwrap(), "{id} OCRed");
    }
    assert!(ap.exists(&format!("{}.error.txt", new_ids[10])).unwrap());
    let aps_all = String::from_utf8(store(&misc).get("aps_all.csv").unwrap().to_vec()).unwrap();
    assert!(
        !aps_all.contains("NOT_ATTEMPTED"),
        "the second aps refreshed the statuses"
    );

    let downloads = server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/commun/"))
        .count();
    let second = data_tasks(&["daily"], &e);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let printed = stdout(&second);
    assert!(
        printed.contains(
            "0 AP supprimés.\n0 nouveaux AP.\n0 AP OCRisés avec succès.\n0 erreurs d'OCR."
        ),
        "{printed}"
    );
    // The OCR stage's duration depends on the machine (listing the `ap` store): only its counts
    // are checked.
    assert!(printed.contains("(0 documents, 0 pages"), "{printed}");
    let after = server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/commun/"))
        .count();
    assert_eq!(after, downloads, "the second run downloaded nothing");
    assert_eq!(server.hits("/slack/hook"), 2);
}
