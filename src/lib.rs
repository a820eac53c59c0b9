//! data-tasks: the batch pipeline behind Envinorma's open data, and three sibling syncs.
//!
//! The binary (`src/main.rs`) parses the command line and maps results to exit codes; this library
//! does the work and is what tests and benchmarks call. Layers, top to bottom (STYLE.md "Layers",
//! checked by `tests/style.rs`):
//! - [`compose`] (`check`, `daily`: commands made of others) and [`config`] (every section and
//!   the `DATA_TASKS_*` overrides);
//! - [`ops`]: the operations view of the syncs (`status`, `dashboard`), with [`web`], the pieces
//!   of its pages that the syncs' panels (`syncs::<name>::ops`) use too;
//! - [`stages`]: one folder per Envinorma task (`installations`, `aps`, `ocr`, …), and [`syncs`]:
//!   one folder per secondary sync (`gn2pg`, `visionature`, `ecospheres`); folders never import
//!   each other;
//! - adapters: [`report`] (the Slack summary), [`probe`] (what `check` touches), [`fetch`]
//!   (sources and the HTTP client), [`storage`] (object stores by URL), [`pg`] (PostgreSQL),
//!   [`progress`] (bars and progress lines), [`model`] (domain types and their validation),
//!   [`tabular`] (the pandas-compatible CSV conventions);
//! - foundation: [`settings`] (the settings error and helpers every section shares),
//!   [`secrets`] (the environment and the redactor), [`outcome`] (exit-code semantics and the
//!   boundary error), [`text`] (clipping echoed input).
//!
//! STYLE.md says how code here is written; the lints below and `tests/style.rs` enforce what
//! can be checked.

// Error enums carry their context (file, line, id, value) by value: they are built once per run,
// never in a hot loop, so their size does not matter.
#![allow(clippy::result_large_err)]
// Internals are `pub(crate)` and their docs link each other: `scripts/test.sh` builds the docs with
// `--document-private-items`, where those links resolve (and are checked).
#![allow(rustdoc::private_intra_doc_links)]
// The binary prints; the library logs with `tracing` and returns data.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod compose;
pub mod config;
pub mod fetch;
mod model;
pub mod ops;
pub mod outcome;
pub mod pg;
pub mod probe;
pub mod progress;
pub mod report;
pub mod secrets;
pub mod settings;
pub mod stages;
pub mod storage;
pub mod syncs;
mod tabular;
mod text;
#[cfg(feature = "dashboard")]
pub mod web;
