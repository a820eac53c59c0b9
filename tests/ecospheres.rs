//! `data-tasks ecospheres` end to end (docs/syncs/ecospheres.md §1): the binary against a real
//! PostgreSQL (a database per test), SeaweedFS (s3:// sources) and a local HTTP catalogue with
//! injected faults. The catalogue is the generated acceptance fixture of
//! `testdata/ecospheres/acceptance` (75 datasets on 2 pages, 45 + 30 series), edited per test.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::http::{Response, Server};
use common::pg::TestDb;
use serde_json::Value;

const BASE: &str = "https://ckan.invalid/dcat/catalog/jsonld";
const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";

fn fixture_dir() -> PathBuf {
    common::repo().join("testdata/ecospheres/acceptance")
}

/// The two acceptance pages as JSON.
fn pages() -> Vec<Value> {
    ["page-00001.json", "page-00002.json"]
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(fixture_dir().join(p)).unwrap()).unwrap())
        .collect()
}

fn types(node: &Value) -> Vec<&str> {
    match &node["@type"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

fn datasets_mut(page: &mut Value) -> Vec<&mut Value> {
    page["@graph"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .filter(|n| types(n).contains(&"dcat:Dataset"))
        .collect()
}

fn hydra_mut(page: &mut Value) -> &mut Value {
    page["@graph"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|n| types(n).iter().any(|t| t.ends_with("PagedCollection")))
        .unwrap()
}

fn bytes(page: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(page).unwrap()
}

/// A folder holding `pages` as page-0000N.json.
fn folder(pages: &[Vec<u8>]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, p) in pages.iter().enumerate() {
        std::fs::write(dir.path().join(format!("page-{:05}.json", i + 1)), p).unwrap();
    }
    dir
}

fn file_source(dir: &Path) -> String {
    format!("file://{}", dir.display())
}

/// Uploads `pages` under a fresh prefix of the tests' SeaweedFS bucket; `None` = skip.
fn s3_source(pages: &[(String, Vec<u8>)]) -> Option<String> {
    if !common::require("SeaweedFS (TEST_S3_ENDPOINT)", common::s3_env().is_some()) {
        return None;
    }
    let url = format!("s3://misc/{}", common::unique("ecospheres"));
    let store = common::store(&url);
    for (key, body) in pages {
        store.put(key, body.clone()).unwrap();
    }
    Some(format!("{url}/"))
}

fn named(pages: &[Vec<u8>]) -> Vec<(String, Vec<u8>)> {
    pages
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("DUMP/page-{:05}.json", i + 1), p.clone()))
        .collect()
}

struct Run {
    code: Option<i32>,
    out: String,
}

fn env_for(db: &TestDb, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = common::s3_env().unwrap_or_default();
    env.push(("ECOSPHERES_DATABASE_URL".into(), db.url()));
    env.push(("DATA_TASKS_ECOSPHERES_RETRY_DELAY".into(), "10ms".into()));
    env.push(("DATA_TASKS_ECOSPHERES_HTTP_TIMEOUT".into(), "10s".into()));
    for (k, v) in extra {
        env.push((k.to_string(), v.to_string()));
    }
    env
}

