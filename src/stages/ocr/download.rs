//! Fetching one AP PDF from the public origin and classifying the failure: permanent (HTTP 4xx
//! other than 429, not a PDF, larger than the cap) → an error record is stored; transient (5xx,
//! 429, timeouts, resets, truncated bodies, after the client's retries) → nothing is stored and the
//! next run tries again.

use crate::fetch::http::{HttpClient, HttpError};

/// Where PDFs come from.
#[derive(Clone)]
pub struct Source {
    pub client: HttpClient,
    pub base: String,
    pub max_bytes: u64,
}

/// A failed download.
#[derive(Debug)]
pub enum Failure {
    Permanent { kind: &'static str, message: String },
    Transient(String),
}

/// Whether `bytes` start like a PDF (`%PDF-` within the first KiB, as readers tolerate).
pub fn looks_like_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

impl Source {
    /// Downloads `<base><id>.pdf`; `id` was validated by the caller.
    pub fn fetch(&self, id: &str) -> Result<Vec<u8>, Failure> {
        let url = format!("{}{id}.pdf", self.base);
        match self
            .client
            .get(&url, &format!("{id}.pdf"), Some(self.max_bytes))
        {
            Ok(bytes) if looks_like_pdf(&bytes) => Ok(bytes.to_vec()),
            Ok(bytes) => {
                let head: String = String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                Err(Failure::Permanent {
                    kind: "not_a_pdf",
                    message: format!(
                        "the origin answered {} bytes that are not a PDF: {head:?}",
                        bytes.len()
                    ),
                })
            }
            Err(e) if e.is_transient() => Err(Failure::Transient(e.to_string())),
            Err(e @ HttpError::TooLarge { .. }) => Err(Failure::Permanent {
                kind: "too_large",
                message: e.to_string(),
            }),
            Err(e) => Err(Failure::Permanent {
                kind: "download",
                message: e.to_string(),
            }),
        }
    }
}
