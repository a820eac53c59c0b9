//! `data-tasks aps`: the Géorisques documents dump → `documents_{all,sample,idf}.csv`,
//! `aps_{all,idf,sample}.csv` and `georisques_ids.json` in the `misc` store
//! (docs/formats.md §5–7), plus the typed [`ApsReport`] the Slack summary is made from (§10).
//!
//! [`run`] downloads the dump (a secret URL, long timeout, retries) and reads its two used
//! members from the tar stream with safety checks ([`dump`]), reads `installations_*.csv` and
//! the previous `aps_all.csv` from `misc`, streams the `ap` store's listing into an
//! [`ApIndex`], then [`build`] — pure, in memory — makes every output and validates it (≥ 100
//! documents and ≥ 100 APs per dataset, ids, installations, > 90 % OCRed). Only then is the whole
//! set published atomically. Any failure is an [`ApsError`] naming file, line and id, and nothing
//! is published. [`run`] never reports (`compose::daily` composes two runs into
//! one report); the `aps` command is [`run_and_report`], which delivers the Slack text through
//! [`crate::report`]. [`dry_run`] (`aps --dry-run`) reads and builds like [`run`] ([`prepare`])
//! and prints what would be published, without publishing or posting anything.

pub(crate) mod documents;
pub mod dump;
mod error;
pub(crate) mod ids;
mod preview;
pub(crate) mod selection;
pub(crate) mod slack;
#[cfg(test)]
mod tests;
pub(crate) mod validate;

use std::collections::HashSet;

use bytes::Bytes;

use crate::fetch::config::SourcesConfig;
use crate::fetch::http::HttpClient;
use crate::outcome::Summary;
use crate::probe::{Probe, SourceProbe, StoreProbe};
use crate::report::Delivery;
use crate::storage::config::StorageConfig;
use crate::storage::Store;
use crate::tabular::{read_table, Header, Table};

pub use self::error::ApsError;
pub use self::preview::{dry_run, files_preview};
pub use self::selection::{ApIndex, OcrStatus};
pub use crate::report::ApsReport;

/// Minimum rows of every `documents_<ds>.csv` and APs of every dataset (formats §5.3, §6.2).
pub const MIN_ROWS: usize = 100;

/// Datasets in the order the original builds their documents files.
pub const DATASETS: [&str; 3] = ["all", "sample", "idf"];

/// Everything `build` needs, already in memory.
pub struct Inputs<'a> {
    /// `IC_documents.csv` of the dump.
    pub documents: &'a [u8],
    /// `IC_types_document.csv` of the dump.
    pub types: &'a [u8],
    /// `installations_{all,sample,idf}.csv`, in [`DATASETS`] order.
    pub installations: [&'a [u8]; 3],
    /// What the `ap` store holds.
    pub ap_index: &'a ApIndex,
    /// The previous `aps_all.csv`, if there was one.
    pub previous_aps_all: Option<&'a [u8]>,
}

/// The seven files, ready to publish, and the report.
pub struct Outputs {
    /// `(object key, content)` in publication order.
    pub files: Vec<(String, Bytes)>,
    pub report: ApsReport,
    /// Non-fatal problems (malformed dump rows skipped, unreadable previous `aps_all.csv`).
    pub problems: Vec<String>,
}

/// Builds and validates every output. Pure: no I/O.
pub fn build(input: &Inputs<'_>) -> Result<Outputs, ApsError> {
    let dump = documents::DumpTables::parse(input.documents, input.types)?;
    let mut problems: Vec<String> = dump
        .documents
        .malformed
        .iter()
        .chain(&dump.types.malformed)
        .map(|m| format!("malformed row skipped: {m}"))
        .collect();
    let mut docs = dump.join();
    documents::sort(&mut docs);

    let tables: Vec<Table> = DATASETS
        .iter()
        .zip(input.installations)
        .map(|(ds, bytes)| {
            read_table(
                &format!("installations_{ds}.csv"),
                bytes,
                b',',
                Header::Present,
            )
        })
        .collect::<Result<_, _>>()?;
    let id_sets: Vec<HashSet<&str>> = tables
        .iter()
        .map(documents::installation_ids)
        .collect::<Result<_, _>>()?;

    let mut files = Vec::with_capacity(7);
    let mut rows = Vec::with_capacity(6);
    let mut per_ds = Vec::with_capacity(3);
    for (ds, ids) in DATASETS.iter().zip(&id_sets) {
        let name = format!("documents_{ds}.csv");
        let subset = documents::filter(&docs, ids);
        at_least(&name, "documents", subset.len())?;
        files.push((name.clone(), Bytes::from(documents::to_csv(&subset))));
        rows.push((name, subset.len()));
        per_ds.push(subset);
    }

    // APs in the original's order: all, idf, sample.
    let mut aps_by_ds = Vec::with_capacity(3);
    for ds in ["all", "idf", "sample"] {
        let i = DATASETS.iter().position(|d| *d == ds).unwrap_or(0);
        let docs_file = format!("documents_{ds}.csv");
        let selected = selection::select(&docs_file, &per_ds[i], input.ap_index)?;
        at_least(&format!("aps_{ds}.csv"), "APs", selected.len())?;
        tracing::info!("Found {} AP for dataset {ds}.", selected.len());
        aps_by_ds.push((ds, selected));
    }
    let aps_all = &aps_by_ds[0].1;
    validate::check("aps_all.csv", aps_all, &id_sets[0])?;

    let prev = match input.previous_aps_all {
        None => Default::default(),
        Some(content) => slack::previous_statuses(content).unwrap_or_else(|reason| {
            problems.push(format!(
                "previous aps_all.csv unreadable, Slack counts computed as if it were empty: {reason}"
            ));
            Default::default()
        }),
    };
    let mut report = slack::compare(&prev, aps_all);

    for (ds, selected) in &aps_by_ds {
        let name = format!("aps_{ds}.csv");
        files.push((name.clone(), Bytes::from(selection::to_csv(selected))));
        rows.push((name, selected.len()));
    }
    files.push((
        "georisques_ids.json".to_string(),
        Bytes::from(ids::to_json(aps_all.iter().map(|a| a.georisques_id))),
    ));
    report.files = rows;
    Ok(Outputs {
        files,
        report,
        problems,
    })
}

