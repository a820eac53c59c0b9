//! The secondary syncs (docs/architecture.md §10; one page each under docs/syncs/): `gn2pg`
//! (GeoNature export API → PostgreSQL), `visionature` (Biolovision API → PostgreSQL, plus
//! `fix-sync`) and `ecospheres` (DCAT catalogue → quality indicators). Same conventions as the
//! stages — one folder each (`mod.rs`, `config.rs`, the work, `tests.rs`), built on the shared
//! adapters: [`crate::pg`] (connections, locks, bulk upserts, `data_tasks.sync_run`),
//! [`crate::fetch::http`] (API client with retries and sessions), [`crate::progress`]. Syncs never
//! import each other.

pub mod ecospheres;
pub mod gn2pg;
pub mod http;
pub mod protocol;
pub mod visionature;
