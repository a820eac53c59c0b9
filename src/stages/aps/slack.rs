//! The Slack summary of a run (docs/formats.md §10.1) as typed data, [`ApsReport`], and its
//! exact text. Counts are over distinct Géorisques ids (the last row of an id wins), comparing
//! the previous `aps_all.csv` with the new one: deleted and new ids, ids that went from
//! `NOT_ATTEMPTED` to `SUCCESS` (OCRed) or to `ERROR`, and the current status counts.
//!
//! The previous file is optional (first run: everything is new). Unlike the original, which
//! swallowed every failure (Deviation, formats §11 #9), a storage error reading it fails the
//! run; only content that cannot be parsed as CSV is tolerated, reported as a warning, and
//! counts as empty (otherwise a corrupted file would block every later run).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::selection::Ap;
use crate::tabular::{read_table, Header};

/// What the `aps` run found and published, from which the Slack text is made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApsReport {
    /// Ids in the previous `aps_all.csv` but not in the new one.
    pub deleted: usize,
    /// Ids in the new `aps_all.csv` but not in the previous one.
    pub new: usize,
    /// Ids that went from `NOT_ATTEMPTED` to `SUCCESS`.
    pub ocr_success: usize,
    /// Ids that went from `NOT_ATTEMPTED` to `ERROR`.
    pub ocr_errors: usize,
    /// Current status → number of distinct ids, sorted by status name.
    pub statuses: BTreeMap<String, usize>,
    /// Rows of every published CSV file, in publication order.
    pub files: Vec<(String, usize)>,
    /// Distinct ids in the previous `aps_all.csv` (0 when there was none).
    pub previous_ids: usize,
}

impl ApsReport {
    /// The message posted to Slack, byte for byte the original's (ends with a newline).
    pub fn slack_text(&self) -> String {
        let mut s = format!(
            "*Depuis la dernière mise à jour du fichier aps_all.csv*\n\
             {} AP supprimés.\n{} nouveaux AP.\n{} AP OCRisés avec succès.\n\
             {} erreurs d'OCR.\nStatuts actuels de l'OCR:\n",
            self.deleted, self.new, self.ocr_success, self.ocr_errors
        );
        for (status, n) in &self.statuses {
            s.push_str(&format!("\t{status}: {n}\n"));
        }
        s
    }

    /// Rows of one published file.
    pub fn rows(&self, file: &str) -> usize {
        self.files
            .iter()
            .find(|(f, _)| f == file)
            .map_or(0, |(_, n)| *n)
    }
}

/// Statuses by id of a previous `aps_all.csv` (last row wins). `Err` carries the reason the
/// content could not be read, for a warning.
pub fn previous_statuses(content: &[u8]) -> Result<HashMap<String, String>, String> {
    let table = read_table("previous aps_all.csv", content, b',', Header::Present)
        .map_err(|e| e.to_string())?;
    let [id, status] = table
        .columns(["georisques_id", "ocr_status"])
        .map_err(|e| e.to_string())?;
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
