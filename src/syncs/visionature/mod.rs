//! `data-tasks visionature`: Biolovision API → PostgreSQL, and fix-sync (syncs.md §2).
//! Placeholder until the sync lands: the command exists and says so.

pub mod config;

use crate::config::Config;
use crate::outcome::Summary;
use crate::secrets::Env;

/// The command line of `data-tasks visionature`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Fatal errors of the sync.
#[derive(Debug, thiserror::Error)]
pub enum VisionatureError {
    #[error("visionature is not available in this build yet")]
    NotBuilt,
}

/// Runs the command.
pub fn run(_config: &Config, _env: &Env, _args: &Args) -> Result<Summary, VisionatureError> {
    Err(VisionatureError::NotBuilt)
}
