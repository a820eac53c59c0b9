//! `ocr --dry-run`: what a run would do, without doing it — how many ids are listed, already
//! processed and left, and for the first ones where each would be downloaded from and stored to.
//! Reads the id list and the `ap` listing only: nothing is downloaded, OCRed or stored (the
//! binary opens the stores read-only). Fails like a run would before its first download (id list
//! missing or unreadable, `ap` store unreachable).

use std::fmt::Write as _;

use crate::fetch::config::SourcesConfig;
use crate::model::ap_store::{error_key, pdf_key};
use crate::outcome::Summary;
use crate::storage::Store;

use super::{plan, OcrArgs, OcrPlan, OcrStageError};

/// Ids shown one per line in a preview; the rest are counted.
pub const SHOWN: usize = 10;

/// The command `ocr --dry-run`.
pub fn dry_run(
    sources: &SourcesConfig,
    args: &OcrArgs,
    misc: &Store,
    ap: &Store,
) -> Result<Summary, OcrStageError> {
    let plan = plan(sources, args, misc, ap)?;
    let mut summary = Summary::new("ocr");
    summary.report = Some(preview(sources, args, &plan, ap));
    for (name, n) in [
        ("listed", plan.stats.listed),
        ("already_done", plan.stats.already_done),
        ("to_process", plan.stats.to_process),
    ] {
        summary.count(name, n);
    }
    summary.warnings.extend(plan.stats.problems.iter().cloned());
    summary.headline = format!(
        "ocr --dry-run: would process {} of {} listed APs ({} already done); nothing downloaded, OCRed or stored",
        plan.stats.to_process, plan.stats.listed, plan.stats.already_done
    );
    Ok(summary)
}

/// The text of a preview: the counts, then the first ids with their source URL and target key.
pub fn preview(sources: &SourcesConfig, args: &OcrArgs, plan: &OcrPlan, ap: &Store) -> String {
    let s = &plan.stats;
    let mut out = String::new();
    let rejected = match s.problems.len() {
        0 => String::new(),
        n => format!(" ({n} entries rejected: not Géorisques ids)"),
    };
    let _ = writeln!(
        out,
        "ids listed: {} in {}{rejected}",
        s.listed, plan.ids_source
    );
    if let Some(shard) = args.shard {
        let _ = writeln!(
            out,
            "shard {}/{}: only the ids it owns",
            shard.index, shard.count
        );
    }
    if args.force_redo {
        let _ = writeln!(
            out,
            "already processed: not looked up (--force-redo: every listed id is redone)"
        );
    } else {
        let _ = writeln!(
            out,
            "already processed in {}: {} (a .pdf or an .error.txt)",
            ap.url(),
            s.already_done
        );
    }
    let limit = match args.limit {
        Some(n) => format!(" (--limit {n})"),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "would download, OCR and store: {} APs{limit}",
        s.to_process
    );
    if !plan.todo.is_empty() {
        let _ = writeln!(
            out,
            "  each fetched from {}<id>.pdf, stored in {} as {} ({} after a permanent failure):",
            sources.ap_pdf_base,
            ap.url(),
            pdf_key("<id>"),
            error_key("<id>")
        );
    }
    for id in plan.todo.iter().take(SHOWN) {
        let _ = writeln!(
            out,
            "  {id}  {}{id}.pdf → {}",
            sources.ap_pdf_base,
            pdf_key(id)
        );
    }
    if plan.todo.len() > SHOWN {
        let _ = writeln!(out, "  … and {} more", plan.todo.len() - SHOWN);
    }
    out
}
