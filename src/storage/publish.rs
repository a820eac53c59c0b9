//! Atomic publication of a set of outputs (`aps_*.csv`, `installations_*.csv`, …).
//!
//! Object stores have no multi-object transaction, so a set is published in three phases:
//! 1. **stage**: every object is uploaded under `_staging/<run>/` — the slow, failure-prone part
//!    (a failure here leaves the published objects untouched and the staging area removed);
//! 2. **back up**: each object about to be replaced is copied server-side to
//!    `_staging/<run>/_previous/`;
//! 3. **swap**: staged objects are copied server-side over the published names. If one copy
//!    fails, the ones already swapped are restored from the backup (or deleted when they did not
//!    exist before), so readers never keep a mixed set.
//!
//! The staging area is removed at the end. Only a process killed during the (fast, server-side)
//! swap can leave a mixed set; its `_staging/<run>/` then still holds both versions.

use bytes::Bytes;

use super::{StorageError, Store};

/// Prefix of staging areas inside a store.
pub const STAGING_PREFIX: &str = "_staging";

pub(super) fn publish(store: &Store, set: &[(String, Bytes)]) -> Result<(), StorageError> {
    for (key, _) in set {
        store.path(key)?;
    }
    let run = run_id();
    let staged = |key: &str| format!("{STAGING_PREFIX}/{run}/{key}");
    let backup = |key: &str| format!("{STAGING_PREFIX}/{run}/_previous/{key}");
    let cleanup = |store: &Store| {
        let prefix = format!("{STAGING_PREFIX}/{run}");
        if let Ok(list) = store.list(Some(&prefix)) {
            for info in list.flatten() {
                let _ = store.delete(&info.key);
            }
        }
    };

    // 1. stage
    for (key, bytes) in set {
        if let Err(e) = store.put(&staged(key), bytes.clone()) {
            cleanup(store);
            return Err(e);
        }
    }
    // 2. back up what is about to be replaced
    let mut existed = Vec::with_capacity(set.len());
    for (key, _) in set {
        let result = match store.exists(key) {
            Ok(true) => store.copy(key, &backup(key)).map(|_| true),
            Ok(false) => Ok(false),
            Err(e) => Err(e),
        };
        match result {
            Ok(b) => existed.push(b),
            Err(e) => {
                cleanup(store);
                return Err(e);
            }
        }
    }
    // 3. swap
    for (i, (key, _)) in set.iter().enumerate() {
        if let Err(e) = store.copy(&staged(key), key) {
            for (j, (done, _)) in set.iter().enumerate().take(i) {
                let _ = if existed[j] {
                    store.copy(&backup(done), done)
                } else {
                    store.delete(done)
                };
            }
            cleanup(store);
            return Err(StorageError::Publish {
                store: store.url().to_string(),
                key: key.clone(),
                reason: crate::outcome::error_chain(&e),
            });
        }
    }
    cleanup(store);
    Ok(())
}

fn run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{nanos}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
