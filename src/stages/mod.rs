//! Pipeline stages.

pub mod am_export;