fn at_least(file: &str, what: &'static str, rows: usize) -> Result<(), ApsError> {
    if rows < MIN_ROWS {
        return Err(ApsError::TooFew {
            file: file.into(),
            what,
            rows,
            min: MIN_ROWS,
        });
    }
    Ok(())
}

/// Reads and builds: downloads the dump with `dump_client` (make it with [`dump::client`]: the
/// configured policy with the long dump timeout), reads `misc` and the `ap` listing, builds and
/// validates every output. Writes nothing.
pub fn prepare(
    sources: &SourcesConfig,
    misc: &Store,
    ap: &Store,
    dump_client: &HttpClient,
) -> Result<Outputs, ApsError> {
    let url = sources.georisques_dump()?;
    let installations: Vec<Bytes> = DATASETS
        .iter()
        .map(|ds| {
            let key = format!("installations_{ds}.csv");
            misc.get(&key)
                .map_err(|source| ApsError::Installations { key, source })
        })
        .collect::<Result<_, _>>()?;
    let previous = misc
        .get_opt("aps_all.csv")
        .map_err(|source| ApsError::Previous {
            key: "aps_all.csv",
            source,
        })?;
    let (dump, ap_index) = std::thread::scope(|s| {
        let listing = s.spawn(|| {
            ap.list(None)
                .and_then(|listing| {
                    ApIndex::from_listing(listing.map(|o| o.map(|o| (o.key, o.size))))
                })
                .map_err(ApsError::Listing)
        });
        let max_bytes = sources.max_source_mib.saturating_mul(1 << 20);
        let dump = dump::fetch(url, dump_client, max_bytes);
        let index = listing
            .join()
            .unwrap_or_else(|_| Err(ApsError::Archive("ap listing thread panicked".into())));
        (dump, index)
    });
    let (dump, ap_index) = (dump?, ap_index?);
    tracing::info!(ids = ap_index.len(), "listed the ap store");

    build(&Inputs {
        documents: &dump.documents,
        types: &dump.types,
        installations: [&installations[0], &installations[1], &installations[2]],
        ap_index: &ap_index,
        previous_aps_all: previous.as_deref(),
    })
}

/// Runs the task: [`prepare`], then publish the set atomically to `misc`. Does not post to
/// Slack.
pub fn run(
    sources: &SourcesConfig,
    misc: &Store,
    ap: &Store,
    dump_client: &HttpClient,
) -> Result<(Summary, ApsReport), ApsError> {
    let outputs = prepare(sources, misc, ap, dump_client)?;
    misc.publish(&outputs.files)?;

    let mut summary = Summary::new("aps");
    for (name, n) in &outputs.report.files {
        summary.count(name, *n);
        tracing::info!(file = %name, rows = n, "published");
    }
    for p in &outputs.problems {
        summary.problem(p.clone());
    }
    let r = &outputs.report;
    summary.headline = format!(
        "aps: published {} documents and {} APs ({} OCRed) to {}",
        r.rows("documents_all.csv"),
        r.rows("aps_all.csv"),
        r.statuses.get("SUCCESS").copied().unwrap_or(0),
        misc.url()
    );
    Ok((summary, outputs.report))
}

/// The `aps` command: [`run`], then the report delivered (printed with the summary, posted to
/// Slack when configured; a failed post makes the run partial).
pub fn run_and_report(
    sources: &SourcesConfig,
    misc: &Store,
    ap: &Store,
    dump_client: &HttpClient,
    delivery: &Delivery<'_>,
) -> Result<Summary, ApsError> {
    let (mut summary, report) = run(sources, misc, ap, dump_client)?;
    crate::report::deliver(report.slack_text(), delivery, &mut summary);
    Ok(summary)
}

/// What the stage needs, for `check`: the `misc` and `ap` stores and the dump (when configured;
/// its URL is a secret).
pub fn probes(storage: &StorageConfig, sources: &SourcesConfig) -> Vec<Box<dyn Probe>> {
    let mut probes = vec![
        StoreProbe::boxed("storage.misc", &storage.misc),
        StoreProbe::boxed("storage.ap", &storage.ap),
    ];
    probes.extend(SourceProbe::boxed(
        "sources.georisques_dump",
        sources.georisques_dump.as_deref(),
        true,
    ));
    probes
}
