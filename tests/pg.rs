//! The shared PostgreSQL module against a real server (one database per test): connection
//! errors, advisory locks, idempotent schema setup, the COPY + upsert bulk writer and the
//! `data_tasks.sync_run` run summaries with the abandoned rule.

mod common;

use std::time::{Duration, Instant};

use data_tasks::outcome::error_chain;
use data_tasks::pg::bulk::{self, JsonbText, Upsert};
use data_tasks::pg::run_log::{self, Begin, LockPolicy, RunCounts, RunStatus};
use data_tasks::pg::{lock, schema, DbUrl, PgError};
use data_tasks::secrets::{Env, Secret};

fn db_url(db: &common::pg::TestDb) -> DbUrl {
    DbUrl::parse("TEST_DB", Secret::new(db.url())).unwrap()
}

#[test]
fn connect_errors_name_the_variable_and_server_never_the_password() {
    let env = Env::from_pairs([(
        "GN2PG_DATABASE_URL",
        "postgresql://gn:Pa55-w0rd-x@127.0.0.1:9/sinp?connect_timeout=2",
    )]);
    let url = DbUrl::from_env(&env, &["GN2PG_DATABASE_URL", "DATABASE_URL"]).unwrap();
    let e = url.connect().err().expect("nothing listens on port 9");
    let text = error_chain(&e);
    assert!(
        text.contains("GN2PG_DATABASE_URL") && text.contains("127.0.0.1:9/sinp"),
        "{text}"
    );
    assert!(!text.contains("Pa55"), "{text}");
}

#[test]
fn try_lock_skips_and_lock_wait_times_out() {
    let Some(db) = common::pg::TestDb::create("pg_lock") else {
        return;
    };
    let url = db_url(&db);
    let key = lock::key("gn2pg", "lpo");
    let held = lock::try_lock(&url, &key).unwrap().expect("free lock");
    assert!(
        lock::try_lock(&url, &key).unwrap().is_none(),
        "held by another session"
    );
    let t = Instant::now();
    match lock::lock_wait(&url, &key, Duration::from_millis(300)) {
        Err(PgError::LockTimeout { key: k, .. }) => assert_eq!(k, key),
        other => panic!("expected a lock timeout, got {:?}", other.err()),
    }
    assert!(t.elapsed() >= Duration::from_millis(300));
    drop(held);
    let again = lock::lock_wait(&url, &key, Duration::from_secs(5)).unwrap();
    assert_eq!(again.key(), key);
}

#[test]
fn schema_setup_is_idempotent_and_all_or_nothing() {
    let Some(db) = common::pg::TestDb::create("pg_schema") else {
        return;
    };
    let mut client = db_url(&db).connect().unwrap();
    let ddl = vec![
        "CREATE SCHEMA IF NOT EXISTS s1".to_string(),
        "CREATE TABLE IF NOT EXISTS s1.t (id int PRIMARY KEY)".to_string(),
    ];
    schema::apply(&mut client, "s1", &ddl).unwrap();
    schema::apply(&mut client, "s1", &ddl).unwrap();
    let mut bad = ddl.clone();
    bad.push("CREATE TABLE IF NOT EXISTS s1.u (id int)".into());
    bad.push("CREATE TABLE s1.t (id int)".into());
    let e = schema::apply(&mut client, "s1", &bad).unwrap_err();
    assert!(error_chain(&e).contains("already exists"), "{e}");
    assert!(
        !schema::table_exists(&mut client, "s1", "u").unwrap(),
        "rolled back"
    );
}

