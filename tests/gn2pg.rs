//! gn2pg against a real PostgreSQL and a fake GeoNature on 127.0.0.1 (tests/gn2pg_fake): the schema
//! (1.10.1 exactly, completion of 1.9.x/1.10.x schemas), every fault of docs/syncs/gn2pg.md §9, the
//! acceptance scenario, a SIGKILL mid-`full`, locks, gn2pg-client config files, secrets. The
//! comparison with the real gn2pg-client is in tests/gn2pg_diff.rs.

mod common;
mod gn2pg_fake;
mod gn2pg_support;

use std::time::{Duration, Instant};

use gn2pg_fake::{Action, Fake, Fault, Kind, Refusal, Settings, Target};
use gn2pg_support::{assert_exit, Harness, Src};

const S: &str = "gn2pg_t";

fn fake(rows: u64) -> Fake {
    Fake::start(Settings {
        rows,
        ..Settings::default()
    })
}

fn section(extra: &str) -> String {
    format!("schema = \"{S}\"\n{extra}")
}

/// A ready harness with one source on `fake`, its schema initialised.
fn setup<'a>(
    prefix: &str,
    f: &'a Fake,
    extra: &str,
) -> Option<(Harness, std::path::PathBuf, Vec<Src<'a>>)> {
    let h = Harness::new(prefix)?;
    let srcs = vec![Src::new("LPO AuRA", f)];
    let cfg = h.config("c.toml", &section(extra), &srcs);
    h.init(&cfg, &srcs);
    Some((h, cfg, srcs))
}

fn all_rows_match(h: &Harness, f: &Fake, source: &str) {
    let rows = h.rows(S, source);
    let ids = f.ids();
    assert_eq!(rows.len(), ids.len(), "row count");
    for ((id, uuid, item), want) in rows.iter().zip(ids) {
        assert_eq!(*id as u64, want);
        assert_eq!(Some(item), f.row(want).as_ref(), "item of {want}");
        assert_eq!(uuid.as_deref(), Some(f.uuid(want).as_str()));
    }
}

#[test]
fn init_db_creates_the_1_10_1_schema_exactly_and_is_idempotent() {
    let Some(h) = Harness::new("gn2pg_init") else {
        return;
    };
    h.load_ddl("schema-1.10.1.sql", "ref_s");
    let f = fake(0);
    let srcs = vec![Src::new("a", &f)];
    let cfg = h.config("c.toml", &section(""), &srcs);
    h.init(&cfg, &srcs);
    assert_eq!(
        h.catalog(S, &["import_checkpoint"]),
        h.catalog("ref_s", &[]),
        "init-db must create what gn2pg_cli db --upgrade creates"
    );
    assert_eq!(
        h.text(&format!(
            "SELECT version_num::text FROM {S}.alembic_version"
        ))
        .as_deref(),
        Some("20260903_03")
    );
    assert_eq!(
        h.i64("SELECT count(*) FROM pg_extension WHERE extname IN ('pgcrypto', 'uuid-ossp')"),
        2
    );
    assert_eq!(
        h.i64(&format!("SELECT count(*) FROM {S}.import_checkpoint")),
        0
    );
    assert_eq!(h.i64("SELECT count(*) FROM data_tasks.sync_run"), 0);
    let before = h.catalog(S, &[]);
    let again = h.run(&cfg, &["init-db"], &srcs);
    assert_exit(&again, 0);
    assert!(
        common::text(&again).contains("nothing to create"),
        "{}",
        common::text(&again)
    );
    assert_eq!(h.catalog(S, &[]), before);

    // The operator's script runs in one transaction with gn2pg_import replaced.
    let script = h.dir.path().join("triggers.sql");
    std::fs::write(
        &script,
        "CREATE TABLE gn2pg_import.synthese_mirror (id int);\n\
         CREATE FUNCTION gn2pg_import.f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         INSERT INTO gn2pg_import.synthese_mirror VALUES (NEW.id_data); RETURN NEW; END $$;\n\
         CREATE TRIGGER t AFTER INSERT ON gn2pg_import.data_json FOR EACH ROW EXECUTE FUNCTION gn2pg_import.f();",
    )
    .unwrap();
    assert_exit(
        &h.run(
            &cfg,
            &["init-db", "--custom-script", script.to_str().unwrap()],
            &srcs,
        ),
        0,
    );
    assert_eq!(
        h.i64(&format!("SELECT count(*) FROM {S}.synthese_mirror")),
        0
    );
    std::fs::write(
        &script,
        "CREATE TABLE gn2pg_import.half (id int);\nSELECT no_such_function();",
    )
    .unwrap();
    let bad = h.run(
        &cfg,
        &["init-db", "--custom-script", script.to_str().unwrap()],
        &srcs,
    );
    assert_exit(&bad, 2);
    assert!(
        common::text(&bad).contains("no_such_function"),
        "{}",
        common::text(&bad)
    );
    assert_eq!(h.i64(&format!("SELECT count(*) FROM information_schema.tables WHERE table_schema = '{S}' AND table_name = 'half'")), 0);

    // The trigger fires on our COPY + upsert.
    let g = fake(30);
    let srcs = vec![Src::new("a", &g)];
    let cfg = h.config("c.toml", &section(""), &srcs);
    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
    assert_eq!(
        h.i64(&format!("SELECT count(*) FROM {S}.synthese_mirror")),
        30
    );
}

