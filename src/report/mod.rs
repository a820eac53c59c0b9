//! Reports to people: the French summaries of `aps` and `daily`, rendered from typed run data —
//! [`ApsReport`] (what `aps` published and how statuses moved), [`DailyReport`] (both `aps`
//! reports, the OCR stage's [`OcrStats`], each step's duration and failure) — never from scraped
//! text ([`slack`] holds the exact texts), and delivered by [`deliver`]: attached to the command's
//! [`Summary`] (the binary prints it before the headline) and posted to the Slack webhook when
//! one is configured. A post that fails after the HTTP client's retries becomes a problem of the
//! summary (exit 1) and undoes nothing. The webhook URL is a secret: it never appears in a
//! message. [`probe_slack`] checks a webhook without posting anything.

pub(crate) mod slack;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::fetch::http::{HttpClient, HttpError, Method};
use crate::outcome::{error_chain, Summary};
use crate::secrets::Secret;

/// What one run of the OCR stage did, for its summary and the daily Slack report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OcrStats {
    pub listed: usize,
    pub already_done: usize,
    pub to_process: usize,
    pub succeeded: usize,
    pub already_searchable: usize,
    pub permanent_errors: usize,
    pub transient_failures: usize,
    pub pages: usize,
    pub pages_ocred: usize,
    pub seconds: f64,
    #[serde(skip)]
    pub problems: Vec<String>,
}

impl OcrStats {
    pub fn pages_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.pages_ocred as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// What an `aps` run found and published, from which its Slack text is made.
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
        slack::aps_text(self)
    }

    /// Rows of one published file.
    pub fn rows(&self, file: &str) -> usize {
        self.files
            .iter()
            .find(|(f, _)| f == file)
            .map_or(0, |(_, n)| *n)
    }
}

/// Why a step of a composed run failed: its error chain, already rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StepError(pub String);

impl StepError {
    /// The step error of `e` (its whole chain, each cause once).
    pub fn of(e: &(dyn std::error::Error + 'static)) -> StepError {
        StepError(error_chain(e))
    }
}

/// What each step of one `daily` run gave.
#[derive(Debug, Clone)]
pub struct DailyReport {
    pub aps_before: Result<ApsReport, StepError>,
    pub ocr: Result<OcrStats, StepError>,
    pub aps_after: Result<ApsReport, StepError>,
    /// Seconds spent in each step.
    pub seconds: [f64; 3],
}

impl DailyReport {
    /// The combined report of the day, when at least one `aps` succeeded: deletions, additions
    /// and transitions of both runs, statuses and files of the last successful one.
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

    /// The message posted to Slack.
    pub fn slack_text(&self) -> String {
        slack::daily_text(self)
    }
}

/// Where a report goes besides the summary: the Slack webhook, if any.
#[derive(Clone, Copy)]
pub struct Delivery<'a> {
    /// `SLACK_WEBHOOK_URL`; `None`: the report is only printed.
    pub slack: Option<&'a Secret>,
    pub client: &'a HttpClient,
}

/// Attaches `text` to `summary` (printed by the binary) and posts it to Slack when a webhook is
/// configured; a failed post is a problem of `summary` (exit 1).
pub fn deliver(text: String, delivery: &Delivery<'_>, summary: &mut Summary) {
    match delivery.slack {
        Some(url) => match post_to_slack(delivery.client, url.expose(), &text) {
            Ok(()) => tracing::info!("posted the report to Slack"),
            Err(e) => summary.problem(format!(
                "cannot post the report to Slack: {}",
                error_chain(&e)
            )),
        },
        None => tracing::info!("SLACK_WEBHOOK_URL not set: report printed only"),
    }
    summary.report = Some(text);
}

/// Posts `text` as `{"text": …}` to the Slack webhook `url`.
pub fn post_to_slack(client: &HttpClient, url: &str, text: &str) -> Result<(), HttpError> {
    client.post_json(url, "Slack webhook", &serde_json::json!({ "text": text }))
}

/// Checks the Slack webhook `url` without posting a message: an empty payload (`{}`) is what a
/// valid webhook refuses with HTTP 400 (`no_text`, `invalid_payload`), whereas a revoked or
/// mistyped one answers 403 (`invalid_token`, `action_prohibited`), 404 (`no_service`,
/// `channel_not_found`) or 410 (`channel_is_archived`). Slack documents these statuses
/// (api.slack.com, "Handling errors" of incoming webhooks); nothing is posted either way.
pub fn probe_slack(client: &HttpClient, url: &str) -> Result<String, HttpError> {
    let sent = client
        .request(Method::POST, url, "Slack webhook")
        .json(&serde_json::json!({}))
        .send();
    match sent {
        Err(HttpError::Status {
            status: 400, body, ..
        }) => Ok(format!(
            "webhook valid (an empty payload is refused with HTTP 400 {}; nothing posted)",
            crate::text::clip(&body)
        )),
        Err(e) => Err(e),
        Ok(resp) => Ok(format!(
            "HTTP {} to an empty payload (not the answer of Slack; nothing posted)",
            resp.status
        )),
    }
}

#[cfg(test)]
mod tests;
