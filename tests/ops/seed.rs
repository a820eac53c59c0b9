//! Seeded runs for the `status` and `dashboard` tests: `data_tasks.sync_run` (from
//! `run_log::schema_sql`) and the sync tables as docs/syncs/ defines them — gn2pg's `import_log`
//! and `error_log` in `gn2pg_lpo`, visionature's `download_log` in `src_vn_json`,
//! `dbadmin.monitoring_vn_check_to_prod` — filled relative to the server's `now()`, so ages are
//! stable whatever the time of the run. Also a read-only role with the GRANTs of docs/ops.md.
//!
//! The scopes and what `status` must say about them (default thresholds):
//! - gn2pg/lpo: 60 updates every 30 min (one skipped, one failed), last ok 10 min ago → fresh;
//! - gn2pg/flavia: last ok 5 h ago, then failures (login refused) → STALE (limit 1h 30m);
//! - visionature/ff: hourly, last ok 40 min ago, then a `running` row whose run died → fresh,
//!   the last run shown failed/abandoned;
//! - visionature/ff (fix-sync): weekly, last ok 3 days ago → fresh (limit 8d);
//! - ecospheres/public: daily, last ok 20 h ago → fresh (limit 1d 2h).
#![allow(dead_code)]

use postgres::Client;

/// The password the seeded read-only role's URL carries (trust auth ignores it; no page may show
/// it).
pub const RO_PASSWORD: &str = "Ro-pass-8c2f1e-never-shown";

pub const GN2PG_DDL: &str = "
CREATE SCHEMA gn2pg_lpo;
CREATE TABLE gn2pg_lpo.import_log (
    id serial PRIMARY KEY, source varchar NOT NULL, controler varchar NOT NULL, xfer_type varchar,
    xfer_status varchar, xfer_start_ts timestamp NOT NULL, xfer_end_ts timestamp,
    api_count_items int NOT NULL DEFAULT 0, api_count_errors int NOT NULL DEFAULT 0,
    data_count_upserts int NOT NULL DEFAULT 0, data_count_delete int NOT NULL DEFAULT 0,
    data_count_errors int NOT NULL DEFAULT 0, metadata_count_upserts int NOT NULL DEFAULT 0,
    metadata_count_errors int NOT NULL DEFAULT 0, xfer_filters jsonb DEFAULT '{}', comment text);
CREATE TABLE gn2pg_lpo.error_log (
    source varchar NOT NULL, uuid uuid NOT NULL, controler varchar NOT NULL,
    last_ts timestamp NOT NULL DEFAULT now(), item jsonb, error varchar,
    import_id int REFERENCES gn2pg_lpo.import_log ON DELETE CASCADE ON UPDATE CASCADE);
";

pub const VISIONATURE_DDL: &str = "
CREATE SCHEMA src_vn_json;
CREATE TABLE src_vn_json.download_log (
    id serial PRIMARY KEY, site varchar, controler varchar, download_ts timestamp DEFAULT now(),
    error_count int, http_status int, comment varchar, length bigint, duration bigint);
CREATE SCHEMA dbadmin;
CREATE TABLE dbadmin.monitoring_vn_check_to_prod (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, date timestamptz NOT NULL DEFAULT now(),
    action varchar NOT NULL, count int);
";

/// A `sync_run` row `ago_min` minutes ago lasting `secs` seconds.
#[allow(clippy::too_many_arguments)]
fn run(
    c: &mut Client,
    sync: &str,
    scope: &str,
    mode: &str,
    ago_min: f64,
    secs: f64,
    status: &str,
    counts: (i64, i64, i64, i64),
    error: Option<&str>,
) {
    let finished = status != "running";
    c.execute(
        "INSERT INTO data_tasks.sync_run (sync, scope, mode, started_at, finished_at, status, counts, error, version)
         VALUES ($1, $2, $3, now() - make_interval(secs => $4), 
                 CASE WHEN $5 THEN now() - make_interval(secs => $4) + make_interval(secs => $6) END,
                 $7, jsonb_build_object('fetched', $8::bigint, 'upserted', $9::bigint, 'deleted', $10::bigint,
                                        'errors', $11::bigint, 'http_retries', 0), $12, '0.1.0')",
        &[
            &sync,
            &scope,
            &mode,
            &(ago_min * 60.0),
            &finished,
            &secs,
            &status,
            &counts.0,
            &counts.1,
            &counts.2,
            &counts.3,
            &error,
        ],
    )
    .unwrap();
}

