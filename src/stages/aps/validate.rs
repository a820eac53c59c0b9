//! Validation of `aps_all.csv` before publication (docs/formats.md §6.4): per row, in order,
//! the first failure stops: the installation id has 10 characters whose non-digits are exactly
//! `.`, the Géorisques id has the `<capital>/<hex>/<32 hex>` shape, the installation is in
//! `installations_all.csv`. Then more than 90 % of the APs must be OCRed (the original's
//! message, ratio printed as Python prints a float). A failure names file, line and ids; nothing
//! is published.

use std::collections::HashSet;

use super::selection::{Ap, OcrStatus};
use super::ApsError;
use crate::model::ids::is_georisques_id;
use crate::text::clip;

/// Smallest share of `SUCCESS` rows accepted (strictly above).
pub const MIN_OCR_RATIO: f64 = 0.9;

/// The original's installation id rule: 10 characters, and the set of non-digit characters is
/// exactly `{'.'}`.
pub fn is_valid_s3ic(s: &str) -> bool {
    s.chars().count() == 10 && s.contains('.') && s.chars().all(|c| c == '.' || c.is_ascii_digit())
}

/// Checks `aps_all.csv`'s rows (named `file`) against the installations of `installations_all`.
pub fn check(file: &str, aps: &[Ap<'_>], installations: &HashSet<&str>) -> Result<(), ApsError> {
    for (i, a) in aps.iter().enumerate() {
        let fail = |reason: &str| ApsError::Invalid {
            file: file.into(),
            line: i as u64 + 2,
            reason: reason.into(),
            georisques_id: clip(a.georisques_id),
            s3ic_id: clip(a.s3ic_id),
        };
        if !is_valid_s3ic(a.s3ic_id) {
            return Err(fail("invalid installation_s3ic_id"));
        }
        if !is_georisques_id(a.georisques_id) {
            return Err(fail("invalid georisques_id"));
        }
        if !installations.contains(a.s3ic_id) {
            return Err(fail("installation not in installations_all.csv"));
        }
    }
    let success = aps
        .iter()
        .filter(|a| a.status == OcrStatus::Success)
        .count();
    let ratio = success as f64 / aps.len().max(1) as f64;
    if ratio <= MIN_OCR_RATIO {
        return Err(ApsError::LowOcrRatio {
            ratio: py_float(ratio),
        });
    }
    Ok(())
}

/// A float as Python's `repr` prints it (shortest round-trip digits, `.0` on integers,
/// exponent form below 1e-4 and from 1e16).
pub fn py_float(x: f64) -> String {
    if x == 0.0 {
        return "0.0".into();
    }
    let a = x.abs();
    if !(1e-4..1e16).contains(&a) {
        let s = format!("{x:e}");
        return match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        };
    }
    let s = format!("{x}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}
