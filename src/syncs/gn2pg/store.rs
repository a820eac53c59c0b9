//! Writes to the target schema: one transaction per export page (metadata, data, `error_log`,
//! the `import_log` counters and the resume checkpoint together — a checkpoint never passes rows
//! that are not committed), one per deletion page, and the `import_log` lifecycle.
//!
//! Pages go through [`crate::pg::bulk::upsert`] (binary `COPY` into a staging table, then
//! `INSERT … ON CONFLICT ON CONSTRAINT pk_source_data DO UPDATE`, which works on the 1.9.x and
//! 1.10.x keys alike), in one savepoint per batch. A batch the database refuses for a row — a
//! constraint (usually `unique_uuid`, a UUID another source owns), a value it cannot take, or
//! an error raised by an operator's trigger (any SQLSTATE outside [`whole_statement`]) — is
//! bisected in savepoints down to the rows that still fail; those go to `error_log` (at most one
//! row per source, controler, uuid and import) and the counters, the rest is stored. A failure
//! of the whole statement (connection, resources, operator intervention, timeouts) fails the
//! page, nothing of it committed. Deletions are isolated the same way. A row whose `uuid`
//! changes is deleted and inserted again rather than updated (docs/syncs/gn2pg.md §7).
//! Timestamps come from PostgreSQL (`localtimestamp`: the tables hold naive local times).

use std::collections::HashSet;

use super::page::{BadRow, DataRow, Level, MetaRow, ParsedPage};
use crate::outcome::error_chain;
use crate::pg::bulk::{self, JsonbText, Upsert, UuidBytes};
use crate::pg::{ident, DbError, GenericClient, PgError, PooledClient, Transaction};

/// What one page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageCounts {
    pub items: u64,
    pub upserts: u64,
    pub errors: u64,
    pub meta_upserts: u64,
    pub meta_errors: u64,
}

impl PageCounts {
    pub fn add(&mut self, o: &PageCounts) {
        self.items += o.items;
        self.upserts += o.upserts;
        self.errors += o.errors;
        self.meta_upserts += o.meta_upserts;
        self.meta_errors += o.meta_errors;
    }
}

/// The writer of one source's run.
pub struct Writer {
    client: PooledClient,
    schema: String,
    source: String,
    kind: String,
    pub import_id: i32,
    /// Metadata UUIDs already upserted by this run (once per run, as gn2pg-client).
    seen_meta: HashSet<[u8; 16]>,
    data_table: String,
    meta_table: String,
    /// Shared staging tables a [`Stager`] fills, when the run uses two connections.
    pub stages: Option<[String; 2]>,
}

/// Whether a database error is the whole statement's rather than one row's: no SQLSTATE (the
/// connection or the client), or a class that says nothing about the rows — connection (08),
/// transaction state (25), rollback/deadlock (40), resources such as a full disk (53), operator
/// intervention such as a cancel, a `statement_timeout` or a shutdown (57), system (58),
/// configuration (F0), internal (XX) — or a `lock_timeout` (55P03). Anything else was raised
/// while writing some row (a constraint, a value, a trigger's `RAISE`) and is isolated.
pub(crate) fn whole_statement(e: &PgError) -> bool {
    match e.code() {
        None => true,
        Some(c) => {
            matches!(
                c.get(..2),
                Some("08" | "25" | "40" | "53" | "57" | "58" | "F0" | "XX")
            ) || c == "55P03"
        }
    }
}

fn row_level(e: &PgError) -> bool {
    !whole_statement(e)
}

/// A write of some rows in the given transaction; returns what it counted.
type BatchOp<'o, T> = dyn FnMut(&mut Transaction<'_>, &[T]) -> Result<u64, PgError> + 'o;

