//! visionature against a real PostgreSQL and the fake Biolovision API (tests/visionature_fake): the
//! acceptance scenario and the faults (1)–(11) of docs/syncs/visionature.md §9, the lost-update
//! patterns of Client-API-VN (a failed `id_sightings_list` chunk, an empty 504, a deleted last
//! sighting of a form) shown to lose nothing, and a SIGKILL between the upserts and the deletions.
//! The binary runs with `TZ=UTC` (the site is Europe/Paris).

mod common;
#[path = "visionature_fake/mod.rs"]
mod fake;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::pg::TestDb;
use fake::{Fake, Fault, Gen, State0};

struct H {
    db: TestDb,
    fake: Fake,
    dir: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
}

impl H {
    fn new(prefix: &str, gen: Gen, toml: &str) -> Option<H> {
        let db = TestDb::create(prefix)?;
        let fake = Fake::start(State0::generate(&gen), 0, 2);
        let dir = tempfile::tempdir().unwrap();
        let h = H {
            db,
            fake,
            dir,
            extra_env: Vec::new(),
        };
        h.config(toml, "ff");
        Some(h)
    }

    /// A harness on `n` generated sightings with its schema initialised.
    fn initialised(prefix: &str, n: u32, toml: &str) -> Option<H> {
        let h = H::new(
            prefix,
            Gen {
                n,
                ..Gen::default()
            },
            toml,
        )?;
        h.ok(&["visionature", "init-db"], 0);
        Some(h)
    }

    fn config(&self, toml: &str, site: &str) {
        let text = format!(
            "[visionature]\nretry_delay = \"10ms\"\nunavailable_delay = \"10ms\"\nmax_retry = 2\nhttp_timeout = \"30s\"\n{toml}\n\
             [[visionature.site]]\nname = \"{site}\"\nurl = \"{}\"\n",
            self.fake.url()
        );
        std::fs::write(self.dir.path().join("c.toml"), text).unwrap();
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut e = self.fake.env("ff");
        e.extend(self.fake.env("faune-france"));
        e.push(("VISIONATURE_DATABASE_URL".into(), self.db.url()));
        e.push(("TZ".into(), "UTC".into()));
        e.extend(self.extra_env.iter().cloned());
        e
    }

    fn run(&self, args: &[&str]) -> Output {
        let cfg = self.dir.path().join("c.toml");
        let mut a = vec!["--config", cfg.to_str().unwrap()];
        a.extend_from_slice(args);
        common::data_tasks(&a, &self.env())
    }