/// Creates `data_tasks.sync_run` and fills it (see the module doc).
pub fn runs(c: &mut Client) {
    for sql in data_tasks::pg::run_log::schema_sql() {
        c.batch_execute(&sql).unwrap();
    }
    // gn2pg/lpo: 60 updates, the newest 10 min ago; #5 (2 h ago) failed, #8 skipped.
    for i in (0..60).rev() {
        let ago = 10.0 + 30.0 * i as f64;
        let (status, error, counts) = match i {
            4 => (
                "failed",
                Some("page 3: HTTP 502 Bad Gateway after 5 retries"),
                (2000, 2000, 0, 0),
            ),
            7 => ("skipped", None, (0, 0, 0, 0)),
            _ => ("ok", None, (100 + i * 7, 100 + i * 7, i % 4, 0)),
        };
        let mode = if i == 59 { "full" } else { "update" };
        run(
            c,
            "gn2pg",
            "lpo",
            mode,
            ago,
            20.0 + i as f64,
            status,
            counts,
            error,
        );
    }
    // gn2pg/flavia: ok 5 h ago, then three failures.
    run(
        c,
        "gn2pg",
        "flavia",
        "update",
        300.0,
        42.0,
        "ok",
        (50, 50, 1, 0),
        None,
    );
    for ago in [210.0, 120.0, 30.0] {
        run(
            c,
            "gn2pg",
            "flavia",
            "update",
            ago,
            1.5,
            "failed",
            (0, 0, 0, 1),
            Some("login refused (HTTP 490): check GN2PG_FLAVIA_PASSWORD"),
        );
    }
    // visionature/ff: hourly; a partial run; the newest row is a dead `running` run.
    for i in (1..12).rev() {
        let status = if i == 3 { "partial" } else { "ok" };
        let error = (i == 3).then_some("taxo group 18: HTTP 401, skipped");
        run(
            c,
            "visionature",
            "ff",
            "update",
            40.0 + 60.0 * (i - 1) as f64,
            300.0,
            status,
            (1200, 1180, 5, if i == 3 { 1 } else { 0 }),
            error,
        );
    }
    run(
        c,
        "visionature",
        "ff",
        "update",
        8.0,
        0.0,
        "running",
        (0, 0, 0, 0),
        None,
    );
    // fix-sync: weekly, last 3 days ago.
    for week in [17.0, 10.0, 3.0] {
        run(
            c,
            "visionature",
            "ff",
            "fix-sync",
            week * 1440.0,
            1800.0,
            "ok",
            (4000, 10, 6, 0),
            None,
        );
    }
    // ecospheres: daily, last ended 20 h ago (a 2 h 20 min run).
    for day in [2.0, 1.0, 0.0] {
        run(
            c,
            "ecospheres",
            "public",
            "full",
            22.33 * 60.0 + day * 1440.0,
            8400.0,
            "ok",
            (24400, 24400, 0, 0),
            None,
        );
    }
}

