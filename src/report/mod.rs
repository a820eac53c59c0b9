//! Reporting to people: the Slack post of a run's French summary. The text itself is built from
//! typed run data by the stages (`aps::ApsReport::slack_text`, `daily`); this module only delivers
//! it — with the HTTP client's retries — and never logs the webhook URL (a secret).

use crate::fetch::http::{HttpClient, HttpError};

/// Posts `text` as `{"text": …}` to the Slack webhook `url`.
pub fn post_to_slack(client: &HttpClient, url: &str, text: &str) -> Result<(), HttpError> {
    client.post_json(url, "Slack webhook", &serde_json::json!({ "text": text }))
}