    fn ok(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let t = common::text(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {t}");
        t
    }

    fn n(&self, sql: &str) -> i64 {
        self.db
            .client()
            .query_one(sql, &[])
            .unwrap()
            .get::<_, i64>(0)
    }

    fn exec(&self, sql: &str) {
        self.db.client().batch_execute(sql).unwrap();
    }

    fn ids(&self, pred: impl Fn(&fake::Sighting) -> bool) -> Vec<u32> {
        self.fake.with(|s| {
            s.sightings
                .values()
                .filter(|x| pred(x))
                .map(|x| x.id)
                .collect()
        })
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn acceptance_full_update_check_and_fix_sync() {
    let Some(h) = H::new("vn_accept", Gen::default(), "") else {
        return;
    };
    h.ok(&["visionature", "init-db"], 0);
    h.ok(&["visionature", "init-db"], 0);
    h.ok(&["visionature", "transfer", "--full"], 0);
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observations_json"),
        1200
    );
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.observations_json WHERE id_form_universal IS NOT NULL"), 300);
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.forms_json"), 75);
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.increment_log"), 2);
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.observations_json WHERE item->'observers'->0 ? 'coord_x_local'"), 1200);
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.species_json"), 10);
    assert!(h.n("SELECT count(*) FROM src_vn_json.download_log") > 10);
    assert_eq!(
        h.n("SELECT count(*) FROM data_tasks.sync_run WHERE status = 'ok'"),
        1
    );
    // The site changes: 20 updated, 5 deleted (a whole form of 4, so its last sighting, + 1).
    let loose = h.ids(|s| s.form.is_none());
    let form1 = h.ids(|s| s.form == Some(1));
    let ts = now() - 5;
    h.fake.with(|s| {
        for id in &loose[..20] {
            s.update(*id, ts);
        }
        for id in form1.iter().chain(std::iter::once(&loose[30])) {
            s.delete(*id);
        }
    });
    let t = h.ok(&["visionature", "transfer", "--update"], 0);
    assert!(t.contains("5 deleted (1 orphan forms)"), "{t}");
    eprintln!(
        "update summary: {}",
        t.lines()
            .find(|l| l.starts_with("visionature transfer"))
            .unwrap_or("")
    );
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observations_json"),
        1195
    );
    assert_eq!(
        h.n(&format!(
            "SELECT count(*) FROM src_vn_json.observations_json WHERE update_ts = {ts}"
        )),
        20
    );
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.forms_json"), 74);
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.forms_json WHERE id = 1"),
        0
    );
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.deleted_observations"),
        5
    );
    // Watermarks = t0 = now − 15 min (site time).
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.increment_log WHERE last_ts BETWEEN (now() AT TIME ZONE 'Europe/Paris') - interval '16 min' AND (now() AT TIME ZONE 'Europe/Paris') - interval '14 min'"),
        2
    );
    // The check schema, loaded the same way.
    h.ok(
        &["visionature", "init-db", "--schema", "src_vn_json_check"],
        0,
    );
    h.ok(
        &[
            "visionature",
            "transfer",
            "--full",
            "--schema",
            "src_vn_json_check",
        ],
        0,
    );
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json_check.observations_json"),
        1195
    );
    h.exec(
        "DELETE FROM src_vn_json.observations_json WHERE id IN (SELECT id FROM src_vn_json.observations_json ORDER BY id LIMIT 4);
         UPDATE src_vn_json.observations_json SET update_ts = update_ts - 10 WHERE id IN (SELECT id FROM src_vn_json.observations_json ORDER BY id DESC LIMIT 6);",
    );
    let t = h.ok(&["visionature", "fix-sync", "--skip-download"], 0);
    assert!(
        t.contains("fix-sync: 4 inserted, 6 updated, 0 deleted"),
        "{t}"
    );
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observations_json"),
        1195
    );
    assert_eq!(h.n("SELECT count(*) FROM dbadmin.monitoring_vn_check_to_prod WHERE (action, count) IN (('insert', 4), ('update', 6), ('delete', 0))"), 3);
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observations_json p JOIN src_vn_json_check.observations_json c USING (id, site) WHERE p.item = c.item AND p.update_ts = c.update_ts"),
        1195
    );
}

#[test]
fn fault_1_wrong_secret_is_fatal_and_writes_nothing() {
    let Some(mut h) = H::initialised("vn_f1", 40, "") else {
        return;
    };
    h.extra_env
        .push(("VN_FF_CLIENT_SECRET".into(), "another-secret".into()));
    let t = h.ok(&["visionature", "transfer", "--full"], 2);
    assert!(t.contains("healthcheck") && t.contains("401"), "{t}");
    assert!(
        !t.contains("cs-secret-1") && !t.contains("user-pw-secret"),
        "{t}"
    );
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.observations_json"), 0);
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.download_log"), 0);
    assert_eq!(h.n("SELECT count(*) FROM data_tasks.sync_run"), 0);
}

#[test]
fn faults_2_4_5_unavailable_empty_wrapped_and_chunks() {
    let Some(h) = H::initialised("vn_f2", 200, "max_chunks = 100") else {
        return;
    };
    h.fake.with(|s| {
        s.page_size = 7;
        s.faults.push(Fault::status("observations/search", 503, 1));
        s.faults.push(
            Fault::status("taxo_groups", 200, 1)
                .wrap("Notice: Undefined index: x in /var/www/api.php on line 3\n"),
        );
        s.faults
            .push(Fault::status("observations/search", 200, 1).wrap("Warning: deprecated\n"));
    });
    let t = h.ok(&["visionature", "transfer", "--full"], 0);
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observations_json"),
        200,
        "{t}"
    );
    let chunked = h
        .fake
        .seen("observations/search")
        .iter()
        .filter(|r| r.query.iter().any(|(k, _)| k == "pagination_key"))
        .count();
    assert!(chunked >= 3, "{chunked} continuation chunks");
    assert!(h.n("SELECT (counts->>'http_retries')::bigint FROM data_tasks.sync_run") >= 1);
    // An empty 200 is an empty chunk, not a crash.
    h.fake.with(|s| {
        s.faults
            .push(Fault::status("observations/search", 200, 1).body(""))
    });
    h.ok(
        &[
            "visionature",
            "transfer",
            "--full",
            "--schema",
            "src_vn_json",
        ],
        0,
    );
    // More chunks than max_chunks → that request fails, exit 1.
    h.config("max_chunks = 2", "ff");
    let t = h.ok(&["visionature", "transfer", "--full"], 1);
    assert!(t.contains("max_chunks"), "{t}");
}

