//! `[http]`: the default HTTP policy every client starts from (stages and syncs with their own
//! section override it).

use serde::{Deserialize, Serialize};

/// The default HTTP policy (stages with their own section override it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub connect_timeout_s: u64,
    /// Whole-request timeout for small requests (PDFs, Slack).
    pub timeout_s: u64,
    /// Whole-request timeout for the Géorisques dump.
    pub dump_timeout_s: u64,
    /// Attempts after the first one on timeouts, resets, 5xx and 429.
    pub retries: u32,
    /// First backoff delay in milliseconds (doubled at each retry, with jitter).
    pub backoff_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout_s: 10,
            timeout_s: 120,
            dump_timeout_s: 1800,
            retries: 4,
            backoff_ms: 500,
        }
    }
}
