//! `data-tasks am-export`: runs the export and publishes the archive to the `am` store as
//! `ams/<UTC timestamp>.zip`, then points `ams/latest.zip` (the name the web app reads) at the
//! same bytes with a server-side copy. Each object write is atomic and `latest.zip` is only
//! replaced after the timestamped archive is complete, so it always names a complete archive;
//! an export that fails publishes nothing. With `--out DIR` the JSON files go to a folder instead.

use std::path::Path;

use bytes::Bytes;

use crate::outcome::Summary;
use crate::storage::Store;

use super::{export_to_dir, export_zip, AmExportError, AmExportOptions, AmExportSummary};

/// Key of the archive the web app downloads.
pub const LATEST: &str = "ams/latest.zip";

/// Timestamped key of an archive published at `now` (UTC, microseconds, like the original's
/// `datetime.isoformat()` but explicit about the zone).
pub fn archive_key(now: chrono::DateTime<chrono::Utc>) -> String {
    format!("ams/{}.zip", now.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
}

/// Exports and publishes (or writes to `out`), returning the run's summary.
pub fn run(
    opts: &AmExportOptions,
    am: &Store,
    out: Option<&Path>,
) -> Result<Summary, AmExportError> {
    let mut summary = Summary::new("am-export");
    let (export, target) = match out {
        Some(dir) => (export_to_dir(opts, dir)?, dir.display().to_string()),
        None => {
            let (zip, export) = export_zip(opts)?;
            let size = zip.len();
            let key = archive_key(chrono::Utc::now());
            am.put(&key, Bytes::from(zip))?;
            am.copy(&key, LATEST)?;
            summary.count("zip_bytes", size);
            tracing::info!(object = %key, bytes = size, "archive published");
            (
                export,
                format!("{}/{key} and {LATEST} ({size} bytes)", am.url()),
            )
        }
    };
    report(&mut summary, &export);
    summary.headline = format!("am-export: {} AMs exported to {target}", export.exported);
    Ok(summary)
}

fn report(summary: &mut Summary, export: &AmExportSummary) {
    summary.count("exported", export.exported);
    for id in &export.skipped_no_structured {
        summary.warnings.push(format!(
            "{id}: in force but has no structured text, not exported"
        ));
    }
    for (am, section) in &export.dropped_parametrization {
        summary.warnings.push(format!(
            "{am}: parametrization element tied to missing section {section} dropped"
        ));
    }
    summary.warnings.extend(export.warnings.iter().cloned());
    for w in &summary.warnings {
        tracing::warn!("{w}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_keys_are_utc_timestamps() {
        let t = chrono::DateTime::parse_from_rfc3339("2022-03-04T09:15:27.654321+00:00")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(archive_key(t), "ams/2022-03-04T09:15:27.654321Z.zip");
        let store = Store::open("memory://am-key-check").unwrap();
        store
            .put(&archive_key(t), Bytes::from_static(b"z"))
            .unwrap();
        assert!(store.exists(&archive_key(t)).unwrap());
    }
}
