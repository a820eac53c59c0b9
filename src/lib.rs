//! data-tasks: the batch pipeline behind Envinorma's open data.
//!
//! The binary (`src/main.rs`) parses the command line and maps results to exit codes; this library
//! does the work and is what tests and benchmarks call. Layers, top to bottom:
//! - [`stages`]: one folder per task (`installations`, `check`, …), each exposing `run`;
//! - [`model`]: domain types and their validation (ids, enums);
//! - [`tabular`]: the pandas-compatible CSV conventions every published file follows;
//! - adapters: [`storage`] (object stores by URL), [`fetch`] (sources: paths, HTTP, storage URLs).
//!
//! [`config`] holds the validated configuration and [`outcome`] the exit-code semantics.

// Error enums carry their context (file, line, id, value) by value: they are built once per run,
// never in a hot loop, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod config;
pub mod fetch;
pub mod model;
pub mod outcome;
pub mod report;
pub mod stages;
pub mod storage;
pub mod tabular;
