//! `gn2pg init-db`: the target schema.
//!
//! On an empty schema it creates exactly what `gn2pg_cli db --upgrade` (gn2pg-client 1.10.1,
//! Alembic head `20260903_03`) creates — same tables, column types, defaults, constraint and index
//! names (`ix_<schema>_<table>_<col>`), the `alembic_version` table stamped at the head, the
//! `pgcrypto`/`uuid-ossp` extensions — plus our `import_checkpoint` and `data_tasks.sync_run`.
//! On a schema a gn2pg-client (1.9.x, 1.10.x) made, it only adds what is missing: never a
//! constraint, column or row rewritten, the Alembic revision left as it is. A pre-Alembic
//! schema (1.9.x) that has exactly the baseline's layout is stamped `20260818_01`, which is what
//! it is, so `gn2pg_cli db --upgrade` can still take it over. Everything runs in one transaction
//! ([`crate::pg::schema::apply`]); the operator's `--custom-script` runs in a second one, with
//! the literal `gn2pg_import` replaced by the schema (as gn2pg-client does).
//!
//! `--custom-script to_gnsynthese` names the trigger script gn2pg-client ships, found by
//! [`resolve_script`] where the installation put it (§1); any other value is a file path.
//!
//! [`check`] is the healthcheck of `full`/`update`: the tables are there (else: run `init-db`).

use crate::pg::{self, ident, GenericClient, PgError};

/// gn2pg-client 1.10.1's Alembic head.
pub const ALEMBIC_HEAD: &str = "20260903_03";
/// The Alembic baseline (the 1.9.x layout).
pub const ALEMBIC_BASELINE: &str = "20260818_01";

/// The tables gn2pg-client manages.
pub const CLIENT_TABLES: &[&str] = &["import_log", "error_log", "data_json", "metadata_json"];

/// Columns our code reads or writes, per table (an older schema lacking one is refused).
const REQUIRED_COLUMNS: &[(&str, &[&str])] = &[
    (
        "import_log",
        &[
            "id",
            "source",
            "controler",
            "xfer_type",
            "xfer_status",
            "xfer_start_ts",
            "xfer_end_ts",
            "api_count_items",
            "api_count_errors",
            "data_count_upserts",
            "data_count_delete",
            "data_count_errors",
            "metadata_count_upserts",
            "metadata_count_errors",
            "xfer_filters",
            "comment",
        ],
    ),
    (
        "error_log",
        &[
            "source",
            "uuid",
            "controler",
            "last_ts",
            "item",
            "error",
            "import_id",
        ],
    ),
    (
        "data_json",
        &[
            "source",
            "controler",
            "type",
            "id_data",
            "uuid",
            "item",
            "update_ts",
            "import_id",
        ],
    ),
    (
        "metadata_json",
        &[
            "source",
            "controler",
            "type",
            "level",
            "uuid",
            "item",
            "update_ts",
            "import_id",
        ],
    ),
];

/// What `init-db` found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    /// `empty`, `alembic <revision>`, `pre-alembic`.
    pub found: String,
    /// Tables created (qualified names).
    pub created: Vec<String>,
    /// The Alembic revision written, if any.
    pub stamped: Option<String>,
}

fn index(schema: &str, table: &str, column: &str) -> String {
    format!(
        "CREATE INDEX {} ON {}.{} USING btree ({column})",
        ident(&format!("ix_{schema}_{table}_{column}")),
        ident(schema),
        table
    )
}