/// A schema gn2pg-client made and filled: init-db adds only what is missing, and update goes on
/// from its last successful import_log row.
fn completes_an_existing_schema(ddl: &str, expect_stamp: Option<&str>) {
    let Some(h) = Harness::new("gn2pg_migrate") else {
        return;
    };
    h.load_ddl(ddl, S);
    let f = fake(50);
    let source = "lpo_aura";
    let mut c = h.client();
    c.batch_execute(&format!(
        "INSERT INTO {S}.import_log (source, controler, xfer_type, xfer_status, xfer_start_ts, xfer_end_ts,
            api_count_items, data_count_upserts, xfer_filters)
         VALUES ('{source}', 'data', 'full', 'success', '2024-06-01 12:00:00', '2024-06-01 12:05:00', 2, 2, '{{}}'),
                ('{source}', 'data', 'update', 'failed', '2024-06-02 12:00:00', NULL, 0, 0, '{{}}');
         INSERT INTO {S}.data_json (source, controler, type, id_data, uuid, item, update_ts, import_id)
         VALUES ('{source}', 'data', 'synthese_with_cd_nomenclature', 900001, gen_random_uuid(), '{{\"id_synthese\": 900001}}', '2024-06-01 12:01:00', 1),
                ('other', 'data', 'synthese_with_label', 5, gen_random_uuid(), '{{\"id_synthese\": 5}}', '2024-06-01 12:01:00', 1);"
    ))
    .unwrap();
    let snapshot = |h: &Harness| {
        let mut c = h.client();
        let rows: Vec<String> = c
            .query(
                &format!("SELECT row_to_json(d)::text FROM {S}.data_json d ORDER BY id_data"),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let logs: Vec<String> = c
            .query(
                &format!("SELECT row_to_json(l)::text FROM {S}.import_log l ORDER BY id"),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        (rows, logs)
    };
    let (rows_before, logs_before) = snapshot(&h);
    let catalog_before = h.catalog(S, &["alembic_version"]);
    let srcs = vec![Src::new("LPO AuRA", &f)];
    let cfg = h.config("c.toml", &section(""), &srcs);
    h.init(&cfg, &srcs);
    assert_eq!(
        snapshot(&h),
        (rows_before.clone(), logs_before),
        "init-db rewrote rows"
    );
    assert_eq!(
        h.catalog(S, &["alembic_version", "import_checkpoint"]),
        catalog_before,
        "init-db rewrote the schema"
    );
    let stamp = h.text(&format!(
        "SELECT (SELECT version_num::text FROM {S}.alembic_version) WHERE EXISTS
           (SELECT 1 FROM information_schema.tables WHERE table_schema = '{S}' AND table_name = 'alembic_version')"
    ));
    assert_eq!(stamp.as_deref(), expect_stamp);

    let out = h.run(&cfg, &["update"], &srcs);
    assert_exit(&out, 0);
    let first = &gn2pg_support::served(&f)[0];
    let want: String = h
        .client()
        .query_one(
            "SELECT to_char((('2024-06-01 12:00:00'::timestamp - interval '10 minutes')
                 AT TIME ZONE current_setting('TimeZone')) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        first.param("filter_d_up_derniere_action"),
        Some(want.as_str())
    );
    let logs = h.import_log(S);
    let last = logs.last().unwrap();
    assert_eq!(
        (last.xfer_type.as_deref(), last.status.as_deref()),
        (Some("update"), Some("success"))
    );
    assert!(last.upserts > 0);
    // Earlier rows are still there, untouched.
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.data_json WHERE (source = 'lpo_aura' AND id_data = 900001 AND import_id = 1)
                OR (source = 'other' AND id_data = 5 AND import_id = 1)"
        )),
        2
    );
}

#[test]
fn init_db_completes_a_1_9_1_schema() {
    completes_an_existing_schema("schema-1.9.1.sql", Some("20260818_01"));
}

#[test]
fn init_db_completes_a_1_10_0_schema() {
    completes_an_existing_schema("schema-1.10.0.sql", Some("20260818_01"));
}

#[test]
fn acceptance_full_then_update_with_changes_and_deletions() {
    let f = fake(2500);
    let Some((h, cfg, srcs)) = setup("gn2pg_accept", &f, "page_size = 1000") else {
        return;
    };
    let out = h.run(&cfg, &["update"], &srcs);
    assert_exit(&out, 0);
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.data_json")), 2500);
    let logs = h.import_log(S);
    assert_eq!(logs.len(), 1);
    let l = &logs[0];
    assert_eq!(
        (l.xfer_type.as_deref(), l.status.as_deref()),
        (Some("full"), Some("success"))
    );
    assert_eq!((l.items, l.upserts), (2500, 2500));
    assert!(l.ended);
    // xfer_filters has gn2pg-client's shape: an array holding one JSON text.
    let filters = l.filters.clone().unwrap();
    let text = filters[0].as_str().unwrap();
    let parsed: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(parsed["orderby"], "id_synthese");
    assert_eq!(parsed["limit"], 1000);
    assert!(!text.contains("pw-geonature"));
    assert_eq!(served(&f), 3, "the first page is fetched once");
    all_rows_match(&h, &f, "lpo_aura");

    let stamp = h.stamp("UTC", -1);
    let ids = f.ids();
    let modified: Vec<u64> = ids.iter().step_by(240).take(10).copied().collect();
    f.modify(&modified, &stamp);
    f.add(5, &stamp);
    let deleted: Vec<u64> = ids.iter().skip(7).step_by(300).take(7).copied().collect();
    f.delete(&deleted, &stamp);
    f.foreign_deletions(&[99_000_001, 99_000_002], &stamp);
    std::thread::sleep(Duration::from_millis(1100));
    let out = h.run(&cfg, &["update"], &srcs);
    assert_exit(&out, 0);
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.data_json")), 2498);
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.data_json WHERE (item->>'version')::int = 1"
        )),
        10
    );
    let logs = h.import_log(S);
    let u = &logs[1];
    assert_eq!(
        (u.xfer_type.as_deref(), u.status.as_deref()),
        (Some("update"), Some("success"))
    );
    assert_eq!((u.items, u.upserts, u.deletes), (15, 15, 7));
    all_rows_match(&h, &f, "lpo_aura");
    let runs = h.sync_runs();
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter().all(|r| r.1 == "ok" && r.0 == "lpo_aura"),
        "{runs:?}"
    );
    assert_eq!(runs[1].2["deleted"], 7);
    assert_eq!(runs[1].2["fetched"], 15);
    let text = common::text(&out);
    assert!(
        text.contains("gn2pg update: LPO AuRA update ok: 15 fetched, 15 upserted, 7 deleted"),
        "{text}"
    );
}

fn served(f: &Fake) -> usize {
    f.export_pages().len()
}

#[test]
fn a_refused_login_fails_that_source_only() {
    let good = fake(20);
    let bad = Fake::start(Settings {
        rows: 20,
        seed: 2,
        ..Settings::default()
    });
    let Some(h) = Harness::new("gn2pg_login") else {
        return;
    };
    let mut wrong = Src::new("Flavia", &bad);
    wrong.password = Some("wrong-password-42");
    let srcs = vec![wrong, Src::new("LPO AuRA", &good)];
    let cfg = h.config("c.toml", &section(""), &srcs);
    h.init(&cfg, &srcs);
    let out = h.run(&cfg, &["full"], &srcs);
    assert_exit(&out, 1);
    let text = common::text(&out);
    assert!(
        text.contains("login refused (HTTP 490)") && text.contains("GN2PG_FLAVIA_PASSWORD"),
        "{text}"
    );
    assert!(!text.contains("wrong-password-42"), "{text}");
    let logs = h.import_log(S);
    let flavia = logs.iter().find(|l| l.source == "flavia").unwrap();
    assert_eq!(flavia.status.as_deref(), Some("failed"));
    assert!(flavia.comment.as_deref().unwrap().contains("login refused"));
    assert!(logs
        .iter()
        .any(|l| l.source == "lpo_aura" && l.status.as_deref() == Some("success")));
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.data_json")), 20);
    let runs = h.sync_runs();
    assert!(runs.iter().any(|r| r.0 == "flavia" && r.1 == "failed"));

    // Only source failing: exit 2. A 401 is a refused login too.
    bad.set_settings(|s| s.bad_login_status = 401);
    let only = vec![srcs.into_iter().next().unwrap()];
    let cfg = h.config("only.toml", &section(""), &only);
    let out = h.run(&cfg, &["full"], &only);
    assert_exit(&out, 2);
    assert!(common::text(&out).contains("login refused (HTTP 401)"));
}

