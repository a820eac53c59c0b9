//! ecospheres's part of the dashboard ([`OPS`]): nothing besides its runs in
//! `data_tasks.sync_run`, which the overview and `/runs` already show — the indicators table is
//! the sync's product, not a log to monitor.

use crate::syncs::ops::SyncOps;

/// What ecospheres shows in the dashboard: its runs only.
pub const OPS: SyncOps = SyncOps {
    name: "ecospheres",
    nav: &[],
    overview: None,
    pages: &[],
    copies: None,
};
