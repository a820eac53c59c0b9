//! The comparison behind the Slack summary of a run (docs/formats.md §10.1), giving the typed
//! [`ApsReport`] (its exact text is [`crate::report::slack`]'s). Counts are over distinct
//! Géorisques ids (the last row of an id wins), comparing the previous `aps_all.csv` with the new
//! one: deleted and new ids, ids that went from `NOT_ATTEMPTED` to `SUCCESS` (OCRed) or to
//! `ERROR`, and the current status counts.
//!
//! The previous file is optional (first run: everything is new). Unlike the original, which
//! swallowed every failure (Deviation, formats §11 #9), a storage error reading it fails the
//! run; only content that cannot be parsed as CSV is tolerated, reported as a warning, and
//! counts as empty (otherwise a corrupted file would block every later run).

use std::collections::HashMap;

use super::selection::Ap;
pub use crate::report::ApsReport;
use crate::tabular::{read_table, Header, TabularError};

/// Statuses by id of a previous `aps_all.csv` (last row wins). `Err` says why the content could
/// not be read, for a warning.
pub fn previous_statuses(content: &[u8]) -> Result<HashMap<String, String>, TabularError> {
    let table = read_table("previous aps_all.csv", content, b',', Header::Present)?;
    let [id, status] = table.columns(["georisques_id", "ocr_status"])?;
    Ok(table
        .rows
        .iter()
        .map(|r| {
            (
                r.get(id).unwrap_or("").to_string(),
                r.get(status).unwrap_or("").to_string(),
            )
        })
        .collect())
}

/// The comparison of docs/formats.md §10.1 (`files` left empty for the caller).
pub fn compare(prev: &HashMap<String, String>, aps_all: &[Ap<'_>]) -> ApsReport {
    let new: HashMap<&str, &str> = aps_all
        .iter()
        .map(|a| (a.georisques_id, a.status.as_str()))
        .collect();
    let mut report = ApsReport {
        deleted: prev
            .keys()
            .filter(|k| !new.contains_key(k.as_str()))
            .count(),
        new: new.keys().filter(|k| !prev.contains_key(**k)).count(),
        previous_ids: prev.len(),
        ..ApsReport::default()
    };
    for (id, status) in &new {
        *report.statuses.entry(status.to_string()).or_default() += 1;
        if prev.get(*id).map(String::as_str) == Some("NOT_ATTEMPTED") {
            match *status {
                "SUCCESS" => report.ocr_success += 1,
                "ERROR" => report.ocr_errors += 1,
                _ => {}
            }
        }
    }
    report
}