#[test]
fn a_missing_exports_module_is_a_permission_error() {
    let f = fake(10);
    f.add_fault(Fault::always(Target::Modules, Action::HideExports));
    let Some((h, cfg, srcs)) = setup("gn2pg_nomod", &f, "") else {
        return;
    };
    let out = h.run(&cfg, &["full"], &srcs);
    assert_exit(&out, 2);
    assert!(
        common::text(&out).contains("export module not visible to user \"gn2pg\""),
        "{}",
        common::text(&out)
    );
    assert_eq!(h.import_log(S)[0].status.as_deref(), Some("failed"));
}

#[test]
fn bursts_of_503_are_retried_and_counted() {
    let f = fake(250);
    f.add_fault(Fault::page(1, 2, Action::Status(503)));
    let Some((h, cfg, srcs)) = setup("gn2pg_503", &f, "page_size = 100") else {
        return;
    };
    let out = h.run(&cfg, &["full"], &srcs);
    assert_exit(&out, 0);
    all_rows_match(&h, &f, "lpo_aura");
    let runs = h.sync_runs();
    assert_eq!(runs[0].2["http_retries"], 2, "{runs:?}");
    assert_eq!(h.import_log(S)[0].status.as_deref(), Some("success"));
}

#[test]
fn an_html_page_fails_the_source_and_the_rerun_resumes_after_the_last_committed_page() {
    let f = fake(250);
    f.add_fault(Fault {
        target: Target::Export,
        page: Some(2),
        times: None,
        action: Action::Html,
    });
    let Some((h, cfg, srcs)) = setup("gn2pg_html", &f, "page_size = 100") else {
        return;
    };
    let out = h.run(&cfg, &["full"], &srcs);
    assert_exit(&out, 2);
    let text = common::text(&out);
    assert!(
        text.contains("page 3") && text.contains("HTML page"),
        "{text}"
    );
    let ids = f.ids();
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.data_json")), 200);
    assert_eq!(
        h.i64(&format!("SELECT last_id_data FROM {S}.import_checkpoint")),
        ids[199] as i64
    );
    let first_start = h.import_log(S)[0].start.clone();
    assert_eq!(h.import_log(S)[0].status.as_deref(), Some("failed"));

    f.clear_faults();
    f.clear_requests();
    let out = h.run(&cfg, &["update"], &srcs);
    assert_exit(&out, 0);
    let pages = f.export_pages();
    assert_eq!(
        pages[0].param("filter_n_up_id_synthese"),
        Some((ids[199] + 1).to_string().as_str())
    );
    assert!(
        pages
            .iter()
            .all(|p| p.ids.is_none_or(|(a, _)| a > ids[199])),
        "a committed page was fetched again"
    );
    all_rows_match(&h, &f, "lpo_aura");
    let logs = h.import_log(S);
    let done = logs.last().unwrap();
    assert_eq!(
        (done.xfer_type.as_deref(), done.status.as_deref()),
        (Some("full"), Some("success"))
    );
    assert_eq!(
        done.start, first_start,
        "the success row keeps the original start"
    );
    assert!(done.comment.as_deref().unwrap().contains("resumed"));
    assert_eq!(
        h.i64(&format!("SELECT count(*) FROM {S}.import_checkpoint")),
        0
    );
}

#[test]
fn an_expired_session_is_renewed_once() {
    for refusal in [
        Refusal::Unauthorized,
        Refusal::RedirectToLogin,
        Refusal::LoginPage,
    ] {
        let f = Fake::start(Settings {
            rows: 250,
            refusal,
            ..Settings::default()
        });
        f.add_fault(Fault::page(1, 1, Action::ExpireSession));
        let Some((h, cfg, srcs)) = setup("gn2pg_relogin", &f, "page_size = 100") else {
            return;
        };
        let out = h.run(&cfg, &["full"], &srcs);
        assert_exit(&out, 0);
        all_rows_match(&h, &f, "lpo_aura");
        let logins = f
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("auth/login"))
            .count();
        assert_eq!(logins, 2, "{refusal:?}");
    }
}

#[test]
fn a_capped_limit_is_followed_in_both_paging_modes() {
    for paging in ["keyset", "offset"] {
        let f = Fake::start(Settings {
            rows: 2600,
            max_limit: 1000,
            ..Settings::default()
        });
        let extra = format!("page_size = 5000\npaging = \"{paging}\"\njobs = 3");
        let Some((h, cfg, srcs)) = setup("gn2pg_cap", &f, &extra) else {
            return;
        };
        assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
        all_rows_match(&h, &f, "lpo_aura");
        assert_eq!(served(&f), 3, "{paging}");
        assert!(f
            .export_pages()
            .iter()
            .all(|p| p.param("limit") == Some("5000")));
    }
}

#[test]
fn a_repeated_page_is_a_protocol_error() {
    for paging in ["keyset", "offset"] {
        let f = fake(250);
        let ok = Fake::start(Settings {
            rows: 5,
            seed: 9,
            ..Settings::default()
        });
        f.add_fault(Fault::page(1, 1, Action::RepeatPrevious));
        let Some(h) = Harness::new("gn2pg_repeat") else {
            return;
        };
        let srcs = vec![Src::new("LPO AuRA", &f), Src::new("Other", &ok)];
        let cfg = h.config(
            "c.toml",
            &section(&format!("page_size = 100\npaging = \"{paging}\"\njobs = 1")),
            &srcs,
        );
        h.init(&cfg, &srcs);
        let out = h.run(&cfg, &["full"], &srcs);
        assert_exit(&out, 1);
        let text = common::text(&out);
        assert!(text.contains("page 2: protocol error"), "{paging}: {text}");
        assert_eq!(
            h.i64(&format!(
                "SELECT count(*) FROM {S}.data_json WHERE source = 'lpo_aura'"
            )),
            100
        );
    }
}

#[test]
fn a_short_page_is_followed_in_keyset_mode_and_refused_in_offset_mode() {
    for (paging, exit) in [("keyset", 0), ("offset", 2)] {
        let f = fake(250);
        f.add_fault(Fault::page(1, 1, Action::Short));
        let extra = format!("page_size = 100\npaging = \"{paging}\"\njobs = 1");
        let Some((h, cfg, srcs)) = setup("gn2pg_short", &f, &extra) else {
            return;
        };
        let out = h.run(&cfg, &["full"], &srcs);
        assert_exit(&out, exit);
        if exit == 0 {
            all_rows_match(&h, &f, "lpo_aura");
        } else {
            let text = common::text(&out);
            assert!(
                text.contains("page 2: protocol error") && text.contains("rows would be missed"),
                "{text}"
            );
            assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.data_json")), 100);
        }
    }
}

#[test]
fn truncated_and_stalled_bodies_are_retried_then_fail() {
    let f = fake(250);
    f.add_fault(Fault::page(1, 1, Action::Truncate));
    f.add_fault(Fault::page(2, 1, Action::Stall(Duration::from_secs(4))));
    let Some((h, cfg, srcs)) = setup("gn2pg_cut", &f, "page_size = 100") else {
        return;
    };
    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
    all_rows_match(&h, &f, "lpo_aura");
    assert_eq!(h.sync_runs()[0].2["http_retries"], 2);

    f.add_fault(Fault {
        target: Target::Export,
        page: Some(1),
        times: None,
        action: Action::Truncate,
    });
    let t = Instant::now();
    let out = h.run(&cfg, &["full", "--restart"], &srcs);
    assert_exit(&out, 2);
    assert!(
        common::text(&out).contains("page 2"),
        "{}",
        common::text(&out)
    );
    assert!(t.elapsed() < Duration::from_secs(20));
    assert_eq!(
        h.import_log(S).last().unwrap().status.as_deref(),
        Some("failed")
    );
}

