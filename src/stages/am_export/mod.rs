//! AM export: every in-force arrêté ministériel of the back-office database, enriched and
//! validated, as one Python-compatible JSON file `<id>.json` per AM (zipped at the archive root
//! or written to a directory). Reproduces the original back-office export (envinorma-data
//! `build_enriched_ams` + `check_am`, back-office `upload_ams.py`) byte for byte; the reference is
//! `testdata/am/golden/` (its README lists every field change).
//!
//! # Selection
//! `am_metadata` rows with state `VIGUEUR` whose id does not start with `FAKE`, having a
//! `structured_am` row whose stored text carries that id. `initial_am` and `am_status` are never
//! read. In-force AMs without a structured text are reported in
//! [`AmExportSummary::skipped_no_structured`]; parametrization elements tied to a section id
//! absent from the text are dropped (as the original does) and reported in
//! [`AmExportSummary::dropped_parametrization`]. A structured row whose text id differs from its
//! row id, or a text id seen twice (the first, by row id order, is kept), is reported in
//! [`AmExportSummary::warnings`].
//!
//! # Streaming and atomicity
//! One read-only repeatable-read transaction: metadata and the selected AMs' parametrization
//! rows are read first (small), then the texts are streamed through a portal (32 rows per round
//! trip). A worker thread parses, enriches, validates and serialises each AM while the reader
//! fetches the next ones, and a sink thread writes it to a staging area (the in-memory zip,
//! holding only compressed bytes, or a staging directory beside the target). The staging area
//! is published only when every AM has passed: the first failure stops all three stages and
//! nothing is written.
//!
//! # Dates
//! A spelled-out title date is rewritten `dd/mm/yy`; a missing `date_of_signature` is derived
//! from the title's `dd/mm/yy` (none → `Invalid`); a stored one that contradicts the title's is
//! `Invalid` (the original asserts they agree); a stored one with no date in the title is kept.
//!
//! # Unknown and legacy fields
//! * Stored text, top level: unknown keys (e.g. `short_title`) are dropped, as the original's
//!   loader does.
//! * Nested objects of a text (sections, alineas, tables, applicability, parametrization,
//!   conditions): unknown keys are rejected (`InvalidJson`), as the original's constructors
//!   reject them; the legacy keys the original deletes (`lf_id` in a section, `id` in an alinea)
//!   are dropped.
//! * `am_metadata` and `parametrization` rows: keys the export does not use are ignored.
//! * Numbers keep their JSON type: `7000.0` stays a float, `20` an int; `aida_page` and
//!   `rubrique` stored as numbers are written as strings. Integers beyond 64 bits are read as
//!   floats (the original keeps them exact).
//!
//! # Round trip
//! Reading an exported file with [`model::ArreteMinisteriel`] and writing it back with
//! [`json::to_py_json`] gives the same bytes.

pub(crate) mod archive;
pub(crate) mod condition;
pub(crate) mod enrich;
pub mod json;
pub mod model;
pub(crate) mod parametrization;
pub mod publish;
pub(crate) mod reference;
pub(crate) mod source;
pub(crate) mod validate;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::probe::{Probe, ProbeError, StoreProbe};
use archive::{DirSink, Sink, ZipSink};
use model::{AmMetadata, ArreteMinisteriel, Parametrization};

/// Options of the export.
#[derive(Debug, Clone)]
pub struct AmExportOptions {
    /// The back-office database (`AM_DATABASE_URL`; TLS by its `sslmode`).
    pub database: crate::pg::DbUrl,
}

/// One exported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmFile {
    pub am_id: String,
    /// Bytes of `<am_id>.json`.
    pub json: Vec<u8>,
}

/// What an export did besides writing files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AmExportSummary {
    /// Number of AMs exported.
    pub exported: usize,
    /// In-force AMs without a `structured_am` text (not exported).
    pub skipped_no_structured: Vec<String>,
    /// `(am id, section id)` of parametrization elements tied to an unknown section (dropped).
    pub dropped_parametrization: Vec<(String, String)>,
    /// Other anomalies worth a look (text id differing from its row id, duplicate texts…).
    pub warnings: Vec<String>,
}

