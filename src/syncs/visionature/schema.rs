//! `visionature init-db`: the tables of docs/syncs/visionature.md §5 in one schema, created
//! idempotently in one transaction ([`crate::pg::schema::apply`]). On a schema Client-API-VN
//! created and filled it adds only what is missing: tables are `CREATE TABLE IF NOT EXISTS` with
//! the client's names and constraint names (`<table>_pk`), and an index is created only when no
//! index of the table already starts with that column (the client's SQLAlchemy names differ from
//! ours). Also the run summaries (`data_tasks.sync_run`) and the new tables `controller_state`,
//! `deleted_observations` and `count_log`. What can fail: missing privileges (extensions, schema), reported with
//! the statement that failed.

use crate::pg::{ident, schema, Client, PgError};

/// The reference tables `(id int, site varchar, item jsonb)`.
pub const SIMPLE_TABLES: &[&str] = &[
    "entities_json",
    "families_json",
    "local_admin_units_json",
    "places_json",
    "species_json",
    "taxo_groups_json",
    "territorial_units_json",
    "validations_json",
    "forms_json",
];

fn index_if_absent(schema: &str, table: &str, column: &str, expr: &str) -> String {
    let q = format!("{}.{}", ident(schema), ident(table));
    let regclass = q.replace('\'', "''");
    format!(
        "DO $$ BEGIN
           IF NOT EXISTS (
             SELECT 1 FROM pg_index i
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = '{regclass}'::regclass AND a.attname = '{column}')
             AND NOT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = '{schema}' AND indexname = '{table}_{column}_idx')
           THEN CREATE INDEX {idx} ON {q} ({expr});
           END IF;
         END $$",
        idx = ident(&format!("{table}_{column}_idx")),
    )
}

/// The statements of one schema.
pub fn statements(schema: &str) -> Vec<String> {
    let s = ident(schema);
    let mut v = crate::pg::run_log::schema_sql();
    v.extend([
        "CREATE EXTENSION IF NOT EXISTS pgcrypto".to_string(),
        "CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"".to_string(),
        "CREATE EXTENSION IF NOT EXISTS postgis".to_string(),
        format!("CREATE SCHEMA IF NOT EXISTS {s}"),
        format!(
            "CREATE TABLE IF NOT EXISTS {s}.download_log (
               id serial PRIMARY KEY,
               site varchar NOT NULL,
               controler varchar NOT NULL,
               download_ts timestamp NOT NULL DEFAULT now(),
               error_count int,
               http_status int,
               comment varchar,
               length bigint,
               duration bigint)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {s}.increment_log (
               site varchar NOT NULL,
               taxo_group int NOT NULL,
               last_ts timestamp NOT NULL DEFAULT now(),
               CONSTRAINT increment_log_pk PRIMARY KEY (site, taxo_group))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {s}.observations_json (
               id int NOT NULL,
               site varchar NOT NULL,
               item jsonb NOT NULL,
               update_ts int NOT NULL,
               id_form_universal varchar,
               CONSTRAINT observations_json_pk PRIMARY KEY (id, site))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {s}.observers_json (
               id int NOT NULL,
               site varchar NOT NULL,
               id_universal int NOT NULL,
               item jsonb NOT NULL,
               CONSTRAINT observers_json_pk PRIMARY KEY (id, site))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {s}.field_groups_json (
               id int NOT NULL, item jsonb NOT NULL,
               CONSTRAINT field_groups_json_pk PRIMARY KEY (id))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {s}.field_details_json (
               id varchar NOT NULL, item jsonb NOT NULL,
               CONSTRAINT field_details_json_pk PRIMARY KEY (id))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {s}.controller_state (
               site varchar NOT NULL,
               controller varchar NOT NULL,
               last_success timestamptz NOT NULL DEFAULT now(),
               CONSTRAINT controller_state_pk PRIMARY KEY (site, controller))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {s}.deleted_observations (
               site varchar NOT NULL,
               id int NOT NULL,
               deleted_at timestamptz NOT NULL DEFAULT now(),
               CONSTRAINT deleted_observations_pk PRIMARY KEY (site, id))"
        ),
    ]);
    for t in SIMPLE_TABLES {
        v.push(format!(
            "CREATE TABLE IF NOT EXISTS {s}.{t} (
               id int NOT NULL, site varchar NOT NULL, item jsonb NOT NULL,
               CONSTRAINT {pk} PRIMARY KEY (id, site))",
            t = ident(t),
            pk = ident(&format!("{t}_pk")),
        ));
    }
    v.extend(count_log_sql(schema));
    v.push(index_if_absent(
        schema,
        "observations_json",
        "id_form_universal",
        "id_form_universal",
    ));
    v.push(index_if_absent(
        schema,
        "observations_json",
        "update_ts",
        "update_ts",
    ));
    v.push(format!(
        "CREATE INDEX IF NOT EXISTS forms_json_id_form_universal_idx ON {s}.forms_json ((item->>'id_form_universal'), site)"
    ));
    v
}

/// `count_log`: one row per site × taxo group of each `visionature count` run (ours; the ops view
/// reads the latest per group). Also created by `count` itself on a schema made before it.
pub fn count_log_sql(schema: &str) -> [String; 2] {
    let s = ident(schema);
    [
        format!(
            "CREATE TABLE IF NOT EXISTS {s}.count_log (
               site varchar NOT NULL,
               id_taxo_group int NOT NULL,
               local bigint NOT NULL,
               remote bigint,
               checked_at timestamptz NOT NULL DEFAULT now(),
               run_id bigint NOT NULL)"
        ),
        format!("CREATE INDEX IF NOT EXISTS count_log_site_checked_at_idx ON {s}.count_log (site, checked_at)"),
    ]
}

/// Applies [`statements`] to `schema`.
pub fn init(client: &mut Client, schema: &str) -> Result<(), PgError> {
    schema::apply(
        client,
        &format!("visionature schema {schema}"),
        &statements(schema),
    )
}

/// The fix-sync monitoring table (created if absent).
pub fn monitoring_sql() -> [&'static str; 2] {
    [
        "CREATE SCHEMA IF NOT EXISTS dbadmin",
        "CREATE TABLE IF NOT EXISTS dbadmin.monitoring_vn_check_to_prod (
           id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
           date timestamptz NOT NULL DEFAULT now(),
           action varchar NOT NULL,
           count int)",
    ]
}