#[test]
fn an_empty_export_is_a_full_success() {
    let f = fake(0);
    let Some((h, cfg, srcs)) = setup("gn2pg_empty", &f, "") else {
        return;
    };
    assert_exit(&h.run(&cfg, &["update"], &srcs), 0);
    let l = &h.import_log(S)[0];
    assert_eq!(
        (l.xfer_type.as_deref(), l.status.as_deref(), l.items),
        (Some("full"), Some("success"), 0)
    );
}

#[test]
fn a_uuid_owned_by_another_source_goes_to_error_log() {
    // Both write paths: a staging connection (the default) and a single connection.
    for connections in [2, 1] {
        uuid_conflict(connections);
    }
}

fn uuid_conflict(connections: u32) {
    let a = fake(30);
    let b = Fake::start(Settings {
        rows: 30,
        seed: 77,
        ..Settings::default()
    });
    let stolen = a.uuid(5);
    b.set_uuid(12, &stolen, "");
    let Some(h) = Harness::new("gn2pg_uuid") else {
        return;
    };
    let srcs = vec![Src::new("LPO AuRA", &a), Src::new("Flavia", &b)];
    let cfg = h.config(
        "c.toml",
        &section(&format!(
            "writer_connections = {connections}\npage_size = 10"
        )),
        &srcs,
    );
    h.init(&cfg, &srcs);
    let out = h.run(&cfg, &["full"], &srcs);
    assert_exit(&out, 1);
    assert!(
        common::text(&out).contains("1 row(s) in error_log"),
        "{}",
        common::text(&out)
    );
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.error_log")), 1);
    let err = h
        .text(&format!(
            "SELECT source || ' ' || uuid::text || ' ' || error FROM {S}.error_log"
        ))
        .unwrap();
    assert!(
        err.starts_with(&format!("flavia {stolen}")) && err.contains("unique_uuid"),
        "{err}"
    );
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.data_json WHERE source = 'flavia'"
        )),
        29
    );
    let logs = h.import_log(S);
    let fl = logs.iter().find(|l| l.source == "flavia").unwrap();
    assert_eq!(
        (fl.status.as_deref(), fl.errors, fl.upserts),
        (Some("success"), 1, 29)
    );
    assert!(h
        .sync_runs()
        .iter()
        .any(|r| r.0 == "flavia" && r.1 == "partial"));
    // Deletions are scoped to the source: B deleting its id 5 leaves A's row 5.
    let stamp = h.stamp("UTC", -1);
    b.delete(&[5], &stamp);
    std::thread::sleep(Duration::from_millis(1100));
    assert_exit(&h.run(&cfg, &["update", "--source", "Flavia"], &srcs), 0);
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.data_json WHERE id_data = 5"
        )),
        1
    );
}

#[test]
fn a_failed_delete_phase_fails_the_run_and_the_next_update_redoes_both() {
    let f = fake(300);
    let Some((h, cfg, srcs)) = setup("gn2pg_delfail", &f, "page_size = 100") else {
        return;
    };
    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
    let stamp = h.stamp("UTC", -1);
    let ids = f.ids();
    f.modify(&ids[10..13], &stamp);
    f.delete(&ids[50..52], &stamp);
    f.add_fault(Fault::always(Target::Log, Action::Status(500)));
    std::thread::sleep(Duration::from_millis(1100));
    f.clear_requests();
    let out = h.run(&cfg, &["update"], &srcs);
    assert_exit(&out, 2);
    assert!(
        common::text(&out).contains("synthese/log page 1"),
        "{}",
        common::text(&out)
    );
    let first_since = f.export_pages()[0]
        .param("filter_d_up_derniere_action")
        .unwrap()
        .to_string();
    let l = h.import_log(S).last().cloned().unwrap();
    assert_eq!(
        (l.xfer_type.as_deref(), l.status.as_deref()),
        (Some("update"), Some("failed"))
    );
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.data_json")), 300);

    f.clear_faults();
    f.clear_requests();
    assert_exit(&h.run(&cfg, &["update"], &srcs), 0);
    assert_eq!(
        f.export_pages()[0].param("filter_d_up_derniere_action"),
        Some(first_since.as_str())
    );
    let l = h.import_log(S).last().cloned().unwrap();
    assert_eq!(
        (l.status.as_deref(), l.upserts, l.deletes),
        (Some("success"), 3, 2)
    );
    all_rows_match(&h, &f, "lpo_aura");
}

#[test]
fn sigkill_mid_full_then_the_rerun_resumes_without_refetching_and_tables_end_identical() {
    let f = Fake::start(Settings {
        rows: 3000,
        latency: Duration::from_millis(40),
        ..Settings::default()
    });
    let Some((h, cfg, srcs)) = setup("gn2pg_kill", &f, "page_size = 100") else {
        return;
    };
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_data-tasks"));
    cmd.args(["--config", cfg.to_str().unwrap(), "gn2pg", "full"])
        .env("OMP_THREAD_LIMIT", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("DATA_TASKS_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(h.env(&srcs));
    let mut child = cmd.spawn().unwrap();
    let t = Instant::now();
    let mut committed = 0;
    while t.elapsed() < Duration::from_secs(60) {
        committed = h
            .client()
            .query_opt(
                &format!("SELECT coalesce(last_id_data, 0) FROM {S}.import_checkpoint"),
                &[],
            )
            .ok()
            .flatten()
            .map(|r| r.get::<_, i64>(0))
            .unwrap_or(0);
        if committed >= f.ids()[800] as i64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let last = h.i64(&format!("SELECT last_id_data FROM {S}.import_checkpoint"));
    assert!(last >= committed && last > 0);
    assert!(
        h.i64(&format!("SELECT count(*) FROM {S}.data_json")) < 3000,
        "killed too late"
    );
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.data_json WHERE id_data > {last}"
        )),
        0,
        "rows past the checkpoint"
    );
    assert_eq!(h.import_log(S)[0].status.as_deref(), Some("importing data"));
    assert_eq!(h.sync_runs()[0].1, "running");

    f.clear_requests();
    let out = h.run(&cfg, &["full"], &srcs);
    assert_exit(&out, 0);
    let pages = f.export_pages();
    assert_eq!(
        pages[0].param("filter_n_up_id_synthese"),
        Some((last + 1).to_string().as_str())
    );
    assert!(
        pages
            .iter()
            .all(|p| p.ids.is_none_or(|(a, _)| a as i64 > last)),
        "a committed page was fetched again"
    );
    let logs = h.import_log(S);
    assert_eq!(logs[0].status.as_deref(), Some("failed"));
    assert!(logs[0].comment.as_deref().unwrap().contains("abandoned"));
    assert_eq!(logs[1].status.as_deref(), Some("success"));
    assert_eq!(logs[1].start, logs[0].start);
    let runs = h.sync_runs();
    assert_eq!(
        (runs[0].1.as_str(), runs[0].3.as_deref()),
        ("failed", Some("abandoned"))
    );
    assert_eq!(runs[1].1, "ok");

    // Identical to an uninterrupted run into another schema.
    let clean = "gn2pg_clean";
    let cfg2 = h.config(
        "clean.toml",
        &format!("schema = \"{clean}\"\npage_size = 100"),
        &srcs,
    );
    h.init(&cfg2, &srcs);
    f.set_settings(|s| s.latency = Duration::ZERO);
    assert_exit(&h.run(&cfg2, &["full"], &srcs), 0);
    assert_eq!(h.rows(S, "lpo_aura"), h.rows(clean, "lpo_aura"));
    all_rows_match(&h, &f, "lpo_aura");
}

