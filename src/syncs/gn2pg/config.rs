//! `[gn2pg]`: the settings of the gn2pg sync (syncs.md). Secrets come from the environment only.

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// The `[gn2pg]` section.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Gn2pgConfig {}

impl Gn2pgConfig {
    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}
