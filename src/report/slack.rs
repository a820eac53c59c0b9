//! The exact French texts of the reports (docs/formats.md §10): `aps`'s is byte for byte the
//! original's; `daily`'s adds, after it, each step's duration, the OCR throughput and failures.

use super::{ApsReport, DailyReport};

/// The `aps` message (ends with a newline).
pub fn aps_text(r: &ApsReport) -> String {
    let mut s = format!(
        "*Depuis la dernière mise à jour du fichier aps_all.csv*\n\
         {} AP supprimés.\n{} nouveaux AP.\n{} AP OCRisés avec succès.\n\
         {} erreurs d'OCR.\nStatuts actuels de l'OCR:\n",
        r.deleted, r.new, r.ocr_success, r.ocr_errors
    );
    for (status, n) in &r.statuses {
        s.push_str(&format!("\t{status}: {n}\n"));
    }
    s
}

/// The `daily` message: the combined `aps` text (or a line saying none could be published),
/// durations, OCR throughput, transient failures and failed steps.
pub fn daily_text(run: &DailyReport) -> String {
    let mut text = match run.combined() {
        Some(r) => aps_text(&r),
        None => "*Mise à jour quotidienne des AP : aps_all.csv n'a pas pu être publié*\n".into(),
    };
    let [t1, t2, t3] = run.seconds;
    match &run.ocr {
        Ok(o) => text.push_str(&format!(
            "Durées : aps {t1:.0} s, OCR {t2:.0} s ({} documents, {} pages, {} pages/s), aps {t3:.0} s\n",
            o.succeeded + o.permanent_errors,
            o.pages_ocred,
            french_decimal(o.pages_per_second())
        )),
        Err(_) => text.push_str(&format!(
            "Durées : aps {t1:.0} s, OCR {t2:.0} s, aps {t3:.0} s\n"
        )),
    }
    if let Ok(o) = &run.ocr {
        if o.transient_failures > 0 {
            text.push_str(&format!(
                "{} documents en échec temporaire, réessayés demain.\n",
                o.transient_failures
            ));
        }
    }
    for (step, r) in [
        ("aps (1)", run.aps_before.as_ref().err()),
        ("ocr", run.ocr.as_ref().err()),
        ("aps (2)", run.aps_after.as_ref().err()),
    ] {
        if let Some(e) = r {
            text.push_str(&format!("Échec de l'étape {step} : {e}\n"));
        }
    }
    text
}

fn french_decimal(x: f64) -> String {
    format!("{x:.2}").replace('.', ",")
}
