//! Validation of an exported AM (the original `check_am`).
//!
//! The id must match `^(JORFTEXT|LEGITEXT)[0-9]{12}$`, every classement regime must be `A`, `E`
//! or `D`, fewer than 95 % of the section references (whole tree) may have an empty `nb`, and
//! `legifrance_url`, `aida_url` and `date_of_signature` must be set.

use super::model::{ArreteMinisteriel, StructuredText};

fn valid_id(id: &str) -> bool {
    let digits = id
        .strip_prefix("JORFTEXT")
        .or_else(|| id.strip_prefix("LEGITEXT"));
    digits.is_some_and(|d| d.len() == 12 && d.bytes().all(|b| b.is_ascii_digit()))
}

fn count_references(sections: &[StructuredText], total: &mut usize, empty: &mut usize) {
    for section in sections {
        *total += 1;
        if section.reference.as_ref().is_none_or(|r| r.nb.is_empty()) {
            *empty += 1;
        }
        count_references(&section.sections, total, empty);
    }
}

/// Checks an enriched AM; the error is the reason, in words.
pub(crate) fn check_am(am: &ArreteMinisteriel) -> Result<(), String> {
    let id = am.id.as_deref().unwrap_or("");
    if !valid_id(id) {
        return Err(format!(
            "invalid AM id format {id:?} (expected JORFTEXT or LEGITEXT and 12 digits)"
        ));
    }
    for classement in &am.classements {
        if !["A", "E", "D"].contains(&classement.regime.as_str()) {
            return Err(format!(
                "invalid regime {:?} for rubrique {} (expected A, E or D)",
                classement.regime, classement.rubrique
            ));
        }
    }
    let (mut total, mut empty) = (0usize, 0usize);
    count_references(&am.sections, &mut total, &mut empty);
    if empty as f64 / (total.max(1) as f64) >= 0.95 {
        return Err(format!(
            "more than 95% of references are empty ({empty}/{total})"
        ));
    }
    if am.legifrance_url.is_none() {
        return Err("missing legifrance_url".into());
    }
    if am.aida_url.is_none() {
        return Err("missing aida_url".into());
    }
    if am.date_of_signature.is_none() {
        return Err("missing date_of_signature".into());
    }
    Ok(())
}
