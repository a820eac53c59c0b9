//! `data-tasks installations`: the S3IC extraction CSVs → `installations_{all,sample,idf}.csv` and
//! `classements_{all,sample,idf}.csv` in the `misc` store (docs/formats.md §3–4).
//!
//! Both sources are read (path, URL or storage URL; gzip accepted) and parsed in parallel, all six
//! files are built and validated in memory — enum checks, the 47xx masking rule, the minimum of
//! 1000 rows per subset — and only then published as one atomic set. Any fatal problem (missing
//! column, bad encoding, bad date or enum value, too few rows, unreachable source or store) is an
//! [`InstallationsError`] naming the file, line and value, and nothing is published. Malformed rows
//! (more fields than the header) are skipped and listed in the summary (exit status 1).

mod classements;
mod error;
mod establishments;
mod subsets;
#[cfg(test)]
mod tests;

use bytes::Bytes;

use crate::fetch::Reader;
use crate::outcome::Summary;
use crate::probe::{Probe, SourceProbe, StoreProbe};
use crate::progress::{Progress, Unit};
use crate::storage::Store;
use crate::tabular::{read_table, Header, MalformedRow};

pub use self::error::InstallationsError;

/// Minimum number of rows of every `sample`/`idf` subset (docs/formats.md §3.4, §4.6).
pub const MIN_SUBSET_ROWS: usize = 1000;

/// Names of the sources, as shown in messages.
pub struct Sources<'a> {
    pub s3ic_name: &'a str,
    pub s3ic: &'a [u8],
    pub rubriques_name: &'a str,
    pub rubriques: &'a [u8],
}

/// The six files, ready to publish, and what happened while building them.
pub struct Outputs {
    /// `(object key, content)` in publication order.
    pub files: Vec<(String, Bytes)>,
    /// Rows per file, in the same order.
    pub rows: Vec<(String, usize)>,
    pub malformed: Vec<MalformedRow>,
}

/// Builds every output from the two sources' contents. Pure: no I/O.
pub fn build(src: &Sources<'_>) -> Result<Outputs, InstallationsError> {
    let (inst_table, rub_table) = rayon::join(
        || read_table(src.s3ic_name, src.s3ic, b';', Header::Present),
        || read_table(src.rubriques_name, src.rubriques, b';', Header::Present),
    );
    // Deviation (formats §4.1, §11 #2): extra rubrique columns are ignored, exactly 14 are written.
    let (inst_table, rub_table) = (inst_table?, rub_table?.project(&classements::SOURCE)?);

    let installations = establishments::build(&inst_table)?;
    let classements = classements::build(&rub_table, &installations.ids())?;
    let sets = subsets::Subsets::of(&installations);

    // The six serialisations are independent: run them in parallel, check in the original order.
    let (inst, (c_all, (c_sample, c_idf))) = rayon::join(
        || {
            (
                installations.to_csv(|_| true),
                installations.to_csv(|i| sets.in_sample(i)),
                installations.to_csv(|i| sets.in_idf(i)),
            )
        },
        || {
            rayon::join(
                || classements.to_csv(|_| true),
                || {
                    rayon::join(
                        || classements.to_csv(|s3ic| sets.sample_ids.contains(s3ic)),
                        || classements.to_csv(|s3ic| sets.idf_ids.contains(s3ic)),
                    )
                },
            )
        },
    );
    let built = [
        ("installations_all.csv", inst.0),
        (
            "installations_sample.csv",
            sets.check("installations sample", inst.1)?,
        ),
        (
            "installations_idf.csv",
            sets.check("installations idf", inst.2)?,
        ),
        ("classements_all.csv", c_all),
        (
            "classements_sample.csv",
            sets.check("classements sample", c_sample)?,
        ),
        ("classements_idf.csv", sets.check("classements idf", c_idf)?),
    ];
    let mut files = Vec::with_capacity(6);
    let mut rows = Vec::with_capacity(6);
    for (name, (bytes, n)) in built {
        files.push((name.to_string(), Bytes::from(bytes)));
        rows.push((name.to_string(), n));
    }
    let mut malformed = inst_table.malformed;
    malformed.extend(rub_table.malformed);
    Ok(Outputs {
        files,
        rows,
        malformed,
    })
}

/// Runs the task: read both sources with `reader` (its caps: CSV sources), build, publish
/// atomically to `misc`.
pub fn run(
    s3ic_src: &str,
    rubriques_src: &str,
    misc: &Store,
    reader: &Reader<'_>,
) -> Result<Summary, InstallationsError> {
    let steps = Progress::new("installations", Some(3), Unit::Items("steps"));
    steps.set_message("reading the sources");
    let (s3ic, rubriques) = rayon::join(|| reader.read(s3ic_src), || reader.read(rubriques_src));
    let (s3ic, rubriques) = (s3ic?, rubriques?);
    steps.inc(1);
    steps.set_message("building and checking the six files");
    let outputs = build(&Sources {
        s3ic_name: s3ic_src,
        s3ic: &s3ic,
        rubriques_name: rubriques_src,
        rubriques: &rubriques,
    })?;
    drop((s3ic, rubriques));
    steps.inc(1);
    steps.set_message(format!("publishing to {}", misc.url()));
    misc.publish(&outputs.files)?;
    steps.inc(1);
    steps.finish();

    let mut summary = Summary::new("installations");
    for (name, n) in &outputs.rows {
        summary.count(name, *n);
        tracing::info!(file = %name, rows = n, "published");
    }
    for m in &outputs.malformed {
        summary.problem(format!("malformed row skipped: {m}"));
    }
    let count = |n: &str| summary.counts.get(n).copied().unwrap_or(0);
    summary.headline = format!(
        "installations: published {} active installations and {} classements to {} ({} malformed rows skipped)",
        count("installations_all.csv"),
        count("classements_all.csv"),
        misc.url(),
        outputs.malformed.len()
    );
    Ok(summary)
}

/// What the stage needs, for `check`: the `misc` store and both sources (when configured).
pub fn probes(
    storage: &crate::storage::config::StorageConfig,
    sources: &crate::fetch::config::SourcesConfig,
) -> Vec<Box<dyn Probe>> {
    let mut probes = vec![StoreProbe::boxed("storage.misc", &storage.misc)];
    probes.extend(SourceProbe::boxed(
        "sources.s3ic",
        sources.s3ic.as_deref(),
        false,
    ));
    probes.extend(SourceProbe::boxed(
        "sources.rubriques",
        sources.rubriques.as_deref(),
        false,
    ));
    probes
}
