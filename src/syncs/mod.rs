//! The secondary syncs (docs/architecture.md §10; one page each under docs/syncs/): `gn2pg`
//! (GeoNature export API → PostgreSQL), `visionature` (Biolovision API → PostgreSQL, plus
//! `fix-sync`) and `ecospheres` (DCAT catalogue → quality indicators). Same conventions as the
//! stages — one folder each (`mod.rs`, `config.rs`, the work, `tests.rs`), built on the shared
//! adapters: [`crate::pg`] (connections, locks, bulk upserts, `data_tasks.sync_run`),
//! [`crate::fetch::http`] (API client with retries and sessions), [`crate::progress`]. Syncs never
//! import each other. Each has its Cargo feature (`gn2pg`, `visionature`, `ecospheres`, all on by
//! default); with the `dashboard` feature, each also says in its `ops.rs` what the dashboard
//! shows of it ([`ops`], gathered by [`ops_panels`]).

#[cfg(feature = "ecospheres")]
pub mod ecospheres;
#[cfg(feature = "gn2pg")]
pub mod gn2pg;
#[cfg(any(feature = "gn2pg", feature = "visionature", feature = "ecospheres"))]
pub(crate) mod http;
#[cfg(feature = "dashboard")]
pub mod ops;
#[cfg(any(feature = "gn2pg", feature = "visionature", feature = "ecospheres"))]
pub(crate) mod protocol;
#[cfg(feature = "visionature")]
pub mod visionature;

/// What each sync compiled in adds to the dashboard (its `ops.rs`), in the overview's order.
#[cfg(feature = "dashboard")]
pub fn ops_panels() -> &'static [ops::SyncOps] {
    &[
        #[cfg(feature = "gn2pg")]
        gn2pg::ops::OPS,
        #[cfg(feature = "visionature")]
        visionature::ops::OPS,
        #[cfg(feature = "ecospheres")]
        ecospheres::ops::OPS,
    ]
}
