//! Integration tests of the AM export against a real PostgreSQL: the server `scripts/test.sh`
//! starts (or points at) through `TEST_DATABASE_URL`, one database per test, dropped after; and a
//! throwaway TLS-only cluster for the `sslmode` tests. Unreachable server: the tests are skipped
//! with a message, except with `CI=true`, where they fail.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

use data_tasks::pg::DbUrl;
use data_tasks::secrets::Secret;
use data_tasks::stages::am_export::{
    check_database, export_files, export_to_dir, export_zip, json::to_py_json,
    model::ArreteMinisteriel, AmExportError, AmExportOptions,
};
use postgres::Client;

mod common;

/// A throw-away database with the export's options, dropped on drop.
struct TestDb {
    db: common::pg::TestDb,
    url: String,
}

impl TestDb {
    /// `None` (skip) when PostgreSQL is unreachable, unless `CI=true` (panic).
    fn create() -> Option<TestDb> {
        let db = common::pg::TestDb::create("am_test")?;
        let url = db.url();
        Some(TestDb { db, url })
    }

    fn client(&self) -> Client {
        self.db.client()
    }

    fn options(&self) -> AmExportOptions {
        options(&self.url)
    }
}

fn options(url: &str) -> AmExportOptions {
    AmExportOptions {
        database: DbUrl::parse("AM_DATABASE_URL", Secret::new(url)).expect("database URL"),
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/am/golden")
}

fn expected_files() -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(golden_dir().join("expected")).expect("expected dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().to_string();
        out.insert(name, std::fs::read(entry.path()).expect("read expected"));
    }
    out
}

fn load_golden(db: &TestDb) {
    let sql = std::fs::read_to_string(golden_dir().join("input.sql")).expect("input.sql");
    db.client().batch_execute(&sql).expect("load input.sql");
}