#[test]
fn fault_3_and_the_original_lost_update_failed_chunk_keeps_the_watermark() {
    let Some(h) = H::initialised("vn_f3", 200, "max_list_length = 2") else {
        return;
    };
    h.ok(&["visionature", "transfer", "--full"], 0);
    // Age the watermarks so that the new ones are visibly different.
    h.exec("UPDATE src_vn_json.increment_log SET last_ts = last_ts - interval '1 hour'");
    let before = |g: i32| {
        h.n(&format!("SELECT extract(epoch FROM last_ts)::bigint FROM src_vn_json.increment_log WHERE taxo_group = {g}"))
    };
    let (w1, w2) = (before(1), before(2));
    let g1 = h.ids(|s| s.group == 1);
    let g2 = h.ids(|s| s.group == 2);
    let ts = now() - 5;
    h.fake.with(|s| {
        for id in g1[..6].iter().chain(&g2[..6]) {
            s.update(*id, ts);
        }
        // The second id_sightings_list chunk of group 1 fails past max_retry (500, then an empty 504).
        let second = g1[2].to_string();
        s.faults.push(
            Fault::status("observations", 500, 2)
                .param("id_sightings_list", &second)
                .param("id_taxo_group", "1"),
        );
        s.faults.push(
            Fault::status("observations", 504, 1)
                .param("id_sightings_list", &second)
                .param("id_taxo_group", "1")
                .body(""),
        );
        // And a sighting of group 1 is deleted (the original never applied deletions after an error).
        s.delete(g1[10]);
    });
    let t = h.ok(&["visionature", "transfer", "--update"], 1);
    assert!(
        t.contains("taxo group 1") && t.contains("watermark kept"),
        "{t}"
    );
    assert_eq!(before(1), w1, "group 1 watermark unchanged");
    assert!(before(2) > w2, "group 2 advanced");
    assert_eq!(h.n(&format!("SELECT count(*) FROM src_vn_json.observations_json WHERE update_ts = {ts} AND item->'species'->>'taxonomy' = '2'")), 6);
    // The next update re-fetches what was missed: nothing is lost.
    let t = h.ok(&["visionature", "transfer", "--update"], 0);
    assert_eq!(
        h.n(&format!(
            "SELECT count(*) FROM src_vn_json.observations_json WHERE update_ts = {ts}"
        )),
        12,
        "{t}"
    );
    assert_eq!(
        h.n(&format!(
            "SELECT count(*) FROM src_vn_json.observations_json WHERE id = {}",
            g1[10]
        )),
        0
    );
}

#[test]
fn fault_6_restricted_group_is_skipped_and_named() {
    let Some(h) = H::initialised("vn_f6", 100, "") else {
        return;
    };
    h.fake.with(|s| {
        s.restricted.insert(2);
    });
    let t = h.ok(&["visionature", "transfer", "--full"], 1);
    assert!(
        t.contains("taxo group 2") && t.contains("restricted"),
        "{t}"
    );
    let g1 = h.ids(|s| s.group == 1).len() as i64;
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observations_json"),
        g1
    );
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.increment_log WHERE taxo_group = 1"),
        1
    );
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.increment_log WHERE taxo_group = 2"),
        0
    );
}