#[test]
fn a_held_lock_skips_the_source_with_exit_0() {
    let f = fake(10);
    let Some((h, cfg, srcs)) = setup("gn2pg_lock", &f, "") else {
        return;
    };
    let mut holder = h.client();
    holder
        .execute(
            "SELECT pg_advisory_lock(hashtext('data-tasks:gn2pg:lpo_aura'))",
            &[],
        )
        .unwrap();
    let out = h.run(&cfg, &["update"], &srcs);
    assert_exit(&out, 0);
    assert!(
        common::text(&out).contains("skipped"),
        "{}",
        common::text(&out)
    );
    assert_eq!(h.sync_runs()[0].1, "skipped");
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.import_log")), 0);
    drop(holder);
    assert_exit(&h.run(&cfg, &["update"], &srcs), 0);
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.data_json")), 10);
}

#[test]
fn a_gn2pg_client_config_file_is_read_unchanged() {
    let f = fake(40);
    let Some(h) = Harness::new("gn2pg_legacy") else {
        return;
    };
    let file = h.dir.path().join("gn2pg-lpo.toml");
    std::fs::write(
        &file,
        format!(
            r#"# GN2PG configuration file
{db}    [db.db_querystring]
    sslmode = "prefer"

[[source]]
name = "LPO Auvergne-Rhône-Alpes"
user_name = "gn2pg"
user_password = "pw-geonature"
url = "{fake}"
data_export_id = 12
data_type = "synthese_with_cd_nomenclature"
[source.query_strings]
orderby = 'id_synthese'

[tuning]
max_page_length = 15
max_retry = 5
max_requests = 0
retry_delay = 0
http_connect_timeout = 10
http_read_timeout = 120
unavailable_delay = 1
lru_maxsize = 32
nb_threads = 1
"#,
            db = h.client_db_section("gn2pg_lpo", "db-pw-in-file-77"),
            fake = f.url(),
        ),
    )
    .unwrap();
    let env: Vec<(String, String)> = [("GN2PG_DATABASE_URL", ""), ("DATABASE_URL", "")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let run = |args: &[&str]| {
        let mut all = vec!["gn2pg", "--gn2pg-config", file.to_str().unwrap()];
        all.extend_from_slice(args);
        common::data_tasks(&all, &env)
    };
    let out = run(&["init-db"]);
    assert_exit(&out, 0);
    let out = run(&["update"]);
    assert_exit(&out, 0);
    let text = common::text(&out);
    assert!(
        text.contains("passwords are read from the file") && text.contains("orderby"),
        "{text}"
    );
    assert!(
        !text.contains("db-pw-in-file-77") && !text.contains("pw-geonature"),
        "{text}"
    );
    assert_eq!(
        h.i64("SELECT count(*) FROM gn2pg_lpo.data_json WHERE source = 'lpo_auvergnerhonealpes'"),
        40
    );
    assert!(f
        .export_pages()
        .iter()
        .all(|p| p.param("limit") == Some("15")));

    std::fs::write(
        &file,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("max_requests = 0", "max_requests = 5"),
    )
    .unwrap();
    let out = run(&["update"]);
    assert_exit(&out, 2);
    assert!(
        common::text(&out).contains("max_requests"),
        "{}",
        common::text(&out)
    );
}

#[test]
fn secrets_never_show_in_output_or_tables() {
    let f = fake(10);
    let Some(h) = Harness::new("gn2pg_secret") else {
        return;
    };
    let mut src = Src::new("LPO AuRA", &f);
    src.password = Some("s3cr3t-src-pw-991");
    let srcs = vec![src];
    let cfg = h.config("c.toml", &section(""), &srcs);
    let mut env = h.env(&srcs);
    let with_pw = h
        .url()
        .replacen("postgres@", "postgres:s3cr3t-db-pw-992@", 1);
    env[0].1 = with_pw;
    let run = |args: &[&str]| {
        let mut all = vec!["--config", cfg.to_str().unwrap(), "gn2pg"];
        all.extend_from_slice(args);
        common::data_tasks(&all, &env)
    };
    assert_exit(&run(&["init-db"]), 0);
    let out = run(&["-v", "full"]);
    assert_exit(&out, 2);
    let text = common::text(&out);
    for secret in ["s3cr3t-src-pw-991", "s3cr3t-db-pw-992"] {
        assert!(!text.contains(secret), "{secret} in output: {text}");
        let n = h.i64(&format!(
            "SELECT count(*) FROM {S}.import_log WHERE comment LIKE '%{secret}%' OR xfer_filters::text LIKE '%{secret}%'"
        ));
        assert_eq!(n, 0);
        assert_eq!(
            h.i64(&format!(
                "SELECT count(*) FROM data_tasks.sync_run WHERE error LIKE '%{secret}%'"
            )),
            0
        );
    }
}

#[test]
fn bad_filters_and_error_objects_fail_with_the_servers_words() {
    let f = fake(10);
    let Some(h) = Harness::new("gn2pg_filter") else {
        return;
    };
    let mut src = Src::new("LPO AuRA", &f);
    src.extra = "[gn2pg.source.query_strings]\nilike_nonexistent = \"%x%\"";
    let srcs = vec![src];
    let cfg = h.config("c.toml", &section(""), &srcs);
    h.init(&cfg, &srcs);
    let out = h.run(&cfg, &["full"], &srcs);
    assert_exit(&out, 2);
    let text = common::text(&out);
    assert!(
        text.contains("HTTP 500") && text.contains("nonexistent"),
        "{text}"
    );

    let g = fake(10);
    g.add_fault(Fault::always(Target::Export, Action::NoItems));
    let srcs = vec![Src::new("LPO AuRA", &g)];
    let cfg = h.config("d.toml", &section(""), &srcs);
    let out = h.run(&cfg, &["full", "--restart"], &srcs);
    assert_exit(&out, 2);
    let text = common::text(&out);
    assert!(
        text.contains("not an export page") && text.contains("Une erreur est survenue"),
        "{text}"
    );
    assert_eq!(h.sync_runs().last().unwrap().2["http_retries"], 3);
}

#[test]
fn metadata_rows_and_changed_uuids() {
    let f = Fake::start(Settings {
        rows: 120,
        kind: Kind::Metadata,
        ..Settings::default()
    });
    f.set_jdd_without_ca(41);
    let Some(h) = Harness::new("gn2pg_meta") else {
        return;
    };
    let mut src = Src::new("LPO AuRA", &f);
    src.extra = "data_type = \"synthese_with_metadata\"";
    let srcs = vec![src];
    let cfg = h.config("c.toml", &section("page_size = 50"), &srcs);
    h.init(&cfg, &srcs);
    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.data_json WHERE type = 'synthese_with_metadata'"
        )),
        120
    );
    let distinct = |key: &str| {
        let mut u: Vec<String> = f
            .ids()
            .iter()
            .filter_map(|id| {
                f.row(*id)
                    .and_then(|r| r[key]["uuid"].as_str().map(str::to_string))
            })
            .collect();
        u.sort();
        u.dedup();
        u.len() as i64
    };
    let (cas, jdds) = (distinct("ca_data"), distinct("jdd_data"));
    assert!(cas > 1 && jdds > 1);
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.metadata_json WHERE level = 'acquisition framework'"
        )),
        cas
    );
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.metadata_json WHERE level = 'dataset'"
        )),
        jdds
    );
    assert!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.metadata_json WHERE level = 'dataset' AND item ? 'ca_uuid'"
        )) >= jdds - 1
    );
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.data_json WHERE item ? 'ca_data' OR item ? 'jdd_data'"
        )),
        4
    );
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.data_json WHERE item ? 'jdd_uuid' AND NOT item ? 'ca_uuid'"
        )),
        1
    );
    assert_eq!(
        h.i64(&format!("SELECT count(*) FROM {S}.metadata_json WHERE controler = 'metadata' AND source = 'lpo_aura' AND type = 'synthese_with_metadata'")),
        cas + jdds
    );

    // A changed id_perm_sinp updates uuid and item (gn2pg-client keeps the old ones).
    let stamp = h.stamp("UTC", -1);
    let new_uuid = "0b0b0b0b-0000-4000-8000-0000000000aa";
    f.set_uuid(7, new_uuid, &stamp);
    std::thread::sleep(Duration::from_millis(1100));
    assert_exit(&h.run(&cfg, &["update"], &srcs), 0);
    assert_eq!(
        h.text(&format!("SELECT uuid::text || ' ' || (item->>'id_perm_sinp') FROM {S}.data_json WHERE id_data = 7")).unwrap(),
        format!("{new_uuid} {new_uuid}")
    );
}

