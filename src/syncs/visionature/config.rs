//! `[visionature]`: the settings of the visionature sync (syncs.md). Secrets come from the environment only.

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// The `[visionature]` section.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VisionatureConfig {}

impl VisionatureConfig {
    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}
