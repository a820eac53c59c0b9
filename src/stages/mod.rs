//! The tasks of the pipeline, one folder each with the same shape (`mod.rs` = public surface and
//! `run`, the work in small modules, `tests.rs`). Stages never import each other; `daily`
//! (in [`crate::compose`]) composes them. Each `run` returns an [`crate::outcome::Summary`] or a stage error (fatal,
//! nothing published).

pub mod am_export;
pub mod aps;
pub mod installations;
pub mod ocr;
pub mod ocr_file;