/// Runs `op` on `rows` in a savepoint. When the database refuses it for a row-level reason the
/// savepoint is rolled back and the batch bisected, down to single rows: those still refused are
/// pushed to `refused` with their error, the others stored. A whole-statement failure ends it
/// (the caller's transaction then rolls back). Returns what `op` counted for the stored rows.
fn isolate<'r, T>(
    tx: &mut Transaction<'_>,
    rows: &'r [T],
    op: &mut BatchOp<'_, T>,
    refused: &mut Vec<(&'r T, PgError)>,
) -> Result<u64, PgError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut sp = tx
        .transaction()
        .map_err(|e| PgError::query("savepoint", e))?;
    match op(&mut sp, rows) {
        Ok(n) => {
            sp.commit()
                .map_err(|e| PgError::query("release savepoint", e))?;
            Ok(n)
        }
        Err(e) if whole_statement(&e) => Err(e),
        Err(e) => {
            sp.rollback()
                .map_err(|e| PgError::query("roll back to savepoint", e))?;
            if let [row] = rows {
                refused.push((row, e));
                return Ok(0);
            }
            let (a, b) = rows.split_at(rows.len() / 2);
            Ok(isolate(tx, a, op, refused)? + isolate(tx, b, op, refused)?)
        }
    }
}

const NIL_UUID: [u8; 16] = [0; 16];

impl Writer {
    pub fn new(client: PooledClient, schema: &str, source: &str, kind: &str) -> Writer {
        Writer {
            client,
            schema: schema.to_string(),
            source: source.to_string(),
            kind: kind.to_string(),
            import_id: 0,
            seen_meta: HashSet::new(),
            data_table: format!("{}.data_json", ident(schema)),
            meta_table: format!("{}.metadata_json", ident(schema)),
            stages: None,
        }
    }

    /// The connection, for bookkeeping statements.
    pub fn client(&mut self) -> &mut PooledClient {
        &mut self.client
    }

    /// Writes one page and, for a full, moves the checkpoint to `checkpoint` — one transaction.
    /// `staged`: the page's rows are in shared staging table `slot` (see [`Stager`]).
    pub fn write_page(
        &mut self,
        page: &ParsedPage,
        checkpoint: Option<i64>,
        staged: Option<usize>,
    ) -> Result<PageCounts, PgError> {
        let mut counts = PageCounts {
            items: page.items as u64,
            ..PageCounts::default()
        };
        let metas: Vec<&MetaRow> = {
            let mut fresh = HashSet::new();
            page.metas
                .iter()
                .filter(|m| !self.seen_meta.contains(&m.uuid) && fresh.insert(m.uuid))
                .collect()
        };
        let names = Names {
            schema: &self.schema,
            source: &self.source,
            kind: &self.kind,
            import_id: self.import_id,
            data: &self.data_table,
            meta: &self.meta_table,
        };
        let (schema, source, import_id) = (&self.schema, &self.source, self.import_id);
        let mut tx = self
            .client
            .transaction()
            .map_err(|e| PgError::query("begin a page", e))?;
        let mut failed: Vec<BadRow> = Vec::new();
        for level in [Level::Framework, Level::Dataset] {
            let rows: Vec<&MetaRow> = metas.iter().copied().filter(|m| m.level == level).collect();
            let (n, bad) = names.upsert_meta(&mut tx, &rows)?;
            counts.meta_upserts += n;
            failed.extend(bad);
        }
        let stage = staged.and_then(|slot| self.stages.as_ref().map(|s| s[slot].as_str()));
        let (n, bad) = names.upsert_data(&mut tx, &page.rows, stage)?;
        counts.upserts += n;
        failed.extend(bad);
        for b in page.bad.iter().chain(failed.iter()) {
            if b.controler == "metadata" {
                counts.meta_errors += 1;
            } else {
                counts.errors += 1;
            }
            names.error_log(&mut tx, b)?;
        }
        tx.execute(
            &format!(
                "UPDATE {}.import_log SET api_count_items = api_count_items + $2,
                   data_count_upserts = data_count_upserts + $3, data_count_errors = data_count_errors + $4,
                   metadata_count_upserts = metadata_count_upserts + $5,
                   metadata_count_errors = metadata_count_errors + $6
                 WHERE id = $1",
                ident(schema)
            ),
            &[
                &import_id,
                &(counts.items as i32),
                &(counts.upserts as i32),
                &(counts.errors as i32),
                &(counts.meta_upserts as i32),
                &(counts.meta_errors as i32),
            ],
        )
        .map_err(|e| PgError::query("update import_log counters", e))?;
        if let Some(last) = checkpoint {
            tx.execute(
                &format!(
                    "UPDATE {}.import_checkpoint SET last_id_data = $2, import_id = $3, updated_at = now()
                     WHERE source = $1",
                    ident(schema)
                ),
                &[source, &last, &import_id],
            )
            .map_err(|e| PgError::query("move the checkpoint", e))?;
        }
        tx.commit()
            .map_err(|e| PgError::query("commit a page", e))?;
        self.seen_meta.extend(metas.iter().map(|m| m.uuid));
        Ok(counts)
    }

