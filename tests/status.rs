//! `data-tasks status` against a real PostgreSQL holding seeded runs (tests/ops/seed.rs): the
//! text and JSON reports, exit 0/1 by the thresholds and `--stale-after`, the abandoned rule
//! (marked when the role may, shown otherwise; a run holding its lock stays `running`), the
//! database variables, and the fatal cases.

mod common;
#[path = "ops/seed.rs"]
mod seed;

use common::{pg::TestDb, text};
use data_tasks::pg::run_log::{self, Begin, LockPolicy, RunCounts, RunStatus};
use data_tasks::pg::DbUrl;
use data_tasks::secrets::Secret;
use seed::data_tasks;

fn env(url: &str) -> Vec<(String, String)> {
    vec![("OPS_DATABASE_URL".to_string(), url.to_string())]
}

fn seeded(prefix: &str) -> Option<TestDb> {
    let db = TestDb::create(prefix)?;
    seed::runs(&mut db.client());
    Some(db)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn text_report_names_the_stale_scope_and_exits_1() {
    let Some(db) = seeded("ops_status_text") else {
        return;
    };
    // OPS_DATABASE_URL wins over DATABASE_URL.
    let mut vars = env(&db.url());
    vars.push((
        "DATABASE_URL".into(),
        "postgresql://nobody@127.0.0.1:1/none".into(),
    ));
    let out = data_tasks(&["status"], &vars);
    println!("{}", stdout(&out));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = stdout(&out);
    for scope in [
        "gn2pg/flavia",
        "gn2pg/lpo",
        "visionature/ff",
        "visionature/ff (fix-sync)",
        "ecospheres/public",
    ] {
        assert!(
            report.lines().any(|l| l.starts_with(&format!("{scope} "))),
            "{scope} missing:\n{report}"
        );
    }
    let block = |scope: &str| -> String {
        report
            .split("\n\n")
            .find(|b| b.starts_with(&format!("{scope} ")))
            .unwrap_or_else(|| panic!("no block for {scope}"))
            .to_string()
    };
    let flavia = block("gn2pg/flavia");
    assert!(flavia.contains("STALE (limit 1h 30m)"), "{flavia}");
    assert!(
        flavia.contains("error         login refused (HTTP 490)"),
        "{flavia}"
    );
    assert!(
        flavia.contains("last 24 h     4 runs, 3 failed or partial"),
        "{flavia}"
    );
    let lpo = block("gn2pg/lpo");
    assert!(lpo.contains("fresh (limit 1h 30m)"), "{lpo}");
    assert!(lpo.contains("last success  this run, "), "{lpo}");
    // The dead `running` row is marked by the abandoned rule before the report.
    let ff = block("visionature/ff");
    assert!(ff.contains("update failed"), "{ff}");
    assert!(ff.contains("error         abandoned"), "{ff}");
    assert!(ff.contains("fresh (limit 3h)"), "{ff}");
    assert!(block("visionature/ff (fix-sync)").contains("fresh (limit 8d)"));
    assert!(block("ecospheres/public").contains("fresh (limit 1d 2h)"));
    let last = report.trim_end().lines().last().unwrap();
    assert!(
        last == "status: 1 of 5 scopes stale: gn2pg/flavia (last success 4h 59m ago, limit 1h 30m)",
        "{last}"
    );
    assert_eq!(
        seed::newest_vn_update(&mut db.client()),
        ("failed".into(), Some("abandoned".into()))
    );
}

#[test]
fn json_report_and_overrides() {
    let Some(db) = seeded("ops_status_json") else {
        return;
    };
    let out = data_tasks(
        &[
            "status",
            "--format",
            "json",
            "--stale-after",
            "gn2pg:fla*=off",
            "--stale-after",
            "ecospheres=10h",
        ],
        &env(&db.url()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {}", text(&out)));
    assert_eq!(v["ok"], false);
    let scopes = v["scopes"].as_array().unwrap();
    assert_eq!(scopes.len(), 5);
    let get = |scope: &str, kind: &str| {
        scopes
            .iter()
            .find(|s| s["scope"] == scope && s["kind"] == kind)
            .unwrap_or_else(|| panic!("{scope}/{kind}: {v}"))
    };
    let flavia = get("flavia", "");
    assert_eq!(flavia["state"], "unchecked");
    assert_eq!(flavia["stale_after_s"], serde_json::Value::Null);
    assert_eq!(flavia["last_run"]["status"], "failed");
    let eco = get("public", "");
    assert_eq!(eco["state"], "stale");
    assert_eq!(eco["stale_after_s"], 36_000);
    assert!(
        eco["reason"].as_str().unwrap().contains("limit 10h"),
        "{eco}"
    );
    let fix = get("ff", "fix-sync");
    assert_eq!(fix["track"], "fix-sync");
    assert_eq!(fix["state"], "fresh");
    let age = fix["last_success"]["age_s"].as_f64().unwrap();
    assert!((2.9 * 86_400.0..3.0 * 86_400.0).contains(&age), "{age}");
    let lpo = get("lpo", "");
    assert_eq!(lpo["last_run"]["counts"]["upserted"], 100);
    assert_eq!(lpo["runs_24h"], 48);
    assert_eq!(lpo["failed_24h"], 1);
    assert!(lpo["last_run"]["started_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    // Everything fresh → exit 0.
    let out = data_tasks(
        &["status", "--stale-after", "gn2pg:flavia=off"],
        &env(&db.url()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(stdout(&out).contains("status: ok, 5 scopes fresh or unchecked"));

    // A malformed rule is a usage error.
    let out = data_tasks(&["status", "--stale-after", "gn2pg=soon"], &env(&db.url()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--stale-after"), "{}", text(&out));
}

#[test]
fn a_run_holding_its_lock_stays_running() {
    let Some(db) = TestDb::create("ops_status_lock") else {
        return;
    };
    let url = DbUrl::parse("TEST", Secret::new(db.url())).unwrap();
    let mut c = url.connect().unwrap();
    for sql in run_log::schema_sql() {
        c.batch_execute(&sql).unwrap();
    }
    // hashtext() of these keys is positive for lpo, negative for flavia: both halves of the
    // bigint lock key must match pg_locks.
    let begin = |scope: &str| match run_log::begin(&url, "gn2pg", scope, "update", LockPolicy::Try)
        .unwrap()
    {
        Begin::Run(live) => live,
        Begin::Skipped => panic!("lock of {scope} not taken"),
    };
    let (lpo, flavia) = (begin("lpo"), begin("flavia"));
    // A dead run: `running`, nobody holds its lock.
    c.batch_execute(
        "INSERT INTO data_tasks.sync_run (sync, scope, mode, status) VALUES ('ecospheres', 'public', 'full', 'running')",
    )
    .unwrap();
    let scopes = |url: &str| -> Vec<serde_json::Value> {
        let out = data_tasks(&["status", "--format", "json"], &env(url));
        // Never succeeded → stale.
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        v["scopes"].as_array().unwrap().clone()
    };
    let state = |scopes: &[serde_json::Value], scope: &str| {
        let s = scopes.iter().find(|s| s["scope"] == scope).unwrap();
        assert_eq!(s["reason"], "never succeeded");
        (
            s["last_run"]["status"].as_str().unwrap().to_string(),
            s["last_run"]["abandoned"].as_bool().unwrap(),
        )
    };
    // Read only (no marking): found through pg_locks.
    let ro = seed::read_only_role(&mut db.client(), &db.url());
    let seen = scopes(&ro.url);
    assert_eq!(state(&seen, "lpo"), ("running".into(), false));
    assert_eq!(state(&seen, "flavia"), ("running".into(), false));
    assert_eq!(state(&seen, "public"), ("failed".into(), true));
    // With the right to mark: only the dead run is marked.
    let seen = scopes(&db.url());
    assert_eq!(state(&seen, "lpo"), ("running".into(), false));
    assert_eq!(state(&seen, "flavia"), ("running".into(), false));
    assert_eq!(state(&seen, "public"), ("failed".into(), false));
    let running: i64 = c
        .query_one(
            "SELECT count(*) FROM data_tasks.sync_run WHERE status = 'running'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(running, 2);
    for live in [lpo, flavia] {
        live.finish(RunStatus::Ok, &RunCounts::default(), None)
            .unwrap();
    }
    let out = data_tasks(
        &["status", "--stale-after", "ecospheres=off"],
        &env(&db.url()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_read_only_role_shows_abandoned_runs_without_marking_them() {
    let Some(db) = seeded("ops_status_ro") else {
        return;
    };
    let ro = seed::read_only_role(&mut db.client(), &db.url());
    let out = data_tasks(&["status", "--format", "json"], &env(&ro.url));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("may not update data_tasks.sync_run"),
        "{}",
        text(&out)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ff = v["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"] == "ff" && s["kind"] == "")
        .unwrap();
    assert_eq!(ff["last_run"]["status"], "failed");
    assert_eq!(ff["last_run"]["abandoned"], true);
    assert_eq!(ff["last_run"]["error"], "abandoned");
    assert_eq!(
        seed::newest_vn_update(&mut db.client()).0,
        "running",
        "a read-only role wrote"
    );
    assert!(!text(&out).contains(seed::RO_PASSWORD));

    // The probe role of docs/ops.md: SELECT plus UPDATE of the three columns the rule writes.
    let probe = seed::read_only_role(&mut db.client(), &db.url());
    db.client()
        .batch_execute(&format!(
            "GRANT UPDATE (status, error, finished_at) ON data_tasks.sync_run TO {}",
            probe.name
        ))
        .unwrap();
    let out = data_tasks(&["status"], &env(&probe.url));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains("may not update"), "{}", text(&out));
    assert_eq!(
        seed::newest_vn_update(&mut db.client()),
        ("failed".into(), Some("abandoned".into()))
    );
}

#[test]
fn no_table_is_fatal_and_no_run_is_stale() {
    let Some(db) = TestDb::create("ops_status_empty") else {
        return;
    };
    let out = data_tasks(&["status"], &env(&db.url()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("data_tasks.sync_run does not exist"),
        "{}",
        text(&out)
    );
    for sql in run_log::schema_sql() {
        db.client().batch_execute(&sql).unwrap();
    }
    let out = data_tasks(&["status"], &env(&db.url()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stdout(&out).contains("no run recorded"), "{}", text(&out));

    let out = data_tasks(&["status"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("OPS_DATABASE_URL or DATABASE_URL"),
        "{}",
        text(&out)
    );
    // An unreachable server: the error names it, never the password.
    let out = data_tasks(
        &["status"],
        &env("postgresql://ops:Pw-unreachable-77@127.0.0.1:1/x"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("127.0.0.1:1/x"), "{}", text(&out));
    assert!(!text(&out).contains("Pw-unreachable-77"), "{}", text(&out));
}

/// A `running` row past the time limit it recorded (`max_run_s`) is flagged hung while its lock
/// is still held — the case where a run cannot stop itself — and `status` exits 1.
#[test]
fn a_running_row_past_its_time_limit_is_flagged_hung_while_its_lock_is_held() {
    let Some(db) = TestDb::create("ops_status_hung") else {
        return;
    };
    let url = DbUrl::parse("TEST", Secret::new(db.url())).unwrap();
    let mut c = db.client();
    for sql in run_log::schema_sql() {
        c.batch_execute(&sql).unwrap();
    }
    let mut live = match run_log::begin(&url, "gn2pg", "lpo", "full", LockPolicy::Try).unwrap() {
        Begin::Run(live) => live,
        Begin::Skipped => panic!("lock not taken"),
    };
    live.set_max_run(std::time::Duration::from_secs(60))
        .unwrap();
    let mut limit = |secs: i64| {
        c.execute(
            "UPDATE data_tasks.sync_run SET started_at = now() - make_interval(secs => $1) WHERE id = $2",
            &[&(secs as f64), &live.id],
        )
        .unwrap();
    };
    // Within its limit: running, not hung (never succeeded, hence stale, but not hung).
    limit(30);
    let out = data_tasks(&["status", "--stale-after", "gn2pg=off"], &env(&db.url()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!stdout(&out).contains("hung"), "{}", stdout(&out));
    // Past it, the lock still held: hung, exit 1, in text and JSON.
    limit(3 * 3600);
    let out = data_tasks(&["status", "--stale-after", "gn2pg=off"], &env(&db.url()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = stdout(&out);
    assert!(
        report.contains("hung: run") && report.contains("past its limit of 1m (max_run)"),
        "{report}"
    );
    let out = data_tasks(
        &["status", "--format", "json", "--stale-after", "gn2pg=off"],
        &env(&db.url()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json = stdout(&out);
    assert!(
        json.contains("\"max_run_s\"") && json.contains("hung: run"),
        "{json}"
    );
    live.finish(RunStatus::Failed, &RunCounts::default(), Some("stopped"))
        .unwrap();
}

#[test]
fn secrets_can_be_given_as_files() {
    let Some(db) = seeded("ops_status_secret_files") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ops_database_url");
    std::fs::write(&file, format!("{}\n", db.url())).unwrap();
    let path = file.display().to_string();

    // The URL read from the file, its trailing newline stripped.
    let vars = vec![("OPS_DATABASE_URL_FILE".to_string(), path.clone())];
    let out = data_tasks(&["status", "--format", "json"], &vars);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(!v["scopes"].as_array().unwrap().is_empty());

    // Both set: fatal, naming both.
    let mut both = vars.clone();
    both.push(("OPS_DATABASE_URL".into(), db.url()));
    let out = data_tasks(&["status"], &both);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("OPS_DATABASE_URL and OPS_DATABASE_URL_FILE are both set"),
        "{}",
        text(&out)
    );

    // An unreadable file: fatal, naming the variable and the path, never a content.
    let secret_dir = dir.path().join("not-a-file");
    std::fs::create_dir(&secret_dir).unwrap();
    let absent = dir.path().join("absent");
    for bad in [&absent, &secret_dir] {
        let vars = vec![(
            "DASHBOARD_PASSWORD_FILE".to_string(),
            bad.display().to_string(),
        )];
        let out = data_tasks(&["status"], &vars);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let t = text(&out);
        assert!(
            t.contains(&format!(
                "DASHBOARD_PASSWORD_FILE: cannot read the secret file {}",
                bad.display()
            )),
            "{t}"
        );
    }

    // `check` says which secrets came from files, never their values.
    let pw = dir.path().join("slack");
    std::fs::write(&pw, "https://hooks.example.invalid/T0/B0/Sl4ck-s3cret\n").unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[storage]\nmisc = \"file://{0}/misc\"\nap = \"file://{0}/ap\"\nam = \"file://{0}/am\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let vars = vec![(
        "SLACK_WEBHOOK_URL_FILE".to_string(),
        pw.display().to_string(),
    )];
    let out = data_tasks(&["--config", &cfg.display().to_string(), "check"], &vars);
    let t = text(&out);
    assert!(t.contains("secrets from files: SLACK_WEBHOOK_URL"), "{t}");
    assert!(!t.contains("Sl4ck-s3cret"), "{t}");
}

#[test]
fn copies_incomplete_or_lagging_fail_the_probe() {
    let Some(db) = TestDb::create("ops_status_copies") else {
        return;
    };
    let mut c = db.client();
    for sql in run_log::schema_sql() {
        c.batch_execute(&sql).unwrap();
    }
    seed::sync_tables(&mut c);
    seed::copies_and_errors(&mut c, None);
    // The only data run is fresh: what fails is the copies.
    c.batch_execute(
        "INSERT INTO data_tasks.sync_run (sync, scope, mode, started_at, finished_at, status, counts, version)
         VALUES ('gn2pg', 'lpo', 'update', now() - interval '10 minutes', now() - interval '9 minutes', 'ok', '{}', '0.1.0')",
    )
    .unwrap();
    let out = data_tasks(&["status"], &env(&db.url()));
    let report = stdout(&out);
    println!("{report}");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let line = |label: &str| -> String {
        report
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{label} ")))
            .unwrap_or_else(|| panic!("no line for {label}:\n{report}"))
            .to_string()
    };
    let lpo = line("gn2pg/lpo/synthese_with_metadata");
    assert!(
        lpo.contains("fresh; stored 118 of 118 (verify run #"),
        "{lpo}"
    );
    let flavia = line("gn2pg/flavia/synthese_with_label");
    assert!(
        flavia.contains("STALE (incomplete: 3 rows missing)"),
        "{flavia}"
    );
    assert!(flavia.contains("stored 49 of 52"), "{flavia}");
    let g2 = line("visionature/ff/2");
    assert!(
        g2.contains("STALE (incomplete: 7 below the remote count)"),
        "{g2}"
    );
    assert!(g2.contains("stored 303 of 310"), "{g2}");
    let g3 = line("visionature/ff/3");
    assert!(g3.contains("STALE (watermark 5h"), "{g3}");
    assert!(g3.contains("limit 3h"), "{g3}");
    // One below the remote count, but not one of the run's groups past its tolerance.
    let g1 = line("visionature/ff/1");
    assert!(g1.contains("fresh; stored 499 of 500"), "{g1}");
    assert!(g1.contains("within the tolerance"), "{g1}");
    assert!(line("visionature/ff/observers").contains("STALE (last download 4d"));
    assert!(line("visionature/ff/places").contains("fresh"));
    let headline = report.lines().last().unwrap();
    assert!(
        headline.contains("4 of 7 copies incomplete or lagging"),
        "{headline}"
    );

    // JSON: the same, per copy.
    let out = data_tasks(&["status", "--format", "json"], &env(&db.url()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["ok"], false);
    let copies = v["copies"].as_array().unwrap();
    let g3 = copies
        .iter()
        .find(|c| c["scope"] == "ff" && c["part"] == "3")
        .unwrap();
    assert_eq!(g3["kind"], "taxo group");
    assert_eq!(g3["track"], "watermark");
    assert_eq!(g3["stale_after_s"], 10800);
    assert_eq!(g3["state"], "stale");
    assert!(g3["age_s"].as_f64().unwrap() > 4.9 * 3600.0);
    let fl = copies.iter().find(|c| c["scope"] == "flavia").unwrap();
    assert_eq!(fl["remote"], 52);
    assert_eq!(fl["stored"], 49);
    assert_eq!(fl["missing"], 3);

    // Lags allowed by the operator, the copies still incomplete: still 1.
    let lax = [
        "status",
        "--stale-after",
        "watermark=6h",
        "--stale-after",
        "reference=off",
    ];
    let out = data_tasks(&lax, &env(&db.url()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stdout(&out).contains("2 of 7 copies incomplete or lagging"),
        "{}",
        stdout(&out)
    );

    // Complete again (a newer verify, a newer count): 0.
    c.batch_execute(
        "INSERT INTO data_tasks.sync_run (sync, scope, mode, started_at, finished_at, status, counts, version)
         VALUES ('gn2pg', 'flavia', 'verify', now() - interval '1 minute', now(), 'ok',
                 '{\"remote_total\": 52, \"local_total\": 52, \"missing\": 3, \"repaired\": 3}', '0.1.0');
         INSERT INTO src_vn_json.count_log VALUES ('ff', 2, 310, 310, now(), NULL);",
    )
    .unwrap();
    let out = data_tasks(&lax, &env(&db.url()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        stdout(&out).contains("check 3 rows repaired"),
        "{}",
        stdout(&out)
    );
}
