//! `data-tasks daily`, the 07:00 UTC job: `aps` → `ocr` → `aps`, then one French Slack message.
//!
//! The first `aps` publishes today's ids, `ocr` processes the new ones, the second `aps` refreshes
//! `ocr_status`/`size` from the `ap` store. As in the original cron script, a failing step does not
//! stop the next one (the OCR then works on the ids already published). The message combines the
//! original's summary — deleted and new APs from the first `aps`, OCR transitions of both, current
//! statuses from the last successful `aps` — with each step's duration, the OCR throughput and any
//! failure. A post that fails after the retries undoes nothing. Exit status: 0 all done; 1 some
//! documents failed transiently, a step failed or the report was not posted; 2 nothing could be
//! published at all.

use std::time::Instant;

use crate::config::Config;
use crate::fetch::http::HttpClient;
use crate::outcome::{ExitStatus, Summary};
use crate::report::post_to_slack;
use crate::secrets::Secret;
use crate::stages::aps::{self, ApsReport};
use crate::stages::ocr::{self, OcrArgs, OcrStats};
use crate::storage::Store;

/// What each step of one daily run gave.
pub struct DailyRun {
    pub aps_before: Result<ApsReport, String>,
    pub ocr: Result<OcrStats, String>,
    pub aps_after: Result<ApsReport, String>,
    /// Seconds spent in each step.
    pub seconds: [f64; 3],
}

impl DailyRun {
    /// The combined report of the day, when at least one `aps` succeeded.
    pub fn combined(&self) -> Option<ApsReport> {
        match (&self.aps_before, &self.aps_after) {
            (Ok(a), Ok(b)) => Some(ApsReport {
                deleted: a.deleted + b.deleted,
                new: a.new + b.new,
                ocr_success: a.ocr_success + b.ocr_success,
                ocr_errors: a.ocr_errors + b.ocr_errors,
                statuses: b.statuses.clone(),
                files: b.files.clone(),
                previous_ids: a.previous_ids,
            }),
            (Ok(r), Err(_)) | (Err(_), Ok(r)) => Some(r.clone()),
            (Err(_), Err(_)) => None,
        }
    }

    /// The Slack message.
    pub fn slack_text(&self) -> String {
        let mut text = match self.combined() {
            Some(r) => r.slack_text(),
            None => {
                "*Mise à jour quotidienne des AP : aps_all.csv n'a pas pu être publié*\n".into()
            }
        };
        let [t1, t2, t3] = self.seconds;
        match &self.ocr {
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
        if let Ok(o) = &self.ocr {
            if o.transient_failures > 0 {
                text.push_str(&format!(
                    "{} documents en échec temporaire, réessayés demain.\n",
                    o.transient_failures
                ));
            }
        }
        for (step, r) in [
            ("aps (1)", self.aps_before.as_ref().err()),
            ("ocr", self.ocr.as_ref().err()),
            ("aps (2)", self.aps_after.as_ref().err()),
        ] {
            if let Some(e) = r {
                text.push_str(&format!("Échec de l'étape {step} : {e}\n"));
            }
        }
        text
    }
}

fn french_decimal(x: f64) -> String {
    format!("{x:.2}").replace('.', ",")
}

/// Runs the three steps and the report.
pub fn run(
    config: &Config,
    slack_webhook: Option<&Secret>,
    ocr_args: &OcrArgs,
    misc: &Store,
    ap: &Store,
    client: &HttpClient,
) -> Summary {
    let mut summary = Summary::new("daily");
    let aps_step = |summary: &mut Summary| -> Result<ApsReport, String> {
        let dump_client = aps::dump::client(&config.http).map_err(|e| e.to_string())?;
        match aps::run(config, misc, ap, &dump_client) {
            Ok((s, report)) => {
                summary.problems.extend(s.problems);
                Ok(report)
            }
            Err(e) => Err(e.to_string()),
        }
    };
    let t = Instant::now();
    let aps_before = aps_step(&mut summary);
    let t1 = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ocr = ocr::run(config, ocr_args, misc, ap, client)
        .map(|(s, stats)| {
            summary.problems.extend(s.problems);
            stats
        })
        .map_err(|e| e.to_string());
    let t2 = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let aps_after = aps_step(&mut summary);
    let t3 = t.elapsed().as_secs_f64();
    let run = DailyRun {
        aps_before,
        ocr,
        aps_after,
        seconds: [t1, t2, t3],
    };

    let text = run.slack_text();
    print!("{text}");
    let mut status = ExitStatus::Success;
    for (step, r) in [
        ("aps (before OCR)", run.aps_before.as_ref().err()),
        ("ocr", run.ocr.as_ref().err()),
        ("aps (after OCR)", run.aps_after.as_ref().err()),
    ] {
        if let Some(e) = r {
            tracing::error!(step, "{e}");
            summary.problems.push(format!("{step} failed: {e}"));
            status = ExitStatus::Partial;
        }
    }
    if !summary.problems.is_empty() {
        status = ExitStatus::Partial;
    }
    let stored = run
        .ocr
        .as_ref()
        .map(|o| o.succeeded + o.permanent_errors)
        .unwrap_or(0);
    if run.aps_before.is_err() && run.aps_after.is_err() && stored == 0 {
        status = ExitStatus::Fatal;
    }
    match slack_webhook {
        Some(url) => {
            if let Err(e) = post_to_slack(client, url.expose(), &text) {
                summary
                    .problems
                    .push(format!("cannot post the report to Slack: {e}"));
                status = status.max(ExitStatus::Partial);
            }
        }
        None => tracing::info!("SLACK_WEBHOOK_URL not set: report printed only"),
    }
    if let Ok(o) = &run.ocr {
        summary.count("ocr_processed", o.succeeded);
        summary.count("ocr_errors", o.permanent_errors);
        summary.count("ocr_transient_failures", o.transient_failures);
        summary.count("pages_ocred", o.pages_ocred);
    }
    if let Some(r) = run.combined() {
        summary.count("new_aps", r.new);
        summary.count("deleted_aps", r.deleted);
    }
    summary.status = status;
    summary.headline = format!(
        "daily: aps {}, ocr {}, aps {} in {:.0} s",
        if run.aps_before.is_ok() {
            "ok"
        } else {
            "FAILED"
        },
        match &run.ocr {
            Ok(o) => format!("{} documents", o.succeeded + o.permanent_errors),
            Err(_) => "FAILED".into(),
        },
        if run.aps_after.is_ok() {
            "ok"
        } else {
            "FAILED"
        },
        t1 + t2 + t3
    );
    summary
}
