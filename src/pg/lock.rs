//! Session advisory locks, one per sync and scope: `pg_try_advisory_lock(hashtext(key))` with
//! `key = "data-tasks:<sync>:<scope>"`. A [`LockGuard`] owns the dedicated connection holding the
//! lock (it is released when the guard, or the process, goes away — a killed run never leaves a
//! lock behind). [`try_lock`] never waits (a held lock means another run is at work: the caller
//! records `skipped`); [`lock_wait`] waits up to a timeout, then fails with
//! [`PgError::LockTimeout`].

use std::time::Duration;

use postgres::Client;

use super::{DbUrl, PgError};

/// The lock key of a sync's scope.
pub fn key(sync: &str, scope: &str) -> String {
    format!("data-tasks:{sync}:{scope}")
}

/// A held advisory lock and the connection holding it.
pub struct LockGuard {
    client: Client,
    key: String,
}

impl LockGuard {
    /// The lock's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The connection holding the lock: use it for run bookkeeping (autocommit statements),
    /// never for a long data transaction.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self
            .client
            .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&self.key]);
    }
}

/// Takes the lock `key` if it is free (`None` when another session holds it).
pub fn try_lock(url: &DbUrl, key: &str) -> Result<Option<LockGuard>, PgError> {
    let mut client = url.connect()?;
    let got: bool = client
        .query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&key])
        .map_err(|e| PgError::query(format!("advisory lock {key}"), e))?
        .get(0);
    Ok(got.then(|| LockGuard {
        client,
        key: key.to_string(),
    }))
}

/// Takes the lock `key`, waiting at most `timeout` for the run holding it to finish.
pub fn lock_wait(url: &DbUrl, key: &str, timeout: Duration) -> Result<LockGuard, PgError> {
    let mut client = url.connect()?;
    let ms = timeout.as_millis().max(1).to_string();
    client
        .execute("SELECT set_config('lock_timeout', $1, false)", &[&ms])
        .map_err(|e| PgError::query("set lock_timeout", e))?;
    match client.execute("SELECT pg_advisory_lock(hashtext($1))", &[&key]) {
        Ok(_) => {}
        Err(e) if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
            return Err(PgError::LockTimeout {
                key: key.to_string(),
                waited: timeout,
            })
        }
        Err(e) => return Err(PgError::query(format!("advisory lock {key}"), e)),
    }
    client
        .execute("SELECT set_config('lock_timeout', '0', false)", &[])
        .map_err(|e| PgError::query("reset lock_timeout", e))?;
    Ok(LockGuard {
        client,
        key: key.to_string(),
    })
}