/// Errors of the export. No variant ever carries the connection string or its password.
#[derive(Debug, thiserror::Error)]
pub enum AmExportError {
    #[error("back-office database")]
    Connect(#[source] crate::pg::PgError),
    #[error("table `{table}` does not exist in the back-office database")]
    MissingTable { table: String },
    #[error("invalid JSON in table `{table}` for AM {am_id}: {reason}")]
    InvalidJson {
        table: String,
        am_id: String,
        reason: String,
    },
    #[error("AM {am_id} fails validation: {reason}")]
    Invalid { am_id: String, reason: String },
    #[error("database query failed: {message}")]
    Query { message: String },
    #[error("cannot write the export")]
    Io(#[from] std::io::Error),
    #[error("cannot build the zip archive")]
    Zip(#[from] zip::result::ZipError),
    #[error("cannot publish the archive")]
    Storage(#[from] crate::storage::StorageError),
}

impl From<crate::pg::DbError> for AmExportError {
    fn from(error: crate::pg::DbError) -> Self {
        AmExportError::Query {
            message: crate::outcome::error_chain(&crate::pg::DriverError::from(error)),
        }
    }
}

impl From<crate::pg::PgError> for AmExportError {
    fn from(error: crate::pg::PgError) -> Self {
        match error {
            crate::pg::PgError::Query { .. } => AmExportError::Query {
                message: crate::outcome::error_chain(&error),
            },
            other => AmExportError::Connect(other),
        }
    }
}

/// Exports every in-force AM into an in-memory zip (`<id>.json` entries at the root).
pub fn export_zip(opts: &AmExportOptions) -> Result<(Vec<u8>, AmExportSummary), AmExportError> {
    let mut sink = ZipSink::new();
    let summary = run(&opts.database, &mut sink)?;
    Ok((sink.finish()?, summary))
}

/// Exports every in-force AM as `<id>.json` files in `dir` (created if missing; existing files
/// of the same name are replaced). Nothing is written unless every AM is valid.
pub fn export_to_dir(opts: &AmExportOptions, dir: &Path) -> Result<AmExportSummary, AmExportError> {
    let mut sink = DirSink::new(dir)?;
    let summary = run(&opts.database, &mut sink)?;
    sink.commit()?;
    Ok(summary)
}

/// Connects and checks that the three tables the export reads exist.
pub fn check_database(database: &crate::pg::DbUrl) -> Result<(), AmExportError> {
    let mut client = database.connect()?;
    source::check_tables(&mut client)
}

/// Builds, validates and serialises one AM from its stored text, metadata and parametrization.
/// Returns the file bytes and the dropped (unknown) section ids.
pub fn build_am(
    mut am: ArreteMinisteriel,
    metadata: &AmMetadata,
    parametrization: Parametrization,
) -> Result<(Vec<u8>, Vec<String>), AmExportError> {
    let am_id = am.id.clone().unwrap_or_default();
    let invalid = |reason: String| AmExportError::Invalid {
        am_id: am_id.clone(),
        reason,
    };
    enrich::enrich(&mut am, metadata).map_err(invalid)?;
    let dropped = parametrization::add_parametrization(&mut am.sections, parametrization);
    validate::check_am(&am).map_err(invalid)?;
    let json = json::to_py_json(&am).map_err(|e| invalid(e.to_string()))?;
    Ok((json, dropped))
}

fn panicked(stage: &str) -> AmExportError {
    AmExportError::Io(std::io::Error::other(format!(
        "the export's {stage} thread panicked"
    )))
}

fn invalid_json(table: &str, am_id: &str, reason: impl ToString) -> AmExportError {
    AmExportError::InvalidJson {
        table: table.into(),
        am_id: am_id.into(),
        reason: reason.to_string(),
    }
}

/// Parses every metadata row and keeps the selected ones (in force, not FAKE).
fn select_metadata(
    rows: Vec<(String, Option<String>)>,
) -> Result<BTreeMap<String, AmMetadata>, AmExportError> {
    let mut selected = BTreeMap::new();
    for (am_id, data) in rows {
        let data = data.ok_or_else(|| invalid_json("am_metadata", &am_id, "NULL data"))?;
        let metadata: AmMetadata =
            serde_json::from_str(&data).map_err(|e| invalid_json("am_metadata", &am_id, e))?;
        if metadata.state == "VIGUEUR" && !am_id.starts_with("FAKE") {
            selected.insert(am_id, metadata);
        }
    }
    Ok(selected)
}

/// A structured text read from the database, waiting to be built.
struct Job {
    row_id: String,
    data: Option<String>,
}

/// Texts in flight between two stages of the pipeline.
const QUEUE: usize = 8;

/// The export pipeline: this thread streams the texts from the database, a worker thread
/// parses, enriches, validates and serialises them, a sink thread compresses or writes them.
/// The first error stops every stage and is returned.
fn run(database: &crate::pg::DbUrl, sink: &mut dyn Sink) -> Result<AmExportSummary, AmExportError> {
    let mut client = database.connect()?;
    source::check_tables(&mut client)?;
    let mut tx = client
        .build_transaction()
        .isolation_level(crate::pg::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let selected = select_metadata(source::load_metadata_rows(&mut tx)?)?;
    let ids: Vec<String> = selected.keys().cloned().collect();
    let parametrizations = source::load_parametrizations(&mut tx, &ids)?;

    let (job_tx, job_rx) = std::sync::mpsc::sync_channel::<Job>(QUEUE);
    let (file_tx, file_rx) = std::sync::mpsc::sync_channel::<(String, Vec<u8>)>(QUEUE);
    std::thread::scope(|scope| {
        let sink_thread = scope.spawn(move || -> Result<(), AmExportError> {
            for (name, bytes) in file_rx {
                sink.add(&name, &bytes)?;
            }
            Ok(())
        });
        let selected = &selected;
        let parametrizations = &parametrizations;
        let worker = scope.spawn(
            move || -> Result<(AmExportSummary, BTreeSet<String>), AmExportError> {
                let mut summary = AmExportSummary::default();
                let mut exported: BTreeSet<String> = BTreeSet::new();
                for job in job_rx {
                    let Job { row_id, data } = job;
                    let data =
                        data.ok_or_else(|| invalid_json("structured_am", &row_id, "NULL data"))?;
                    let am: ArreteMinisteriel = serde_json::from_str(&data)
                        .map_err(|e| invalid_json("structured_am", &row_id, e))?;
                    drop(data);
                    let text_id = am.id.clone().unwrap_or_default();
                    if text_id != row_id {
                        summary.warnings.push(format!(
                            "structured_am row {row_id} holds the text of {text_id:?}"
                        ));
                    }
                    let Some(metadata) = selected.get(&text_id) else {
                        continue;
                    };
                    if !exported.insert(text_id.clone()) {
                        summary.warnings.push(format!(
                            "duplicate structured text {text_id} in row {row_id} ignored"
                        ));
                        continue;
                    }
                    let parametrization = match parametrizations.get(&text_id) {
                        None => Parametrization::default(),
                        Some(None) => {
                            return Err(invalid_json("parametrization", &text_id, "NULL data"))
                        }
                        Some(Some(raw)) => serde_json::from_str(raw)
                            .map_err(|e| invalid_json("parametrization", &text_id, e))?,
                    };
                    let (json, dropped) = build_am(am, metadata, parametrization)?;
                    summary
                        .dropped_parametrization
                        .extend(dropped.into_iter().map(|s| (text_id.clone(), s)));
                    if file_tx.send((format!("{text_id}.json"), json)).is_err() {
                        break; // the sink failed; its error is reported below
                    }
                }
                summary.exported = exported.len();
                Ok((summary, exported))
            },
        );
        let read = source::stream_structured(&mut tx, &ids, |row_id, data| {
            // A closed queue means the worker stopped on an error, reported below.
            Ok(job_tx.send(Job { row_id, data }).is_ok())
        });
        drop(job_tx);
        let worked = worker.join().map_err(|_| panicked("worker"))?;
        let sunk = sink_thread.join().map_err(|_| panicked("sink"))?;
        let (mut summary, exported) = worked?;
        sunk?;
        read?;
        summary.skipped_no_structured = ids
            .iter()
            .filter(|id| !exported.contains(*id))
            .cloned()
            .collect();
        Ok(summary)
    })
    .and_then(|summary| {
        tx.commit()?;
        Ok(summary)
    })
}
/// Builds every AM of the database in memory (for tests and tools; the export itself streams).
pub fn export_files(
    opts: &AmExportOptions,
) -> Result<(Vec<AmFile>, AmExportSummary), AmExportError> {
    struct Collect(Vec<AmFile>);
    impl Sink for Collect {
        fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), AmExportError> {
            let am_id = name.trim_end_matches(".json").to_string();
            self.0.push(AmFile {
                am_id,
                json: bytes.to_vec(),
            });
            Ok(())
        }
    }
    let mut sink = Collect(Vec::new());
    let summary = run(&opts.database, &mut sink)?;
    Ok((sink.0, summary))
}

/// What the export needs, for `check`: the `am` store, and the back-office database when
/// `AM_DATABASE_URL` is set (connected, and its three tables checked).
pub fn probes(
    storage: &crate::storage::config::StorageConfig,
    env: &crate::secrets::Env,
) -> Vec<Box<dyn Probe>> {
    let mut probes = vec![StoreProbe::boxed("storage.am", &storage.am)];
    probes.extend(crate::probe::database(
        "back-office PostgreSQL",
        crate::pg::DbUrl::from_env(env, &["AM_DATABASE_URL"]),
        crate::probe::Needed::IfSet,
        |db| {
            check_database(db)
                .map(|()| "tables present".into())
                .map_err(|e| ProbeError::of(&e))
        },
    ));
    probes
}
