//! Differential tests against the real gn2pg-client 1.10.1 (pinned, `.deps/gn2pg-venv`, made by
//! scripts/install-deps.sh): both tools run against the same fake GeoNature into two schemas of
//! one database, and the tables must hold the same things.
//!
//! - `init-db` creates what `gn2pg_cli db --upgrade` creates, and the client recognises it;
//! - `data_json` and `metadata_json` contents are equal after a full and after an update with
//!   changes, additions and deletions (the deliberate differences of docs/syncs/gn2pg.md do not
//!   arise on this data: no changed `id_perm_sinp`, no foreign UUID, no `jdd_data` without
//!   `ca_data`);
//! - `update` continues a history the client wrote;
//! - the kinds with a separate metadata export (`synthese_with_metadata_separated`,
//!   `metadata_only`): `data_json`, `metadata_json` and `import_log` equal after a full and after
//!   an update that follows a metadata edit;
//! - `update --since <date>` replays back-dated changes and deletions a plain update missed, as
//!   the client does.
//!
//! Compared: `data_json` (source, controler, type, id_data, uuid, item) and `metadata_json`
//! (source, controler, type, level, uuid, item) whole; `import_log` as `import_log_columns`
//! says. Left out everywhere: `update_ts`/`import_id` (times and each schema's own ids).
//!
//! Without the venv the tests are skipped, or fail under CI (`CI=true`).

mod common;
mod gn2pg_fake;
mod gn2pg_support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use gn2pg_fake::{Fake, Kind, Settings};
use gn2pg_support::{assert_exit, Harness, Src};

fn gn2pg_cli() -> Option<PathBuf> {
    let path = std::env::var_os("GN2PG_CLIENT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo().join(".deps/gn2pg-venv/bin/gn2pg_cli"));
    common::require(
        "gn2pg-client 1.10.1 (.deps/gn2pg-venv, made by scripts/install-deps.sh)",
        path.exists(),
    )
    .then_some(path)
}

/// The real client, with a HOME of its own (it reads `~/.gn2pg/<file>`).
struct Client {
    bin: PathBuf,
    home: tempfile::TempDir,
    tz: String,
}

impl Client {
    fn new(bin: PathBuf, tz: &str) -> Client {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".gn2pg")).unwrap();
        Client {
            bin,
            home,
            tz: tz.to_string(),
        }
    }

    /// Writes `~/.gn2pg/<file>` for `schema` and `fake`.
    fn config(&self, file: &str, h: &Harness, schema: &str, fake: &Fake, data_type: &str) {
        self.config_with(file, h, schema, fake, data_type, "");
    }

    /// [`Client::config`] with `extra` lines in the `[[source]]` table.
    fn config_with(
        &self,
        file: &str,
        h: &Harness,
        schema: &str,
        fake: &Fake,
        data_type: &str,
        extra: &str,
    ) {
        let s = fake.settings();
        let text = format!(
            r#"{db}
[[source]]
name = "LPO AuRA"
user_name = "{login}"
user_password = "{password}"
url = "{url}"
data_export_id = {export}
data_type = "{data_type}"
{extra}
[source.query_strings]
orderby = 'id_synthese'

[tuning]
max_page_length = 1000
retry_delay = 0
"#,
            db = h.client_db_section(schema, "unused-with-trust"),
            login = s.user,
            password = s.password,
            url = fake.url(),
            export = s.export_id,
        );
        std::fs::write(self.home.path().join(".gn2pg").join(file), text).unwrap();
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(&self.bin)
            .args(args)
            .env("HOME", self.home.path())
            .env("TZ", &self.tz)
            .env("NO_PROXY", "*")
            .output()
            .expect("run gn2pg_cli");
        assert!(
            out.status.success(),
            "gn2pg_cli {args:?}: {}",
            common::text(&out)
        );
        out
    }
}