/// `check` with the stores in a temporary folder and the harness's database and passwords.
fn check(
    h: &Harness,
    cfg: &std::path::Path,
    srcs: &[Src<'_>],
    extra_env: &[(&str, &str)],
) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut env = h.env(srcs);
    for store in ["misc", "ap", "am"] {
        env.push((
            format!("DATA_TASKS_STORAGE_{}", store.to_uppercase()),
            format!("file://{}", dir.path().join(store).display()),
        ));
    }
    for (k, v) in extra_env {
        env.retain(|(key, _)| key != k);
        if !v.is_empty() {
            env.push((k.to_string(), v.to_string()));
        }
    }
    common::data_tasks(&["--config", cfg.to_str().unwrap(), "check"], &env)
}

#[test]
fn check_probes_the_database_schema_and_each_source_in_one_attempt() {
    let good = fake(5);
    let bad = Fake::start(Settings {
        rows: 5,
        seed: 2,
        ..Settings::default()
    });
    let Some(h) = Harness::new("gn2pg_check") else {
        return;
    };
    let srcs = vec![Src::new("LPO AuRA", &good), Src::new("Flavia", &bad)];
    let cfg = h.config("c.toml", &section(""), &srcs);

    // Schema not initialised yet: the database probe says so.
    let out = check(&h, &cfg, &srcs, &[]);
    assert_exit(&out, 2);
    let text = common::text(&out);
    assert!(
        text.contains("gn2pg database") && text.contains(S),
        "{text}"
    );
    assert!(text.contains("6 of 7 dependencies ok"), "{text}");

    h.init(&cfg, &srcs);
    let out = check(&h, &cfg, &srcs, &[]);
    assert_exit(&out, 0);
    let text = common::text(&out);
    assert!(text.contains("7 of 7 dependencies ok"), "{text}");
    assert!(
        text.contains("gn2pg source LPO AuRA") && text.contains("login as"),
        "{text}"
    );
    assert!(text.contains(&format!("schema {S} initialised")), "{text}");
    assert!(served(&good) == 0, "check downloads no page");

    // A wrong password and a missing one are named; a 503 is not retried.
    bad.clear_requests();
    bad.add_fault(Fault::always(Target::Login, Action::Status(503)));
    let out = check(&h, &cfg, &srcs, &[("GN2PG_LPO_AURA_PASSWORD", "")]);
    assert_exit(&out, 2);
    let text = common::text(&out);
    assert!(
        text.contains("no password: set GN2PG_LPO_AURA_PASSWORD"),
        "{text}"
    );
    assert!(
        text.contains("gn2pg source Flavia") && text.contains("503"),
        "{text}"
    );
    assert_eq!(
        bad.requests().len(),
        1,
        "a single attempt: {:?}",
        bad.requests()
    );
    assert!(!text.contains(&bad.settings().password), "{text}");

    // No database variable: the database probe names both.
    let out = check(&h, &cfg, &srcs, &[("GN2PG_DATABASE_URL", "")]);
    assert_exit(&out, 2);
    assert!(
        common::text(&out).contains("GN2PG_DATABASE_URL or DATABASE_URL"),
        "{}",
        common::text(&out)
    );
}

/// A page whose body never ends (headers announcing 100 MB, then a byte at a time) ends each
/// attempt at the request deadline, so the run fails within (retries + 1) deadlines and its lock
/// is free again — before, the read timeout restarted at every byte and the run hung for good.
#[test]
fn a_trickling_body_ends_the_run_within_retries_plus_one_deadlines() {
    let f = fake(50);
    // SECTION: http_timeout = 3 s, max_retry = 3 → four attempts.
    f.add_fault(Fault::page(
        0,
        4,
        Action::Trickle(Duration::from_millis(250)),
    ));
    let Some((h, cfg, srcs)) = setup("gn2pg_trickle", &f, "") else {
        return;
    };
    let t = Instant::now();
    let out = h.run(&cfg, &["full"], &srcs);
    let took = t.elapsed();
    assert_exit(&out, 2);
    let text = common::text(&out);
    assert!(
        text.contains("no complete answer within 3s") && text.contains("gn2pg.http.timeout"),
        "{text}"
    );
    assert!(
        took >= Duration::from_secs(12) && took < Duration::from_secs(18),
        "{took:?}"
    );
    let runs = h.sync_runs();
    assert_eq!(runs[0].1, "failed");
    assert_eq!(runs[0].2["http_retries"], 3);
    // The lock is free: the next run is not skipped, and completes.
    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
    all_rows_match(&h, &f, "lpo_aura");
}

