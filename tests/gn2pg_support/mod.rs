//! Harness of the gn2pg integration tests: a database per test, fake GeoNatures, a config file
//! written per test, the binary run with an explicit environment, and catalog snapshots to
//! compare schemas.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use postgres::{Client, NoTls};

use super::common::{self, pg::TestDb};
use super::gn2pg_fake::Fake;

pub struct Harness {
    pub db: TestDb,
    pub dir: tempfile::TempDir,
}

/// One `[[gn2pg.source]]` of a test config.
pub struct Src<'a> {
    pub name: &'a str,
    pub fake: &'a Fake,
    /// Extra TOML lines of the table (e.g. `data_type = "synthese_with_metadata"`).
    pub extra: &'a str,
    /// The password put in the environment (`None`: the fake's).
    pub password: Option<&'a str>,
}

impl<'a> Src<'a> {
    pub fn new(name: &'a str, fake: &'a Fake) -> Src<'a> {
        Src {
            name,
            fake,
            extra: "",
            password: None,
        }
    }
}

/// The test defaults: short delays, UTC dates.
pub const SECTION: &str = r#"
source_timezone = "UTC"
retry_delay = "20ms"
retry_delay_cap = "200ms"
max_retry = 3
http_timeout = "3s"
http_connect_timeout = "2s"
"#;

pub fn std_name(name: &str) -> String {
    data_tasks::syncs::gn2pg::config::std_name(name)
}

impl Harness {
    pub fn new(prefix: &str) -> Option<Harness> {
        let db = TestDb::create(prefix)?;
        Some(Harness {
            db,
            dir: tempfile::tempdir().unwrap(),
        })
    }

