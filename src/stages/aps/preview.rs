//! `aps --dry-run`: everything a run does up to publication — the dump downloaded and read, the
//! `ap` store listed, every output built and validated — then a list of what would be
//! published (each key with its rows, size, and whether it is new, changed or unchanged in
//! `misc`) and the Slack text that would be posted. Nothing is published or posted (the binary
//! opens the stores read-only). Fails like a run would before publishing.

use std::fmt::Write as _;

use crate::fetch::config::SourcesConfig;
use crate::fetch::http::HttpClient;
use crate::outcome::Summary;
use crate::storage::{StorageError, Store};

use super::{prepare, ApsError, Outputs};

/// The command `aps --dry-run`; `slack` says whether `SLACK_WEBHOOK_URL` is set (nothing is
/// posted either way).
pub fn dry_run(
    sources: &SourcesConfig,
    misc: &Store,
    ap: &Store,
    dump_client: &HttpClient,
    slack: bool,
) -> Result<Summary, ApsError> {
    let outputs = prepare(sources, misc, ap, dump_client)?;
    let mut summary = Summary::new("aps");
    let mut text = files_preview(&outputs, misc)?;
    let _ = writeln!(
        text,
        "the Slack report ({}), not posted:",
        if slack {
            "SLACK_WEBHOOK_URL is set"
        } else {
            "SLACK_WEBHOOK_URL is not set: a run only prints it"
        }
    );
    text.push_str(&outputs.report.slack_text());
    summary.report = Some(text);
    for (name, n) in &outputs.report.files {
        summary.count(name, *n);
    }
    summary.warnings.extend(outputs.problems.iter().cloned());
    let r = &outputs.report;
    summary.headline = format!(
        "aps --dry-run: would publish {} documents and {} APs ({} new, {} deleted) to {}; nothing published or posted",
        r.rows("documents_all.csv"),
        r.rows("aps_all.csv"),
        r.new,
        r.deleted,
        misc.url()
    );
    Ok(summary)
}

/// What publishing `outputs` to `misc` would do: one line per key (rows, size, new / changed /
/// unchanged against what `misc` holds now), then the AP counts against the current
/// `aps_all.csv`.
pub fn files_preview(outputs: &Outputs, misc: &Store) -> Result<String, StorageError> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "would publish {} files to {}, as one atomic set:",
        outputs.files.len(),
        misc.url()
    );
    for (key, bytes) in &outputs.files {
        let count = match outputs.report.files.iter().find(|(f, _)| f == key) {
            Some((_, rows)) => format!("{rows} rows"),
            None => format!("{} ids", outputs.report.rows("aps_all.csv")),
        };
        let change = match misc.get_opt(key)? {
            None => "new",
            Some(current) if current == bytes => "unchanged",
            Some(_) => "changed",
        };
        let _ = writeln!(
            out,
            "  {key:<22} {count:>12} {:>10}  {change}",
            size(bytes.len())
        );
    }
    let r = &outputs.report;
    let _ = writeln!(
        out,
        "against the current aps_all.csv ({} APs): {} deleted, {} new",
        r.previous_ids, r.deleted, r.new
    );
    if !outputs.problems.is_empty() {
        let _ = writeln!(
            out,
            "problems a run would report (exit 1): {}",
            outputs.problems.len()
        );
        for p in outputs.problems.iter().take(5) {
            let _ = writeln!(out, "  {}", crate::text::clip(p));
        }
    }
    Ok(out)
}

fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / 1048576.0),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