/// A 200 MiB page is refused while it arrives (at `[gn2pg.http] max_response_mib`, 64 MiB by
/// default), in one attempt, with nothing of it stored and the process's peak memory bounded by
/// the cap — not by what the server sends.
#[test]
fn a_huge_page_fails_at_the_size_cap_with_bounded_memory_and_nothing_stored() {
    let f = fake(50);
    f.add_fault(Fault::page(0, 1, Action::Huge(200 << 20)));
    let Some((h, cfg, srcs)) = setup("gn2pg_huge", &f, "") else {
        return;
    };
    let args = ["--config", cfg.to_str().unwrap(), "gn2pg", "full"];
    let (out, peak_kib) = common::data_tasks_peak_rss(&args, &h.env(&srcs));
    assert_exit(&out, 2);
    let text = common::text(&out);
    assert!(
        text.contains("larger than the 67108864-byte limit")
            && text.contains("gn2pg.http.max_response_mib"),
        "{text}"
    );
    assert!(
        peak_kib < 195_000,
        "peak RSS {peak_kib} KiB with a 200 MiB page"
    );
    eprintln!("peak RSS with a 200 MiB page: {peak_kib} KiB");
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.data_json")), 0);
    assert_eq!(
        gn2pg_support::served(&f).len(),
        1,
        "a size failure is not retried"
    );
}

/// `gn2pg.max_run`: a run past its limit stops itself between pages, records `failed` with the
/// reason (its limit is in the row's counts, for `status`), and exits, freeing its lock.
#[test]
fn a_run_past_max_run_stops_itself_and_records_why() {
    let f = fake(3000);
    f.add_fault(Fault {
        target: Target::Export,
        page: None,
        times: None,
        action: Action::Stall(Duration::from_millis(300)),
    });
    let Some((h, cfg, srcs)) = setup("gn2pg_maxrun", &f, "page_size = 100\nmax_run = \"2s\"")
    else {
        return;
    };
    let t = Instant::now();
    let out = h.run(&cfg, &["full"], &srcs);
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert_exit(&out, 2);
    let text = common::text(&out);
    assert!(text.contains("longer than gn2pg.max_run (2s)"), "{text}");
    let runs = h.sync_runs();
    assert_eq!(runs[0].1, "failed");
    assert!(
        runs[0].3.as_deref().unwrap_or("").contains("gn2pg.max_run"),
        "{runs:?}"
    );
    assert_eq!(runs[0].2["max_run_s"], 2);
    let stored = h.i64(&format!("SELECT count(*) FROM {S}.data_json"));
    assert!(stored > 0 && stored < 3000, "{stored}");
}

/// Every secret, id and schema is checked before the first write: a missing password of the
/// second source, a negative export id or the bookkeeping schema as data schema exit 2 with
/// every table as it was (no import_log, no sync_run row).
#[test]
fn settings_and_secrets_are_checked_before_anything_is_written() {
    let a = fake(10);
    let b = Fake::start(Settings {
        rows: 10,
        seed: 2,
        ..Settings::default()
    });
    let Some(h) = Harness::new("gn2pg_early") else {
        return;
    };
    let srcs = vec![Src::new("LPO AuRA", &a), Src::new("Flavia", &b)];
    let cfg = h.config("c.toml", &section(""), &srcs);
    h.init(&cfg, &srcs);
    let untouched = |h: &Harness| {
        assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.import_log")), 0);
        assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.data_json")), 0);
        assert_eq!(h.i64("SELECT count(*) FROM data_tasks.sync_run"), 0);
    };
    let mut env = h.env(&srcs);
    env.retain(|(k, _)| k != "GN2PG_FLAVIA_PASSWORD");
    let out = common::data_tasks(&["--config", cfg.to_str().unwrap(), "gn2pg", "full"], &env);
    assert_exit(&out, 2);
    assert!(
        common::text(&out).contains("set GN2PG_FLAVIA_PASSWORD"),
        "{}",
        common::text(&out)
    );
    untouched(&h);

    let text = std::fs::read_to_string(&cfg).unwrap();
    let id = b.settings().export_id;
    let negative = h.dir.path().join("negative.toml");
    std::fs::write(
        &negative,
        text.replace(
            &format!("data_export_id = {id}\nuser_name = {:?}", b.settings().user),
            &format!("data_export_id = -12\nuser_name = {:?}", b.settings().user),
        ),
    )
    .unwrap();
    let out = h.run(&negative, &["full"], &srcs);
    assert_exit(&out, 2);
    let t = common::text(&out);
    assert!(t.contains("data_export_id") && t.contains("-12"), "{t}");
    untouched(&h);

    let bookkeeping = h.config("bk.toml", "schema = \"data_tasks\"", &srcs);
    let out = h.run(&bookkeeping, &["full"], &srcs);
    assert_exit(&out, 2);
    let t = common::text(&out);
    assert!(
        t.contains("gn2pg.schema") && t.contains("bookkeeping"),
        "{t}"
    );
    untouched(&h);
}