/// The stored status and error of the newest visionature update (the dead `running` row).
pub fn newest_vn_update(c: &mut Client) -> (String, Option<String>) {
    let row = c
        .query_one(
            "SELECT status, error FROM data_tasks.sync_run WHERE sync = 'visionature' AND mode = 'update'
              ORDER BY started_at DESC LIMIT 1",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// Creates and fills the gn2pg, visionature and fix-sync tables.
pub fn sync_tables(c: &mut Client) {
    c.batch_execute(GN2PG_DDL).unwrap();
    c.batch_execute(VISIONATURE_DDL).unwrap();
    // gn2pg: lpo one full then updates; flavia failing lately.
    c.batch_execute(
        r#"
        INSERT INTO gn2pg_lpo.import_log (source, controler, xfer_type, xfer_status, xfer_start_ts, xfer_end_ts,
               api_count_items, data_count_upserts, data_count_delete, data_count_errors, xfer_filters, comment)
        SELECT 'lpo', 'data', CASE WHEN i = 12 THEN 'full' ELSE 'update' END, 'success',
               localtimestamp - make_interval(mins => 10 + 30 * i), localtimestamp - make_interval(mins => 10 + 30 * i) + interval '25 seconds',
               100 + i, 100 + i, i % 3, 0,
               jsonb_build_array('{"orderby": "id_synthese", "filter_d_up_derniere_action": "2026-01-01 00:00:00"}'), NULL
          FROM generate_series(0, 12) AS i;
        INSERT INTO gn2pg_lpo.import_log (source, controler, xfer_type, xfer_status, xfer_start_ts, xfer_end_ts,
               api_count_items, data_count_upserts, data_count_errors, comment)
        VALUES ('flavia', 'data', 'update', 'success', localtimestamp - interval '5 hours', localtimestamp - interval '5 hours' + interval '42 seconds', 50, 49, 1, NULL),
               ('flavia', 'data', 'update', 'failed', localtimestamp - interval '30 minutes', localtimestamp - interval '29 minutes', 0, 0, 0,
                'login refused (HTTP 490)');
        INSERT INTO gn2pg_lpo.error_log (source, uuid, controler, last_ts, item, error, import_id)
        SELECT 'flavia', '6f1c1d2e-0000-4000-8000-000000000001', 'data', localtimestamp - interval '5 hours',
               '{"id_synthese": 812, "cd_nom": 3764}', 'duplicate key value violates unique constraint "unique_uuid"', id
          FROM gn2pg_lpo.import_log WHERE source = 'flavia' AND xfer_status = 'success';
        "#,
    )
    .unwrap();
    // visionature: 20 good requests, 3 failures.
    c.batch_execute(
        "
        INSERT INTO src_vn_json.download_log (site, controler, download_ts, error_count, http_status, comment, length, duration)
        SELECT 'ff', 'observations', localtimestamp - make_interval(mins => 3 * i), 0, 200, NULL, 52000, 850000
          FROM generate_series(1, 20) AS i;
        INSERT INTO src_vn_json.download_log (site, controler, download_ts, error_count, http_status, comment, length, duration)
        VALUES ('ff', 'observations', localtimestamp - interval '70 minutes', 1, 500, 'id_sightings_list chunk 4: HTTP 500', 0, 1200000),
               ('ff', 'observations', localtimestamp - interval '2 days', 1, 401, 'taxo group 18: HTTP 401', 0, 90000),
               ('ff', 'places', localtimestamp - interval '3 days', 2, 503, 'unavailable', 0, 600000000);
        INSERT INTO dbadmin.monitoring_vn_check_to_prod (date, action, count)
        SELECT d, a, c FROM (VALUES (now() - interval '17 days', 'insert', 12), (now() - interval '17 days', 'update', 30),
                                   (now() - interval '17 days', 'delete', 0),
                                   (now() - interval '10 days', 'insert', 3), (now() - interval '10 days', 'update', 7),
                                   (now() - interval '10 days', 'delete', 1),
                                   (now() - interval '3 days', 'insert', 4), (now() - interval '3 days', 'update', 6),
                                   (now() - interval '3 days', 'delete', 0)) AS v(d, a, c);
        ",
    )
    .unwrap();
}

/// A login role of one test, dropped with its privileges on drop.
pub struct Role {
    pub name: String,
    /// Its URL (with a password, which the throwaway cluster's trust authentication ignores).
    pub url: String,
    db_url: String,
}

impl Drop for Role {
    fn drop(&mut self) {
        // Its database may be gone already (then so are the grants in it).
        if let Ok(mut c) = Client::connect(&self.db_url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP OWNED BY {}", self.name));
        }
        if let Some(admin) = testkit::pg::admin_url() {
            if let Ok(mut c) = Client::connect(&admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.name));
            }
        }
    }
}