    /// Deletes this source's rows among `ids` (one transaction with the counters). A row whose
    /// deletion the database refuses (an operator's `AFTER DELETE` trigger raising) is isolated
    /// ([`isolate`]): it stays, with an `error_log` row. Returns the rows deleted and refused.
    pub fn delete(&mut self, ids: &[i64]) -> Result<(u64, u64), PgError> {
        let ids: Vec<i32> = ids.iter().filter_map(|i| i32::try_from(*i).ok()).collect();
        let names = Names {
            schema: &self.schema,
            source: &self.source,
            kind: &self.kind,
            import_id: self.import_id,
            data: &self.data_table,
            meta: &self.meta_table,
        };
        let (import_id, source, data) = (self.import_id, &self.source, &self.data_table);
        let log = format!("{}.import_log", ident(&self.schema));
        let mut tx = self
            .client
            .transaction()
            .map_err(|e| PgError::query("begin a deletion page", e))?;
        let sql = format!(
            "DELETE FROM {data} WHERE source = $1 AND controler = 'data' AND id_data = ANY($2)"
        );
        let mut op = |sp: &mut Transaction<'_>, part: &[i32]| -> Result<u64, PgError> {
            sp.execute(&sql, &[source, &part])
                .map_err(|e| PgError::query("delete rows", e))
        };
        let mut refused = Vec::new();
        let n = isolate(&mut tx, &ids, &mut op, &mut refused)?;
        for (id, e) in &refused {
            let stored = tx
                .query_opt(
                    &format!(
                        "SELECT uuid::text, item::text FROM {data}
                         WHERE source = $1 AND controler = 'data' AND id_data = $2"
                    ),
                    &[source, *id],
                )
                .map_err(|e| PgError::query("read a refused row", e))?;
            let (uuid, item) = match &stored {
                Some(r) => (r.get::<_, Option<String>>(0), r.get::<_, Option<String>>(1)),
                None => (None, None),
            };
            let b = BadRow {
                id: Some(i64::from(**id)),
                uuid: uuid.and_then(|u| super::page::parse_uuid(&u)),
                item: item.unwrap_or_else(|| "null".into()),
                error: format!("deleting id_synthese {id}: {}", error_chain(e)),
                controler: "data",
            };
            names.error_log(&mut tx, &b)?;
        }
        tx.execute(
            &format!(
                "UPDATE {log} SET data_count_delete = data_count_delete + $2,
                   data_count_errors = data_count_errors + $3 WHERE id = $1"
            ),
            &[&import_id, &(n as i32), &(refused.len() as i32)],
        )
        .map_err(|e| PgError::query("update import_log counters", e))?;
        tx.commit()
            .map_err(|e| PgError::query("commit a deletion page", e))?;
        Ok((n, refused.len() as u64))
    }
}

/// The names a page transaction needs (borrowed apart from the connection).
struct Names<'a> {
    schema: &'a str,
    source: &'a str,
    kind: &'a str,
    import_id: i32,
    data: &'a str,
    meta: &'a str,
}

