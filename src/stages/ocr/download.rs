//! Fetching one AP PDF from the public origin and classifying the failure: permanent (HTTP 4xx
//! other than 429, not a PDF, larger than the cap) → an error record is stored; transient (5xx,
//! 429, timeouts, resets, truncated bodies, after the client's retries) → nothing is stored and the
//! next run tries again. The message of a permanent failure, which becomes the error record,
//! stays short: the status, the content type and the first characters of the body with its HTML
//! tags stripped — never a whole HTML page.

use crate::fetch::http::{snippet, HttpClient, HttpError, Method};

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
        let sent = self
            .client
            .request(Method::GET, &url, &format!("{id}.pdf"))
            .max_bytes(self.max_bytes)
            .send();
        match sent {
            Ok(resp) if looks_like_pdf(&resp.body) => Ok(resp.body.to_vec()),
            Ok(resp) => Err(Failure::Permanent {
                kind: "not_a_pdf",
                message: not_a_pdf(resp.status, resp.header("content-type"), &resp.body),
            }),
            Err(e) if e.is_transient() => Err(Failure::Transient(crate::text::clip_to(
                &e.to_string(),
                400,
            ))),
            Err(e @ HttpError::TooLarge { .. }) => Err(Failure::Permanent {
                kind: "too_large",
                message: crate::text::clip_to(&e.to_string(), 400),
            }),
            Err(e) => Err(Failure::Permanent {
                kind: "download",
                message: crate::text::clip_to(&e.to_string(), 400),
            }),
        }
    }
}

/// Why an answer is not a PDF, in one short line: `HTTP 200, text/html, 5123 bytes, not a PDF:
/// Erreur 500 Le service est indisponible` (the body's first characters, HTML tags stripped).
pub fn not_a_pdf(status: u16, content_type: Option<&str>, body: &[u8]) -> String {
    let head = snippet(&String::from_utf8_lossy(&body[..body.len().min(4096)]));
    format!(
        "HTTP {status}, {}, {} bytes, not a PDF{}",
        crate::text::clip_to(content_type.unwrap_or("no content type"), 60),
        body.len(),
        if head.is_empty() {
            String::new()
        } else {
            format!(": {head}")
        }
    )
}
