//! APs (docs/formats.md §6.1–6.3): the `Arrêté préfectoral` documents of each dataset, with
//! their OCR status and size taken from the `ap` store's listing.
//!
//! [`ApIndex`] is built from a streaming listing (hundreds of thousands of keys, never held as a
//! list): only keys shaped `<georisques_id>.pdf` or `<georisques_id>.error.txt` count, anything
//! else in the bucket is ignored. A PDF wins over an error file (`SUCCESS` with its size), then an
//! error file (`ERROR`), else `NOT_ATTEMPTED`. Selection fails, naming file, line and document,
//! on an empty or unknown document type or an unparsable date in any row of the dataset — the
//! original parsed every row into its document model.

use super::documents::Document;
use super::ApsError;
pub use crate::model::ap_store::{ApIndex, OcrStatus};
use crate::tabular::{parse_date, CsvWriter, Date};
use crate::text::clip;

/// The type label of APs.
pub const AP_TYPE: &str = "Arrêté préfectoral";

/// Every document type label the original's model accepts (ED `DocumentType`).
pub const DOCUMENT_TYPES: [&str; 8] = [
    AP_TYPE,
    "Rapport",
    "Visite",
    "Arrêté de mise en demeure",
    "Arrêté de sanction",
    "Autre",
    "Suite d'inspection",
    "Information du public (DI Seveso art. 14)",
];

/// Columns of `aps_*.csv`.
pub const COLUMNS: [&str; 6] = [
    "installation_s3ic_id",
    "description",
    "date",
    "georisques_id",
    "ocr_status",
    "size",
];

/// One row of `aps_*.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ap<'a> {
    pub s3ic_id: &'a str,
    pub description: &'a str,
    pub date: Option<Date>,
    pub georisques_id: &'a str,
    pub status: OcrStatus,
    pub size: Option<u64>,
    /// Line in `documents_<ds>.csv` (for messages).
    pub line: u64,
}

/// `url` minus its last 4 characters (`.pdf`), as the original slices it.
pub fn georisques_id(url: &str) -> &str {
    match url.char_indices().rev().nth(3) {
        Some((i, _)) => &url[..i],
        None => "",
    }
}

/// Parses every document of `documents_<ds>.csv` (`file`), keeps the APs in order (formats §6.2).
pub fn select<'a>(
    file: &str,
    docs: &[Document<'a>],
    index: &ApIndex,
) -> Result<Vec<Ap<'a>>, ApsError> {
    let mut aps = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let line = i as u64 + 2;
        let url = d.url.unwrap_or("");
        let doc_type = d.doc_type.unwrap_or("");
        if !DOCUMENT_TYPES.contains(&doc_type) {
            return Err(ApsError::InvalidType {
                file: file.into(),
                line,
                value: clip(doc_type),
                url: clip(url),
            });
        }
        let date = match d.date {
            None => None,
            Some(text) => Some(parse_date(text).map_err(|_| ApsError::InvalidDate {
                file: file.into(),
                line,
                value: clip(text),
                url: clip(url),
            })?),
        };
        if doc_type != AP_TYPE {
            continue;
        }
        let id = georisques_id(url);
        let (status, size) = index.status(id);
        aps.push(Ap {
            s3ic_id: d.s3ic_id.unwrap_or(""),
            description: d.description.unwrap_or(""),
            date,
            georisques_id: id,
            status,
            size,
            line,
        });
    }
    Ok(aps)
}

/// A size as Python prints a float (`328016.0`, `1e+16`).
pub fn float_size(n: u64) -> String {
    if n < 10_000_000_000_000_000 {
        format!("{n}.0")
    } else {
        let s = format!("{:e}", n as f64);
        match s.split_once('e') {
            Some((m, e)) => format!("{m}e+{e:0>2}"),
            None => s,
        }
    }
}

/// `aps_<ds>.csv`: sizes are integers unless a row of this file has none, then floats (§6.1).
pub fn to_csv(aps: &[Ap<'_>]) -> Vec<u8> {
    let floats = aps.iter().any(|a| a.size.is_none());
    let mut w = CsvWriter::with_header(&COLUMNS);
    for a in aps {
        let date = a.date.map(|d| d.iso());
        let size = a
            .size
            .map(|n| if floats { float_size(n) } else { n.to_string() });
        w.write_row([
            Some(a.s3ic_id),
            Some(a.description),
            date.as_ref().map(|d| d.as_str()),
            Some(a.georisques_id),
            Some(a.status.as_str()),
            size.as_deref(),
        ]);
    }
    w.into_bytes()
}
