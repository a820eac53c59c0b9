//! `data-tasks gn2pg`: GeoNature export API → PostgreSQL (syncs.md §1).
//! Placeholder until the sync lands: the command exists and says so.

pub mod config;

use crate::config::Config;
use crate::outcome::Summary;
use crate::secrets::Env;

/// The command line of `data-tasks gn2pg`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Fatal errors of the sync.
#[derive(Debug, thiserror::Error)]
pub enum Gn2pgError {
    #[error("gn2pg is not available in this build yet")]
    NotBuilt,
}

/// Runs the command.
pub fn run(_config: &Config, _env: &Env, _args: &Args) -> Result<Summary, Gn2pgError> {
    Err(Gn2pgError::NotBuilt)
}
