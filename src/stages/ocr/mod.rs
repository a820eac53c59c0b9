//! `data-tasks ocr`: OCR every listed AP that the `ap` store does not hold yet.
//!
//! Ids come from `misc/georisques_ids.json` (or `--ids FILE`); each is checked against the id
//! shape before any URL or key is built, then the `--shard I/N` partition (a stable hash), minus
//! the ids already processed (`<id>.pdf` or `<id>.error.txt`, from one streaming listing) unless
//! `--force-redo`, then `--limit`. Downloader threads fetch `<ap_pdf_base><id>.pdf` ahead of the
//! OCR through a bounded queue (network latency never idles the cores); the in-process engine of
//! `crates/ocr` pipelines pages across documents; an uploader thread commits each document as soon
//! as it is done — `<id>.pdf` (already-searchable PDFs as they came) or `<id>.error.txt` for a
//! permanent failure (404, not a PDF, too large, unreadable/encrypted PDF, recognition failure).
//! Transient failures (5xx, timeouts, resets after the retries) write nothing and are retried by
//! the next run. A crash loses only the documents in flight.
//!
//! [`dry_run`] (`ocr --dry-run`) stops after the selection: it prints how many ids are listed,
//! already done and left, with the first ids, their source URLs and target keys, and downloads,
//! OCRs and stores nothing (the stores are opened read-only).

pub(crate) mod config;
mod download;
mod ids;
mod pipeline;
mod preview;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use self::config::OcrConfig;
use crate::fetch::config::SourcesConfig;
use crate::fetch::http::HttpClient;
use crate::outcome::Summary;
use crate::probe::{Probe, ProbeError, StoreProbe};
pub use crate::report::OcrStats;
use crate::storage::config::StorageConfig;
use crate::storage::{StorageError, Store};

pub use self::ids::{parse_ids, IdsError, Listed, Shard};
pub use self::preview::{dry_run, preview};

/// Options of one run (the command line's flags).
#[derive(Debug, Clone, Default)]
pub struct OcrArgs {
    pub limit: Option<usize>,
    pub jobs: usize,
    pub shard: Option<Shard>,
    pub force_redo: bool,
    pub ids_file: Option<PathBuf>,
    /// Downloads running ahead of the OCR (default 4).
    pub downloaders: usize,
}