#[test]
fn fault_7_only_strictly_newer_wins() {
    let toml = "pid = { limit_min = 1.0, limit_max = 1.0, delta_days = 1 }";
    let Some(h) = H::new(
        "vn_f7",
        Gen {
            n: 30,
            days: 6,
            ..Gen::default()
        },
        toml,
    ) else {
        return;
    };
    h.ok(&["visionature", "init-db"], 0);
    let id = h.ids(|s| s.group == 1)[0];
    h.fake.with(|s| {
        s.reads.insert(id, [100, 200, 150].into_iter().collect());
    });
    // Windows of one day: every day is read twice (inclusive bounds), 100 then 200.
    h.ok(
        &[
            "visionature",
            "transfer",
            "--full",
            "--from",
            &(chrono::Local::now().date_naive() - chrono::Duration::days(8)).to_string(),
        ],
        0,
    );
    let ts = || {
        h.n(&format!(
            "SELECT update_ts::bigint FROM src_vn_json.observations_json WHERE id = {id}"
        ))
    };
    assert_eq!(ts(), 200);
    h.fake.with(|s| s.diff.push((now(), id, 1, "updated")));
    h.ok(&["visionature", "transfer", "--update"], 0);
    assert_eq!(ts(), 200, "150 is older: kept 200");
}

#[test]
fn fault_8_old_watermark_uses_a_windowed_search() {
    let Some(h) = H::initialised("vn_f8", 60, "") else {
        return;
    };
    h.ok(&["visionature", "transfer", "--full"], 0);
    h.exec("UPDATE src_vn_json.increment_log SET last_ts = last_ts - interval '90 days'");
    h.fake.with(|s| s.seen.clear());
    let t = h.ok(&["visionature", "transfer", "--update"], 0);
    assert!(h.fake.seen("observations/diff").is_empty(), "{t}");
    assert!(h
        .fake
        .seen("observations/search")
        .iter()
        .any(|r| r.body.contains("\"entry_date\":\"1\"")));
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.increment_log WHERE last_ts > (now() AT TIME ZONE 'Europe/Paris') - interval '1 hour'"), 2);
}

#[test]
fn fault_9_sigkill_between_upserts_and_deletes_then_rerun() {
    // One updated sighting per `id_sightings_list` chunk: the first chunk is committed when the
    // second arrives, and the third (the last request before the transaction holding the last
    // chunk, the deletions and the watermark) stalls in the fake until the kill.
    let Some(h) = H::initialised("vn_f9", 100, "max_list_length = 1") else {
        return;
    };
    h.ok(&["visionature", "transfer", "--full"], 0);
    h.exec("UPDATE src_vn_json.increment_log SET last_ts = last_ts - interval '1 hour'");
    let g1 = h.ids(|s| s.group == 1);
    let mark = |h: &H| {
        h.n("SELECT extract(epoch FROM last_ts)::bigint FROM src_vn_json.increment_log WHERE taxo_group = 1")
    };
    let w1 = mark(&h);
    let ts = now() - 5;
    h.fake.with(|s| {
        s.update(g1[0], ts);
        s.update(g1[3], ts);
        s.update(g1[4], ts);
        s.delete(g1[1]);
        s.delete(g1[2]);
        s.faults.push(
            Fault::stall("observations", Duration::from_secs(60), 1)
                .param("id_sightings_list", &g1[4].to_string()),
        );
    });
    let cfg = h.dir.path().join("c.toml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_data-tasks"));
    cmd.args([
        "--config",
        cfg.to_str().unwrap(),
        "visionature",
        "transfer",
        "--update",
    ])
    .env("OMP_THREAD_LIMIT", "1")
    .stderr(Stdio::piped())
    .stdout(Stdio::null());
    for (k, v) in h.env() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(50);
    while h.fake.with(|s| s.stalled) == 0 {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the last chunk was never requested:\n{}",
                log.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(
        h.n(&format!(
            "SELECT count(*) FROM src_vn_json.observations_json WHERE update_ts = {ts}"
        )),
        1,
        "upserts committed"
    );
    assert_eq!(
        h.n(&format!(
            "SELECT count(*) FROM src_vn_json.observations_json WHERE id IN ({}, {})",
            g1[1], g1[2]
        )),
        2,
        "deletes not done"
    );
    assert_eq!(mark(&h), w1, "watermark unchanged");
    h.fake.with(|s| s.faults.clear());
    h.ok(&["visionature", "transfer", "--update"], 0);
    assert_eq!(
        h.n(&format!(
            "SELECT count(*) FROM src_vn_json.observations_json WHERE id IN ({}, {})",
            g1[1], g1[2]
        )),
        0,
        "rerun deletes"
    );
    assert!(mark(&h) > w1);
    assert_eq!(
        h.n("SELECT count(*) FROM data_tasks.sync_run WHERE error = 'abandoned'"),
        1
    );
}

