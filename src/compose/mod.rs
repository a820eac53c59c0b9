//! The commands that compose others, above the stages and the syncs: [`check`] gathers every
//! stage's and sync's probes, [`daily`] runs `aps` → `ocr` → `aps` and the report. They take the
//! whole [`crate::config::Config`] and hand each stage or sync its own sections.

pub mod check;
pub mod daily;
