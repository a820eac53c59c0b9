//! The `ap` bucket's key convention, shared by `aps` (status and size of each AP) and `ocr`
//! (what is already processed): `<georisques_id>.pdf` is a searchable PDF, `<georisques_id>.error.txt`
//! records a permanent failure. [`ApIndex`] is built from a streaming listing (hundreds of
//! thousands of keys, never held as a list); keys of any other shape are ignored.

use std::collections::HashMap;

use crate::model::ids::is_georisques_id;

/// Key of the searchable PDF of `id`.
pub fn pdf_key(id: &str) -> String {
    format!("{id}.pdf")
}

/// Key of the error record of `id`.
pub fn error_key(id: &str) -> String {
    format!("{id}.error.txt")
}

/// OCR status of one AP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OcrStatus {
    Success,
    Error,
    NotAttempted,
}

impl OcrStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OcrStatus::Success => "SUCCESS",
            OcrStatus::Error => "ERROR",
            OcrStatus::NotAttempted => "NOT_ATTEMPTED",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    pdf: Option<u64>,
    error: bool,
}

/// What the `ap` store holds per Géorisques id.
#[derive(Debug, Default)]
pub struct ApIndex {
    seen: HashMap<Box<str>, Seen>,
}

impl ApIndex {
    /// Consumes a listing of `(key, size)` pairs (streamed, from any store); a listing error
    /// stops everything.
    pub fn from_listing<K: AsRef<str>, E>(
        listing: impl Iterator<Item = Result<(K, u64), E>>,
    ) -> Result<ApIndex, E> {
        let mut index = ApIndex::default();
        for item in listing {
            let (key, size) = item?;
            index.add(key.as_ref(), size);
        }
        Ok(index)
    }

    /// Records one key of the `ap` store; keys of other shapes are ignored.
    pub fn add(&mut self, key: &str, size: u64) {
        let Some((id, suffix)) = key.split_once('.') else {
            return;
        };
        if !is_georisques_id(id) {
            return;
        }
        let pdf = match suffix {
            "pdf" => true,
            "error.txt" => false,
            _ => return,
        };
        let seen = self.seen.entry(id.into()).or_default();
        if pdf {
            seen.pdf = Some(size);
        } else {
            seen.error = true;
        }
    }

    /// Whether `id` has a PDF or an error record (the OCR is done for it).
    pub fn is_processed(&self, id: &str) -> bool {
        self.seen.contains_key(id)
    }

    /// Number of ids with at least one object.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Status and size of one id (docs/formats.md §6.3).
    pub fn status(&self, id: &str) -> (OcrStatus, Option<u64>) {
        match self.seen.get(id) {
            Some(Seen {
                pdf: Some(size), ..
            }) => (OcrStatus::Success, Some(*size)),
            Some(Seen { error: true, .. }) => (OcrStatus::Error, None),
            _ => (OcrStatus::NotAttempted, None),
        }
    }
}