/// A minimal SMTP server: accepts every message, keeps them.
fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let m = mails.clone();
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            let mut w = conn.try_clone().unwrap();
            let mut r = BufReader::new(conn);
            let _ = w.write_all(b"220 sink ESMTP\r\n");
            let mut data = false;
            let mut msg = String::new();
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                let l = line.trim_end().to_string();
                line.clear();
                if data {
                    if l == "." {
                        data = false;
                        m.lock().unwrap().push(std::mem::take(&mut msg));
                        let _ = w.write_all(b"250 queued\r\n");
                    } else {
                        msg.push_str(&l);
                        msg.push('\n');
                    }
                    continue;
                }
                let up = l.to_ascii_uppercase();
                let reply: &[u8] = if up.starts_with("EHLO") || up.starts_with("HELO") {
                    b"250-sink\r\n250 OK\r\n"
                } else if up.starts_with("DATA") {
                    data = true;
                    b"354 go on\r\n"
                } else if up.starts_with("QUIT") {
                    let _ = w.write_all(b"221 bye\r\n");
                    break;
                } else {
                    b"250 OK\r\n"
                };
                let _ = w.write_all(reply);
            }
            let mut rest = Vec::new();
            let _ = r.read_to_end(&mut rest);
        }
    });
    (port, mails)
}

#[test]
fn fault_10_fix_sync_inserts_updates_skips_tombstones_and_mails() {
    let toml = "fix_sync = { notify_email = [\"ops@example.org\"] }";
    let Some(mut h) = H::new(
        "vn_f10",
        Gen {
            n: 80,
            ..Gen::default()
        },
        toml,
    ) else {
        return;
    };
    let (port, mails) = smtp_sink();
    h.extra_env
        .push(("SMTP_URL".into(), format!("smtp://127.0.0.1:{port}")));
    for s in ["src_vn_json", "src_vn_json_check"] {
        h.ok(&["visionature", "init-db", "--schema", s], 0);
        h.ok(&["visionature", "transfer", "--full", "--schema", s], 0);
    }
    h.exec(
        "DELETE FROM src_vn_json.observations_json WHERE id IN (1000, 1001, 1002);
         INSERT INTO src_vn_json.deleted_observations (site, id) VALUES ('ff', 1002);
         UPDATE src_vn_json.observations_json SET update_ts = update_ts - 10 WHERE id IN (1010, 1011);",
    );
    let t = h.ok(&["visionature", "fix-sync"], 0);
    assert!(t.contains("2 inserted, 2 updated, 0 deleted"), "{t}");
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observations_json WHERE id = 1002"),
        0,
        "tombstoned: not resurrected"
    );
    assert_eq!(
        h.n("SELECT count(*) FROM dbadmin.monitoring_vn_check_to_prod"),
        3
    );
    let mails = mails.lock().unwrap();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("Upsert missing data from visionature")
            && mails[0].contains("2 inserted"),
        "{}",
        mails[0]
    );
    // --dry-run counts and rolls back.
    drop(mails);
    h.exec("DELETE FROM src_vn_json.observations_json WHERE id = 1003");
    let t = h.ok(
        &[
            "visionature",
            "fix-sync",
            "--skip-download",
            "--dry-run",
            "--no-notify",
        ],
        0,
    );
    assert!(t.contains("1 inserted"), "{t}");
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observations_json WHERE id = 1003"),
        0
    );
    // A mail that cannot be sent → exit 1.
    h.extra_env = vec![("SMTP_URL".into(), "smtp://127.0.0.1:9".into())];
    h.ok(&["visionature", "fix-sync", "--skip-download"], 1);
}

#[test]
fn fault_11_fix_sync_refuses_different_site_names() {
    let Some(h) = H::new(
        "vn_f11",
        Gen {
            n: 20,
            ..Gen::default()
        },
        "",
    ) else {
        return;
    };
    for s in ["src_vn_json", "src_vn_json_check"] {
        h.ok(&["visionature", "init-db", "--schema", s], 0);
    }
    h.ok(&["visionature", "transfer", "--full"], 0);
    h.config("", "faune-france");
    h.ok(
        &[
            "visionature",
            "transfer",
            "--full",
            "--schema",
            "src_vn_json_check",
        ],
        0,
    );
    h.config("", "ff");
    let t = h.ok(&["visionature", "fix-sync", "--skip-download"], 2);
    assert!(t.contains("no common site"), "{t}");
    assert_eq!(
        h.n("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'dbadmin'"),
        0
    );
}