fn compare(actual: &BTreeMap<String, Vec<u8>>, expected: &BTreeMap<String, Vec<u8>>) {
    let actual_names: Vec<&String> = actual.keys().collect();
    let expected_names: Vec<&String> = expected.keys().collect();
    assert_eq!(actual_names, expected_names, "set of exported files");
    let mut bad = Vec::new();
    for (name, bytes) in expected {
        if actual[name] != *bytes {
            let a = String::from_utf8_lossy(&actual[name]).to_string();
            let e = String::from_utf8_lossy(bytes).to_string();
            let line = a
                .lines()
                .zip(e.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            bad.push(format!(
                "{name}: first difference at line {}:\n  actual:   {:?}\n  expected: {:?}",
                line + 1,
                a.lines().nth(line),
                e.lines().nth(line)
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} files differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn golden_export_matches_byte_for_byte() {
    let Some(db) = TestDb::create() else { return };
    load_golden(&db);
    let (files, summary) = export_files(&db.options()).expect("export");
    let actual: BTreeMap<String, Vec<u8>> = files
        .into_iter()
        .map(|f| (format!("{}.json", f.am_id), f.json))
        .collect();
    compare(&actual, &expected_files());
    assert_eq!(summary.exported, 19);
    assert_eq!(
        summary.skipped_no_structured,
        vec!["JORFTEXT000085006729".to_string()]
    );
    assert!(!summary.dropped_parametrization.is_empty());
}

#[test]
fn golden_zip_has_every_file_at_the_root() {
    let Some(db) = TestDb::create() else { return };
    load_golden(&db);
    let (zip_bytes, summary) = export_zip(&db.options()).expect("export");
    assert_eq!(summary.exported, 19);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).expect("zip");
    let mut actual = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let name = entry.name().to_string();
        assert!(!name.contains('/'), "entry {name} not at the root");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read entry");
        actual.insert(name, bytes);
    }
    compare(&actual, &expected_files());
}

#[test]
fn golden_export_to_dir_writes_the_expected_files() {
    let Some(db) = TestDb::create() else { return };
    load_golden(&db);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ams");
    let summary = export_to_dir(&db.options(), &dir).expect("export");
    assert_eq!(summary.exported, 19);
    let mut actual = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("read dir") {
        let entry = entry.expect("entry");
        actual.insert(
            entry.file_name().to_string_lossy().to_string(),
            std::fs::read(entry.path()).expect("read"),
        );
    }
    compare(&actual, &expected_files());
    // Nothing left beside the target (the staging directory was renamed).
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).expect("read tmp").collect();
    assert_eq!(leftovers.len(), 1);
}

#[test]
fn golden_check_database_passes() {
    let Some(db) = TestDb::create() else { return };
    load_golden(&db);
    check_database(&db.options().database).expect("check");
}

/// Exported files read back with the typed model and written again give the same bytes.
#[test]
fn exported_files_round_trip_through_the_typed_model() {
    for (name, bytes) in expected_files() {
        let am: ArreteMinisteriel = serde_json::from_slice(&bytes).expect("parse expected");
        let again = to_py_json(&am).expect("serialise");
        assert!(again == bytes, "{name} does not round-trip");
    }
}

// ---------------------------------------------------------------- generated cases

const SCHEMA: &str = "CREATE TABLE am_metadata (am_id VARCHAR(255) PRIMARY KEY, data TEXT);
CREATE TABLE structured_am (am_id VARCHAR(255) PRIMARY KEY, data TEXT);
CREATE TABLE parametrization (am_id VARCHAR(255) PRIMARY KEY, data TEXT);
CREATE TABLE initial_am (am_id VARCHAR(255) PRIMARY KEY, data TEXT);";

fn section(id: &str, title: &str, children: Vec<Value>) -> Value {
    json!({
        "id": id, "title": {"text": title}, "outer_alineas": [{"text": "Texte de l'alinéa."}],
        "sections": children, "applicability": null, "reference": null, "annotations": null,
        "parametrization": {"potential_inapplicabilities": [], "potential_modifications": [], "warnings": []}
    })
}

fn text(id: &str) -> Value {
    json!({
        "id": id,
        "title": {"text": "Arrêté du 08/02/16 relatif aux prescriptions générales"},
        "visa": [{"text": "Vu le code de l'environnement ;"}],
        "sections": [section("sec1", "Article 1", vec![section("sec2", "1. Champ", vec![])]), section("sec3", "Article 2", vec![])],
        "date_of_signature": "2016-02-08",
        "classements": [], "classements_with_alineas": [], "aida_url": null, "legifrance_url": null,
        "applicability": null, "is_transverse": false, "nickname": null, "orphan_titles": null
    })
}

fn metadata(id: &str, state: &str) -> Value {
    json!({
        "cid": id, "aida_page": 1234, "title": "Arrêté du 08/02/16", "state": state,
        "classements": [{"rubrique": 2710, "regime": "E", "alinea": null}],
        "date_of_signature": 1454889600, "source": "LEGIFRANCE", "nor": null, "reason_deleted": null,
        "is_transverse": false, "nickname": "Déchets"
    })
}

fn insert(client: &mut Client, table: &str, am_id: &str, data: &str) {
    client
        .execute(
            &format!("INSERT INTO {table} (am_id, data) VALUES ($1, $2)"),
            &[&am_id, &data],
        )
        .expect("insert");
}

fn insert_json(client: &mut Client, table: &str, am_id: &str, data: &Value) {
    insert(client, table, am_id, &data.to_string());
}

/// A database with the schema and one valid in-force AM `JORFTEXT000000000001`.
fn base_db() -> Option<(TestDb, Client)> {
    let db = TestDb::create()?;
    let mut client = db.client();
    client.batch_execute(SCHEMA).expect("schema");
    let id = "JORFTEXT000000000001";
    insert_json(&mut client, "am_metadata", id, &metadata(id, "VIGUEUR"));
    insert_json(&mut client, "structured_am", id, &text(id));
    Some((db, client))
}

fn exported_ids(db: &TestDb) -> Vec<String> {
    let (files, _) = export_files(&db.options()).expect("export");
    files.into_iter().map(|f| f.am_id).collect()
}

#[test]
fn selection_keeps_only_in_force_non_fake_ams_with_a_structured_text() {
    let Some((db, mut client)) = base_db() else {
        return;
    };
    for (id, state) in [
        ("JORFTEXT000000000002", "ABROGE"),
        ("JORFTEXT000000000003", "DELETED"),
        ("JORFTEXT000000000004", "EN_CREATION"),
        ("FAKE_CID_1", "VIGUEUR"),
    ] {
        insert_json(&mut client, "am_metadata", id, &metadata(id, state));
        insert_json(&mut client, "structured_am", id, &text(id));
    }
    // In force, only an initial text: skipped and reported.
    let lonely = "JORFTEXT000000000005";
    insert_json(
        &mut client,
        "am_metadata",
        lonely,
        &metadata(lonely, "VIGUEUR"),
    );
    insert_json(&mut client, "initial_am", lonely, &text(lonely));
    // A text without metadata: ignored.
    insert_json(
        &mut client,
        "structured_am",
        "JORFTEXT000000000006",
        &text("JORFTEXT000000000006"),
    );
    let (files, summary) = export_files(&db.options()).expect("export");
    let ids: Vec<&str> = files.iter().map(|f| f.am_id.as_str()).collect();
    assert_eq!(ids, vec!["JORFTEXT000000000001"]);
    assert_eq!(summary.exported, 1);
    assert_eq!(summary.skipped_no_structured, vec![lonely.to_string()]);
    assert!(summary.dropped_parametrization.is_empty());
}

#[test]
fn enrichment_of_a_generated_am() {
    let Some((db, _client)) = base_db() else {
        return;
    };
    let (files, _) = export_files(&db.options()).expect("export");
    let am: Value = serde_json::from_slice(&files[0].json).expect("json");
    assert_eq!(
        am["legifrance_url"],
        "https://www.legifrance.gouv.fr/loda/id/JORFTEXT000000000001"
    );
    assert_eq!(
        am["aida_url"],
        "https://aida.ineris.fr/consultation_document/1234"
    );
    assert_eq!(
        am["classements"],
        json!([{"alinea": null, "regime": "E", "rubrique": "2710", "state": "ACTIVE"}])
    );
    assert_eq!(
        am["classements_with_alineas"],
        json!([{"alineas": [], "regime": "E", "rubrique": "2710"}])
    );
    assert_eq!(am["nickname"], "Déchets");
    assert_eq!(
        am["sections"][0]["reference"],
        json!({"name": "", "nb": "Article 1"})
    );
    assert_eq!(
        am["sections"][0]["sections"][0]["reference"],
        json!({"name": "Champ", "nb": "Article 1 > 1."})
    );
    assert_eq!(am["sections"][0]["annotations"], json!({"topic": null}));
    assert!(!files[0].json.ends_with(b"\n"));
}

#[test]
fn parametrization_on_unknown_section_is_dropped_and_reported() {
    let Some((db, mut client)) = base_db() else {
        return;
    };
    let condition =
        json!({"type": "EQUAL", "parameter": {"id": "regime", "type": "REGIME"}, "target": "E"});
    let param = json!({
        "inapplicable_sections": [
            {"id": "p1", "section_id": "sec2", "alineas": null, "condition": condition, "subsections_are_inapplicable": false},
            {"id": "p2", "section_id": "gone", "alineas": [0], "condition": condition}
        ],
        "alternative_sections": [],
        "warnings": [{"id": "w1", "section_id": "sec3", "text": "Attention"}, {"id": "w2", "section_id": "gone2", "text": "x"}]
    });
    insert_json(
        &mut client,
        "parametrization",
        "JORFTEXT000000000001",
        &param,
    );
    let (files, summary) = export_files(&db.options()).expect("export");
    assert_eq!(
        summary.dropped_parametrization,
        vec![
            ("JORFTEXT000000000001".to_string(), "gone".to_string()),
            ("JORFTEXT000000000001".to_string(), "gone2".to_string())
        ]
    );
    let am: Value = serde_json::from_slice(&files[0].json).expect("json");
    let sec2 = &am["sections"][0]["sections"][0]["parametrization"];
    assert_eq!(
        sec2["potential_inapplicabilities"][0]["subsections_are_inapplicable"],
        false
    );
    assert_eq!(
        am["sections"][1]["parametrization"]["warnings"],
        json!(["Attention"])
    );
}

fn assert_invalid_json(err: AmExportError, table: &str, am_id: &str) {
    match err {
        AmExportError::InvalidJson {
            table: t, am_id: a, ..
        } => {
            assert_eq!((t.as_str(), a.as_str()), (table, am_id));
        }
        other => panic!("expected InvalidJson, got {other:?}"),
    }
}

#[test]
fn invalid_json_in_a_structured_text_names_table_and_id() {
    let Some((db, mut client)) = base_db() else {
        return;
    };
    client
        .execute(
            "UPDATE structured_am SET data = $1 WHERE am_id = $2",
            &[&"{not json", &"JORFTEXT000000000001"],
        )
        .expect("update");
    let err = export_files(&db.options()).expect_err("must fail");
    assert_invalid_json(err, "structured_am", "JORFTEXT000000000001");
}

#[test]
fn invalid_json_in_metadata_and_parametrization_names_table_and_id() {
    let Some((db, mut client)) = base_db() else {
        return;
    };
    insert(
        &mut client,
        "parametrization",
        "JORFTEXT000000000001",
        "[1, 2",
    );
    assert_invalid_json(
        export_files(&db.options()).expect_err("must fail"),
        "parametrization",
        "JORFTEXT000000000001",
    );
    insert(
        &mut client,
        "am_metadata",
        "JORFTEXT000000000009",
        "{\"cid\": ",
    );
    assert_invalid_json(
        export_files(&db.options()).expect_err("must fail"),
        "am_metadata",
        "JORFTEXT000000000009",
    );
}

#[test]
fn unknown_nested_key_is_rejected() {
    let Some((db, mut client)) = base_db() else {
        return;
    };
    let mut am = text("JORFTEXT000000000001");
    am["sections"][0]["surprise"] = json!(1);
    am["short_title"] = json!("dropped");
    client
        .execute(
            "UPDATE structured_am SET data = $1 WHERE am_id = $2",
            &[&am.to_string(), &"JORFTEXT000000000001"],
        )
        .expect("update");
    assert_invalid_json(
        export_files(&db.options()).expect_err("must fail"),
        "structured_am",
        "JORFTEXT000000000001",
    );
}

fn assert_invalid(db: &TestDb, am_id: &str, reason_part: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("out");
    match export_to_dir(&db.options(), &dir).expect_err("must fail") {
        AmExportError::Invalid { am_id: a, reason } => {
            assert_eq!(a, am_id);
            assert!(
                reason.contains(reason_part),
                "reason {reason:?} lacks {reason_part:?}"
            );
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(
        !dir.exists(),
        "nothing may be written when an AM is invalid"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).expect("read").count(),
        0,
        "staging left behind"
    );
    assert!(export_zip(&db.options()).is_err());
}

#[test]
fn invalid_id_fails_validation_and_writes_nothing() {
    let Some((db, mut client)) = base_db() else {
        return;
    };
    let id = "JORFTEXT12";
    insert_json(&mut client, "am_metadata", id, &metadata(id, "VIGUEUR"));
    insert_json(&mut client, "structured_am", id, &text(id));
    assert_invalid(&db, id, "id");
}

#[test]
fn invalid_regime_fails_validation() {
    let Some((db, mut client)) = base_db() else {
        return;
    };
    let id = "JORFTEXT000000000007";
    let mut md = metadata(id, "VIGUEUR");
    md["classements"] = json!([{"rubrique": "2710", "regime": "NC", "alinea": null}]);
    insert_json(&mut client, "am_metadata", id, &md);
    insert_json(&mut client, "structured_am", id, &text(id));
    assert_invalid(&db, id, "regime");
}

#[test]
fn missing_date_fails_validation() {
    let Some((db, mut client)) = base_db() else {
        return;
    };
    let id = "JORFTEXT000000000008";
    let mut am = text(id);
    am["date_of_signature"] = Value::Null;
    am["title"] = json!({"text": "Arrêté relatif aux prescriptions générales"});
    insert_json(&mut client, "am_metadata", id, &metadata(id, "VIGUEUR"));
    insert_json(&mut client, "structured_am", id, &am);
    assert_invalid(&db, id, "date");
}

#[test]
fn date_of_signature_is_derived_from_a_spelled_out_title() {
    let Some((db, mut client)) = base_db() else {
        return;
    };
    let mut am = text("JORFTEXT000000000001");
    am["date_of_signature"] = Value::Null;
    am["title"] = json!({"text": "Arrêté du 1er juin 2015 relatif aux prescriptions"});
    client
        .execute(
            "UPDATE structured_am SET data = $1 WHERE am_id = $2",
            &[&am.to_string(), &"JORFTEXT000000000001"],
        )
        .expect("update");
    let (files, _) = export_files(&db.options()).expect("export");
    let out: Value = serde_json::from_slice(&files[0].json).expect("json");
    assert_eq!(
        out["title"]["text"],
        "Arrêté du 01/06/15 relatif aux prescriptions"
    );
    assert_eq!(out["date_of_signature"], "2015-06-01");
}

#[test]
fn missing_table_is_reported() {
    let Some(db) = TestDb::create() else { return };
    db.client()
        .batch_execute("CREATE TABLE am_metadata (am_id VARCHAR(255) PRIMARY KEY, data TEXT); CREATE TABLE structured_am (am_id VARCHAR(255) PRIMARY KEY, data TEXT);")
        .expect("schema");
    for err in [
        check_database(&db.options().database).expect_err("check"),
        export_files(&db.options()).expect_err("export"),
    ] {
        match err {
            AmExportError::MissingTable { table } => assert_eq!(table, "parametrization"),
            other => panic!("expected MissingTable, got {other:?}"),
        }
    }
}

#[test]
fn unreachable_database_gives_connect_error_without_password() {
    let url = "postgresql://someone:S3cretPassw0rd@127.0.0.1:9/nowhere?connect_timeout=2";
    let err = check_database(&options(url).database).expect_err("must fail");
    let message = format!("{err} {err:?}");
    assert!(matches!(err, AmExportError::Connect { .. }), "{message}");
    assert!(
        !message.contains("S3cretPassw0rd"),
        "password leaked: {message}"
    );
    assert!(!message.contains(url), "url leaked: {message}");
    let err = export_zip(&options(url)).expect_err("must fail");
    assert!(!format!("{err:?}").contains("S3cretPassw0rd"));
}

#[test]
fn exported_ids_are_sorted_and_stable() {
    let Some((db, mut client)) = base_db() else {
        return;
    };
    let id = "JORFTEXT000000000000";
    insert_json(&mut client, "am_metadata", id, &metadata(id, "VIGUEUR"));
    insert_json(&mut client, "structured_am", id, &text(id));
    assert_eq!(
        exported_ids(&db),
        vec![id.to_string(), "JORFTEXT000000000001".to_string()]
    );
}

/// Runs `data-tasks am-export` against `db` with the `am` store at `am_url`.
fn cli_export(db: &TestDb, am_url: &str, extra: &[(String, String)]) -> std::process::Output {
    let mut env = extra.to_vec();
    env.push(("AM_DATABASE_URL".into(), db.url.clone()));
    env.push(("DATA_TASKS_STORAGE_AM".into(), am_url.into()));
    common::data_tasks(&["am-export"], &env)
}

fn unzip_all(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        let mut content = Vec::new();
        f.read_to_end(&mut content).expect("read entry");
        out.insert(f.name().to_string(), content);
    }
    out
}

#[test]
fn cli_publishes_the_golden_archive_to_seaweedfs() {
    let Some(db) = TestDb::create() else { return };
    load_golden(&db);
    let Some(env) = common::s3_env() else {
        common::require("SeaweedFS (TEST_S3_ENDPOINT)", false);
        return;
    };
    let am_url = format!("s3://misc/{}", common::unique("am-export"));
    let out = cli_export(&db, &am_url, &env);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    let shown = common::text(&out);
    assert!(
        shown.contains("19 AMs exported") && shown.contains("ams/latest.zip"),
        "{shown}"
    );
    // Warnings name the skipped AM and the dropped parametrization elements.
    assert!(shown.contains("JORFTEXT000085006729"), "{shown}");
    let store = common::store(&am_url);
    let keys: Vec<String> = store
        .list(Some("ams"))
        .unwrap()
        .map(|o| o.unwrap().key)
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let latest = store.get("ams/latest.zip").unwrap();
    let stamped = keys.iter().find(|k| !k.ends_with("latest.zip")).unwrap();
    assert_eq!(store.get(stamped).unwrap(), latest);
    let files = unzip_all(&latest);
    let expected: BTreeMap<String, Vec<u8>> = expected_files();
    assert_eq!(files, expected);
}

#[test]
fn cli_failed_export_publishes_nothing() {
    let Some(db) = TestDb::create() else { return };
    load_golden(&db);
    // One in-force AM becomes invalid: a regime outside A/E/D in its metadata classements.
    db.client()
        .batch_execute(
            "UPDATE am_metadata SET data = replace(data, '\"regime\": \"A\"', '\"regime\": \"NC\"') \
             WHERE am_id = (SELECT am_id FROM am_metadata WHERE data LIKE '%\"VIGUEUR\"%' \
             AND data LIKE '%\"regime\": \"A\"%' AND am_id NOT LIKE 'FAKE%' LIMIT 1)",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let am_url = format!("file://{}", dir.path().display());
    let out = cli_export(&db, &am_url, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", common::text(&out));
    assert!(
        common::text(&out).contains("fails validation"),
        "{}",
        common::text(&out)
    );
    let store = common::store(&am_url);
    assert_eq!(store.list(None).unwrap().count(), 0);
    // The database URL never appears in the output.
    assert!(!common::text(&out).contains(&db.url));
}

#[test]
fn cli_without_database_url_exits_2() {
    let out = common::data_tasks(&["am-export"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", common::text(&out));
    assert!(common::text(&out).contains("AM_DATABASE_URL"));
}

/// A cluster that accepts only TLS connections over TCP (self-signed certificate, `hostssl`
/// rules only), holding the golden back-office tables in database `backoffice`.
fn tls_only_cluster() -> Option<common::pg::Cluster> {
    let available = std::path::Path::new("/usr/lib/postgresql").exists();
    if !common::require("the Debian postgresql server (initdb)", available) {
        return None;
    }
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("self-signed certificate");
    let cluster = common::pg::Cluster::start(&common::pg::ClusterOptions {
        tls: Some((cert.cert.pem(), cert.key_pair.serialize_pem())),
        hba: vec!["hostssl all all 127.0.0.1/32 trust".into()],
        conf: vec![],
    })
    .expect("start the TLS-only cluster");
    let mut admin = Client::connect(&cluster.socket_conninfo("postgres"), postgres::NoTls)
        .expect("connect over the socket");
    admin.batch_execute("CREATE DATABASE backoffice").unwrap();
    let mut db = Client::connect(&cluster.socket_conninfo("backoffice"), postgres::NoTls).unwrap();
    let sql = std::fs::read_to_string(golden_dir().join("input.sql")).expect("input.sql");
    db.batch_execute(&sql).expect("load input.sql");
    Some(cluster)
}

#[test]
fn tls_only_server_with_sslmode_require_exports_the_golden_files() {
    let Some(cluster) = tls_only_cluster() else {
        return;
    };
    let url = format!("{}?sslmode=require", cluster.url("backoffice"));
    let (files, _) = export_files(&options(&url)).expect("export over TLS");
    let actual: BTreeMap<String, Vec<u8>> = files
        .into_iter()
        .map(|f| (format!("{}.json", f.am_id), f.json))
        .collect();
    compare(&actual, &expected_files());
}

#[test]
fn tls_only_server_with_sslmode_disable_exits_2_naming_tls() {
    let Some(cluster) = tls_only_cluster() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "AM_DATABASE_URL".to_string(),
            format!("{}?sslmode=disable", cluster.url("backoffice")),
        ),
        (
            "DATA_TASKS_STORAGE_AM".to_string(),
            format!("file://{}", dir.path().display()),
        ),
    ];
    let out = common::data_tasks(&["am-export"], &env);
    let shown = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("TLS") && shown.contains("sslmode=require"),
        "{shown}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing published"
    );
}
