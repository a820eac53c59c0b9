//! `data-tasks ecospheres`: the Ecosphères DCAT catalogue → one metadata-quality row per dataset
//! in `<schema>.datasets`, rebuilt and swapped atomically each run (docs/syncs/ecospheres.md §1).
//!
//! The run: the database and its schema first (`data_tasks.sync_run`, the schema,
//! `datasets_history` with `--keep-history`), the scope's advisory lock (another run at work →
//! `skipped`, exit 0), then the catalogue is read page by page (`pipeline`: JSON-LD of
//! `jsonld`, the 19 columns of `columns`), de-duplicated into a temporary file
//! (`collect`), and published in one transaction (`store`). `--dry-run` reads and scores the
//! catalogue, prints the summary and touches no database.
//!
//! Sources (`remote`): `s3://` (the `AWS_*` variables, or the original's `S3_ENDPOINT_URL`,
//! `ACCESS_KEY`, `SECRET_KEY`, `BUCKET_NAME`), `file://` or a plain folder, or the CKAN export
//! over HTTP(S). Database: `ECOSPHERES_DATABASE_URL`, else `DATABASE_URL`, else the original's
//! `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_URL` (host), `POSTGRES_PORT`, `POSTGRES_DB`.
//!
//! Outcomes: exit 0 when every page was read (dataset-level oddities are counted as warnings);
//! 1 when pages were skipped (`on_bad_page = "skip"`) or the catalogue announces more pages than
//! were read; 2 — nothing published — for a bad page with `on_bad_page = "fail"`, a page read
//! twice, a source or database failure, or a shrink past `max_shrink`.

mod collect;
mod columns;
mod compat;
pub(crate) mod config;
mod dates;
mod jsonld;
#[cfg(feature = "dashboard")]
pub(crate) mod ops;
mod pipeline;
pub(crate) mod probes;
mod remote;
mod run;
mod store;

use crate::fetch::http::HttpError;
use crate::pg::PgError;
use crate::settings::ConfigError;
use crate::syncs::protocol::Overrun;

use collect::CollectError;
use remote::SourceError;
use store::LoadError;

/// What `data-tasks ecospheres` was asked to do (the binary parses it from the command line).
#[derive(Debug)]
pub struct Options {
    /// Catalogue to read: s3://bucket/prefix/ or file://folder/ (every object whose name
    /// contains .json) or https://…/dcat/catalog/jsonld?page=1 (follows hydra:nextPage).
    /// Default: ecospheres.source.
    pub source: Option<String>,
    /// Read and score the catalogue, print the summary, write nothing.
    pub dry_run: bool,
    /// Also keep today's snapshot in datasets_history.
    pub keep_history: bool,
}

/// Fatal errors of the sync (exit 2, nothing published).
#[derive(Debug, thiserror::Error)]
pub enum EcospheresError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Db(#[from] PgError),
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("hydra:nextPage leads back to {url}, which was already read: the catalogue's paging is broken")]
    Loop { url: String },
    #[error("no dcat:Dataset in the {pages} page(s) of {src}")]
    NoDatasets { src: String, pages: u64 },
    #[error(transparent)]
    Overrun(#[from] Overrun),
}

/// The sync's name in `data_tasks.sync_run` and in messages.
const SYNC: &str = "ecospheres";
/// Runs the command: the protocol of docs/syncs/README.md §9 around one read of the catalogue
/// and one publication (see [`mod@run`]).
pub use self::run::run;

#[cfg(test)]
mod tests;