#[test]
fn check_probes_the_database_schema_and_each_site_in_one_signed_call() {
    let Some(mut h) = H::new(
        "vn_check",
        Gen {
            n: 10,
            ..Gen::default()
        },
        "",
    ) else {
        return;
    };
    let stores = tempfile::tempdir().unwrap();
    for store in ["misc", "ap", "am"] {
        h.extra_env.push((
            format!("DATA_TASKS_STORAGE_{}", store.to_uppercase()),
            format!("file://{}", stores.path().join(store).display()),
        ));
    }
    // Before init-db the database probe says what to run.
    let t = h.ok(&["check"], 2);
    assert!(
        t.contains("visionature database") && t.contains("visionature init-db"),
        "{t}"
    );
    assert!(t.contains("5 of 6 dependencies ok"), "{t}");
    h.ok(&["visionature", "init-db"], 0);
    let t = h.ok(&["check"], 0);
    assert!(t.contains("6 of 6 dependencies ok"), "{t}");
    assert!(
        t.contains("visionature site ff") && t.contains("signed call ok"),
        "{t}"
    );
    assert_eq!(
        h.fake.seen("observations").len(),
        0,
        "check downloads nothing"
    );

    // Wrong secret: refused, named, never echoed; a 503 is not retried.
    h.extra_env
        .push(("VN_FF_CLIENT_SECRET".into(), "another-secret".into()));
    let t = h.ok(&["check"], 2);
    assert!(
        t.contains("visionature site ff") && t.contains("401"),
        "{t}"
    );
    assert!(
        !t.contains("another-secret") && !t.contains("user-pw-secret"),
        "{t}"
    );
    h.extra_env.pop();
    let before = h.fake.seen("taxo_groups").len();
    h.fake
        .with(|s| s.faults.push(Fault::status("taxo_groups", 503, 5)));
    let t = h.ok(&["check"], 2);
    assert!(t.contains("503"), "{t}");
    assert_eq!(
        h.fake.seen("taxo_groups").len(),
        before + 1,
        "a single attempt"
    );
}

/// A config using only the `[visionature.http]` block (no old flat keys).
fn http_block_config(h: &H, http: &str) {
    let text = format!(
        "[visionature]\n[visionature.http]\n{http}\n[[visionature.site]]\nname = \"ff\"\nurl = \"{}\"\n",
        h.fake.url()
    );
    std::fs::write(h.dir.path().join("c.toml"), text).unwrap();
}

/// A `pagination_key` chunk whose body never ends: each attempt stops at the request deadline
/// (`visionature.http.timeout`), the chunk fails after its retries, and the run ends instead of
/// hanging with its lock held.
#[test]
fn a_trickling_chunk_ends_at_the_deadline_and_the_run_ends() {
    use std::time::{Duration, Instant};
    let Some(h) = H::initialised("vn_trickle", 60, "") else {
        return;
    };
    http_block_config(
        &h,
        "timeout = \"2s\"\nretries = 1\nretry_delay = \"10ms\"\nunavailable_delay = \"10ms\"",
    );
    h.fake.with(|s| {
        s.page_size = 5;
        s.faults.push(Fault::trickle(
            "pagination_key",
            Duration::from_millis(200),
            2,
        ));
    });
    let t = Instant::now();
    let out = h.run(&["visionature", "transfer", "--full"]);
    let took = t.elapsed();
    let text = common::text(&out);
    assert!(
        text.contains("no complete answer within 2s") && text.contains("visionature.http.timeout"),
        "{text}"
    );
    assert!(took < Duration::from_secs(40), "{took:?}");
    assert_ne!(out.status.code(), Some(0), "{text}");
    let running = h.n("SELECT count(*) FROM data_tasks.sync_run WHERE status = 'running'");
    assert_eq!(running, 0);
}

