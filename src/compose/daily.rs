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
//!
//! [`dry_run`] (`daily --dry-run`) previews the day without changing anything: the first `aps`
//! is read and built (the dump is downloaded) but not published, the OCR's selection is made
//! from the id list that `aps` would publish, and nothing is downloaded from the AP origin,
//! stored, published or posted.

use std::fmt::Write as _;
use std::time::Instant;

use crate::config::Config;
use crate::fetch::http::HttpClient;
use crate::outcome::{error_chain, ExitStatus, Summary};
use crate::probe::{Probe, ProbeError};
use crate::report::{self, ApsReport, DailyReport, Delivery, StepError};
use crate::secrets::Env;
use crate::stages::aps;
use crate::stages::ocr::{self, OcrArgs};
use crate::storage::Store;

/// Runs the three steps and the report.
pub fn run(
    config: &Config,
    ocr_args: &OcrArgs,
    misc: &Store,
    ap: &Store,
    client: &HttpClient,
    delivery: &Delivery<'_>,
) -> Summary {
    let mut summary = Summary::new("daily");
    let aps_step = |summary: &mut Summary| -> Result<ApsReport, StepError> {
        let ran = aps::dump::client(&config.http)
            .and_then(|dump_client| aps::run(&config.sources, misc, ap, &dump_client));
        match ran {
            Ok((s, report)) => {
                summary.problems.extend(s.problems);
                Ok(report)
            }
            Err(e) => Err(StepError::of(&e)),
        }
    };
    let t = Instant::now();
    let aps_before = aps_step(&mut summary);
    let t1 = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ocr = ocr::run(&config.sources, &config.ocr, ocr_args, misc, ap, client)
        .map(|(s, stats)| {
            summary.problems.extend(s.problems);
            stats
        })
        .map_err(|e| StepError::of(&e));
    let t2 = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let aps_after = aps_step(&mut summary);
    let t3 = t.elapsed().as_secs_f64();
    let run = DailyReport {
        aps_before,
        ocr,
        aps_after,
        seconds: [t1, t2, t3],
    };

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
    if let Ok(o) = &run.ocr {
        summary.count("ocr_processed", o.succeeded);
        summary.count("ocr_errors", o.permanent_errors);
        summary.count("ocr_transient_failures", o.transient_failures);
        summary.count("pages_ocred", o.pages_ocred);
        summary.count("ocr_already_done", o.already_done);
    }
    if let Some(r) = run.combined() {
        summary.count("new_aps", r.new);
        summary.count("deleted_aps", r.deleted);
    }
    summary.status = summary.status.max(status);
    report::deliver(run.slack_text(), delivery, &mut summary);
    summary.headline = format!(
        "daily: aps {}, ocr {}, aps {} in {:.0} s",
        if run.aps_before.is_ok() {
            "ok"
        } else {
            "FAILED"
        },
        match &run.ocr {
            Ok(o) => format!(
                "{} documents ({} of {} listed already done)",
                o.succeeded + o.permanent_errors,
                o.already_done,
                o.listed
            ),
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

/// The command `daily --dry-run` (see the module doc); `slack` says whether
/// `SLACK_WEBHOOK_URL` is set.
pub fn dry_run(
    config: &Config,
    ocr_args: &OcrArgs,
    misc: &Store,
    ap: &Store,
    slack: bool,
) -> Summary {
    let mut summary = Summary::new("daily");
    let mut text = String::from("1. aps (the dump is downloaded and read, nothing published)\n");
    let built = aps::dump::client(&config.http)
        .and_then(|dump_client| aps::prepare(&config.sources, misc, ap, &dump_client));
    let mut aps_line = "aps FAILED".to_string();
    let planned = match &built {
        Ok(outputs) => {
            match aps::files_preview(outputs, misc) {
                Ok(files) => {
                    for line in files.lines() {
                        let _ = writeln!(text, "  {line}");
                    }
                }
                Err(e) => summary.problem(format!("misc: {}", error_chain(&e))),
            }
            summary.warnings.extend(outputs.problems.iter().cloned());
            let r = &outputs.report;
            aps_line = format!(
                "aps would publish {} APs ({} new, {} deleted)",
                r.rows("aps_all.csv"),
                r.new,
                r.deleted
            );
            let ids = outputs
                .files
                .iter()
                .find(|(key, _)| key == "georisques_ids.json")
                .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
                .unwrap_or_default();
            let source = format!(
                "georisques_ids.json as aps would publish it to {}",
                misc.url()
            );
            ocr::parse_ids(&source, &ids)
                .map_err(|e| StepError::of(&e))
                .and_then(|listed| {
                    ocr::plan_listed(listed, &source, ocr_args, ap).map_err(|e| StepError::of(&e))
                })
        }
        Err(e) => {
            let _ = writeln!(
                text,
                "  would fail: {}\n  (the OCR then works on the ids already in misc)",
                error_chain(e)
            );
            summary.problem(format!("aps (before OCR) would fail: {}", error_chain(e)));
            ocr::plan(&config.sources, ocr_args, misc, ap).map_err(|e| StepError::of(&e))
        }
    };
    text.push_str("2. ocr (nothing downloaded, OCRed or stored)\n");
    let ocr_line = match &planned {
        Ok(plan) => {
            for line in ocr::preview(&config.sources, ocr_args, plan, ap).lines() {
                let _ = writeln!(text, "  {line}");
            }
            summary.warnings.extend(plan.stats.problems.iter().cloned());
            summary.count("to_process", plan.stats.to_process);
            summary.count("already_done", plan.stats.already_done);
            format!(
                "ocr would process {} of {} listed APs ({} already done)",
                plan.stats.to_process, plan.stats.listed, plan.stats.already_done
            )
        }
        Err(e) => {
            let _ = writeln!(text, "  would fail: {e}");
            summary.problem(format!("ocr would fail: {e}"));
            "ocr FAILED".to_string()
        }
    };
    let _ = writeln!(
        text,
        "3. aps again: ocr_status and size of aps_*.csv refreshed from {}",
        ap.url()
    );
    let _ = writeln!(
        text,
        "then the French report: {}",
        if slack {
            "posted to Slack (SLACK_WEBHOOK_URL is set)"
        } else {
            "printed only (SLACK_WEBHOOK_URL is not set)"
        }
    );
    if built.is_err() && planned.is_err() {
        summary.status = ExitStatus::Fatal;
    }
    summary.report = Some(text);
    summary.headline = format!(
        "daily --dry-run: {aps_line}; {ocr_line}; nothing published, downloaded from the AP origin, OCRed or posted"
    );
    summary
}

/// What the job needs, for `check`: what `aps` and `ocr` need, and the Slack webhook when
/// `SLACK_WEBHOOK_URL` is set (checked without posting: [`report::probe_slack`]).
pub fn probes(config: &Config, env: &Env) -> Vec<Box<dyn Probe>> {
    let mut probes = aps::probes(&config.storage, &config.sources);
    probes.extend(ocr::probes(&config.storage, &config.ocr));
    if let Some(url) = env.secret("SLACK_WEBHOOK_URL") {
        probes.push(crate::probe::probe(
            format!(
                "SLACK_WEBHOOK_URL ({})",
                crate::secrets::redact_url(url.expose())
            ),
            move |ctx| report::probe_slack(ctx.http, url.expose()).map_err(|e| ProbeError::of(&e)),
        ));
    }
    probes
}
