//! Searchable French PDFs from scanned documents.
//!
//! [`OcrEngine`] renders pages with PDFium, recognises them with tesseract (one instance per
//! worker thread, reused across pages and documents) and writes an invisible text layer with
//! lopdf, leaving the original page content untouched. Pages that already carry real text are
//! kept; documents whose pages all carry text come back unchanged (`already_searchable`). A page
//! where recognition found no text still gets an (empty) OCR layer, so that a second run keeps
//! it: processing an output again returns it unchanged. [`OcrEngine::process_observed`] reports
//! each page as it is done ([`PageDone`]), for progress on long files.
//! Building the engine fails with a [`SetupError`] (missing language data, PDFium not
//! loadable); a document fails with a [`DocError`] whose [`DocError::kind`] names the cause.
//!
//! Debian's libtesseract uses OpenMP: run processes with `OMP_THREAD_LIMIT=1` set at start,
//! or throughput halves.

// A library: it returns results and never prints.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

mod classify;
mod engine;
mod error;
mod orientation;
mod pdfium;
mod recognize;
mod render;
mod textlayer;

use std::path::PathBuf;

pub use classify::{KeepReason, OcrReason, PageAction, PageFacts};
pub use engine::OcrEngine;
pub use error::{DocError, RecognizeError, SetupError};
pub use recognize::{Line, PageText, Word};

/// Engine settings.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrOptions {
    /// Tesseract language(s), `+`-separated (default `fra`).
    pub language: String,
    /// Rendering resolution (default 300).
    pub dpi: u32,
    /// Tesseract data directory (default: `TESSDATA_PREFIX`, else the system's).
    pub tessdata: Option<PathBuf>,
    /// `libpdfium.so` to load (default: `PDFIUM_LIB`, next to the executable, `.deps/pdfium`).
    pub pdfium: Option<PathBuf>,
    /// Recognition worker threads; 0 = one per core.
    pub jobs: usize,
    /// OCR every page, even pages that already have text.
    pub force_ocr: bool,
    /// Pixel cap per rendered page: bigger pages are rendered at a lower resolution.
    pub max_pixels: u64,
}

impl Default for OcrOptions {
    fn default() -> Self {
        OcrOptions {
            language: "fra".to_string(),
            dpi: 300,
            tessdata: None,
            pdfium: None,
            jobs: 0,
            force_ocr: false,
            max_pixels: 20_000_000,
        }
    }
}

/// Result of one document.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrOutput {
    /// The searchable PDF (the input bytes when `already_searchable`).
    pub pdf: Vec<u8>,
    pub pages: usize,
    pub pages_ocred: usize,
    pub pages_kept: usize,
    /// Text of all pages (recognised or extracted), pages separated by form feeds.
    pub text: String,
    /// No page needed OCR: `pdf` is the input, unchanged.
    pub already_searchable: bool,
    /// Pages kept as they were, by reason (`pages_kept` in all).
    pub kept: KeptPages,
    /// OCRed pages where recognition found no text (they carry an empty OCR layer).
    pub pages_without_text: usize,
    /// Mean tesseract confidence (0–100) over OCRed pages with words.
    pub mean_confidence: Option<f32>,
}

/// Pages kept as they were, by reason ([`KeepReason`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeptPages {
    /// A real text layer.
    pub text: usize,
    /// The OCR layer of an earlier run, with text.
    pub ocr_layer: usize,
    /// The (empty) OCR layer of an earlier run that found no text.
    pub ocr_layer_empty: usize,
    /// Neither text nor images (blank, or a few vector strokes): nothing to OCR.
    pub blank: usize,
}

impl KeptPages {
    fn add(&mut self, reason: KeepReason, facts: &PageFacts) {
        match reason {
            KeepReason::RealText => self.text += 1,
            KeepReason::AlreadyOcred if facts.chars == 0 => self.ocr_layer_empty += 1,
            KeepReason::AlreadyOcred => self.ocr_layer += 1,
            KeepReason::Blank => self.blank += 1,
        }
    }
}

/// One page done, as reported to the observer of [`OcrEngine::process_observed`] (on the
/// thread that finished it).
#[derive(Debug, Clone, PartialEq)]
pub struct PageDone {
    /// 1-based page number.
    pub page: usize,
    /// Pages of the document.
    pub pages: usize,
    pub action: PageAction,
    /// Words recognised (0 for kept pages).
    pub words: usize,
}

/// Receives every [`PageDone`] of a document.
pub type PageObserver = std::sync::Arc<dyn Fn(&PageDone) + Send + Sync>;

/// Lower-level building blocks, for benchmarks and diagnostics.
pub mod parts {
    pub use crate::classify::{decide, page_facts};
    pub use crate::orientation::{rotate_cw, Orientation, OrientationDetector};
    pub use crate::pdfium::{candidate_paths, open, pdfium};
    pub use crate::recognize::{check_language, resolve_tessdata, Recognizer};
    pub use crate::render::{render_page, RenderedPage};
    pub use crate::textlayer::{add_text_layer, PageOverlay};
}