/// A 200 MiB answer is refused at `visionature.http.max_response_mib` while it arrives.
#[test]
fn a_huge_answer_is_refused_at_the_size_cap() {
    let Some(h) = H::initialised("vn_huge", 20, "") else {
        return;
    };
    http_block_config(
        &h,
        "retries = 0\nretry_delay = \"10ms\"\nmax_response_mib = 8",
    );
    h.fake
        .with(|s| s.faults.push(Fault::huge("taxo_groups", 200 << 20, 1)));
    let cfg = h.dir.path().join("c.toml");
    let (out, peak_kib) = common::data_tasks_peak_rss(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "visionature",
            "transfer",
            "--update",
        ],
        &h.env(),
    );
    let text = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("larger than the 8388608-byte limit")
            && text.contains("visionature.http.max_response_mib"),
        "{text}"
    );
    eprintln!("peak RSS with a 200 MiB chunked answer: {peak_kib} KiB");
    assert!(peak_kib < 150_000, "peak RSS {peak_kib} KiB");
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.observations_json"), 0);
}

/// Every site's credentials are read before anything is written: a second site without its
/// keys fails the command (exit 2) with no run row, no download.
#[test]
fn a_site_without_credentials_fails_before_any_write() {
    let Some(h) = H::initialised("vn_early", 20, "") else {
        return;
    };
    let text = format!(
        "[visionature]\nretry_delay = \"10ms\"\n[[visionature.site]]\nname = \"ff\"\nurl = \"{0}\"\n\
         [[visionature.site]]\nname = \"other\"\nurl = \"{0}\"\n",
        h.fake.url()
    );
    std::fs::write(h.dir.path().join("c.toml"), text).unwrap();
    let before = h.n("SELECT count(*) FROM data_tasks.sync_run");
    let t = h.ok(&["visionature", "transfer", "--full"], 2);
    assert!(t.contains("site other") && t.contains("VN_OTHER_"), "{t}");
    assert_eq!(h.n("SELECT count(*) FROM data_tasks.sync_run"), before);
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.observations_json"), 0);
    assert!(h.fake.seen("taxo_groups").is_empty(), "no request was sent");

    // The bookkeeping schema is refused as a data schema.
    let t = h.ok(
        &[
            "visionature",
            "transfer",
            "--update",
            "--schema",
            "data_tasks",
        ],
        2,
    );
    assert!(t.contains("bookkeeping"), "{t}");
}

/// Requests whose controller path is exactly `path` (`observers`, not `observations`).
fn requests(h: &H, path: &str) -> usize {
    h.fake
        .with(|s| s.seen.iter().filter(|r| r.path == path).count())
}

/// A digest of a table's rows, to show it untouched.
fn digest(h: &H, table: &str) -> String {
    h.db.client()
        .query_one(
            &format!("SELECT count(*)::text || ':' || coalesce(md5(string_agg(item::text, ',' ORDER BY id)), '') FROM src_vn_json.{table}"),
            &[],
        )
        .unwrap()
        .get(0)
}

#[test]
fn controllers_left_out_are_never_requested_and_their_tables_left_alone() {
    let Some(h) = H::initialised("vn_ctl", 60, "") else {
        return;
    };
    // Rows an earlier run (or another tool) left: they must stay as they are.
    h.exec("INSERT INTO src_vn_json.observers_json (id, site, id_universal, item) VALUES (77, 'ff', 7077, '{\"id\": \"77\", \"name\": \"Kept\"}');
            INSERT INTO src_vn_json.places_json (id, site, item) VALUES (9, 'ff', '{\"id\": \"9\", \"name\": \"Kept\"}')");
    let before: Vec<String> = ["observers_json", "places_json", "local_admin_units_json"]
        .iter()
        .map(|t| digest(&h, t))
        .collect();
    std::fs::write(
        h.dir.path().join("c.toml"),
        format!(
            "[visionature]\nretry_delay = \"10ms\"\n[[visionature.site]]\nname = \"ff\"\nurl = \"{}\"\n\
             controllers = [\"taxo_groups\", \"territorial_units\", \"species\", \"entities\", \"families\", \"validations\", \"fields\", \"observations\"]\n",
            h.fake.url()
        ),
    )
    .unwrap();
    h.fake.with(|s| s.record = true);
    h.ok(&["visionature", "transfer", "--full"], 0);
    h.ok(&["visionature", "transfer", "--update"], 0);
    for c in ["observers", "places", "local_admin_units"] {
        assert_eq!(requests(&h, c), 0, "{c} requested");
    }
    assert!(requests(&h, "species") > 0 && requests(&h, "entities") > 0);
    assert!(requests(&h, "observations/search") > 0);
    let after: Vec<String> = ["observers_json", "places_json", "local_admin_units_json"]
        .iter()
        .map(|t| digest(&h, t))
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.controller_state WHERE controller IN ('observers', 'places', 'local_admin_units')"),
        0
    );
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observations_json"),
        60
    );
    assert_eq!(h.n("SELECT count(*) FROM src_vn_json.species_json"), 10);
    // Without observations: the reference lists only, no search, no watermark moved.
    std::fs::write(
        h.dir.path().join("c.toml"),
        format!(
            "[visionature]\nretry_delay = \"10ms\"\n[[visionature.site]]\nname = \"ff\"\nurl = \"{}\"\ncontrollers = [\"taxo_groups\", \"entities\"]\n",
            h.fake.url()
        ),
    )
    .unwrap();
    h.fake.with(|s| s.seen.clear());
    h.ok(&["visionature", "transfer", "--full"], 0);
    assert_eq!(requests(&h, "observations/search"), 0);
    assert_eq!(requests(&h, "species"), 0);
    assert_eq!(requests(&h, "entities"), 1);
}