/// Our config for `schema`, dates in `tz` (the client's naive local times).
fn config_in_tz(h: &Harness, schema: &str, tz: &str, srcs: &[Src<'_>]) -> PathBuf {
    let cfg = h.config("ours.toml", &format!("schema = \"{schema}\""), srcs);
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "source_timezone = \"UTC\"",
        &format!("source_timezone = \"{tz}\""),
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

fn server_tz(h: &Harness) -> String {
    h.text("SELECT current_setting('TimeZone')").unwrap()
}

fn data(
    h: &Harness,
    schema: &str,
) -> Vec<(
    String,
    String,
    String,
    i32,
    Option<String>,
    serde_json::Value,
)> {
    h.client()
        .query(
            &format!(
                "SELECT source::text, controler::text, type::text, id_data, uuid::text, item
                 FROM {schema}.data_json ORDER BY source, id_data"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

fn metadata(
    h: &Harness,
    schema: &str,
) -> Vec<(String, String, String, String, String, serde_json::Value)> {
    h.client()
        .query(
            &format!(
                "SELECT source::text, controler::text, type::text, level::text, uuid::text, item
                 FROM {schema}.metadata_json ORDER BY source, uuid"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

#[test]
fn init_db_matches_gn2pg_cli_db_upgrade_and_the_client_accepts_it() {
    let Some(bin) = gn2pg_cli() else { return };
    let Some(h) = Harness::new("gn2pg_diff_schema") else {
        return;
    };
    let f = Fake::start(Settings::default());
    let py = Client::new(bin, &server_tz(&h));
    py.config("py.toml", &h, "py_s", &f, "synthese_with_cd_nomenclature");
    py.run(&["db", "--upgrade", "py.toml"]);
    let srcs = vec![Src::new("LPO AuRA", &f)];
    let cfg = h.config("ours.toml", "schema = \"ours_s\"", &srcs);
    h.init(&cfg, &srcs);
    assert_eq!(
        h.catalog("ours_s", &["import_checkpoint"]),
        h.catalog("py_s", &[])
    );
    py.config(
        "ours.toml",
        &h,
        "ours_s",
        &f,
        "synthese_with_cd_nomenclature",
    );
    let status = py.run(&["db", "--status", "ours.toml"]);
    let text = common::text(&status);
    assert!(
        text.contains("Current revision: 20260903_03") && text.contains("Pending migrations: no"),
        "{text}"
    );
}

fn same_rows(kind: Kind, data_type: &str) {
    let Some(bin) = gn2pg_cli() else { return };
    let Some(h) = Harness::new("gn2pg_diff_rows") else {
        return;
    };
    let tz = server_tz(&h);
    let f = Fake::start(Settings {
        rows: 2500,
        kind,
        ..Settings::default()
    });
    let py = Client::new(bin, &tz);
    py.config("py.toml", &h, "py_s", &f, data_type);
    py.run(&["db", "--upgrade", "py.toml"]);
    let mut src = Src::new("LPO AuRA", &f);
    let extra = format!("data_type = \"{data_type}\"");
    src.extra = &extra;
    let srcs = vec![src];
    let cfg = config_in_tz(&h, "ours_s", &tz, &srcs);
    h.init(&cfg, &srcs);

    py.run(&["download", "--full", "py.toml"]);
    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
    assert_eq!(data(&h, "ours_s").len(), 2500);
    assert_eq!(
        data(&h, "ours_s"),
        data(&h, "py_s"),
        "data_json after a full"
    );
    assert_eq!(
        metadata(&h, "ours_s"),
        metadata(&h, "py_s"),
        "metadata_json after a full"
    );
    if kind == Kind::Metadata {
        assert!(metadata(&h, "ours_s").len() > 10);
    }

    let stamp = h.stamp(&tz, -1);
    f.mutate(10, 5, 7, 2, &stamp);
    std::thread::sleep(Duration::from_millis(1100));
    py.run(&["download", "--update", "py.toml"]);
    assert_exit(&h.run(&cfg, &["update"], &srcs), 0);
    assert_eq!(data(&h, "ours_s").len(), 2498);
    assert_eq!(
        data(&h, "ours_s"),
        data(&h, "py_s"),
        "data_json after an update"
    );
    assert_eq!(
        metadata(&h, "ours_s"),
        metadata(&h, "py_s"),
        "metadata_json after an update"
    );

    let ours = h.import_log("ours_s");
    let theirs = h.import_log("py_s");
    let shape = |l: &gn2pg_support::ImportLog| {
        (
            l.source.clone(),
            l.xfer_type.clone(),
            l.status.clone(),
            l.items,
            l.upserts,
            l.deletes,
            l.errors,
            l.ended,
        )
    };
    assert_eq!(
        ours.iter().map(shape).collect::<Vec<_>>(),
        theirs.iter().map(shape).collect::<Vec<_>>()
    );
    for l in ours.iter().chain(theirs.iter()) {
        let f = l.filters.as_ref().unwrap();
        assert!(f.is_array() && f[0].is_string(), "xfer_filters shape: {f}");
    }
}

#[test]
fn same_rows_as_gn2pg_client_with_metadata() {
    same_rows(Kind::Metadata, "synthese_with_metadata");
}

#[test]
fn same_rows_as_gn2pg_client_with_labels() {
    same_rows(Kind::Label, "synthese_with_label");
}

#[test]
fn update_continues_a_history_gn2pg_client_wrote() {
    let Some(bin) = gn2pg_cli() else { return };
    let Some(h) = Harness::new("gn2pg_diff_history") else {
        return;
    };
    let tz = server_tz(&h);
    let f = Fake::start(Settings {
        rows: 1200,
        ..Settings::default()
    });
    let py = Client::new(bin, &tz);
    py.config("py.toml", &h, "mig", &f, "synthese_with_cd_nomenclature");
    py.run(&["db", "--upgrade", "py.toml"]);
    py.run(&["download", "--full", "py.toml"]);
    let before = h.catalog("mig", &[]);
    let rows_before = data(&h, "mig");
    let srcs = vec![Src::new("LPO AuRA", &f)];
    let cfg = config_in_tz(&h, "mig", &tz, &srcs);
    h.init(&cfg, &srcs);
    assert_eq!(h.catalog("mig", &["import_checkpoint"]), before);
    assert_eq!(data(&h, "mig"), rows_before);

    let stamp = h.stamp(&tz, -1);
    f.mutate(10, 5, 7, 2, &stamp);
    std::thread::sleep(Duration::from_millis(1100));
    f.clear_requests();
    assert_exit(&h.run(&cfg, &["update"], &srcs), 0);
    let want: String = h
        .client()
        .query_one(
            "SELECT to_char(xfer_start_ts - interval '10 minutes', 'YYYY-MM-DD HH24:MI:SS')
             FROM mig.import_log WHERE xfer_status = 'success' ORDER BY id LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    let first = &f.export_pages()[0];
    assert_eq!(
        first.param("filter_d_up_derniere_action"),
        Some(want.as_str())
    );
    let rows = h.rows("mig", "lpo_aura");
    assert_eq!(rows.len(), f.ids().len());
    for (id, _, item) in rows {
        assert_eq!(Some(item), f.row(id as u64));
    }
    let last = h.import_log("mig").pop().unwrap();
    assert_eq!(
        (
            last.xfer_type.as_deref(),
            last.status.as_deref(),
            last.deletes
        ),
        (Some("update"), Some("success"), 7)
    );
}

/// The `import_log` columns both tools fill from the same events, per row in order: source,
/// controler, xfer_type, xfer_status, api_count_items, api_count_errors, data_count_upserts,
/// data_count_delete, data_count_errors, metadata_count_upserts, metadata_count_errors, comment,
/// whether xfer_end_ts is set, and — for `metadata_only`, whose runs send only `limit` —
/// xfer_filters. Left out: `id` (each schema's own sequence), `xfer_start_ts`/`xfer_end_ts`
/// (times of two different runs), and the data runs' `xfer_filters` (the parameters we send
/// differ by design: keyset paging and `orderby`, docs/syncs/gn2pg.md §10; their shape is
/// checked in `same_rows`).
#[allow(clippy::type_complexity)]
fn import_log_columns(
    h: &Harness,
    schema: &str,
    with_filters: bool,
) -> Vec<(
    String,
    String,
    Option<String>,
    Option<String>,
    [i32; 7],
    Option<String>,
    bool,
    Option<serde_json::Value>,
)> {
    h.client()
        .query(
            &format!(
                "SELECT source::text, controler::text, xfer_type::text, xfer_status::text,
                        api_count_items, api_count_errors, data_count_upserts, data_count_delete,
                        data_count_errors, metadata_count_upserts, metadata_count_errors, comment,
                        xfer_end_ts IS NOT NULL, xfer_filters
                 FROM {schema}.import_log ORDER BY id"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                [
                    r.get(4),
                    r.get(5),
                    r.get(6),
                    r.get(7),
                    r.get(8),
                    r.get(9),
                    r.get(10),
                ],
                r.get(11),
                r.get(12),
                with_filters.then(|| r.get(13)),
            )
        })
        .collect()
}

/// `metadata_json` rows a fake's metadata export makes: a framework each, plus their datasets.
fn metadata_rows_of(f: &Fake) -> usize {
    let n = f.settings().metadata_frameworks;
    (0..n)
        .map(|k| 1 + gn2pg_fake::datasets_of(k) as usize)
        .sum()
}

/// `synthese_with_metadata_separated` / `metadata_only`: the metadata export (two pages) read
/// before the data on a full and on an update, a metadata edit between the two.
fn same_rows_separated(data_type: &str) {
    let Some(bin) = gn2pg_cli() else { return };
    let Some(h) = Harness::new("gn2pg_diff_sep") else {
        return;
    };
    let tz = server_tz(&h);
    let f = Fake::start(Settings {
        rows: 2500,
        metadata_export_id: Some(31),
        metadata_frameworks: 1050,
        ..Settings::default()
    });
    let py = Client::new(bin, &tz);
    py.config_with(
        "py.toml",
        &h,
        "py_s",
        &f,
        data_type,
        "metadata_export_id = 31",
    );
    py.run(&["db", "--upgrade", "py.toml"]);
    let mut src = Src::new("LPO AuRA", &f);
    let extra = format!("data_type = \"{data_type}\"\nmetadata_export_id = 31");
    src.extra = &extra;
    let srcs = vec![src];
    let cfg = config_in_tz(&h, "ours_s", &tz, &srcs);
    h.init(&cfg, &srcs);
    let only = data_type == "metadata_only";

    py.run(&["download", "--full", "py.toml"]);
    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);
    assert_eq!(metadata(&h, "ours_s").len(), metadata_rows_of(&f));
    assert_eq!(data(&h, "ours_s").len(), if only { 0 } else { 2500 });
    assert_eq!(
        data(&h, "ours_s"),
        data(&h, "py_s"),
        "data_json after a full"
    );
    assert_eq!(
        metadata(&h, "ours_s"),
        metadata(&h, "py_s"),
        "metadata_json after a full"
    );
    assert_eq!(
        import_log_columns(&h, "ours_s", only),
        import_log_columns(&h, "py_s", only),
        "import_log after a full"
    );

    f.set_settings(|s| {
        s.metadata_version = 1;
        s.metadata_frameworks = 1510;
    });
    let stamp = h.stamp(&tz, -1);
    f.mutate(10, 5, 7, 2, &stamp);
    std::thread::sleep(Duration::from_millis(1100));
    py.run(&["download", "--update", "py.toml"]);
    f.clear_requests();
    assert_exit(&h.run(&cfg, &["update"], &srcs), 0);
    let metas = metadata(&h, "ours_s");
    assert_eq!(metas.len(), metadata_rows_of(&f));
    assert!(
        metas
            .iter()
            .any(|m| m.5.to_string().contains("Cadre d'acquisition 3 (v1)")),
        "the update re-read the metadata export"
    );
    assert_eq!(data(&h, "ours_s").len(), if only { 0 } else { 2498 });
    assert_eq!(
        data(&h, "ours_s"),
        data(&h, "py_s"),
        "data_json after an update"
    );
    assert_eq!(metas, metadata(&h, "py_s"), "metadata_json after an update");
    assert_eq!(
        import_log_columns(&h, "ours_s", only),
        import_log_columns(&h, "py_s", only),
        "import_log after an update"
    );
    // Our update read the whole metadata export (two pages) before any data page.
    let pages: Vec<bool> = f
        .export_pages()
        .iter()
        .map(|r| r.path.ends_with("/api/31"))
        .collect();
    assert_eq!(pages.iter().filter(|m| **m).count(), 2, "{pages:?}");
    if only {
        assert!(pages.iter().all(|m| *m), "{pages:?}");
    } else {
        let first_data = pages.iter().position(|m| !m).unwrap();
        assert_eq!(first_data, 2, "{pages:?}");
    }
}

#[test]
fn same_rows_as_gn2pg_client_with_metadata_separated() {
    same_rows_separated("synthese_with_metadata_separated");
}

#[test]
fn same_rows_as_gn2pg_client_with_metadata_only() {
    same_rows_separated("metadata_only");
}

/// `update --since`: changes and deletions the source back-dated before the last success (an
/// outage) are missed by a plain update, by both tools, and replayed by `--since` (a date, the
/// only form gn2pg-client 1.10.1 accepts), by both tools alike.
#[test]
fn update_since_replays_like_gn2pg_client() {
    let Some(bin) = gn2pg_cli() else { return };
    let Some(h) = Harness::new("gn2pg_diff_since") else {
        return;
    };
    let tz = server_tz(&h);
    let f = Fake::start(Settings {
        rows: 1500,
        ..Settings::default()
    });
    let py = Client::new(bin, &tz);
    py.config("py.toml", &h, "py_s", &f, "synthese_with_cd_nomenclature");
    py.run(&["db", "--upgrade", "py.toml"]);
    let srcs = vec![Src::new("LPO AuRA", &f)];
    let cfg = config_in_tz(&h, "ours_s", &tz, &srcs);
    h.init(&cfg, &srcs);
    py.run(&["download", "--full", "py.toml"]);
    assert_exit(&h.run(&cfg, &["full"], &srcs), 0);

    // Committed at the source now, stamped an hour back: behind both watermarks.
    let late = h.stamp(&tz, -3600);
    f.mutate(12, 4, 6, 1, &late);
    std::thread::sleep(Duration::from_millis(1100));
    py.run(&["download", "--update", "py.toml"]);
    assert_exit(&h.run(&cfg, &["update"], &srcs), 0);
    assert_eq!(data(&h, "ours_s"), data(&h, "py_s"));
    assert_ne!(
        h.rows("ours_s", "lpo_aura").len(),
        f.ids().len(),
        "a plain update misses back-dated rows"
    );

    let day = &late[..10];
    py.run(&["download", "--update", "--since", day, "py.toml"]);
    f.clear_requests();
    let out = h.run(&cfg, &["update", "--since", day], &srcs);
    assert_exit(&out, 0);
    assert_eq!(
        f.export_pages()[0].param("filter_d_up_derniere_action"),
        Some(format!("{day} 00:00:00").as_str())
    );
    let rows = h.rows("ours_s", "lpo_aura");
    assert_eq!(rows.len(), f.ids().len());
    for (id, _, item) in rows {
        assert_eq!(Some(item), f.row(id as u64));
    }
    assert_eq!(
        data(&h, "ours_s"),
        data(&h, "py_s"),
        "data_json after --since"
    );
    assert_eq!(
        import_log_columns(&h, "ours_s", false),
        import_log_columns(&h, "py_s", false),
        "import_log after --since"
    );

    // The replay's start is the new watermark: the next update starts there (minus the
    // overlap), not before.
    let want: String = h
        .client()
        .query_one(
            "SELECT to_char(xfer_start_ts - interval '10 minutes', 'YYYY-MM-DD HH24:MI:SS')
             FROM ours_s.import_log WHERE xfer_status = 'success' ORDER BY id DESC LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    f.clear_requests();
    assert_exit(&h.run(&cfg, &["update"], &srcs), 0);
    assert_eq!(
        f.export_pages()[0].param("filter_d_up_derniere_action"),
        Some(want.as_str())
    );
}