    pub fn url(&self) -> String {
        self.db.url()
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.url(), NoTls).unwrap()
    }

    /// Writes a config with `[gn2pg]` = [`SECTION`] + `section` and the sources.
    pub fn config(&self, file: &str, section: &str, sources: &[Src<'_>]) -> PathBuf {
        let mut text = format!("[gn2pg]\n{SECTION}\n{section}\n");
        for s in sources {
            text.push_str(&format!(
                "[[gn2pg.source]]\nname = {:?}\nurl = {:?}\ndata_export_id = {}\nuser_name = {:?}\n{}\n",
                s.name,
                s.fake.url(),
                s.fake.settings().export_id,
                s.fake.settings().user,
                s.extra
            ));
        }
        let path = self.dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The environment of a run: the database and every source's password.
    pub fn env(&self, sources: &[Src<'_>]) -> Vec<(String, String)> {
        let mut env = vec![("GN2PG_DATABASE_URL".to_string(), self.url())];
        for s in sources {
            let pw = s
                .password
                .map(str::to_string)
                .unwrap_or_else(|| s.fake.settings().password);
            env.push((
                format!("GN2PG_{}_PASSWORD", std_name(s.name).to_uppercase()),
                pw,
            ));
        }
        env
    }

    /// Runs `data-tasks --config <cfg> gn2pg <args>`.
    pub fn run(&self, cfg: &Path, args: &[&str], sources: &[Src<'_>]) -> Output {
        let mut all = vec!["--config", cfg.to_str().unwrap(), "gn2pg"];
        all.extend_from_slice(args);
        common::data_tasks(&all, &self.env(sources))
    }

    /// The `[db]` table of a gn2pg-client file pointing at this database.
    pub fn client_db_section(&self, schema: &str, password: &str) -> String {
        let url = url::Url::parse(&self.url()).unwrap();
        format!(
            "[db]\ndb_host = {:?}\ndb_port = {}\ndb_user = {:?}\ndb_password = {password:?}\n\
             db_name = {:?}\ndb_schema_import = {schema:?}\n",
            url.host_str().unwrap(),
            url.port().unwrap_or(5432),
            url.username(),
            url.path().trim_start_matches('/'),
        )
    }

    /// `init-db` then asserts success.
    pub fn init(&self, cfg: &Path, sources: &[Src<'_>]) {
        let out = self.run(cfg, &["init-db"], sources);
        assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
    }

    pub fn i64(&self, sql: &str) -> i64 {
        self.client().query_one(sql, &[]).unwrap().get(0)
    }

    pub fn text(&self, sql: &str) -> Option<String> {
        self.client().query_one(sql, &[]).unwrap().get(0)
    }

    /// `now()` in `tz` as GeoNature writes `derniere_action` (plus `secs`).
    pub fn stamp(&self, tz: &str, secs: i64) -> String {
        self.client()
            .query_one(
                "SELECT to_char((now() + make_interval(secs => $2)) AT TIME ZONE $1, 'YYYY-MM-DD HH24:MI:SS')",
                &[&tz, &(secs as f64)],
            )
            .unwrap()
            .get(0)
    }

    /// `(id_data, uuid, item)` of a schema's `data_json` for `source`, sorted.
    pub fn rows(
        &self,
        schema: &str,
        source: &str,
    ) -> Vec<(i32, Option<String>, serde_json::Value)> {
        self.client()
            .query(
                &format!(
                    "SELECT id_data, uuid::text, item FROM {schema}.data_json WHERE source = $1 ORDER BY id_data"
                ),
                &[&source],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }

    /// `(status, xfer_type, counts…, comment)` of a schema's import_log rows, in order.
    pub fn import_log(&self, schema: &str) -> Vec<ImportLog> {
        self.client()
            .query(
                &format!(
                    "SELECT id, source, xfer_type, xfer_status, api_count_items, data_count_upserts,
                            data_count_delete, data_count_errors, xfer_filters, comment,
                            xfer_start_ts::text, xfer_end_ts IS NOT NULL
                     FROM {schema}.import_log ORDER BY id"
                ),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| ImportLog {
                id: r.get(0),
                source: r.get(1),
                xfer_type: r.get(2),
                status: r.get(3),
                items: r.get(4),
                upserts: r.get(5),
                deletes: r.get(6),
                errors: r.get(7),
                filters: r.get(8),
                comment: r.get(9),
                start: r.get(10),
                ended: r.get(11),
            })
            .collect()
    }

    /// `(status, counts, error)` of the `sync_run` rows, in order.
    pub fn sync_runs(&self) -> Vec<(String, String, serde_json::Value, Option<String>)> {
        self.client()
            .query(
                "SELECT scope, status, counts, error FROM data_tasks.sync_run ORDER BY id",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect()
    }

    /// Loads a captured gn2pg-client DDL (`testdata/gn2pg/<file>`) as `schema`.
    pub fn load_ddl(&self, file: &str, schema: &str) {
        let sql =
            std::fs::read_to_string(common::repo().join("testdata/gn2pg").join(file)).unwrap();
        self.client()
            .batch_execute(&sql.replace("gn2pg_import", schema))
            .unwrap();
    }

    /// The catalog of `schema` (columns, constraints, indexes, sequences, Alembic revision)
    /// with the schema's name replaced by `S`, minus the tables in `skip`.
    pub fn catalog(&self, schema: &str, skip: &[&str]) -> Vec<String> {
        let mut c = self.client();
        // Each query returns text columns, the first one being the table.
        let queries = [
            (
                "column",
                "SELECT table_name::text, column_name::text, data_type::text,
                    coalesce(character_maximum_length, 0)::text, is_nullable::text,
                    coalesce(column_default, '')::text, ordinal_position::text
             FROM information_schema.columns WHERE table_schema = $1 ORDER BY 1, ordinal_position",
            ),
            (
                "constraint",
                "SELECT t.relname::text, c.conname::text, pg_get_constraintdef(c.oid)
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = $1 ORDER BY 1, 2",
            ),
            (
                "index",
                "SELECT tablename::text, indexname::text, indexdef
             FROM pg_indexes WHERE schemaname = $1 ORDER BY 1, 2",
            ),
            (
                "sequence",
                "SELECT sequence_name::text, data_type::text, start_value::text, increment::text
             FROM information_schema.sequences WHERE sequence_schema = $1 ORDER BY 1",
            ),
        ];
        let mut out = Vec::new();
        for (kind, sql) in queries {
            for r in c.query(sql, &[&schema]).unwrap() {
                let cols: Vec<String> = (0..r.len()).map(|i| r.get::<_, String>(i)).collect();
                if kind != "sequence" && skip.contains(&cols[0].as_str()) {
                    continue;
                }
                out.push(format!("{kind} {}", cols.join(" ")).replace(schema, "S"));
            }
        }
        if skip.contains(&"alembic_version") {
            return out;
        }
        if let Ok(rows) = c.query(
            &format!("SELECT version_num::text FROM {schema}.alembic_version"),
            &[],
        ) {
            for r in rows {
                out.push(format!("alembic {}", r.get::<_, String>(0)));
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct ImportLog {
    pub id: i32,
    pub source: String,
    pub xfer_type: Option<String>,
    pub status: Option<String>,
    pub items: i32,
    pub upserts: i32,
    pub deletes: i32,
    pub errors: i32,
    pub filters: Option<serde_json::Value>,
    pub comment: Option<String>,
    pub start: String,
    pub ended: bool,
}

/// Export requests of `fake` answered 200 (pages served).
pub fn served(fake: &Fake) -> Vec<super::gn2pg_fake::Logged> {
    fake.export_pages()
}

/// Asserts an exit code with the output in the message.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", common::text(out));
}
