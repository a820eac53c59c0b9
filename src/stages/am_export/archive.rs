//! Staging of the exported files: an in-memory zip (entries `<id>.json` at the root, deflated at
//! level 1: the fastest; on the 2,000-AM benchmark 35 MB instead of 22 MB at level 6, which
//! alone would take longer than the whole export)
//! or a directory written atomically (a staging directory next to the target, renamed into place
//! only once every AM has been built and validated).

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::AmExportError;

/// Receives the files of an export, one at a time.
pub trait Sink: Send {
    fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), AmExportError>;
}

/// Builds the zip in memory (only compressed bytes are kept).
pub struct ZipSink {
    writer: ZipWriter<Cursor<Vec<u8>>>,
}

impl ZipSink {
    pub fn new() -> Self {
        Self {
            writer: ZipWriter::new(Cursor::new(Vec::new())),
        }
    }

    pub fn finish(self) -> Result<Vec<u8>, AmExportError> {
        Ok(self.writer.finish()?.into_inner())
    }
}

impl Default for ZipSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for ZipSink {
    fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), AmExportError> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(1))
            .last_modified_time(zip::DateTime::default());
        self.writer.start_file(name, options)?;
        self.writer.write_all(bytes)?;
        Ok(())
    }
}

/// Writes into a staging directory created beside the target; dropped without `commit`, it is
/// removed with everything in it.
pub struct DirSink {
    staging: tempfile::TempDir,
    target: PathBuf,
}

impl DirSink {
    pub fn new(target: &Path) -> Result<Self, AmExportError> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)?;
        let staging = tempfile::Builder::new()
            .prefix(".am-export-")
            .tempdir_in(&parent)?;
        Ok(Self {
            staging,
            target: target.to_path_buf(),
        })
    }

    /// Moves the files into place: the staging directory is renamed to the target when the
    /// target does not exist, otherwise each file is renamed into the existing target.
    pub fn commit(self) -> Result<(), AmExportError> {
        if !self.target.exists() {
            let staging = self.staging.keep();
            fs::rename(&staging, &self.target)?;
            return Ok(());
        }
        for entry in fs::read_dir(self.staging.path())? {
            let entry = entry?;
            fs::rename(entry.path(), self.target.join(entry.file_name()))?;
        }
        Ok(())
    }
}

impl Sink for DirSink {
    fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), AmExportError> {
        fs::write(self.staging.path().join(name), bytes)?;
        Ok(())
    }
}
