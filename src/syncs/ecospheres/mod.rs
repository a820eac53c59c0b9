//! `data-tasks ecospheres`: DCAT catalogue → metadata-quality indicators (syncs.md §3).
//! Placeholder until the sync lands: the command exists and says so.

pub mod config;

use crate::config::Config;
use crate::outcome::Summary;
use crate::secrets::Env;

/// The command line of `data-tasks ecospheres`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Fatal errors of the sync.
#[derive(Debug, thiserror::Error)]
pub enum EcospheresError {
    #[error("ecospheres is not available in this build yet")]
    NotBuilt,
}

/// Runs the command.
pub fn run(_config: &Config, _env: &Env, _args: &Args) -> Result<Summary, EcospheresError> {
    Err(EcospheresError::NotBuilt)
}
