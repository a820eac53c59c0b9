//! End-to-end tests of `data-tasks installations` through the binary: the golden differential
//! test (byte-identical to the original's outputs), exit codes and "nothing published" on bad
//! input, malformed rows, and a run against the real SeaweedFS S3 server.

mod common;

use std::path::Path;

use common::*;
use data_tasks::storage::Store;

const OUTPUTS: [&str; 6] = [
    "installations_all.csv",
    "installations_sample.csv",
    "installations_idf.csv",
    "classements_all.csv",
    "classements_sample.csv",
    "classements_idf.csv",
];

fn sources() -> (String, String) {
    let g = golden().join("sources");
    (
        g.join("s3ic-liste-etablissements.csv.gz")
            .display()
            .to_string(),
        g.join("sic-liste-rubriques.csv.gz").display().to_string(),
    )
}

fn run(misc: &str, s3ic: &str, rubriques: &str, env: &[(String, String)]) -> std::process::Output {
    let mut env = env.to_vec();
    env.push(("DATA_TASKS_STORAGE_MISC".into(), misc.into()));
    data_tasks(
        &["installations", "--s3ic", s3ic, "--rubriques", rubriques],
        &env,
    )
}

fn assert_golden(store: &Store) {
    for name in OUTPUTS {
        let expected = gunzip(&golden().join("expected").join(format!("{name}.gz")));
        let got = store.get(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            got[..] == expected[..],
            "{name} differs from the original's output ({} vs {} bytes)",
            got.len(),
            expected.len()
        );
    }
}

#[test]
fn golden_outputs_are_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let misc = format!("file://{}", dir.path().join("misc").display());
    let (s3ic, rub) = sources();
    let out = run(&misc, &s3ic, &rub, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("11961 active installations"));
    assert_golden(&store(&misc));
}

