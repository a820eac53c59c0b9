//! The one tokio runtime behind the blocking storage API.
//!
//! `object_store` is async; the rest of data-tasks is synchronous (rayon, plain threads). Every
//! storage call is driven to completion on a small process-wide multi-thread runtime, so callers on
//! any thread (including rayon workers) can block on it. It must never be called from inside an
//! async context; nothing in data-tasks is.

use std::future::Future;
use std::sync::OnceLock;

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

fn runtime() -> &'static tokio::runtime::Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("storage-io")
            .enable_all()
            .build()
            // Creating a runtime only fails when the OS refuses threads: nothing sensible to do.
            .expect("cannot start the storage I/O runtime")
    })
}

/// Runs `fut` to completion on the storage runtime.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    runtime().block_on(fut)
}
