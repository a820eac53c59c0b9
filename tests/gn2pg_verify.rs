//! `gn2pg verify [--repair]` against a real PostgreSQL and the fake GeoNature
//! (docs/syncs/gn2pg.md §13): after a full, rows dropped and foreign rows added locally are named
//! exactly, with far fewer requests than a full; `--repair` goes through the normal upsert and
//! deletion paths (an audit trigger sees the inserts and deletes) and leaves the table equal to a
//! fresh full; `status` and the dashboard show the verify apart from the syncs.

mod common;
mod gn2pg_fake;
mod gn2pg_support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::Duration;

use gn2pg_fake::{Fake, Settings};
use gn2pg_support::{assert_exit, Harness, Src};

const S: &str = "gn2pg_v";
const FRESH: &str = "gn2pg_fresh";
const SOURCE: &str = "lpo_aura";

/// The ids a line of the summary lists after `label` (up to the next `;`).
fn listed(text: &str, label: &str) -> BTreeSet<i64> {
    let Some(at) = text.find(label) else {
        return BTreeSet::new();
    };
    text[at + label.len()..]
        .split([';', '['])
        .next()
        .unwrap_or("")
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// `(id_data, uuid, item)` of the source, by id.
fn table(h: &Harness, schema: &str) -> Vec<(i32, String, String)> {
    h.client()
        .query(
            &format!(
                "SELECT id_data, uuid::text, item::text FROM {schema}.data_json
                  WHERE source = $1 ORDER BY id_data"
            ),
            &[&SOURCE],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// GET `path` from a dashboard on `origin` (HTTP/1.0, the whole answer).
fn get(origin: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(origin.trim_start_matches("http://")).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// A row never downloaded and a row whose deletion was missed leave the totals equal; the rank
/// probe of the middle row sees the ids shifted between them, and the bisection names both.
#[test]
fn a_missing_row_and_a_missed_deletion_that_cancel_out_are_both_found() {
    let Some(h) = Harness::new("gn2pg_verify_pair") else {
        return;
    };
    let f = Fake::start(Settings {
        rows: 2_000,
        padding: 20,
        ..Settings::default()
    });
    let srcs = vec![Src::new("LPO AuRA", &f)];
    let cfg = h.config(
        "c.toml",
        &format!("schema = \"{S}\"\npage_size = 10\n"),
        &srcs,
    );
    h.init(&cfg, &srcs);
    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
    let ids: Vec<i32> = table(&h, S).iter().map(|r| r.0).collect();
    assert_eq!(ids.len(), 2_000);
    // Lost locally: the 101st row; deleted at the source without the copy knowing: the 1901st.
    let (lost, gone) = (i64::from(ids[100]), i64::from(ids[1900]));
    h.client()
        .execute(
            &format!("DELETE FROM {S}.data_json WHERE source = $1 AND id_data = $2"),
            &[&SOURCE, &(lost as i32)],
        )
        .unwrap();
    f.delete(&[gone as u64], "2030-01-01 00:00:00");

    let out = h.run(&cfg, &["verify"], &srcs);
    let text = common::text(&out);
    assert_exit(&out, 1);
    assert_eq!(
        listed(&text, "missing ids:"),
        BTreeSet::from([lost]),
        "{text}"
    );
    assert_eq!(
        listed(&text, "extra ids:"),
        BTreeSet::from([gone]),
        "{text}"
    );
    let runs = h.sync_runs();
    let counts = &runs.last().unwrap().2;
    assert_eq!(counts["remote_total"], 1_999);
    assert_eq!(counts["local_total"], 1_999);
    assert_eq!(
        (&counts["missing"], &counts["extra"]),
        (&1.into(), &1.into())
    );

    // --repair puts both right; the next verify agrees in two requests.
    assert_exit(&h.run(&cfg, &["verify", "--repair"], &srcs), 0);
    let now: Vec<i32> = table(&h, S).iter().map(|r| r.0).collect();
    assert!(now.contains(&(lost as i32)) && !now.contains(&(gone as i32)));
    f.clear_requests();
    assert_exit(&h.run(&cfg, &["verify"], &srcs), 0);
    assert_eq!(f.export_pages().len(), 2);
}

#[test]
fn verify_names_the_differences_and_repair_restores_a_fresh_full() {
    let Some(h) = Harness::new("gn2pg_verify") else {
        return;
    };
    // 20,000 rows in pages of 10: a full takes 2,000 export requests.
    let f = Fake::start(Settings {
        rows: 20_000,
        padding: 60,
        ..Settings::default()
    });
    let srcs = vec![Src::new("LPO AuRA", &f)];
    let cfg = h.config(
        "c.toml",
        &format!("schema = \"{S}\"\npage_size = 10\n"),
        &srcs,
    );
    h.init(&cfg, &srcs);
    // An operator's audit trigger: what the repair does must reach it as inserts and deletes.
    let script = h.dir.path().join("audit.sql");
    std::fs::write(
        &script,
        "CREATE TABLE gn2pg_import.audit (op text, id int);\n\
         CREATE FUNCTION gn2pg_import.audit_f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF TG_OP = 'DELETE' THEN INSERT INTO gn2pg_import.audit VALUES (TG_OP, OLD.id_data); RETURN OLD; END IF; \
         INSERT INTO gn2pg_import.audit VALUES (TG_OP, NEW.id_data); RETURN NEW; END $$;\n\
         CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON gn2pg_import.data_json \
         FOR EACH ROW EXECUTE FUNCTION gn2pg_import.audit_f();",
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
    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
    let full_pages = f.export_pages().len();
    assert!(full_pages >= 2000, "{full_pages}");
    let complete = table(&h, S);
    assert_eq!(complete.len(), 20_000);

    // Nothing differs: two requests (the totals, and the rank probe of the middle row).
    f.clear_requests();
    let same = h.run(&cfg, &["verify"], &srcs);
    assert_exit(&same, 0);
    assert_eq!(f.export_pages().len(), 2, "{}", common::text(&same));

    // Drop 37 random rows, add 5 the source never had (past its ids: a missing and an extra row
    // in one range of equal counts would cancel out, the documented limit of §13).
    let ids: Vec<i32> = complete.iter().map(|r| r.0).collect();
    let mut dropped = BTreeSet::new();
    let mut k = 0u64;
    while dropped.len() < 37 {
        k += 1;
        dropped.insert(i64::from(ids[(splitmix(k) % ids.len() as u64) as usize]));
    }
    let top = i64::from(*ids.last().unwrap());
    let foreign: BTreeSet<i64> = (0..5).map(|k| top + 1_000_000 + k * 7919).collect();
    let mut c = h.client();
    let list: Vec<i32> = dropped.iter().map(|i| *i as i32).collect();
    c.execute(
        &format!("DELETE FROM {S}.data_json WHERE source = $1 AND id_data = ANY($2)"),
        &[&SOURCE, &list],
    )
    .unwrap();
    for id in &foreign {
        c.execute(
            &format!(
                "INSERT INTO {S}.data_json (source, controler, type, id_data, uuid, item, update_ts, import_id)
                 SELECT $1, 'data', 'synthese_with_cd_nomenclature', $2::int, gen_random_uuid(),
                        jsonb_build_object('id_synthese', $2::int), localtimestamp, max(id)
                   FROM {S}.import_log"
            ),
            &[&SOURCE, &(*id as i32)],
        )
        .unwrap();
    }
    c.batch_execute(&format!("TRUNCATE {S}.audit")).unwrap();

    // verify: exit 1, exactly those ids, far fewer requests than the full's pages.
    f.clear_requests();
    let out = h.run(&cfg, &["verify", "--source", "LPO AuRA"], &srcs);
    let text = common::text(&out);
    assert_exit(&out, 1);
    let requests = f.export_pages().len();
    assert_eq!(listed(&text, "missing ids:"), dropped, "{text}");
    assert_eq!(listed(&text, "extra ids:"), foreign, "{text}");
    assert!(text.contains("37 missing, 5 extra"), "{text}");
    assert!(
        requests * 4 < full_pages,
        "verify made {requests} export requests, a full {full_pages}: {text}"
    );
    assert!(
        text.contains(&format!("{requests} export requests")),
        "{text}"
    );
    assert_eq!(h.i64(&format!("SELECT count(*) FROM {S}.audit")), 0);
    let runs = h.sync_runs();
    let (scope, status, counts, error) = runs.last().unwrap();
    assert_eq!((scope.as_str(), status.as_str()), (SOURCE, "partial"));
    assert_eq!(counts["remote_total"], 20_000);
    assert_eq!(counts["local_total"], 20_000 - 37 + 5);
    assert_eq!(counts["missing"], 37);
    assert_eq!(counts["extra"], 5);
    assert!(counts.get("repaired").is_none(), "{counts}");
    assert!(
        error.as_deref().unwrap_or("").contains("--repair"),
        "{error:?}"
    );
    assert_eq!(
        h.text("SELECT mode FROM data_tasks.sync_run ORDER BY id DESC LIMIT 1")
            .as_deref(),
        Some("verify")
    );

    // --repair: the normal paths (the trigger sees 37 inserts and 5 deletes), then equality.
    f.clear_requests();
    let fixed = h.run(&cfg, &["verify", "--repair"], &srcs);
    assert_exit(&fixed, 0);
    let text = common::text(&fixed);
    assert!(text.contains("42 repaired"), "{text}");
    assert!(f.export_pages().len() * 4 < full_pages);
    let audit = |op: &str| -> BTreeSet<i64> {
        h.client()
            .query(&format!("SELECT id FROM {S}.audit WHERE op = $1"), &[&op])
            .unwrap()
            .iter()
            .map(|r| i64::from(r.get::<_, i32>(0)))
            .collect()
    };
    assert_eq!(audit("INSERT"), dropped);
    assert_eq!(audit("DELETE"), foreign);
    assert_eq!(audit("UPDATE"), BTreeSet::new());
    let (counts, status) = {
        let runs = h.sync_runs();
        let last = runs.last().unwrap();
        (last.2.clone(), last.1.clone())
    };
    assert_eq!(status, "ok");
    assert_eq!(counts["repaired"], 42);
    assert_eq!(counts["upserted"], 37);
    assert_eq!(counts["deleted"], 5);
    let repair_log = h.text(&format!(
        "SELECT xfer_type || ' ' || xfer_status || ' ' || data_count_upserts || ' ' || data_count_delete
           FROM {S}.import_log ORDER BY id DESC LIMIT 1"
    ));
    assert_eq!(repair_log.as_deref(), Some("repair repaired 37 5"));

    // A fresh full into another schema holds the same rows.
    let fresh_cfg = h.config(
        "fresh.toml",
        &format!("schema = \"{FRESH}\"\npage_size = 1000\n"),
        &srcs,
    );
    h.init(&fresh_cfg, &srcs);
    assert_exit(&h.run(&fresh_cfg, &["full"], &srcs), 0);
    assert_eq!(table(&h, S), table(&h, FRESH));
    assert_eq!(table(&h, S), complete);

    // The next verify finds nothing; the update's `since` still comes from the full.
    assert_exit(&h.run(&cfg, &["verify"], &srcs), 0);
    assert_eq!(
        h.i64(&format!(
            "SELECT count(*) FROM {S}.import_log WHERE xfer_status = 'success'"
        )),
        1
    );

    // status: the verify is its own kind and track, unchecked by default, checked on demand.
    let env = vec![("OPS_DATABASE_URL".to_string(), h.url())];
    let st = common::data_tasks(&["status"], &env);
    let st_text = common::text(&st);
    assert_exit(&st, 0);
    assert!(st_text.contains("gn2pg/lpo_aura (verify)"), "{st_text}");
    assert!(st_text.contains("unchecked (no threshold)"), "{st_text}");
    assert!(st_text.contains("missing 0 extra 0"), "{st_text}");
    let checked = common::data_tasks(&["status", "--stale-after", "verify=8d"], &env);
    assert_exit(&checked, 0);
    assert!(common::text(&checked).contains("fresh (limit 8d)"));

    // The dashboard's gn2pg page shows the last verify of the source.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_data-tasks"))
        .args(["dashboard", "--listen", "127.0.0.1:0", "--base-path", "/"])
        .env("OPS_DATABASE_URL", h.url())
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let origin = loop {
        let line = lines
            .next()
            .expect("the dashboard ended before listening")
            .unwrap();
        if let Some(at) = line.find("listening on http://") {
            let url = line[at + "listening on ".len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
            break url.trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    std::thread::sleep(Duration::from_millis(50));
    let page = get(&origin, &format!("/gn2pg/{S}"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        page.starts_with("HTTP/1.1 200") || page.starts_with("HTTP/1.0 200"),
        "{page}"
    );
    assert!(page.contains("Last verify"), "{page}");
    assert!(
        page.contains("remote 20000, local 20000, missing 0, extra 0, repaired 0"),
        "{page}"
    );
}

#[test]
fn the_fake_filters_id_ranges_inclusively_as_geonature() {
    // GeoNature's GenericQuery: filter_n_up_<col> is `col >= v`, filter_n_lo_<col> is `col <= v`.
    let f = Fake::start(Settings {
        rows: 30,
        ..Settings::default()
    });
    let client = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let base = f.url();
    client
        .post(format!("{base}api/auth/login"))
        .json(&serde_json::json!({"login": "gn2pg", "password": "pw-geonature"}))
        .send()
        .unwrap();
    let count = |up: u64, lo: u64| -> u64 {
        let v: serde_json::Value = client
            .get(format!(
                "{base}api/exports/api/12?limit=1&orderby=id_synthese&filter_n_up_id_synthese={up}&filter_n_lo_id_synthese={lo}"
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["total_filtered"].as_u64().unwrap()
    };
    // Ids 1..9, 11..19, 21..29, 31..33 (every tenth is a gap).
    assert_eq!(count(5, 5), 1);
    assert_eq!(count(9, 11), 2);
    assert_eq!(count(10, 10), 0);
    assert_eq!(count(1, 33), 30);
    assert_eq!(count(12, 11), 0);
}
