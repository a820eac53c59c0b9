//! What a command reports when it ends: a [`Summary`] (one human line, counts, problems) and an
//! [`ExitStatus`] (docs/architecture.md §8): 0 all done, 1 finished but some items failed (the
//! summary says which), 2 fatal — nothing was published.

use std::collections::BTreeMap;

use serde::Serialize;

/// Process exit status of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    Success,
    Partial,
    Fatal,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Partial => 1,
            ExitStatus::Fatal => 2,
        }
    }

    /// The worse of two statuses.
    pub fn max(self, other: ExitStatus) -> ExitStatus {
        if other.code() > self.code() {
            other
        } else {
            self
        }
    }
}

/// The end-of-run report of one command.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub command: String,
    pub status: ExitStatus,
    /// One human line, printed at the end of every run.
    pub headline: String,
    /// Named counts (rows, documents, pages…), in the JSON summary.
    pub counts: BTreeMap<String, u64>,
    /// Items that failed without stopping the run (malformed rows with their line, documents…).
    pub problems: Vec<String>,
    /// Notable facts that are not failures (skipped items, deviations applied).
    pub warnings: Vec<String>,
    /// A report for people, printed before the headline (the French summary of `aps` and
    /// `daily`, also posted to Slack; see [`crate::report`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

impl Summary {
    pub fn new(command: &str) -> Summary {
        Summary {
            command: command.to_string(),
            status: ExitStatus::Success,
            headline: String::new(),
            counts: BTreeMap::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
            report: None,
        }
    }

    pub fn count(&mut self, name: &str, n: usize) {
        self.counts.insert(name.to_string(), n as u64);
    }

    /// Records an item-level failure: the run goes on and ends with status 1.
    pub fn problem(&mut self, text: String) {
        self.status = self.status.max(ExitStatus::Partial);
        self.problems.push(text);
    }
}

/// `error` and its causes on one line, each cause once: `a: b: c`. A cause whose text its
/// predecessor already quotes (third-party errors that print their source, such as
/// `object_store`'s) is not repeated.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut last = text.clone();
    let mut source = error.source();
    while let Some(cause) = source {
        let shown = cause.to_string();
        if !shown.is_empty() && !last.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        last = shown;
        source = cause.source();
    }
    text
}

/// Why a command stopped before its end: the library's boundary error. Both kinds are fatal
/// (exit 2, nothing published); a run that ends returns its [`Summary`], whose status is 0, 1 or
/// (for `check`) 2. [`exit_status`] maps either to the process's exit status.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration or the command line is unusable: nothing was tried.
    #[error("invalid configuration")]
    Config(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A dependency (store, source, database, engine) failed or an input is invalid.
    #[error("{command}: failed, nothing published")]
    Failed {
        command: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl RunError {
    /// A configuration error.
    pub fn config(e: impl std::error::Error + Send + Sync + 'static) -> RunError {
        RunError::Config(Box::new(e))
    }

    /// A fatal error of `command`.
    pub fn failed(command: &str, e: impl std::error::Error + Send + Sync + 'static) -> RunError {
        RunError::Failed {
            command: command.to_string(),
            source: Box::new(e),
        }
    }

    /// The whole message, each cause once ([`error_chain`]).
    pub fn message(&self) -> String {
        error_chain(self)
    }
}

/// The exit status of a command's result: its summary's, or [`ExitStatus::Fatal`].
pub fn exit_status(result: &Result<Summary, RunError>) -> ExitStatus {
    match result {
        Ok(summary) => summary.status,
        Err(_) => ExitStatus::Fatal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read source s.csv")]
    struct Outer(#[source] std::io::Error);

    /// A third-party style error that prints its source.
    #[derive(Debug, thiserror::Error)]
    #[error("generic store error: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[test]
    fn chains_show_each_cause_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        assert_eq!(
            error_chain(&Outer(io())),
            "cannot read source s.csv: No such file"
        );
        assert_eq!(
            error_chain(&Repeats(io())),
            "generic store error: No such file"
        );
        let e = RunError::failed("installations", Outer(io()));
        assert_eq!(
            e.message(),
            "installations: failed, nothing published: cannot read source s.csv: No such file"
        );
        assert_eq!(exit_status(&Err(e)), ExitStatus::Fatal);
        let mut s = Summary::new("x");
        s.problem("p".into());
        assert_eq!(exit_status(&Ok(s)).code(), 1);
    }
}
