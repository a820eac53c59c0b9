//! Domain vocabulary shared by the stages: identifiers and the closed sets of values the
//! Envinorma web app accepts (regimes, Seveso statuses, families, activity states, OCR statuses).
//! Pure functions, no I/O; each validation says what was expected.

pub mod ap_store;
pub mod ids;
pub mod installation;

pub use ids::{is_georisques_id, is_s3ic_id};
