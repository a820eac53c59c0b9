//! `[ocr]`: the OCR engine's settings, shared by `ocr`, `daily` and `ocr-file`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// OCR engine settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OcrConfig {
    pub language: String,
    pub dpi: u32,
    /// Folder holding `<language>.traineddata`; default: the system's.
    pub tessdata: Option<PathBuf>,
    /// Path of `libpdfium.so`; default: next to the binary, `$PDFIUM_LIB`, or `.deps/pdfium/`.
    pub pdfium: Option<PathBuf>,
    /// Largest PDF accepted from the origin, in MiB.
    pub max_pdf_mib: u64,
}

impl Default for OcrConfig {
    fn default() -> Self {
        Self {
            language: "fra".into(),
            dpi: 300,
            tessdata: None,
            pdfium: None,
            max_pdf_mib: 200,
        }
    }
}

impl OcrConfig {
    /// The engine options for `jobs` recognition workers (0 = all cores).
    pub fn engine_options(&self, jobs: usize) -> ocr::OcrOptions {
        ocr::OcrOptions {
            language: self.language.clone(),
            dpi: self.dpi,
            tessdata: self.tessdata.clone(),
            pdfium: self.pdfium.clone(),
            jobs,
            ..ocr::OcrOptions::default()
        }
    }
}

impl From<&OcrConfig> for ocr::OcrOptions {
    fn from(c: &OcrConfig) -> Self {
        c.engine_options(0)
    }
}