const DATA_COLUMNS: &[&str] = &[
    "source",
    "controler",
    "type",
    "id_data",
    "uuid",
    "item",
    "import_id",
];
const DATA_SET: &str = "item = EXCLUDED.item, uuid = EXCLUDED.uuid, type = EXCLUDED.type, \
                        update_ts = EXCLUDED.update_ts, import_id = EXCLUDED.import_id";
const META_COLUMNS: &[&str] = &[
    "source",
    "controler",
    "type",
    "level",
    "uuid",
    "item",
    "import_id",
];
const META_SET: &str =
    "item = EXCLUDED.item, update_ts = EXCLUDED.update_ts, import_id = EXCLUDED.import_id";
const NOW: &[(&str, &str)] = &[("update_ts", "localtimestamp")];

fn data_spec(table: &str) -> Upsert<'_> {
    Upsert {
        table,
        columns: DATA_COLUMNS,
        key: &["id_data"],
        conflict: "ON CONSTRAINT pk_source_data",
        set: DATA_SET,
        only_if: None,
        computed: NOW,
    }
}

fn emit_data(
    source: &str,
    kind: &str,
    import_id: i32,
    r: &DataRow,
    emit: &mut bulk::Emit<'_>,
) -> Result<(), DbError> {
    emit(&[
        &source,
        &"data",
        &kind,
        &r.id,
        &r.uuid.map(UuidBytes),
        &JsonbText(&r.item),
        &import_id,
    ])
}

/// Fills the shared staging tables on a connection of its own, one page ahead of the
/// [`Writer`] (which upserts from them): PostgreSQL parses page `k + 1` while it writes page `k`.
pub struct Stager {
    client: PooledClient,
    source: String,
    kind: String,
    pub import_id: i32,
    tables: [String; 2],
}

/// The names of a source's two shared staging tables (in `data_tasks`).
pub fn stage_tables(schema: &str, source: &str) -> [String; 2] {
    // FNV-1a: a short, stable, identifier-safe name per schema and source.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("{schema}.{source}").bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    [0, 1].map(|i| format!("data_tasks.{}", ident(&format!("gn2pg_stage_{h:016x}_{i}"))))
}

impl Stager {
    /// Creates (or empties) the staging tables.
    pub fn new(
        mut client: PooledClient,
        schema: &str,
        source: &str,
        kind: &str,
    ) -> Result<Stager, PgError> {
        let tables = stage_tables(schema, source);
        let data = format!("{}.data_json", ident(schema));
        for t in &tables {
            bulk::prepare_shared_stage(&mut *client, &data_spec(&data), t)?;
        }
        Ok(Stager {
            client,
            source: source.to_string(),
            kind: kind.to_string(),
            import_id: 0,
            tables,
        })
    }

    pub fn tables(&self) -> [String; 2] {
        self.tables.clone()
    }

