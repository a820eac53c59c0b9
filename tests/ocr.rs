//! End-to-end tests of the OCR commands through the binary, against real servers: a local HTTP
//! origin serving generated AP PDFs with injected faults, SeaweedFS (or file stores) as `misc` and
//! `ap`, and a local Slack endpoint. Covers `ocr-file` exit codes and idempotence, the backlog's
//! permanent/transient classification, a kill mid-run followed by a rerun that redoes nothing,
//! `--shard I/N` in parallel processes, and `daily` run twice.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::http::{Response, Server};
use common::*;
use data_tasks::storage::Store;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("testdata/ocr/fixtures").join(name)).unwrap()
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

/// A Géorisques-shaped id.
fn gid(i: usize) -> String {
    format!("Q/{:x}/{:032x}", i % 16, 0xabc000 + i)
}

fn pdf_path(id: &str) -> String {
    format!("/commun/{id}.pdf")
}

/// `ap` store URL: a fresh SeaweedFS prefix when the server runs (always under CI), else a folder.
fn ap_store(dir: &Path, env: &mut Vec<(String, String)>) -> String {
    match s3_env() {
        Some(vars) => {
            env.extend(vars);
            format!("s3://misc/{}", unique("ocr"))
        }
        None => {
            require("SeaweedFS (TEST_S3_ENDPOINT)", false);
            format!("file://{}", dir.join("ap").display())
        }
    }
}

/// A `misc` store holding `georisques_ids.json` with `ids`.
fn misc_with_ids(dir: &Path, ids: &[String]) -> String {
    let misc = dir.join("misc");
    std::fs::create_dir_all(&misc).unwrap();
    std::fs::write(
        misc.join("georisques_ids.json"),
        serde_json::to_vec(ids).unwrap(),
    )
    .unwrap();
    format!("file://{}", misc.display())
}

fn base_env(misc: &str, ap: &str, origin: &Server) -> Vec<(String, String)> {
    vec![
        ("DATA_TASKS_STORAGE_MISC".into(), misc.into()),
        ("DATA_TASKS_STORAGE_AP".into(), ap.into()),
        (
            "DATA_TASKS_SOURCES_AP_PDF_BASE".into(),
            origin.url("/commun/"),
        ),
        ("DATA_TASKS_HTTP_BACKOFF_MS".into(), "10".into()),
        ("DATA_TASKS_HTTP_RETRIES".into(), "2".into()),
        ("DATA_TASKS_HTTP_TIMEOUT_S".into(), "20".into()),
    ]
}