/// The 1.10.1 DDL of one client table (and its indexes).
fn client_table(schema: &str, table: &str) -> Vec<String> {
    let s = ident(schema);
    match table {
        "import_log" => vec![
            format!(
                "CREATE TABLE {s}.import_log (
                    id serial NOT NULL,
                    source character varying NOT NULL,
                    controler character varying NOT NULL,
                    xfer_type character varying,
                    xfer_status character varying,
                    xfer_start_ts timestamp without time zone NOT NULL,
                    xfer_end_ts timestamp without time zone,
                    api_count_items integer DEFAULT 0 NOT NULL,
                    api_count_errors integer DEFAULT 0 NOT NULL,
                    data_count_upserts integer DEFAULT 0 NOT NULL,
                    data_count_delete integer DEFAULT 0 NOT NULL,
                    data_count_errors integer DEFAULT 0 NOT NULL,
                    metadata_count_upserts integer DEFAULT 0 NOT NULL,
                    metadata_count_errors integer DEFAULT 0 NOT NULL,
                    xfer_filters jsonb DEFAULT '{{}}'::jsonb,
                    comment text,
                    CONSTRAINT import_log_pkey PRIMARY KEY (id)
                )"
            ),
            index(schema, "import_log", "source"),
            index(schema, "import_log", "xfer_type"),
        ],
        "error_log" => vec![
            format!(
                "CREATE TABLE {s}.error_log (
                    source character varying NOT NULL,
                    uuid uuid NOT NULL,
                    controler character varying NOT NULL,
                    last_ts timestamp without time zone DEFAULT now() NOT NULL,
                    item jsonb,
                    error character varying,
                    import_id integer NOT NULL,
                    CONSTRAINT error_log_import_id_fkey FOREIGN KEY (import_id)
                        REFERENCES {s}.import_log(id) ON UPDATE CASCADE ON DELETE CASCADE
                )"
            ),
            index(schema, "error_log", "import_id"),
            index(schema, "error_log", "uuid"),
        ],
        "data_json" => vec![
            format!(
                "CREATE TABLE {s}.data_json (
                    source character varying NOT NULL,
                    controler character varying NOT NULL,
                    type character varying NOT NULL,
                    id_data integer NOT NULL,
                    uuid uuid,
                    item jsonb NOT NULL,
                    update_ts timestamp without time zone DEFAULT now() NOT NULL,
                    import_id integer NOT NULL,
                    CONSTRAINT data_json_import_id_fkey FOREIGN KEY (import_id)
                        REFERENCES {s}.import_log(id) ON UPDATE CASCADE,
                    CONSTRAINT pk_source_data PRIMARY KEY (id_data, controler, source),
                    CONSTRAINT unique_uuid UNIQUE (uuid)
                )"
            ),
            index(schema, "data_json", "id_data"),
            index(schema, "data_json", "uuid"),
        ],
        "metadata_json" => vec![
            format!(
                "CREATE TABLE {s}.metadata_json (
                    source character varying NOT NULL,
                    controler character varying NOT NULL,
                    type character varying NOT NULL,
                    level character varying NOT NULL,
                    uuid uuid NOT NULL,
                    item jsonb NOT NULL,
                    update_ts timestamp without time zone DEFAULT now() NOT NULL,
                    import_id integer NOT NULL,
                    CONSTRAINT metadata_json_import_id_fkey FOREIGN KEY (import_id)
                        REFERENCES {s}.import_log(id) ON UPDATE CASCADE,
                    CONSTRAINT pk_source_metadata PRIMARY KEY (uuid, source),
                    CONSTRAINT metadata_unique_uuid UNIQUE (uuid)
                )"
            ),
            index(schema, "metadata_json", "uuid"),
        ],
        _ => Vec::new(),
    }
}

/// `import_checkpoint`: where an interrupted full resumes (ours; the client ignores it).
pub fn checkpoint_table(schema: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {}.import_checkpoint (
            source character varying PRIMARY KEY,
            import_id integer,
            mode character varying NOT NULL,
            since timestamp with time zone NOT NULL,
            last_id_data bigint,
            updated_at timestamp with time zone DEFAULT now() NOT NULL
        )",
        ident(schema)
    )
}

