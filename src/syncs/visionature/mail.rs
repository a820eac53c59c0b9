//! The fix-sync summary mail, sent over SMTP with `lettre` to `fix_sync.notify_email`
//! (replaces the original's `COPY TO PROGRAM` with a hard-coded address). The server comes from
//! `SMTP_URL` (`smtp://host:port`, `smtps://user:pass@host`, `smtp://host?tls=required`; see
//! lettre's `SmtpTransport::from_url`). What can fail: no `SMTP_URL`, an invalid address, the
//! server refusing the message — each a [`MailError`] that makes the run exit 1.

use lettre::message::header::ContentType;
use lettre::{Message, SmtpTransport, Transport};

use crate::secrets::{scrub, Secret};

/// A mail that could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP_URL is not set: cannot mail the fix-sync summary")]
    NoServer,
    #[error("invalid mail address {address:?}")]
    Address { address: String },
    #[error("cannot build the mail: {reason}")]
    Build { reason: String },
    #[error("SMTP server refused or failed: {reason}")]
    Send { reason: String },
}

/// Sends `body` with `subject` from `from` to every address of `to`.
pub fn send(
    smtp_url: Option<&Secret>,
    from: &str,
    to: &[String],
    subject: &str,
    body: &str,
) -> Result<(), MailError> {
    let url = smtp_url.ok_or(MailError::NoServer)?;
    let parse = |a: &str| {
        a.parse::<lettre::message::Mailbox>()
            .map_err(|_| MailError::Address { address: a.into() })
    };
    let mut builder = Message::builder()
        .from(parse(from)?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for t in to {
        builder = builder.to(parse(t)?);
    }
    let message = builder
        .body(body.to_string())
        .map_err(|e| MailError::Build {
            reason: e.to_string(),
        })?;
    let transport = SmtpTransport::from_url(url.expose())
        .map_err(|e| MailError::Send {
            reason: scrub(&e.to_string()),
        })?
        .timeout(Some(std::time::Duration::from_secs(30)))
        .build();
    transport.send(&message).map_err(|e| MailError::Send {
        reason: scrub(&e.to_string()),
    })?;
    Ok(())
}