#[test]
fn ocr_file_exit_codes_and_idempotence() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fx = repo().join("testdata/ocr/fixtures");
    let out1 = dir.path().join("out1.pdf");
    let side = dir.path().join("out1.txt");
    let run = |args: &[&str]| data_tasks(args, &[]);
    let o = run(&[
        "ocr-file",
        fx.join("scan_arrete.pdf").to_str().unwrap(),
        out1.to_str().unwrap(),
        "--jobs",
        "2",
        "--sidecar",
        side.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(std::fs::read_to_string(&side)
        .unwrap()
        .contains("préfectoral"));
    // A second run on its own output does nothing.
    let out2 = dir.path().join("out2.pdf");
    let o = run(&["ocr-file", out1.to_str().unwrap(), out2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("nothing to do"), "{}", text(&o));
    assert_eq!(std::fs::read(&out1).unwrap(), std::fs::read(&out2).unwrap());
    // Document errors: exit 1, message names the kind, no output written.
    for (name, kind) in [
        ("encrypted_user.pdf", "encrypted"),
        ("truncated.pdf", "invalid_pdf"),
        ("zero_pages.pdf", "no_pages"),
    ] {
        let out = dir.path().join(format!("{name}.out"));
        let o = run(&[
            "ocr-file",
            fx.join(name).to_str().unwrap(),
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        assert!(text(&o).contains(kind), "{name}: {}", text(&o));
        assert!(!out.exists());
    }
    // Fatal: PDFium missing.
    let o = data_tasks(
        &[
            "ocr-file",
            fx.join("scan_arrete.pdf").to_str().unwrap(),
            dir.path().join("x.pdf").to_str().unwrap(),
        ],
        &[(
            "DATA_TASKS_OCR_PDFIUM".into(),
            "/nonexistent/libpdfium.so".into(),
        )],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// 13.6: a page where recognition finds no text is OCRed once: a second run on the output returns
/// it unchanged, and the message tells "has text" from "blank/vector pages, nothing to OCR";
/// 13.5: with `-v`, a line per page.
#[test]
fn ocr_file_is_idempotent_on_pages_without_text_and_says_why() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fx = repo().join("testdata/ocr/fixtures");
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let (out1, out2) = (dir.path().join("1.pdf"), dir.path().join("2.pdf"));
    let input = fx.join("blank_scan.pdf");
    let o = data_tasks(&["ocr-file", &path(&input), &path(&out1)], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("1 pages OCRed"), "{}", text(&o));
    let o = data_tasks(&["ocr-file", &path(&out1), &path(&out2)], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("nothing to do, ")
            && text(&o).contains("has only blank/vector pages, nothing to OCR (1 page, all already OCRed by an earlier run that found no text)"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&out1).unwrap(), std::fs::read(&out2).unwrap());
    for (name, why) in [
        (
            "blank_page.pdf",
            "has only blank/vector pages, nothing to OCR",
        ),
        (
            "born_digital.pdf",
            "already has text on every page (1 page, a text layer)",
        ),
    ] {
        let out = dir.path().join(name);
        let o = data_tasks(&["ocr-file", &path(&fx.join(name)), &path(&out)], &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(text(&o).contains(why), "{name}: {}", text(&o));
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(fx.join(name)).unwrap()
        );
    }
    let out = dir.path().join("scan.pdf");
    let o = data_tasks(
        &[
            "-v",
            "ocr-file",
            &path(&fx.join("scan_arrete.pdf")),
            &path(&out),
            "--jobs",
            "2",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("page 1/2 done") && stderr.contains("page 2/2 done"),
        "{stderr}"
    );
}

#[test]
fn backlog_commits_pdfs_and_error_records_and_retries_transient_failures() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let origin = Server::start();
    let ids: Vec<String> = (0..7).map(gid).collect();
    let scan = fixture("scan_arrete.pdf");
    let born = fixture("born_digital.pdf");
    origin.route(&pdf_path(&ids[0]), vec![Response::ok(scan.clone())]);
    origin.route(&pdf_path(&ids[1]), vec![Response::ok(born.clone())]);
    origin.route(
        &pdf_path(&ids[2]),
        vec![Response::ok(fixture("encrypted_user.pdf"))],
    );
    origin.route(
        &pdf_path(&ids[3]),
        vec![Response::ok("<!DOCTYPE html><html>Erreur 500</html>").content_type("text/html")],
    );
    // ids[4]: no route → 404.
    let mut flaky = Response::status(500, "busy").times(2);
    flaky.push(Response::ok(scan.clone()));
    origin.route(&pdf_path(&ids[5]), flaky);
    origin.route(&pdf_path(&ids[6]), vec![Response::status(503, "down")]);
    let mut listed = ids.clone();
    listed.push("../../etc/passwd".into());
    let misc = misc_with_ids(dir.path(), &listed);
    let mut env = Vec::new();
    let ap_url = ap_store(dir.path(), &mut env);
    env.extend(base_env(&misc, &ap_url, &origin));

    let o = data_tasks(&["ocr", "--jobs", "2"], &env);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let shown = text(&o);
    assert!(
        shown.contains("../../etc/passwd") && shown.contains("not a Géorisques id"),
        "{shown}"
    );
    assert!(!origin.requests().iter().any(|r| r.path.contains("..")));
    let ap = store(&ap_url);
    let pdf = |i: usize| ap.get_opt(&format!("{}.pdf", ids[i])).unwrap();
    let err = |i: usize| {
        ap.get_opt(&format!("{}.error.txt", ids[i]))
            .unwrap()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let ocred = pdf(0).expect("scan OCRed");
    assert!(ocred.starts_with(b"%PDF") && ocred.len() > scan.len() / 2 && ocred[..] != scan[..]);
    assert_eq!(
        pdf(1).expect("born-digital stored")[..],
        born[..],
        "searchable PDFs are stored as they came"
    );
    assert!(err(2).expect("encrypted").contains("kind: encrypted"));
    let html = err(3).expect("html");
    assert!(html.contains("kind: not_a_pdf"), "{html}");
    // A short reason: status, content type, size and the text of the page, not its HTML.
    assert!(
        html.contains("message: HTTP 200, text/html") && html.contains("not a PDF: Erreur 500"),
        "{html}"
    );
    assert!(!html.contains('<'), "{html}");
    assert!(err(4).expect("404").contains("404"));
    assert!(
        pdf(5).is_some(),
        "5xx then success is retried within the run"
    );
    assert!(
        pdf(6).is_none() && err(6).is_none(),
        "transient failures write nothing"
    );

    // The rerun only retries the transient failure.
    let hits_before: Vec<usize> = ids.iter().map(|id| origin.hits(&pdf_path(id))).collect();
    let o = data_tasks(&["ocr"], &env);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("6 APs already processed, 1 APs left to process"),
        "{}",
        text(&o)
    );
    // The summary says so too.
    assert!(
        text(&o).contains("ocr: 6 of 7 listed APs already done; 0 searchable PDFs stored"),
        "{}",
        text(&o)
    );
    for (i, id) in ids.iter().enumerate().take(6) {
        assert_eq!(
            origin.hits(&pdf_path(id)),
            hits_before[i],
            "{id} downloaded again"
        );
    }
    // Once the origin recovers, the next run completes.
    origin.route(&pdf_path(&ids[6]), vec![Response::ok(born)]);
    let o = data_tasks(&["ocr"], &env);
    assert_eq!(
        o.status.code(),
        Some(1),
        "only the invalid id remains a problem: {}",
        text(&o)
    );
    assert!(pdf(6).is_some());
}

fn stored_pdfs(ap: &Store) -> Vec<String> {
    let mut keys: Vec<String> = ap
        .list(None)
        .unwrap()
        .map(|o| o.unwrap().key)
        .filter(|k| k.ends_with(".pdf"))
        .collect();
    keys.sort();
    keys
}

#[test]
fn killed_run_loses_only_documents_in_flight() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let origin = Server::start();
    let ids: Vec<String> = (100..108).map(gid).collect();
    let scan = fixture("scan_arrete.pdf");
    for id in &ids {
        origin.route(
            &pdf_path(id),
            vec![Response::ok(scan.clone()).delayed(Duration::from_millis(300))],
        );
    }
    let misc = misc_with_ids(dir.path(), &ids);
    let mut env = Vec::new();
    let ap_url = ap_store(dir.path(), &mut env);
    env.extend(base_env(&misc, &ap_url, &origin));
    let ap = store(&ap_url);

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_data-tasks"));
    cmd.args(["ocr", "--jobs", "2", "--downloaders", "1"])
        .env("OMP_THREAD_LIMIT", "1");
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while stored_pdfs(&ap).len() < 2 {
        assert!(Instant::now() < deadline, "no document committed in time");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done_before_kill = stored_pdfs(&ap);
    assert!(
        done_before_kill.len() < ids.len(),
        "killed too late to test anything"
    );

    let o = data_tasks(&["ocr", "--jobs", "2"], &env);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(stored_pdfs(&ap).len(), ids.len());
    for key in &done_before_kill {
        let id = key.trim_end_matches(".pdf");
        assert_eq!(
            origin.hits(&pdf_path(id)),
            1,
            "{id} was redone after the kill"
        );
    }
}

#[test]
fn shards_in_parallel_process_every_document_exactly_once() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let origin = Server::start();
    let ids: Vec<String> = (200..230).map(gid).collect();
    let born = fixture("born_digital.pdf");
    for id in &ids {
        origin.route(&pdf_path(id), vec![Response::ok(born.clone())]);
    }
    let misc = misc_with_ids(dir.path(), &ids);
    let mut env = Vec::new();
    let ap_url = ap_store(dir.path(), &mut env);
    env.extend(base_env(&misc, &ap_url, &origin));
    let children: Vec<_> = (0..3)
        .map(|i| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_data-tasks"));
            cmd.args(["ocr", "--jobs", "1", "--shard", &format!("{i}/3")])
                .env("OMP_THREAD_LIMIT", "1");
            for (k, v) in &env {
                cmd.env(k, v);
            }
            cmd.output_async()
        })
        .collect();
    for c in children {
        let o = c.join().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    for id in &ids {
        assert_eq!(origin.hits(&pdf_path(id)), 1, "{id}");
    }
    let sharded = stored_pdfs(&store(&ap_url));
    // Same set as one unsharded run.
    let mut env2 = Vec::new();
    let ap2 = ap_store(&dir.path().join("single"), &mut env2);
    env2.extend(base_env(&misc, &ap2, &origin));
    let o = data_tasks(&["ocr"], &env2);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(sharded, stored_pdfs(&store(&ap2)));
    assert_eq!(sharded.len(), ids.len());
}

/// Runs a prepared command on a thread (for parallel processes).
trait OutputAsync {
    fn output_async(self) -> std::thread::JoinHandle<std::process::Output>;
}

impl OutputAsync for Command {
    fn output_async(mut self) -> std::thread::JoinHandle<std::process::Output> {
        std::thread::spawn(move || self.output().unwrap())
    }
}