/// Creates a read-only role (`<database>_ro<n>`: roles are cluster-wide, tests run in parallel)
/// with the GRANTs of docs/ops.md.
pub fn read_only_role(c: &mut Client, db_url: &str) -> Role {
    let db: String = c
        .query_one("SELECT current_database()", &[])
        .unwrap()
        .get(0);
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let role = format!("{db}_ro{n}");
    c.batch_execute(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD '{RO_PASSWORD}';
         GRANT CONNECT ON DATABASE {db} TO {role};
         GRANT USAGE ON SCHEMA data_tasks TO {role};
         GRANT SELECT ON data_tasks.sync_run TO {role};"
    ))
    .unwrap();
    let has_sync_tables: bool = c
        .query_one(
            "SELECT to_regclass('gn2pg_lpo.import_log') IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    if has_sync_tables {
        c.batch_execute(&format!(
            "GRANT USAGE ON SCHEMA gn2pg_lpo, src_vn_json, dbadmin TO {role};
             GRANT SELECT ON gn2pg_lpo.import_log, gn2pg_lpo.error_log TO {role};
             GRANT SELECT ON src_vn_json.download_log TO {role};
             GRANT SELECT ON dbadmin.monitoring_vn_check_to_prod TO {role};"
        ))
        .unwrap();
    }
    Role {
        url: with_user(db_url, &role, RO_PASSWORD),
        name: role,
        db_url: db_url.to_string(),
    }
}

/// `url` with its user info replaced.
pub fn with_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let rest = rest.split_once('@').map(|(_, r)| r).unwrap_or(rest);
    format!("{scheme}://{user}:{password}@{rest}")
}

/// The variables a test's child process must not inherit from the developer's shell.
pub const INHERITED: [&str; 4] = [
    "DATABASE_URL",
    "OPS_DATABASE_URL",
    "DASHBOARD_USER",
    "DASHBOARD_PASSWORD",
];