#[test]
fn golden_outputs_on_seaweedfs() {
    let Some(env) = s3_env() else {
        require("SeaweedFS (TEST_S3_ENDPOINT)", false);
        return;
    };
    let misc = format!("s3://misc/{}", unique("installations"));
    let (s3ic, rub) = sources();
    let out = run(&misc, &s3ic, &rub, &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_golden(&store(&misc));
}

fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

/// Runs with broken inputs over a store that holds a previous set: exit 2, previous set intact.
fn assert_fatal_and_untouched(s3ic: &str, rub: &str, expect_in_message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let misc_url = format!("file://{}", dir.path().join("misc").display());
    let misc = store(&misc_url);
    for name in OUTPUTS {
        misc.put(name, b"previous".to_vec()).unwrap();
    }
    let out = run(&misc_url, s3ic, rub, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(expect_in_message), "{}", text(&out));
    for name in OUTPUTS {
        assert_eq!(
            &misc.get(name).unwrap()[..],
            b"previous",
            "{name} was touched"
        );
    }
}

#[test]
fn bad_inputs_exit_2_and_publish_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (s3ic, rub) = sources();
    let s3ic_text = gunzip(Path::new(&s3ic));
    let rub_text = gunzip(Path::new(&rub));

    // Missing column.
    let broken = String::from_utf8(s3ic_text.clone())
        .unwrap()
        .replacen("famille", "familles", 1);
    let p = write(dir.path(), "no-famille.csv", broken.as_bytes());
    assert_fatal_and_untouched(&p, &rub, "missing column \"famille\"");

    // Wrong encoding (Latin-1 é).
    let mut latin1 = s3ic_text.clone();
    latin1.extend_from_slice(
        b"0001.99999;Soci\xe9t\xe9;;;;;;;;;;;;;;A;;industrie;En fonctionnement;;;;\n",
    );
    let p = write(dir.path(), "latin1.csv", &latin1);
    assert_fatal_and_untouched(&p, &rub, "not valid UTF-8");

    // Too small (header and a few rows): the subsets' minimum of 1000 rows.
    let small: Vec<&[u8]> = s3ic_text.split(|&b| b == b'\n').take(50).collect();
    let p = write(dir.path(), "small.csv", &small.join(&b'\n'));
    assert_fatal_and_untouched(&p, &rub, "fewer than the required 1000");

    // Empty file.
    let p = write(dir.path(), "empty.csv", b"");
    assert_fatal_and_untouched(&p, &rub, "empty");

    // Unreachable sources.
    assert_fatal_and_untouched("/nonexistent/s3ic.csv", &rub, "/nonexistent/s3ic.csv");
    assert_fatal_and_untouched(
        &s3ic,
        "http://127.0.0.1:9/rubriques.csv",
        "cannot read source",
    );

    // A bad date in a kept row.
    let mut bad = String::from_utf8(rub_text).unwrap();
    let first_active = bad
        .lines()
        .skip(1)
        .position(|l| l.contains(";En fonctionnement;"))
        .unwrap();
    let line = bad.lines().nth(first_active + 1).unwrap().to_string();
    let fields: Vec<&str> = line.split(';').collect();
    let mut f2: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
    f2[5] = "31/12/2020".into();
    bad = bad.replacen(&line, &f2.join(";"), 1);
    let p = write(dir.path(), "bad-date.csv", bad.as_bytes());
    // Only fatal if the row's installation is published; the message then names the value.
    let dir2 = tempfile::tempdir().unwrap();
    let misc = format!("file://{}", dir2.path().display());
    let out = run(&misc, &s3ic, &p, &[]);
    if out.status.code() == Some(2) {
        assert!(text(&out).contains("31/12/2020"), "{}", text(&out));
    } else {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
}

#[test]
fn unreachable_store_exits_2() {
    let (s3ic, rub) = sources();
    let env = vec![
        ("AWS_ENDPOINT".to_string(), "http://127.0.0.1:9".to_string()),
        ("AWS_ALLOW_HTTP".to_string(), "true".to_string()),
        ("AWS_ACCESS_KEY_ID".to_string(), "x".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "y".to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
    ];
    let out = run("s3://misc", &s3ic, &rub, &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("cannot publish"), "{}", text(&out));
}

#[test]
fn malformed_rows_are_reported_with_lines_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let (s3ic, rub) = sources();
    let mut text_in = gunzip(Path::new(&s3ic));
    let lines_before = text_in.iter().filter(|&&b| b == b'\n').count();
    text_in.extend_from_slice(b"0001.99999;too;many;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;\n");
    let p = write(dir.path(), "s3ic.csv", &text_in);
    let misc = format!("file://{}", dir.path().join("misc").display());
    let out = run(&misc, &p, &rub, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains(&format!("line {}", lines_before + 1)),
        "{shown}"
    );
    assert!(shown.contains("1 malformed rows skipped"), "{shown}");
    // Outputs are published and still equal the golden ones (the bad row is not in them).
    assert_golden(&store(&misc));
}

#[test]
fn check_reports_each_dependency() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "DATA_TASKS_STORAGE_MISC".to_string(),
            format!("file://{}", dir.path().join("m").display()),
        ),
        (
            "DATA_TASKS_STORAGE_AP".to_string(),
            format!("file://{}", dir.path().join("a").display()),
        ),
        (
            "DATA_TASKS_STORAGE_AM".to_string(),
            format!("file://{}", dir.path().join("am").display()),
        ),
    ];
    let out = data_tasks(&["check"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("4 of 4 dependencies ok") && text(&out).contains("OCR engine"),
        "{}",
        text(&out)
    );
    let mut env2 = env.clone();
    env2.push((
        "DATA_TASKS_SOURCES_RUBRIQUES".into(),
        "/nonexistent.csv".into(),
    ));
    let out = data_tasks(&["check"], &env2);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn invalid_config_exits_2_naming_the_key() {
    let out = data_tasks(
        &["check"],
        &[("DATA_TASKS_STORAGE_MSIC".into(), "x".into())],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("DATA_TASKS_STORAGE_MSIC"),
        "{}",
        text(&out)
    );
}