    /// COPYs the page's rows into table `slot` and commits; `false` when PostgreSQL refuses a
    /// row (the writer then upserts the page itself, row by row where needed).
    pub fn stage(&mut self, page: &ParsedPage, slot: usize) -> Result<bool, PgError> {
        if page.rows.is_empty() {
            return Ok(false);
        }
        let (source, kind, import_id) = (&self.source, &self.kind, self.import_id);
        let mut tx = self
            .client
            .transaction()
            .map_err(|e| PgError::query("begin staging", e))?;
        let copied = bulk::copy_in(
            &mut tx,
            &self.tables[slot],
            DATA_COLUMNS,
            &page.rows,
            |r, emit| emit_data(source, kind, import_id, r, emit),
        );
        match copied {
            Ok(_) => {
                tx.commit()
                    .map_err(|e| PgError::query("commit staging", e))?;
                Ok(true)
            }
            Err(e) if row_level(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Drops the staging tables (best effort: a later run recreates them).
    pub fn drop_tables(mut self) {
        for t in &self.tables {
            let _ = self
                .client
                .batch_execute(&format!("DROP TABLE IF EXISTS {t}"));
        }
    }
}

impl Names<'_> {
    /// Upserts `rows` as one batch in a savepoint (after `pre`, in the same savepoint); a batch
    /// refused for a row-level reason is bisected ([`isolate`]), the rows still refused returned
    /// as bad.
    #[allow(clippy::too_many_arguments)]
    fn upsert_or_replay<T>(
        &self,
        tx: &mut Transaction<'_>,
        spec: &Upsert<'_>,
        rows: &[T],
        stage: Option<&str>,
        pre: impl Fn(&mut Transaction<'_>, &[T]) -> Result<(), PgError>,
        emit: impl Fn(&T, &mut bulk::Emit<'_>) -> Result<(), DbError>,
        bad: impl Fn(&T, &PgError) -> BadRow,
    ) -> Result<(u64, Vec<BadRow>), PgError> {
        if rows.is_empty() {
            return Ok((0, Vec::new()));
        }
        let first = {
            let mut sp = tx
                .transaction()
                .map_err(|e| PgError::query("savepoint", e))?;
            let written = pre(&mut sp, rows).and_then(|()| match stage {
                Some(stage) => bulk::upsert_staged(&mut sp, spec, stage),
                None => bulk::upsert(&mut sp, spec, rows, &emit),
            });
            match written {
                Ok(n) => sp
                    .commit()
                    .map(|()| n)
                    .map_err(|e| PgError::query("release savepoint", e)),
                Err(e) if whole_statement(&e) => return Err(e),
                Err(e) => {
                    sp.rollback()
                        .map_err(|e| PgError::query("roll back to savepoint", e))?;
                    Err(e)
                }
            }
        };
        let e = match first {
            Ok(n) => return Ok((n, Vec::new())),
            Err(e) => e,
        };
        if let Some(stage) = stage {
            // The batch was rolled back with its savepoint: empty the stage for the next page.
            tx.batch_execute(&format!("TRUNCATE {stage}"))
                .map_err(|e| PgError::query(format!("empty {stage}"), e))?;
        }
        tracing::info!(source = self.source, error = %error_chain(&e), "batch refused: isolating the rows");
        let mut refused = Vec::new();
        let mut op = |sp: &mut Transaction<'_>, part: &[T]| -> Result<u64, PgError> {
            pre(sp, part)?;
            bulk::upsert(sp, spec, part, &emit)
        };
        let n = if let [row] = rows {
            refused.push((row, e));
            0
        } else {
            let (a, b) = rows.split_at(rows.len() / 2);
            isolate(tx, a, &mut op, &mut refused)? + isolate(tx, b, &mut op, &mut refused)?
        };
        Ok((n, refused.into_iter().map(|(r, e)| bad(r, &e)).collect()))
    }

    /// Deletes the stored rows among `rows` whose uuid changes, so that the upsert inserts them
    /// again: the operators' triggers see a deletion and an insertion (their synthese row is
    /// keyed on the uuid; an update would leave the old one beside the new one).
    fn delete_changed_uuids(
        &self,
        tx: &mut Transaction<'_>,
        rows: &[DataRow],
    ) -> Result<(), PgError> {
        let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        let uuids: Vec<Option<UuidBytes>> = rows.iter().map(|r| r.uuid.map(UuidBytes)).collect();
        tx.execute(
            &format!(
                "DELETE FROM {data} d USING unnest($2::int[], $3::uuid[]) AS n(id_data, uuid)
                 WHERE d.source = $1 AND d.controler = 'data' AND d.id_data = n.id_data
                   AND d.uuid IS DISTINCT FROM n.uuid",
                data = self.data
            ),
            &[&self.source, &ids, &uuids],
        )
        .map(|_| ())
        .map_err(|e| PgError::query("delete rows whose uuid changed", e))
    }

    fn upsert_data(
        &self,
        tx: &mut Transaction<'_>,
        rows: &[DataRow],
        stage: Option<&str>,
    ) -> Result<(u64, Vec<BadRow>), PgError> {
        self.upsert_or_replay(
            tx,
            &data_spec(self.data),
            rows,
            stage,
            |tx, rows| self.delete_changed_uuids(tx, rows),
            |r, emit| emit_data(self.source, self.kind, self.import_id, r, emit),
            |r, e| BadRow {
                id: Some(i64::from(r.id)),
                uuid: r.uuid,
                item: r.item.clone(),
                error: format!("id_synthese {}: {}", r.id, error_chain(e)),
                controler: "data",
            },
        )
    }

    fn upsert_meta(
        &self,
        tx: &mut Transaction<'_>,
        rows: &[&MetaRow],
    ) -> Result<(u64, Vec<BadRow>), PgError> {
        let spec = Upsert {
            table: self.meta,
            columns: META_COLUMNS,
            key: &["uuid"],
            conflict: "ON CONSTRAINT pk_source_metadata",
            set: META_SET,
            only_if: None,
            computed: NOW,
        };
        self.upsert_or_replay(
            tx,
            &spec,
            rows,
            None,
            |_, _| Ok(()),
            |m, emit| {
                emit(&[
                    &self.source,
                    &"metadata",
                    &self.kind,
                    &m.level.as_str(),
                    &UuidBytes(m.uuid),
                    &JsonbText(&m.item),
                    &self.import_id,
                ])
            },
            |m, e| BadRow {
                id: None,
                uuid: Some(m.uuid),
                item: m.item.clone(),
                error: format!("{} metadata: {}", m.level.as_str(), error_chain(e)),
                controler: "metadata",
            },
        )
    }

    /// One `error_log` row (unless this import already logged that uuid); an item PostgreSQL
    /// refuses as `jsonb` is logged without it.
    fn error_log(&self, tx: &mut Transaction<'_>, b: &BadRow) -> Result<(), PgError> {
        let sql = format!(
            "INSERT INTO {s}.error_log (source, uuid, controler, last_ts, item, error, import_id)
             SELECT $1::varchar, $2::uuid, $3::varchar, localtimestamp, $4::jsonb, $5::varchar, $6::int
             WHERE NOT EXISTS (SELECT 1 FROM {s}.error_log
                               WHERE source = $1::varchar AND controler = $3::varchar AND uuid = $2::uuid
                                 AND import_id = $6::int)",
            s = ident(self.schema)
        );
        let uuid = UuidBytes(b.uuid.unwrap_or(NIL_UUID));
        let error: String = crate::secrets::scrub(&b.error).chars().take(2000).collect();
        let mut sp = tx
            .transaction()
            .map_err(|e| PgError::query("savepoint", e))?;
        let with_item = sp.execute(
            &sql,
            &[
                &self.source,
                &uuid,
                &b.controler,
                &Some(JsonbText(&b.item)),
                &error,
                &self.import_id,
            ],
        );
        match with_item {
            Ok(_) => sp
                .commit()
                .map_err(|e| PgError::query("release savepoint", e)),
            Err(e) => match PgError::query("write error_log", e) {
                e if !row_level(&e) => Err(e),
                _ => {
                    drop(sp);
                    tx.execute(
                        &sql,
                        &[
                            &self.source,
                            &uuid,
                            &b.controler,
                            &None::<JsonbText<'_>>,
                            &error,
                            &self.import_id,
                        ],
                    )
                    .map(|_| ())
                    .map_err(|e| PgError::query("write error_log", e))
                }
            },
        }
    }
}

/// Marks this source's unfinished `import_log` rows (`init`, `importing data`, `delete`: their
/// run died) `failed`; returns how many.
pub fn mark_abandoned(
    client: &mut impl GenericClient,
    schema: &str,
    source: &str,
) -> Result<u64, PgError> {
    client
        .execute(
            &format!(
                "UPDATE {}.import_log SET xfer_status = 'failed',
                   xfer_end_ts = coalesce(xfer_end_ts, localtimestamp),
                   comment = coalesce(comment || '; ', '') || 'abandoned: the run died without finishing'
                 WHERE source = $1 AND controler = 'data'
                   AND xfer_status IN ('init', 'importing data', 'delete')",
                ident(schema)
            ),
            &[&source],
        )
        .map_err(|e| PgError::query("mark abandoned import_log rows", e))
}