#[test]
fn a_refused_controller_names_the_setting_that_disables_it() {
    let Some(h) = H::initialised("vn_403", 30, "") else {
        return;
    };
    h.fake
        .with(|s| s.faults.push(Fault::status("observers", 403, 1000)));
    let one = |t: &str| t.matches("problem=ff: reference list observers").count();
    // [visionature] users.
    let t = h.ok(&["visionature", "transfer", "--full"], 1);
    assert!(
        t.contains("HTTP 403") && t.contains("visionature.site.controllers of site ff"),
        "{t}"
    );
    assert_eq!(one(&t), 1, "one problem for the controller: {t}");
    assert_eq!(
        h.n("SELECT count(*) FROM src_vn_json.observations_json"),
        30,
        "the rest went on"
    );
    // Client-API-VN 2.x YAML users.
    let (email, pw, key, secret) = h.fake.with(|s| {
        (
            s.email.clone(),
            s.pw.clone(),
            s.key.clone(),
            s.secret.clone(),
        )
    });
    let yaml = h.dir.path().join("evn.yaml");
    let write_yaml = |observers: bool| {
        std::fs::write(
            &yaml,
            format!(
                "controler:\n  observers:\n    enabled: {observers}\n    schedule:\n      hour: 6\n  places:\n    enabled: true\n\
site:\n  ff:\n    enabled: true\n    site: {}\n    user_email: {email}\n    user_pw: {pw}\n    client_key: {key}\n    client_secret: {secret}\n",
                h.fake.url()
            ),
        )
        .unwrap();
    };
    write_yaml(true);
    let y = yaml.to_str().unwrap();
    let t = h.ok(
        &["visionature", "--vn-config", y, "transfer", "--update"],
        1,
    );
    assert!(
        t.contains("HTTP 403")
            && t.contains("controler.observers.enabled: false in")
            && t.contains("evn.yaml"),
        "{t}"
    );
    write_yaml(false);
    h.fake.with(|s| {
        s.record = true;
        s.seen.clear();
    });
    let t = h.ok(&["visionature", "--vn-config", y, "transfer", "--full"], 0);
    assert!(!t.contains("HTTP 403"), "{t}");
    assert_eq!(requests(&h, "observers"), 0);
    // Client-API-VN 3.x TOML users.
    let toml = h.dir.path().join("evn_ff.toml");
    std::fs::write(
        &toml,
        format!(
            "[controler.observers]\nenabled = true\n[controler.observers.schedule]\nhour = 6\n\
[site]\nname = \"ff\"\nenabled = true\nsite_url = \"{}\"\nuser_email = \"{email}\"\n",
            h.fake.url()
        ),
    )
    .unwrap();
    let t = h.ok(
        &[
            "visionature",
            "--vn-config",
            toml.to_str().unwrap(),
            "transfer",
            "--update",
        ],
        1,
    );
    assert!(
        t.contains("HTTP 403")
            && t.contains("enabled = false in [controler.observers] of")
            && t.contains("evn_ff.toml"),
        "{t}"
    );
}