/// Runs the binary with exactly `env` (none of this process's variables: a `DATABASE_URL` or
/// `AWS_*` exported by the caller must not change which database or store a test uses).
fn data_tasks(args: &[&str], env: &[(String, String)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_data-tasks"))
        .args(args)
        .env_clear()
        .env("OMP_THREAD_LIMIT", "1")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("cannot run data-tasks")
}

fn run(db: &TestDb, args: &[&str], extra: &[(&str, &str)]) -> Run {
    let mut full = vec!["ecospheres"];
    full.extend_from_slice(args);
    let out = data_tasks(&full, &env_for(db, extra));
    Run {
        code: out.status.code(),
        out: common::text(&out),
    }
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.client().query_one(sql, &[]).unwrap().get(0)
}

/// How many relations are named `name` (0: the table does not exist).
fn relations(db: &TestDb, name: &str) -> i64 {
    db.client()
        .query_one("SELECT count(*) FROM pg_class WHERE relname = $1", &[&name])
        .unwrap()
        .get(0)
}

fn scores(db: &TestDb) -> BTreeMap<String, i64> {
    db.client()
        .query(
            "SELECT to_char(round(percantage_filling::numeric, 2), 'FM990.00'), count(*)
             FROM datasets GROUP BY 1 ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn expected_scores() -> BTreeMap<String, i64> {
    [("100.00", 5), ("66.67", 30), ("77.78", 23), ("88.89", 17)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// Loads the acceptance fixture from a folder (exit 0, 75 rows).
fn load_acceptance(db: &TestDb) {
    let dir = folder(&pages().iter().map(bytes).collect::<Vec<_>>());
    let r = run(db, &["--source", &file_source(dir.path())], &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert_eq!(count(db, "SELECT count(*) FROM datasets"), 75);
}

fn fingerprint(db: &TestDb) -> String {
    db.client()
        .query_one(
            "SELECT count(*)::text || ':' || md5(string_agg(d::text, '|' ORDER BY dataset)) FROM datasets d",
            &[],
        )
        .unwrap()
        .get(0)
}

#[test]
fn acceptance_fixture_from_s3_then_one_dataset_less_keeps_grants_and_history() {
    let Some(db) = TestDb::create("eco_accept") else {
        return;
    };
    let mut p = pages();
    let Some(src) = s3_source(&named(&p.iter().map(bytes).collect::<Vec<_>>())) else {
        return;
    };
    let r = run(&db, &["--source", &src, "--keep-history"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert!(
        r.out.contains("75 datasets (30 series) from 2 pages"),
        "{}",
        r.out
    );

    // 19 columns in order, with the fixed types.
    let cols: Vec<(String, String)> = db
        .client()
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = 'datasets' ORDER BY ordinal_position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "dataset",
            "title",
            "description",
            "modification",
            "right_statement",
            "themes",
            "key_words",
            "creator",
            "rights_holder",
            "contact_point",
            "status",
            "catalog",
            "licenses",
            "percantage_filling",
            "univers",
            "commune",
            "departement",
            "geo_coverage",
            "right_statement_processed"
        ]
    );
    for (name, ty) in &cols {
        let want = match name.as_str() {
            "percantage_filling" => "double precision",
            "right_statement_processed" => "boolean",
            _ => "text",
        };
        assert_eq!(ty, want, "{name}");
    }
    assert_eq!(scores(&db), expected_scores());
    // Dataset 1 of the fixture: spatial …/commune/74079 only; dataset 2: "Licence Ouverte".
    let iris: Vec<String> = datasets_mut(&mut p[0])
        .iter()
        .take(2)
        .map(|d| d["@id"].as_str().unwrap().to_string())
        .collect();
    let row = db
        .client()
        .query_one(
            "SELECT commune, departement, geo_coverage FROM datasets WHERE dataset = $1",
            &[&iris[0]],
        )
        .unwrap();
    let (c, d, g): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        (c.as_str(), d.as_str(), g.as_str()),
        ("{74079}", "{74}", "Communale")
    );
    let row = db
        .client()
        .query_one(
            "SELECT right_statement, right_statement_processed FROM datasets WHERE dataset = $1",
            &[&iris[1]],
        )
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, bool>(1)),
        ("Licence Ouverte".to_string(), true)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM datasets_history"), 75);
    let run_row = db
        .client()
        .query_one(
            "SELECT status, (counts->>'fetched')::int, (counts->>'upserted')::int FROM data_tasks.sync_run
             WHERE sync = 'ecospheres' ORDER BY id DESC LIMIT 1",
            &[],
        )
        .unwrap();
    assert_eq!(
        (
            run_row.get::<_, String>(0),
            run_row.get::<_, i32>(1),
            run_row.get::<_, i32>(2)
        ),
        ("ok".to_string(), 75, 75)
    );

    // A reader role granted by hand keeps its access through the swap.
    let role = format!("eco_reader_{}", std::process::id());
    let mut admin = db.client();
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role}; GRANT SELECT ON datasets TO {role}"
        ))
        .unwrap();

    // Re-run without one dataset: 74 rows.
    let gone = datasets_mut(&mut p[1]).len();
    assert!(gone > 0);
    let graph = p[1]["@graph"].as_array_mut().unwrap();
    let at = graph
        .iter()
        .position(|n| types(n).contains(&"dcat:Dataset"))
        .unwrap();
    graph.remove(at);
    let src = s3_source(&named(&p.iter().map(bytes).collect::<Vec<_>>())).unwrap();
    let r = run(&db, &["--source", &src, "--keep-history"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert!(r.out.contains("was 75 rows, 1 gone"), "{}", r.out);
    assert_eq!(count(&db, "SELECT count(*) FROM datasets"), 74);
    let granted: bool = admin
        .query_one(
            &format!("SELECT has_table_privilege('{role}', 'public.datasets', 'SELECT')"),
            &[],
        )
        .unwrap()
        .get(0);
    assert!(granted, "SELECT not granted again: {}", r.out);
    // Same day: today's snapshot is replaced, not doubled.
    assert_eq!(count(&db, "SELECT count(*) FROM datasets_history"), 74);
    assert_eq!(relations(&db, "datasets_new"), 0);
    drop(admin);
    let mut admin = db.client();
    let _ = admin.batch_execute(&format!(
        "DROP TABLE datasets; DROP TABLE datasets_history; DROP ROLE IF EXISTS {role}"
    ));
}

#[test]
fn odd_datasets_are_written_counted_and_exit_zero() {
    let Some(db) = TestDb::create("eco_odd") else {
        return;
    };
    let mut p = pages();
    {
        let mut ds = datasets_mut(&mut p[0]);
        ds[0]["http://www.w3.org/ns/adms#status"] =
            serde_json::json!({"@id": "http://registre/ISO19139ProgressCode/underDevelopment"});
        ds[1]["http://www.w3.org/ns/adms#status"] =
            serde_json::json!({"@id": "http://registre/ISO19139ProgressCode/tentative"});
        ds[2].as_object_mut().unwrap().remove("dcterms:title");
        ds[3]["dcterms:modified"] = serde_json::json!({"@type": "xsd:date", "@value": "2021-8-7"});
        ds[4]["dcat:contactPoint"] = serde_json::json!({"@id": "_:odd-contact"});
    }
    p[0]["@graph"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "@id": "_:odd-contact",
            "http://www.w3.org/2006/vcard/ns#hasEmail": {"@id": "mailto:sig@example.org"}
        }));
    let Some(src) = s3_source(&named(&p.iter().map(bytes).collect::<Vec<_>>())) else {
        return;
    };
    let r = run(&db, &["--source", &src, "--log-format", "json"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert_eq!(count(&db, "SELECT count(*) FROM datasets"), 75);
    assert!(
        count(
            &db,
            "SELECT count(*) FROM datasets WHERE status = 'Under Development'"
        ) >= 1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM datasets WHERE status = 'tentative'"
        ),
        1
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM datasets WHERE title IS NULL"),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM datasets WHERE modification = '2021-8-7'"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM datasets WHERE contact_point = 'sig@example.org'"
        ),
        1
    );
    for named in [
        "unknown adms:status code: 1",
        "no dct:title: 1",
        "dct:modified not a valid xsd date: 1",
        "contact e-mail without catalog/: 1",
    ] {
        assert!(
            r.out.contains(named),
            "{named} not in the summary: {}",
            r.out
        );
    }
}

#[test]
fn a_truncated_page_fails_the_run_or_is_skipped() {
    let Some(db) = TestDb::create("eco_trunc") else {
        return;
    };
    load_acceptance(&db);
    let before = fingerprint(&db);
    let p = pages();
    let whole = bytes(&p[1]);
    let cut = whole[..whole.len() / 2].to_vec();
    let Some(src) = s3_source(&named(&[bytes(&p[0]), cut])) else {
        return;
    };
    let r = run(&db, &["--source", &src], &[]);
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(
        r.out.contains("DUMP/page-00002.json") && r.out.contains("truncated JSON"),
        "{}",
        r.out
    );
    assert_eq!(fingerprint(&db), before, "the old table must be intact");
    let failed: String = db
        .client()
        .query_one(
            "SELECT status FROM data_tasks.sync_run WHERE sync = 'ecospheres' ORDER BY id DESC LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(failed, "failed");

    let r = run(
        &db,
        &["--source", &src],
        &[("DATA_TASKS_ECOSPHERES_ON_BAD_PAGE", "skip")],
    );
    assert_eq!(r.code, Some(1), "{}", r.out);
    assert!(
        r.out.contains("skipped page DUMP/page-00002.json"),
        "{}",
        r.out
    );
    assert_eq!(count(&db, "SELECT count(*) FROM datasets"), 40);
}

/// A local CKAN: the acceptance pages with their links pointing at it, page 1 served.
fn catalogue_server() -> (Server, String, Vec<Vec<u8>>) {
    let server = Server::start();
    let base = server.url("/dcat/catalog/jsonld");
    let p: Vec<Vec<u8>> = pages()
        .iter()
        .map(|p| {
            String::from_utf8(bytes(p))
                .unwrap()
                .replace(BASE, &base)
                .into_bytes()
        })
        .collect();
    server.route(
        "/dcat/catalog/jsonld?page=1",
        vec![Response::json(200, p[0].clone())],
    );
    (server, base, p)
}

#[test]
fn html_instead_of_json_is_retried_then_skipped_over_http() {
    let Some(db) = TestDb::create("eco_html") else {
        return;
    };
    let (server, base, _) = catalogue_server();
    server.route(
        "/dcat/catalog/jsonld?page=2",
        vec![
            Response::ok("<html><body><h1>504 Gateway Time-out</h1></body></html>")
                .content_type("text/html"),
        ],
    );
    let first = format!("{base}?page=1");
    let r = run(&db, &["--source", &first], &[]);
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(r.out.contains("HTML page instead of JSON"), "{}", r.out);
    assert!(r.out.contains("504 Gateway Time-out"), "{}", r.out);
    assert_eq!(
        server.hits("/dcat/catalog/jsonld?page=2"),
        6,
        "1 + max_retry 5"
    );
    assert_eq!(relations(&db, "datasets"), 0);
    let r = run(
        &db,
        &["--source", &first],
        &[
            ("DATA_TASKS_ECOSPHERES_ON_BAD_PAGE", "skip"),
            ("DATA_TASKS_ECOSPHERES_MAX_RETRY", "1"),
        ],
    );
    assert_eq!(r.code, Some(1), "{}", r.out);
    assert_eq!(count(&db, "SELECT count(*) FROM datasets"), 40);
}

#[test]
fn http_paging_survives_503s_and_refuses_a_loop() {
    let Some(db) = TestDb::create("eco_http") else {
        return;
    };
    let (server, base, p) = catalogue_server();
    let mut answers = Response::status(503, "maintenance").times(2);
    answers.push(Response::json(200, p[1].clone()));
    server.route("/dcat/catalog/jsonld?page=2", answers);
    let first = format!("{base}?page=1");
    let r = run(&db, &["--source", &first], &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert_eq!(count(&db, "SELECT count(*) FROM datasets"), 75);
    assert_eq!(scores(&db), expected_scores());
    assert_eq!(
        count(
            &db,
            "SELECT (counts->>'http_retries')::bigint FROM data_tasks.sync_run
             WHERE sync = 'ecospheres' ORDER BY id DESC LIMIT 1"
        ),
        2
    );

    // Page 2 links back to page 1.
    let mut looped = pages()[1].clone();
    hydra_mut(&mut looped)[format!("{HYDRA}nextPage")] = Value::String(format!("{BASE}?page=1"));
    let looped = String::from_utf8(bytes(&looped))
        .unwrap()
        .replace(BASE, &base);
    server.route(
        "/dcat/catalog/jsonld?page=2",
        vec![Response::json(200, looped)],
    );
    let before = fingerprint(&db);
    let r = run(&db, &["--source", &first], &[]);
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(r.out.contains("leads back to"), "{}", r.out);
    assert_eq!(fingerprint(&db), before);
}

#[test]
fn one_dataset_on_two_pages_is_one_row_the_later_modified() {
    let Some(db) = TestDb::create("eco_dup") else {
        return;
    };
    let mut p = pages();
    let mut copy = datasets_mut(&mut p[0])[0].clone();
    let iri = copy["@id"].as_str().unwrap().to_string();
    copy["dcterms:modified"] =
        serde_json::json!({"@type": "xsd:dateTime", "@value": "2030-01-01T00:00:00Z"});
    copy["dcterms:title"] =
        serde_json::json!({"@language": "fr", "@value": "Version du 2e feuillet"});
    p[1]["@graph"].as_array_mut().unwrap().push(copy);
    let dir = folder(&p.iter().map(bytes).collect::<Vec<_>>());
    let r = run(&db, &["--source", &file_source(dir.path())], &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert_eq!(count(&db, "SELECT count(*) FROM datasets"), 75);
    let row = db
        .client()
        .query_one(
            "SELECT title, modification FROM datasets WHERE dataset = $1",
            &[&iri],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Version du 2e feuillet");
    assert_eq!(row.get::<_, String>(1), "2030-01-01T00:00:00+00:00");
    assert!(
        r.out.contains("dataset on several pages (one row kept): 1"),
        "{}",
        r.out
    );
}

#[test]
fn a_page_read_twice_is_fatal() {
    let Some(db) = TestDb::create("eco_twice") else {
        return;
    };
    let p = pages();
    let dir = folder(&[bytes(&p[0]), bytes(&p[1]), bytes(&p[1])]);
    let r = run(&db, &["--source", &file_source(dir.path())], &[]);
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(
        r.out
            .contains("read twice (page-00002.json, then page-00003.json)"),
        "{}",
        r.out
    );
    assert_eq!(relations(&db, "datasets"), 0);
}

#[test]
fn a_shrink_past_max_shrink_is_refused_and_the_table_kept() {
    let Some(db) = TestDb::create("eco_shrink") else {
        return;
    };
    load_acceptance(&db);
    let before = fingerprint(&db);
    let mut p = pages();
    // 30 datasets left of 75: below 0.5 × 75.
    let graph = p[0]["@graph"].as_array_mut().unwrap();
    let mut kept = 0;
    graph.retain(|n| {
        if !types(n).contains(&"dcat:Dataset") {
            return true;
        }
        kept += 1;
        kept <= 30
    });
    let hydra = hydra_mut(&mut p[0]);
    hydra
        .as_object_mut()
        .unwrap()
        .remove(&format!("{HYDRA}nextPage"));
    hydra[format!("{HYDRA}lastPage")] = Value::String(format!("{BASE}?page=1"));
    let dir = folder(&[bytes(&p[0])]);
    let r = run(&db, &["--source", &file_source(dir.path())], &[]);
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(
        r.out.contains("fewer than max_shrink 0.5 × its 75 rows"),
        "{}",
        r.out
    );
    assert_eq!(fingerprint(&db), before);
    let r = run(
        &db,
        &["--source", &file_source(dir.path())],
        &[("DATA_TASKS_ECOSPHERES_MAX_SHRINK", "0.3")],
    );
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert_eq!(count(&db, "SELECT count(*) FROM datasets"), 30);
}

/// Holds an ACCESS SHARE lock on `datasets` (a dashboard query) until dropped.
struct Reader {
    _client: postgres::Client,
}

fn hold_reader(db: &TestDb) -> Reader {
    let mut client = db.client();
    client
        .batch_execute("BEGIN; SELECT count(*) FROM datasets;")
        .unwrap();
    Reader { _client: client }
}

#[test]
fn a_connection_dropped_before_commit_leaves_the_old_table() {
    let Some(db) = TestDb::create("eco_drop") else {
        return;
    };
    load_acceptance(&db);
    let before = fingerprint(&db);
    let mut p = pages();
    let graph = p[1]["@graph"].as_array_mut().unwrap();
    let at = graph
        .iter()
        .position(|n| types(n).contains(&"dcat:Dataset"))
        .unwrap();
    graph.remove(at);
    let dir = folder(&p.iter().map(bytes).collect::<Vec<_>>());
    let source = file_source(dir.path());

    // The swap waits for the reader's lock; meanwhile its connection is terminated.
    let reader = hold_reader(&db);
    let env = env_for(&db, &[]);
    let child = std::thread::spawn(move || data_tasks(&["ecospheres", "--source", &source], &env));
    let mut admin = db.client();
    let start = Instant::now();
    let killed = loop {
        let n: i64 = admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DROP TABLE%'",
                &[],
            )
            .unwrap()
            .get(0);
        if n > 0 || start.elapsed() > Duration::from_secs(60) {
            break n;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.join().unwrap();
    drop(reader);
    assert_eq!(killed, 1, "{}", common::text(&out));
    assert_eq!(out.status.code(), Some(2), "{}", common::text(&out));
    assert_eq!(fingerprint(&db), before, "the old table must be intact");
    assert_eq!(relations(&db, "datasets_new"), 0);

    // A reader holding the table past lock_timeout: the same, with a clear message.
    let reader = hold_reader(&db);
    let r = run(
        &db,
        &["--source", &file_source(dir.path())],
        &[("DATA_TASKS_ECOSPHERES_LOCK_TIMEOUT", "300ms")],
    );
    drop(reader);
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(
        r.out.contains("drop the current table") && r.out.contains("lock timeout"),
        "{}",
        r.out
    );
    assert_eq!(fingerprint(&db), before);
}

#[test]
fn dry_run_writes_nothing_and_a_held_lock_skips() {
    let Some(db) = TestDb::create("eco_dry") else {
        return;
    };
    let dir = folder(&pages().iter().map(bytes).collect::<Vec<_>>());
    let source = file_source(dir.path());
    let r = run(&db, &["--source", &source, "--dry-run"], &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert!(
        r.out
            .contains("(dry run): 75 datasets (30 series) from 2 pages")
            && r.out.contains("nothing written"),
        "{}",
        r.out
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
        ),
        0,
        "a dry run creates nothing"
    );

    let mut holder = db.client();
    holder
        .execute(
            "SELECT pg_advisory_lock(hashtext('data-tasks:ecospheres:public'))",
            &[],
        )
        .unwrap();
    let r = run(&db, &["--source", &source], &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert!(r.out.contains("skipped"), "{}", r.out);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM data_tasks.sync_run WHERE status = 'skipped'"
        ),
        1
    );
    assert_eq!(relations(&db, "datasets"), 0);
}

#[test]
fn the_originals_variables_are_accepted() {
    let Some(db) = TestDb::create("eco_legacy") else {
        return;
    };
    let Some(s3) = common::s3_env() else {
        common::require("SeaweedFS (TEST_S3_ENDPOINT)", false);
        return;
    };
    let endpoint = s3
        .iter()
        .find(|(k, _)| k == "AWS_ENDPOINT")
        .map(|(_, v)| v.clone())
        .unwrap();
    // The original reads s3://$BUCKET_NAME/DUMP_INTEGRATION_JSON/.
    let store = common::store("s3://misc/DUMP_INTEGRATION_JSON");
    for item in store.list(None).unwrap() {
        store.delete(&item.unwrap().key).unwrap();
    }
    for (i, p) in pages().iter().enumerate() {
        store
            .put(&format!("metadata-{}.json", i + 1), bytes(p))
            .unwrap();
    }
    store.put("README.txt", b"not a page".to_vec()).unwrap();
    let url = url::Url::parse(&db.url()).unwrap();
    let port = url.port().unwrap_or(5432).to_string();
    let env: Vec<(String, String)> = [
        ("S3_ENDPOINT_URL", endpoint.as_str()),
        ("ACCESS_KEY", "test"),
        ("SECRET_KEY", "test"),
        ("BUCKET_NAME", "misc"),
        ("AWS_ALLOW_HTTP", "true"),
        ("POSTGRES_USER", url.username()),
        ("POSTGRES_PASSWORD", "unused-with-trust"),
        ("POSTGRES_URL", url.host_str().unwrap()),
        ("POSTGRES_PORT", port.as_str()),
        ("POSTGRES_DB", db.name.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let out = data_tasks(&["ecospheres"], &env);
    let text = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("s3://misc/DUMP_INTEGRATION_JSON"), "{text}");
    assert_eq!(count(&db, "SELECT count(*) FROM datasets"), 75);
    assert!(!text.contains("unused-with-trust"), "{text}");
}

#[test]
fn a_database_error_names_the_variable_never_the_password() {
    let dir = folder(&pages().iter().map(bytes).collect::<Vec<_>>());
    let out = data_tasks(
        &["ecospheres", "--source", &file_source(dir.path())],
        &[(
            "ECOSPHERES_DATABASE_URL".to_string(),
            "postgresql://eco:Sup3r-s3cret@127.0.0.1:1/eco".to_string(),
        )],
    );
    let text = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("ECOSPHERES_DATABASE_URL"), "{text}");
    assert!(!text.contains("Sup3r-s3cret"), "{text}");
}

#[test]
fn committed_fixture_is_what_the_generator_writes() {
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output();
    if !common::require("python3", python.is_ok_and(|o| o.status.success())) {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg(common::repo().join("testdata/ecospheres/gen_catalog.py"))
        .args(["--acceptance", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    for p in ["page-00001.json", "page-00002.json"] {
        assert!(
            std::fs::read(out.path().join(p)).unwrap() == std::fs::read(fixture_dir().join(p)).unwrap(),
            "{p} differs from gen_catalog.py --acceptance: regenerate testdata/ecospheres/acceptance"
        );
    }
}

#[test]
fn check_probes_the_catalogue_and_the_database() {
    let Some(db) = TestDb::create("eco_check") else {
        return;
    };
    let dir = folder(&pages().iter().map(bytes).collect::<Vec<_>>());
    let stores = tempfile::tempdir().unwrap();
    let check = |source: &str| {
        let mut env = vec![
            (
                "DATA_TASKS_ECOSPHERES_SOURCE".to_string(),
                source.to_string(),
            ),
            ("ECOSPHERES_DATABASE_URL".to_string(), db.url()),
        ];
        for store in ["misc", "ap", "am"] {
            env.push((
                format!("DATA_TASKS_STORAGE_{}", store.to_uppercase()),
                format!("file://{}", stores.path().join(store).display()),
            ));
        }
        let out = common::data_tasks(&["check"], &env);
        (out.status.code(), common::text(&out))
    };
    let (code, t) = check(&file_source(dir.path()));
    assert_eq!(code, Some(0), "{t}");
    assert!(t.contains("6 of 6 dependencies ok"), "{t}");
    assert!(
        t.contains("2 catalogue page(s)") && t.contains("not created yet"),
        "{t}"
    );
    assert_eq!(relations(&db, "datasets"), 0, "check creates nothing");

    let r = run(&db, &["--source", &file_source(dir.path())], &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let (code, t) = check(&file_source(dir.path()));
    assert_eq!(code, Some(0), "{t}");
    assert!(t.contains("datasets present"), "{t}");

    let empty = tempfile::tempdir().unwrap();
    let (code, t) = check(&file_source(empty.path()));
    assert_eq!(code, Some(2), "{t}");
    assert!(t.contains("no object whose name contains .json"), "{t}");
}

/// A catalogue page whose body never ends: each attempt stops at `ecospheres.http.timeout`, the
/// page fails after its retries, nothing is published and the run ends.
#[test]
fn a_trickling_page_ends_at_the_deadline_and_nothing_is_published() {
    let Some(db) = TestDb::create("eco_trickle") else {
        return;
    };
    let (server, base, _) = catalogue_server();
    server.route(
        "/dcat/catalog/jsonld?page=2",
        vec![Response::json(200, "{\"@context\": ".as_bytes().to_vec())
            .trickling(10_000_000, std::time::Duration::from_millis(200))],
    );
    let first = format!("{base}?page=1");
    let t = std::time::Instant::now();
    let r = run(
        &db,
        &["--source", &first],
        &[
            ("DATA_TASKS_ECOSPHERES_HTTP_TIMEOUT", "2s"),
            ("DATA_TASKS_ECOSPHERES_MAX_RETRY", "1"),
        ],
    );
    let took = t.elapsed();
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(
        r.out.contains("no complete answer within 2s") && r.out.contains("ecospheres.http.timeout"),
        "{}",
        r.out
    );
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
    assert_eq!(server.hits("/dcat/catalog/jsonld?page=2"), 2, "1 + 1 retry");
    assert_eq!(relations(&db, "datasets"), 0);
}

/// A 200 MiB page over HTTP is refused while it arrives, with memory bounded by the cap; a page
/// in a folder is refused from its size before it is read.
#[test]
fn a_huge_page_is_refused_at_the_size_cap_over_http_and_from_a_folder() {
    let Some(db) = TestDb::create("eco_huge") else {
        return;
    };
    let (server, base, _) = catalogue_server();
    server.route(
        "/dcat/catalog/jsonld?page=2",
        vec![
            Response::json(200, "{\"@graph\": [{\"x\": \"".as_bytes().to_vec())
                .with_filler(200 << 20, "\"}]}"),
        ],
    );
    let first = format!("{base}?page=1");
    let (out, peak_kib) = common::data_tasks_peak_rss(
        &["ecospheres", "--source", &first],
        &env_for(
            &db,
            &[("DATA_TASKS_ECOSPHERES_HTTP_MAX_RESPONSE_MIB", "16")],
        ),
    );
    let text = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("larger than the 16777216-byte limit")
            && text.contains("ecospheres.http.max_response_mib"),
        "{text}"
    );
    eprintln!("peak RSS with a 200 MiB page: {peak_kib} KiB");
    assert!(peak_kib < 150_000, "peak RSS {peak_kib} KiB");
    assert_eq!(server.hits("/dcat/catalog/jsonld?page=2"), 1, "not retried");
    assert_eq!(relations(&db, "datasets"), 0);

    let dir = folder(&pages().iter().map(bytes).collect::<Vec<_>>());
    let big = std::fs::File::create(dir.path().join("page-00099.json")).unwrap();
    big.set_len(200 << 20).unwrap();
    let r = run(
        &db,
        &["--source", &file_source(dir.path())],
        &[("DATA_TASKS_ECOSPHERES_HTTP_MAX_RESPONSE_MIB", "16")],
    );
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(
        r.out.contains("page-00099.json") && r.out.contains("ecospheres.http.max_response_mib"),
        "{}",
        r.out
    );
    assert_eq!(relations(&db, "datasets"), 0);
}

/// The store's credentials are checked before anything is written: no bookkeeping schema, no
/// run row, no table.
#[test]
fn missing_s3_keys_fail_before_any_write() {
    let Some(db) = TestDb::create("eco_early") else {
        return;
    };
    let env = vec![
        ("ECOSPHERES_DATABASE_URL".to_string(), db.url()),
        ("AWS_ENDPOINT".to_string(), "http://127.0.0.1:9".to_string()),
        ("AWS_ALLOW_HTTP".to_string(), "true".to_string()),
    ];
    let out = data_tasks(&["ecospheres", "--source", "s3://bucket/DUMP/"], &env);
    let text = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("AWS_ACCESS_KEY_ID"), "{text}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'data_tasks'"
        ),
        0
    );
    assert_eq!(relations(&db, "datasets"), 0);
}