fn tables_of(client: &mut impl GenericClient, schema: &str) -> Result<Vec<String>, PgError> {
    Ok(client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .map_err(|e| PgError::query(format!("list the tables of {schema}"), e))?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

fn columns_of(
    client: &mut impl GenericClient,
    schema: &str,
    table: &str,
) -> Result<Vec<String>, PgError> {
    Ok(client
        .query(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = $1 AND table_name = $2",
            &[&schema, &table],
        )
        .map_err(|e| PgError::query(format!("list the columns of {schema}.{table}"), e))?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// The columns of `data_json`'s primary key, in order.
pub fn data_pk(client: &mut impl GenericClient, schema: &str) -> Result<Vec<String>, PgError> {
    Ok(client
        .query(
            "SELECT a.attname::text FROM pg_constraint c
               JOIN pg_class t ON t.oid = c.conrelid
               JOIN pg_namespace n ON n.oid = t.relnamespace
               CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             WHERE n.nspname = $1 AND t.relname = 'data_json' AND c.contype = 'p'
             ORDER BY k.ord",
            &[&schema],
        )
        .map_err(|e| PgError::query(format!("primary key of {schema}.data_json"), e))?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Why the schema cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error("{schema}.{table} lacks column(s) {columns}: it was made by a gn2pg-client older than 1.9; upgrade it with gn2pg-client first")]
    Outdated {
        schema: String,
        table: String,
        columns: String,
    },
    #[error("{schema}.{table} has no primary key or unique constraint named {constraint}, which the upserts use")]
    NoConstraint {
        schema: String,
        table: String,
        constraint: String,
    },
    #[error(
        "schema {schema} is not ready (missing {missing}): run `data-tasks gn2pg init-db` first"
    )]
    NotInitialised { schema: String, missing: String },
    #[error("custom script {path}")]
    Script {
        path: String,
        #[source]
        source: PgError,
    },
    #[error("cannot read the custom script {path}")]
    ReadScript {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "--custom-script {keyword}: gn2pg-client's {file} is not installed (tried {tried}); \
         scripts/install-deps.sh puts it in .deps/gn2pg/ (the Docker image has it in \
         /usr/local/share/data-tasks/gn2pg/), or point gn2pg.scripts_dir (DATA_TASKS_GN2PG_SCRIPTS_DIR) at the \
         folder holding it, or pass the file's path"
    )]
    ScriptNotInstalled {
        keyword: String,
        file: String,
        tried: String,
    },
}

/// The keywords `--custom-script` resolves to a script gn2pg-client ships (not in this
/// repository: installed from the pinned gn2pg-client wheel, docs/syncs/gn2pg.md §1).
pub const SCRIPT_KEYWORDS: &[&str] = &["to_gnsynthese"];

/// Where `scripts/install-deps.sh` puts those scripts, relative to the working directory.
pub const DEPS_SCRIPTS_DIR: &str = ".deps/gn2pg";

/// Where the Docker image has them.
pub const IMAGE_SCRIPTS_DIR: &str = "/usr/local/share/data-tasks/gn2pg";

/// The file `--custom-script ARG` runs: a keyword of [`SCRIPT_KEYWORDS`] is looked up as
/// `<keyword>.sql` in `scripts_dir` when set, else in [`DEPS_SCRIPTS_DIR`] then
/// [`IMAGE_SCRIPTS_DIR`]; anything else is a path, used as it is.
pub fn resolve_script(
    arg: &std::path::Path,
    scripts_dir: Option<&std::path::Path>,
) -> Result<std::path::PathBuf, SchemaError> {
    let Some(keyword) = arg.to_str().filter(|a| SCRIPT_KEYWORDS.contains(a)) else {
        return Ok(arg.to_path_buf());
    };
    let file = format!("{keyword}.sql");
    let dirs: Vec<std::path::PathBuf> = match scripts_dir {
        Some(d) => vec![d.to_path_buf()],
        None => vec![DEPS_SCRIPTS_DIR.into(), IMAGE_SCRIPTS_DIR.into()],
    };
    let candidates: Vec<std::path::PathBuf> = dirs.iter().map(|d| d.join(&file)).collect();
    candidates
        .iter()
        .find(|c| c.is_file())
        .cloned()
        .ok_or_else(|| SchemaError::ScriptNotInstalled {
            keyword: keyword.into(),
            file,
            tried: candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

fn check_columns(client: &mut impl GenericClient, schema: &str) -> Result<(), SchemaError> {
    for (table, required) in REQUIRED_COLUMNS {
        let have = columns_of(client, schema, table)?;
        if have.is_empty() {
            continue;
        }
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !have.iter().any(|h| h == c))
            .collect();
        if !missing.is_empty() {
            return Err(SchemaError::Outdated {
                schema: schema.into(),
                table: (*table).into(),
                columns: missing.join(", "),
            });
        }
    }
    for (table, constraint) in [
        ("data_json", "pk_source_data"),
        ("metadata_json", "pk_source_metadata"),
    ] {
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
                   JOIN pg_namespace n ON n.oid = t.relnamespace
                 WHERE n.nspname = $1 AND t.relname = $2 AND c.conname = $3 AND c.contype IN ('p','u')",
                &[&schema, &table, &constraint],
            )
            .map_err(|e| PgError::query(format!("constraints of {schema}.{table}"), e))?
            .get(0);
        if n == 0 {
            return Err(SchemaError::NoConstraint {
                schema: schema.into(),
                table: table.into(),
                constraint: constraint.into(),
            });
        }
    }
    Ok(())
}

/// Creates or completes the schema (see the module doc).
pub fn init_db(
    client: &mut pg::Client,
    schema: &str,
    custom_script: Option<&std::path::Path>,
) -> Result<InitReport, SchemaError> {
    let script = match custom_script {
        Some(p) => Some((
            p.display().to_string(),
            std::fs::read_to_string(p).map_err(|source| SchemaError::ReadScript {
                path: p.display().to_string(),
                source,
            })?,
        )),
        None => None,
    };
    let existing = tables_of(client, schema)?;
    let has = |t: &str| existing.iter().any(|e| e == t);
    let any_client_table = CLIENT_TABLES.iter().any(|t| has(t));
    if any_client_table {
        check_columns(client, schema)?;
    }
    let s = ident(schema);
    let mut statements = vec![
        "CREATE EXTENSION IF NOT EXISTS \"pgcrypto\"".to_string(),
        "CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"".to_string(),
        format!("CREATE SCHEMA IF NOT EXISTS {s}"),
    ];
    let mut created = Vec::new();
    let mut stamped = None;
    let found;
    if has("alembic_version") {
        let rev: Option<String> = client
            .query_opt(
                &format!("SELECT version_num::text FROM {s}.alembic_version LIMIT 1"),
                &[],
            )
            .map_err(|e| PgError::query(format!("read {schema}.alembic_version"), e))?
            .map(|r| r.get(0));
        found = format!("alembic {}", rev.as_deref().unwrap_or("(empty)"));
        if rev.is_none() && !any_client_table {
            statements.push(format!(
                "INSERT INTO {s}.alembic_version (version_num) VALUES ('{ALEMBIC_HEAD}')"
            ));
            stamped = Some(ALEMBIC_HEAD.to_string());
        }
    } else if any_client_table {
        found = "pre-alembic".into();
        let pk = data_pk(client, schema)?;
        if has("data_json") && pk == ["id_data", "source", "type"] {
            statements.push(alembic_table(schema));
            statements.push(format!(
                "INSERT INTO {s}.alembic_version (version_num) VALUES ('{ALEMBIC_BASELINE}')"
            ));
            stamped = Some(ALEMBIC_BASELINE.to_string());
            created.push(format!("{schema}.alembic_version"));
        } else {
            tracing::warn!(
                schema,
                "pre-Alembic schema with an unusual layout: not stamped (gn2pg_cli db --stamp-existing can)"
            );
        }
    } else {
        found = "empty".into();
        statements.push(alembic_table(schema));
        statements.push(format!(
            "INSERT INTO {s}.alembic_version (version_num) VALUES ('{ALEMBIC_HEAD}')"
        ));
        stamped = Some(ALEMBIC_HEAD.to_string());
        created.push(format!("{schema}.alembic_version"));
    }
    for table in CLIENT_TABLES {
        if !has(table) {
            statements.extend(client_table(schema, table));
            created.push(format!("{schema}.{table}"));
        }
    }
    if !has("import_checkpoint") {
        created.push(format!("{schema}.import_checkpoint"));
    }
    statements.push(checkpoint_table(schema));
    statements.extend(pg::run_log::schema_sql());
    pg::schema::apply(client, &format!("gn2pg schema {schema}"), &statements)?;
    if let Some((path, text)) = script {
        let sql = text.replace("gn2pg_import", schema);
        let mut tx = client
            .transaction()
            .map_err(|e| PgError::query("begin the custom script", e))
            .map_err(|source| SchemaError::Script {
                path: path.clone(),
                source,
            })?;
        tx.batch_execute(&sql)
            .and_then(|()| tx.commit())
            .map_err(|e| SchemaError::Script {
                path,
                source: PgError::query("run", e),
            })?;
    }
    Ok(InitReport {
        found,
        created,
        stamped,
    })
}

fn alembic_table(schema: &str) -> String {
    format!(
        "CREATE TABLE {}.alembic_version (
            version_num character varying(32) NOT NULL,
            CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
        )",
        ident(schema)
    )
}

/// Checks that `init-db` ran: every table the sync writes exists with the columns it uses.
pub fn check(client: &mut impl GenericClient, schema: &str) -> Result<(), SchemaError> {
    let existing = tables_of(client, schema)?;
    let mut missing: Vec<String> = CLIENT_TABLES
        .iter()
        .chain(["import_checkpoint"].iter())
        .filter(|t| !existing.iter().any(|e| e == *t))
        .map(|t| format!("{schema}.{t}"))
        .collect();
    if !pg::run_log::exists(client)? {
        missing.push("data_tasks.sync_run".into());
    }
    if !missing.is_empty() {
        return Err(SchemaError::NotInitialised {
            schema: schema.into(),
            missing: missing.join(", "),
        });
    }
    check_columns(client, schema)
}