#[test]
fn bulk_upsert_deduplicates_newest_wins_respects_conditions_and_fires_triggers() {
    let Some(db) = common::pg::TestDb::create("pg_bulk") else {
        return;
    };
    let mut client = db_url(&db).connect().unwrap();
    client
        .batch_execute(
            "CREATE TABLE obs (id int, site varchar, item jsonb NOT NULL, update_ts int NOT NULL,
                               CONSTRAINT obs_pk PRIMARY KEY (id, site));
             CREATE TABLE audit (id int, op text);
             CREATE FUNCTION audit_fn() RETURNS trigger AS $$
               BEGIN INSERT INTO audit VALUES (NEW.id, TG_OP); RETURN NEW; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER obs_audit AFTER INSERT OR UPDATE ON obs FOR EACH ROW EXECUTE FUNCTION audit_fn();",
        )
        .unwrap();
    let spec = Upsert {
        table: "\"public\".\"obs\"",
        columns: &["id", "site", "item", "update_ts"],
        key: &["id", "site"],
        conflict: "ON CONSTRAINT obs_pk",
        set: "item = EXCLUDED.item, update_ts = EXCLUDED.update_ts",
        only_if: Some("obs.update_ts < EXCLUDED.update_ts"),
        computed: &[],
    };
    type Row = (i32, &'static str, String, i32);
    let fields = |r: &Row, emit: &mut bulk::Emit<'_>| emit(&[&r.0, &r.1, &JsonbText(&r.2), &r.3]);
    let mut tx = client.transaction().unwrap();
    // id 1 twice in one batch: the last written wins.
    let rows: Vec<Row> = vec![
        (1, "ff", r#"{"v":1}"#.into(), 100),
        (2, "ff", r#"{"v":2}"#.into(), 100),
        (1, "ff", r#"{"v":"1b"}"#.into(), 200),
    ];
    assert_eq!(bulk::upsert(&mut tx, &spec, &rows, fields).unwrap(), 2);
    // Older and equal rows do not replace; a newer one does.
    let rows: Vec<Row> = vec![
        (1, "ff", r#"{"v":"old"}"#.into(), 150),
        (2, "ff", r#"{"v":"same"}"#.into(), 100),
        (2, "ff", r#"{"v":"new"}"#.into(), 300),
    ];
    assert_eq!(bulk::upsert(&mut tx, &spec, &rows, fields).unwrap(), 1);
    tx.commit().unwrap();
    let got: Vec<(i32, String, i32)> = client
        .query("SELECT id, item->>'v', update_ts FROM obs ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(got, vec![(1, "1b".into(), 200), (2, "new".into(), 300)]);
    let audited: i64 = client
        .query_one("SELECT count(*) FROM audit", &[])
        .unwrap()
        .get(0);
    assert_eq!(audited, 3, "row triggers fire for inserts and updates");
    // Invalid JSON is refused by the server, naming the table; nothing is written.
    let mut tx = client.transaction().unwrap();
    let bad: Vec<Row> = vec![(9, "ff", "{not json".into(), 1)];
    let e = bulk::upsert(&mut tx, &spec, &bad, fields).unwrap_err();
    assert!(error_chain(&e).contains("obs"), "{e}");
}

#[test]
fn run_summaries_record_ok_skipped_and_abandoned_runs() {
    let Some(db) = common::pg::TestDb::create("pg_runs") else {
        return;
    };
    let url = db_url(&db);
    let mut client = url.connect().unwrap();
    schema::apply(&mut client, "data_tasks", &run_log::schema_sql()).unwrap();

    // A run that "dies": its row stays running, its lock is released with its connection.
    let Begin::Run(dead) = run_log::begin(&url, "gn2pg", "lpo", "full", LockPolicy::Try).unwrap()
    else {
        panic!("lock free")
    };
    let dead_id = dead.id;
    std::mem::forget(dead); // no finish, no unlock: like a SIGKILL…
                            // …except that a forgotten connection keeps its session: end it from the server side.
    client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));

    // While a run holds the scope, another is skipped.
    let Begin::Run(run) = run_log::begin(&url, "gn2pg", "lpo", "update", LockPolicy::Try).unwrap()
    else {
        panic!("lock free again")
    };
    assert_eq!(run.abandoned, 1);
    assert!(matches!(
        run_log::begin(&url, "gn2pg", "lpo", "update", LockPolicy::Try).unwrap(),
        Begin::Skipped
    ));
    let counts = RunCounts {
        fetched: 10,
        upserted: 9,
        deleted: 1,
        errors: 0,
        http_retries: 2,
        ..RunCounts::default()
    };
    run.finish(RunStatus::Ok, &counts, None).unwrap();

    let rows: Vec<(i64, String, Option<String>, serde_json::Value)> = client
        .query(
            "SELECT id, status, error, counts FROM data_tasks.sync_run ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[0].0, rows[0].1.as_str(), rows[0].2.as_deref()),
        (dead_id, "failed", Some("abandoned"))
    );
    assert_eq!(rows[1].1, "ok");
    assert_eq!(
        rows[1].3,
        serde_json::json!({"fetched":10,"upserted":9,"deleted":1,"errors":0,"http_retries":2})
    );
    assert_eq!(rows[2].1, "skipped");

    // The sweep marks a running row whose lock is free, and leaves a live one alone.
    let Begin::Run(live) =
        run_log::begin(&url, "ecospheres", "catalog", "full", LockPolicy::Try).unwrap()
    else {
        panic!()
    };
    client
        .execute(
            "INSERT INTO data_tasks.sync_run (sync, scope, mode, status) VALUES ('visionature', 'ff', 'update', 'running')",
            &[],
        )
        .unwrap();
    assert_eq!(run_log::sweep_abandoned(&mut client).unwrap(), 1);
    let live_status: String = client
        .query_one(
            "SELECT status FROM data_tasks.sync_run WHERE id = $1",
            &[&live.id],
        )
        .unwrap()
        .get(0);
    assert_eq!(live_status, "running");
    live.finish(
        RunStatus::Partial,
        &RunCounts::default(),
        Some("1 source failed"),
    )
    .unwrap();
}

#[test]
fn a_pool_gives_each_worker_its_own_connection() {
    let Some(db) = common::pg::TestDb::create("pg_pool") else {
        return;
    };
    let pool = db_url(&db).pool(3).unwrap();
    let pids: Vec<i32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let mut c = pool.get().unwrap();
                    let pid: i32 = c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
                    std::thread::sleep(Duration::from_millis(100));
                    pid
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut distinct = pids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{pids:?}");
}