/// `init-db --custom-script to_gnsynthese` runs gn2pg-client's own trigger script, installed by
/// scripts/install-deps.sh in `.deps/gn2pg/` (found from the working directory, or through
/// `DATA_TASKS_GN2PG_SCRIPTS_DIR`), with `gn2pg_import` replaced by the schema. It only needs
/// our tables to exist when it is applied (its functions reach GeoNature's tables when the
/// triggers fire); when the file is not installed the error says where it looked and how to
/// get it, and nothing is written.
#[test]
fn custom_script_to_gnsynthese_resolves_to_the_installed_client_script() {
    let installed = common::repo().join(".deps/gn2pg/to_gnsynthese.sql");
    if !common::require(
        "gn2pg-client's to_gnsynthese.sql (.deps/gn2pg, made by scripts/install-deps.sh)",
        installed.is_file(),
    ) {
        return;
    }
    let Some(h) = Harness::new("gn2pg_gnsynthese") else {
        return;
    };
    let f = fake(0);
    let srcs = vec![Src::new("a", &f)];
    let cfg = h.config("c.toml", &section(""), &srcs);
    let args = [
        "--config",
        cfg.to_str().unwrap(),
        "gn2pg",
        "init-db",
        "--custom-script",
        "to_gnsynthese",
    ];

    // Not installed: from a folder without .deps, or a scripts_dir without the file.
    let empty = tempfile::tempdir().unwrap();
    let out = common::data_tasks_in(empty.path(), &args, &h.env(&srcs));
    assert_exit(&out, 2);
    let text = common::text(&out);
    for want in [
        ".deps/gn2pg/to_gnsynthese.sql",
        "/usr/local/share/data-tasks/gn2pg/to_gnsynthese.sql",
        "scripts/install-deps.sh",
        "DATA_TASKS_GN2PG_SCRIPTS_DIR",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let mut env = h.env(&srcs);
    env.push((
        "DATA_TASKS_GN2PG_SCRIPTS_DIR".into(),
        empty.path().display().to_string(),
    ));
    let out = common::data_tasks(&args, &env);
    assert_exit(&out, 2);
    let tried = empty.path().join("to_gnsynthese.sql");
    assert!(
        common::text(&out).contains(&tried.display().to_string()),
        "{}",
        common::text(&out)
    );
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{S}'"
        )),
        0,
        "nothing written"
    );

    // Installed, found from the repository root (the default .deps/gn2pg). Its functions
    // declare PostGIS `geometry` variables, which PostgreSQL resolves when it creates them: in a
    // database without PostGIS the script fails as a whole (rolled back, exit 2).
    let out = common::data_tasks_in(&common::repo(), &args, &h.env(&srcs));
    assert_exit(&out, 2);
    assert!(
        common::text(&out).contains("type \"geometry\" does not exist"),
        "{}",
        common::text(&out)
    );
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '{S}'"
        )),
        0
    );
    h.client()
        .batch_execute("CREATE EXTENSION IF NOT EXISTS postgis")
        .unwrap();
    // With PostGIS, from the repository root, then through the variable from elsewhere
    // (applying it again is harmless: it drops and recreates its objects).
    let out = common::data_tasks_in(&common::repo(), &args, &h.env(&srcs));
    assert_exit(&out, 0);
    assert!(
        common::text(&out).contains(".deps/gn2pg/to_gnsynthese.sql applied"),
        "{}",
        common::text(&out)
    );
    let mut env = h.env(&srcs);
    env.push((
        "DATA_TASKS_GN2PG_SCRIPTS_DIR".into(),
        common::repo().join(".deps/gn2pg").display().to_string(),
    ));
    assert_exit(&common::data_tasks_in(empty.path(), &args, &env), 0);
    let triggers: Vec<(String, String)> = h
        .client()
        .query(
            "SELECT c.relname::text, t.tgname::text FROM pg_trigger t
               JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND NOT t.tgisinternal ORDER BY 1, 2",
            &[&S],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        triggers,
        [
            ("data_json", "tri_c_delete_data_from_geonature"),
            ("data_json", "tri_c_upsert_data_to_geonature"),
            ("metadata_json", "tri_c_upsert_metadata_to_geonature"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(
        h.i64("SELECT count(*) FROM pg_namespace WHERE nspname IN ('gn2pg_import', 'gn_synthese', 'gn_meta')"),
        0,
        "the script went to the configured schema and created no GeoNature schema"
    );
}

/// `update --since` replays from the operator's instant, only when that reaches back to the last
/// success (its own start then becomes the watermark without skipping anything); otherwise it is
/// refused for the source, nothing written.
#[test]
fn update_since_replays_a_window_and_refuses_one_that_would_skip_changes() {
    let f = fake(120);
    let Some((h, cfg, srcs)) = setup("gn2pg_since", &f, "") else {
        return;
    };
    let log_rows = |h: &Harness| h.import_log(S).len();

    let out = h.run(&cfg, &["update", "--since", "01/06/2024"], &srcs);
    assert_exit(&out, 2);
    assert!(
        common::text(&out).contains("is not a date"),
        "{}",
        common::text(&out)
    );

    let out = h.run(&cfg, &["update", "--since", "2020-01-01"], &srcs);
    assert_exit(&out, 2);
    assert!(
        common::text(&out).contains("no successful import yet"),
        "{}",
        common::text(&out)
    );
    assert_eq!(log_rows(&h), 0);

    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
    let out = h.run(&cfg, &["update", "--since", "2999-01-01 10:00"], &srcs);
    assert_exit(&out, 2);
    let text = common::text(&out);
    assert!(
        text.contains("would leave the changes in between unread"),
        "{text}"
    );
    assert_eq!(log_rows(&h), 1);

    // A replay from far back re-reads every row (they are all older than the last success).
    let before = h.rows(S, "lpo_aura");
    f.clear_requests();
    let out = h.run(&cfg, &["update", "--since", "2000-01-01T00:00"], &srcs);
    assert_exit(&out, 0);
    assert!(
        common::text(&out).contains("update (since)"),
        "{}",
        common::text(&out)
    );
    let first = &f.export_pages()[0];
    assert_eq!(
        first.param("filter_d_up_derniere_action"),
        Some("2000-01-01 00:00:00")
    );
    let log = h.import_log(S);
    let last = log.last().unwrap();
    assert_eq!(
        (
            last.xfer_type.as_deref(),
            last.status.as_deref(),
            last.items
        ),
        (Some("update"), Some("success"), 120)
    );
    assert_eq!(h.rows(S, "lpo_aura"), before);

    // An interrupted full pending: the replay waits for it.
    h.client()
        .execute(
            &format!(
                "INSERT INTO {S}.import_checkpoint (source, import_id, mode, since, last_id_data)
                 VALUES ('lpo_aura', {}, 'full', now(), 40)",
                last.id
            ),
            &[],
        )
        .unwrap();
    let out = h.run(&cfg, &["update", "--since", "2000-01-01"], &srcs);
    assert_exit(&out, 2);
    assert!(
        common::text(&out).contains("an interrupted full is pending"),
        "{}",
        common::text(&out)
    );
    assert_eq!(log_rows(&h), 2);
}

/// `metadata_only`: the metadata export alone (frameworks, then their datasets with `ca_uuid`),
/// no data export request, no deletion feed, an update with no earlier success stays an update.
#[test]
fn metadata_only_reads_the_metadata_export_alone() {
    let f = Fake::start(Settings {
        rows: 40,
        metadata_export_id: Some(31),
        metadata_frameworks: 7,
        ..Settings::default()
    });
    let Some(h) = Harness::new("gn2pg_metaonly") else {
        return;
    };
    let mut src = Src::new("LPO AuRA", &f);
    src.extra = "data_type = \"metadata_only\"\nmetadata_export_id = 31";
    let srcs = vec![src];
    let cfg = h.config("c.toml", &section(""), &srcs);
    h.init(&cfg, &srcs);
    let out = h.run(&cfg, &["update"], &srcs);
    assert_exit(&out, 0);
    assert!(f
        .requests()
        .iter()
        .all(|r| !r.path.ends_with("/api/12") && !r.path.ends_with("synthese/log")));
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.data_json")), 0);
    let s = f.settings();
    let want: i64 = (0..7).map(|k| 1 + gn2pg_fake::datasets_of(k) as i64).sum();
    assert_eq!(
        h.i64(&format!("SELECT count(*) FROM {S}.metadata_json")),
        want
    );
    let ds = gn2pg_fake::dataset_uuid(&s, 2, 1);
    let item: serde_json::Value = h
        .client()
        .query_one(
            &format!("SELECT item FROM {S}.metadata_json WHERE uuid = $1::text::uuid AND level = 'dataset'"),
            &[&ds],
        )
        .unwrap()
        .get(0);
    assert_eq!(item["ca_uuid"], gn2pg_fake::framework_uuid(&s, 2).as_str());
    let ca: serde_json::Value = h
        .client()
        .query_one(
            &format!("SELECT item FROM {S}.metadata_json WHERE uuid = $1::text::uuid"),
            &[&gn2pg_fake::framework_uuid(&s, 2)],
        )
        .unwrap()
        .get(0);
    assert!(ca.get("datasets").is_none(), "{ca}");
    let log = h.import_log(S);
    assert_eq!(
        (
            log[0].xfer_type.as_deref(),
            log[0].status.as_deref(),
            log[0].items
        ),
        (Some("update"), Some("success"), 7)
    );
    assert_eq!(
        log[0].filters,
        Some(serde_json::json!(["{\"limit\": 1000}"]))
    );
}
