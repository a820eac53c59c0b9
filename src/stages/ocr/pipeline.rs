//! The backlog pipeline of one run: downloader threads → bounded queue → the OCR engine (pages of
//! consecutive documents pipelined across its workers) → an uploader thread that commits each
//! document as soon as it is done. Memory stays flat whatever the backlog size: at most the queue's
//! capacity of downloaded PDFs plus the engine's pages in flight.

use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::model::ap_store::{error_key, pdf_key};
use crate::storage::Store;

use super::download::{Failure, Source};
use super::{OcrStageError, OcrStats};
use crate::progress::{Progress, Unit};

/// What the uploader stores for one document.
enum Commit {
    Pdf {
        id: String,
        pdf: Vec<u8>,
        pages: usize,
        pages_ocred: usize,
        already_searchable: bool,
    },
    Error {
        id: String,
        kind: &'static str,
        message: String,
    },
}

/// Text of `<id>.error.txt`: the error kind and message (never a secret: the AP origin is public).
pub fn error_record(id: &str, kind: &str, message: &str) -> String {
    format!("id: {id}\nkind: {kind}\nmessage: {message}\n")
}

pub fn process(
    engine: &ocr::OcrEngine,
    todo: Vec<String>,
    source: &Source,
    ap: &Store,
    downloaders: usize,
    stats: &mut OcrStats,
) -> Result<(), OcrStageError> {
    let total = todo.len();
    let queue = Arc::new(Mutex::new(VecDeque::from(todo)));
    let workers = engine.options().jobs.max(1);
    let (dl_tx, dl_rx) = sync_channel::<(String, Result<Vec<u8>, Failure>)>(downloaders + workers);
    let (up_tx, up_rx) = sync_channel::<Commit>(workers * 2);
    let shared = Arc::new(Mutex::new(std::mem::take(stats)));

    std::thread::scope(|s| {
        for _ in 0..downloaders {
            let (queue, tx, source) = (queue.clone(), dl_tx.clone(), source.clone());
            s.spawn(move || download_loop(&queue, &tx, &source));
        }
        drop(dl_tx);
        let uploader = {
            let shared = shared.clone();
            s.spawn(move || upload_loop(up_rx, ap, &shared, total))
        };
        let docs = Downloaded {
            rx: dl_rx,
            up_tx: up_tx.clone(),
            stats: shared.clone(),
        };
        engine.process_stream(docs, |id: String, result| {
            let commit = match result {
                Ok(out) => Commit::Pdf {
                    id,
                    pages: out.pages,
                    pages_ocred: out.pages_ocred,
                    already_searchable: out.already_searchable,
                    pdf: out.pdf,
                },
                Err(e) => Commit::Error {
                    id,
                    kind: e.kind(),
                    message: e.to_string(),
                },
            };
            let _ = up_tx.send(commit);
        });
        drop(up_tx);
        let _ = uploader.join();
    });
    *stats = std::mem::take(&mut *lock(&shared));
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn download_loop(
    queue: &Mutex<VecDeque<String>>,
    tx: &SyncSender<(String, Result<Vec<u8>, Failure>)>,
    source: &Source,
) {
    loop {
        let Some(id) = lock(queue).pop_front() else {
            return;
        };
        let result = source.fetch(&id);
        if tx.send((id, result)).is_err() {
            return;
        }
    }
}

/// The engine's input: downloaded PDFs; failed downloads are routed straight to the uploader (or
/// counted as transient) without reaching the engine.
struct Downloaded {
    rx: Receiver<(String, Result<Vec<u8>, Failure>)>,
    up_tx: SyncSender<Commit>,
    stats: Arc<Mutex<OcrStats>>,
}

impl Iterator for Downloaded {
    type Item = (String, Vec<u8>);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (id, result) = self.rx.recv().ok()?;
            match result {
                Ok(bytes) => return Some((id, bytes)),
                Err(Failure::Permanent { kind, message }) => {
                    let _ = self.up_tx.send(Commit::Error { id, kind, message });
                }
                Err(Failure::Transient(reason)) => {
                    tracing::warn!(%id, %reason, "transient download failure, retried next run");
                    let mut st = lock(&self.stats);
                    st.transient_failures += 1;
                    st.problems
                        .push(format!("{id}: {reason} (will be retried)"));
                }
            }
        }
    }
}

fn upload_loop(rx: Receiver<Commit>, ap: &Store, stats: &Mutex<OcrStats>, total: usize) {
    let progress = Progress::new("ocr", Some(total as u64), Unit::Items("documents"));
    for commit in rx {
        let (id, key, body) = match &commit {
            Commit::Pdf { id, pdf, .. } => (id.clone(), pdf_key(id), Bytes::from(pdf.clone())),
            Commit::Error { id, kind, message } => {
                tracing::info!(%id, %kind, %message, "permanent failure recorded");
                (
                    id.clone(),
                    error_key(id),
                    Bytes::from(error_record(id, kind, message)),
                )
            }
        };
        let stored = ap.put(&key, body);
        let mut st = lock(stats);
        match (stored, &commit) {
            (Err(e), _) => {
                st.transient_failures += 1;
                st.problems.push(format!(
                    "{id}: cannot store {key}: {}",
                    crate::outcome::error_chain(&e)
                ));
            }
            (
                Ok(()),
                Commit::Pdf {
                    pages,
                    pages_ocred,
                    already_searchable,
                    ..
                },
            ) => {
                st.succeeded += 1;
                st.pages += pages;
                st.pages_ocred += pages_ocred;
                st.already_searchable += usize::from(*already_searchable);
            }
            (Ok(()), Commit::Error { .. }) => st.permanent_errors += 1,
        }
        let done = st.succeeded + st.permanent_errors + st.transient_failures;
        let rate = st.pages_ocred as f64 / progress.elapsed().as_secs_f64().max(1e-3);
        progress.set_position(done as u64);
        progress.set_message(format!(
            "{rate:.2} pages/s, {} errors",
            st.permanent_errors + st.transient_failures
        ));
    }
    progress.finish();
}
