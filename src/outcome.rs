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