/// Fatal errors: nothing more can be done in this run.
#[derive(Debug, thiserror::Error)]
pub enum OcrStageError {
    #[error(transparent)]
    Ids(#[from] IdsError),
    #[error("cannot list or write the ap store")]
    Storage(#[from] StorageError),
    #[error("OCR engine unavailable")]
    Engine(#[from] ocr::SetupError),
}

/// What a run would process: the selected ids, in order, and the counts of the selection
/// (`listed`, `already_done`, `to_process`; rejected entries as `problems`).
#[derive(Debug, Clone, Default)]
pub struct OcrPlan {
    pub todo: Vec<String>,
    pub stats: OcrStats,
    /// Where the ids came from (`file://…/georisques_ids.json` or the `--ids` file).
    pub ids_source: String,
}

/// Reads the id list (`--ids FILE` or `misc/georisques_ids.json`) and selects what a run
/// processes (shard, minus what the `ap` store holds, `--limit`). Reads only.
pub fn plan(
    sources: &SourcesConfig,
    args: &OcrArgs,
    misc: &Store,
    ap: &Store,
) -> Result<OcrPlan, OcrStageError> {
    let max_bytes = sources.max_source_mib.saturating_mul(1 << 20);
    let listed = ids::load(args.ids_file.as_deref(), misc, max_bytes)?;
    let ids_source = match &args.ids_file {
        Some(path) => path.display().to_string(),
        None => format!("{}/georisques_ids.json", misc.url()),
    };
    Ok(plan_listed(listed, &ids_source, args, ap)?)
}

/// [`plan`] for ids already read (`daily --dry-run`: the list `aps` would publish).
pub fn plan_listed(
    listed: Listed,
    ids_source: &str,
    args: &OcrArgs,
    ap: &Store,
) -> Result<OcrPlan, StorageError> {
    let mut stats = OcrStats {
        listed: listed.ids.len(),
        problems: listed.rejected,
        ..OcrStats::default()
    };
    let todo = ids::select(listed.ids, args, ap, &mut stats)?;
    stats.to_process = todo.len();
    Ok(OcrPlan {
        todo,
        stats,
        ids_source: ids_source.to_string(),
    })
}

/// Runs the stage.
pub fn run(
    sources: &SourcesConfig,
    ocr_config: &OcrConfig,
    args: &OcrArgs,
    misc: &Store,
    ap: &Store,
    client: &HttpClient,
) -> Result<(Summary, OcrStats), OcrStageError> {
    let start = std::time::Instant::now();
    let OcrPlan {
        todo, mut stats, ..
    } = plan(sources, args, misc, ap)?;
    tracing::info!(
        already = stats.already_done,
        left = todo.len(),
        "{} APs already processed, {} APs left to process.",
        stats.already_done,
        todo.len()
    );
    if !todo.is_empty() {
        let engine = ocr::OcrEngine::new(ocr_config.engine_options(args.jobs))?;
        let source = download::Source {
            client: client.clone(),
            base: sources.ap_pdf_base.clone(),
            max_bytes: ocr_config.max_pdf_mib * 1024 * 1024,
        };
        pipeline::process(
            &engine,
            todo,
            &source,
            ap,
            args.downloaders.max(1),
            &mut stats,
        )?;
    }
    stats.seconds = start.elapsed().as_secs_f64();

    let mut summary = Summary::new("ocr");
    for (name, n) in [
        ("listed", stats.listed),
        ("already_done", stats.already_done),
        ("processed", stats.succeeded),
        ("already_searchable", stats.already_searchable),
        ("permanent_errors", stats.permanent_errors),
        ("transient_failures", stats.transient_failures),
        ("pages_ocred", stats.pages_ocred),
    ] {
        summary.count(name, n);
    }
    for p in &stats.problems {
        summary.problem(p.clone());
    }
    summary.headline = format!(
        "ocr: {} of {} listed APs already done; {} searchable PDFs stored ({} already searchable), {} error records, {} transient failures to retry; {} pages in {:.0} s ({:.2} pages/s)",
        stats.already_done,
        stats.listed,
        stats.succeeded,
        stats.already_searchable,
        stats.permanent_errors,
        stats.transient_failures,
        stats.pages_ocred,
        stats.seconds,
        stats.pages_per_second()
    );
    Ok((summary, stats))
}

/// The files a loaded engine uses, for operators: `loaded: PDFium /…/libpdfium.so, tessdata
/// /…/tessdata (fra)`. PDFium is the first candidate present, the one the engine bound.
fn engine_files(options: &ocr::OcrOptions) -> String {
    let pdfium = ocr::parts::candidate_paths(options.pdfium.as_deref())
        .into_iter()
        .find(|p| p.is_file())
        .map_or_else(|| "?".to_string(), |p| p.display().to_string());
    let tessdata = ocr::parts::resolve_tessdata(options.tessdata.as_deref());
    format!(
        "loaded: PDFium {pdfium}, tessdata {} ({})",
        tessdata.display(),
        options.language
    )
}

/// What the stage needs, for `check`: the `misc` and `ap` stores and the OCR engine (tesseract
/// with its language data, PDFium).
pub fn probes(storage: &StorageConfig, ocr_config: &OcrConfig) -> Vec<Box<dyn Probe>> {
    let options = ocr_config.engine_options(1);
    vec![
        StoreProbe::boxed("storage.misc", &storage.misc),
        StoreProbe::boxed("storage.ap", &storage.ap),
        crate::probe::probe(
            format!("OCR engine (tesseract {}, PDFium)", ocr_config.language),
            move |_| {
                ocr::OcrEngine::new(options.clone())
                    .map(|_| engine_files(&options))
                    .map_err(|e| ProbeError::of(&e))
            },
        ),
    ]
}