/// The data-tasks binary with exactly `env` for the variables it reads.
pub fn command(args: &[&str], env: &[(String, String)]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_data-tasks"));
    cmd.args(args).env("OMP_THREAD_LIMIT", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("DATA_TASKS_") || INHERITED.contains(&k.as_str()) {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// Runs the binary (see [`command`]) to its end.
pub fn data_tasks(args: &[&str], env: &[(String, String)]) -> std::process::Output {
    command(args, env).output().expect("cannot run data-tasks")
}

/// A value that looks like a secret and must never reach a page (the dashboard's own database
/// password, quoted by an error text).
pub const XSS: &str = "<script>alert(1)</script>";

/// The copies and error rows of the completeness and error-log pages, on top of
/// [`sync_tables`]: gn2pg's `data_json` (lpo: 118 rows of one data type; flavia: 49) and 61 more
/// `error_log` rows (lpo, import #13, one with an item holding [`XSS`] and an error quoting
/// [`RO_PASSWORD`]); a verify run per gn2pg source (lpo complete, flavia 3 rows missing);
/// visionature's `increment_log` (ff groups 1 and 2 current, group 3 five hours behind),
/// `controller_state` (places 2 days old, observers 4 days: past its 2 d default) and a
/// `count_log` of one count run (group 1 one below the remote count, within the tolerance; group
/// 2 seven below, beyond it: the run's one missing group). `role`, if any, may read
/// them.
pub fn copies_and_errors(c: &mut Client, role: Option<&str>) {
    c.batch_execute(
        "
        CREATE TABLE gn2pg_lpo.data_json (
            source varchar NOT NULL, controler varchar NOT NULL, type varchar NOT NULL, id_data int NOT NULL,
            uuid uuid, item jsonb NOT NULL, update_ts timestamp NOT NULL DEFAULT now(), import_id int NOT NULL);
        INSERT INTO gn2pg_lpo.data_json (source, controler, type, id_data, uuid, item, import_id)
        SELECT 'lpo', 'data', 'synthese_with_metadata', i, gen_random_uuid(), '{}', 13 FROM generate_series(1, 118) AS i;
        INSERT INTO gn2pg_lpo.data_json (source, controler, type, id_data, uuid, item, import_id)
        SELECT 'flavia', 'data', 'synthese_with_label', i, gen_random_uuid(), '{}', 14 FROM generate_series(1, 49) AS i;
        INSERT INTO gn2pg_lpo.error_log (source, uuid, controler, last_ts, item, error, import_id)
        SELECT 'lpo', ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'data',
               localtimestamp - make_interval(mins => 10 + i),
               jsonb_build_object('id_synthese', 1000 + i, 'observers', 'Obs ' || i, 'nested', jsonb_build_object('n', i)),
               'invalid input syntax for type integer: \"x' || i || '\" at line ' || i || E'\\nCONTEXT: row ' || i,
               13
          FROM generate_series(1, 60) AS i;
        CREATE SCHEMA IF NOT EXISTS src_vn_json;
        CREATE TABLE src_vn_json.increment_log (site varchar NOT NULL, taxo_group int NOT NULL, last_ts timestamp NOT NULL,
            PRIMARY KEY (site, taxo_group));
        INSERT INTO src_vn_json.increment_log VALUES
            ('ff', 1, localtimestamp - interval '40 minutes'), ('ff', 2, localtimestamp - interval '40 minutes'),
            ('ff', 3, localtimestamp - interval '5 hours');
        CREATE TABLE src_vn_json.controller_state (site varchar NOT NULL, controller varchar NOT NULL,
            last_success timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (site, controller));
        INSERT INTO src_vn_json.controller_state VALUES
            ('ff', 'places', now() - interval '2 days'), ('ff', 'observers', now() - interval '4 days');
        CREATE TABLE src_vn_json.count_log (site varchar NOT NULL, id_taxo_group int NOT NULL, local bigint,
            remote bigint, checked_at timestamptz NOT NULL, run_id bigint);
        INSERT INTO data_tasks.sync_run (sync, scope, mode, started_at, finished_at, status, counts, version)
        VALUES ('gn2pg', 'lpo', 'verify', now() - interval '2 hours', now() - interval '2 hours' + interval '1 minute', 'ok',
                '{\"remote_total\": 118, \"local_total\": 118}', '0.1.0'),
               ('gn2pg', 'flavia', 'verify', now() - interval '3 hours', now() - interval '3 hours' + interval '1 minute', 'ok',
                '{\"remote_total\": 52, \"local_total\": 49, \"missing\": 3}', '0.1.0'),
               ('visionature', 'ff', 'count', now() - interval '1 day', now() - interval '1 day' + interval '5 minutes', 'ok',
                '{\"remote_total\": 890, \"local_total\": 882, \"missing\": 1}', '0.1.0');
        INSERT INTO src_vn_json.count_log VALUES ('ff', 2, 300, 310, now() - interval '2 days', NULL);
        INSERT INTO src_vn_json.count_log
        SELECT site, g, l, r, now() - interval '1 day', (SELECT id FROM data_tasks.sync_run WHERE mode = 'count')
          FROM (VALUES ('ff', 1, 499::bigint, 500::bigint), ('ff', 2, 303::bigint, 310::bigint),
                       ('ff', 3, 80::bigint, 80::bigint)) AS v(site, g, l, r);
        ",
    )
    .unwrap();
    // One item a browser must show as text, and an error quoting the dashboard's password.
    c.execute(
        "UPDATE gn2pg_lpo.error_log SET item = jsonb_build_object('id_synthese', 1001, 'comment', $1::text),
                error = 'connection to postgresql://ro:' || $2::text || '@db/x refused; see ' || $1::text
          WHERE uuid = '00000000-0000-4000-8000-000000000001'",
        &[&XSS, &RO_PASSWORD],
    )
    .unwrap();
    if let Some(role) = role {
        c.batch_execute(&format!(
            "GRANT SELECT ON gn2pg_lpo.data_json TO {role};
             GRANT SELECT ON src_vn_json.increment_log, src_vn_json.controller_state, src_vn_json.count_log TO {role};"
        ))
        .unwrap();
    }
}
