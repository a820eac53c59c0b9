//! Error types of the OCR engine.
//!
//! [`SetupError`] covers what stops the whole engine (missing tesseract language data, PDFium
//! library not loadable, worker threads not started): callers treat it as fatal. [`DocError`]
//! covers what fails one document (invalid or encrypted input, a page that cannot be rendered
//! or recognised): callers record it and go on with the next document. [`DocError::kind`]
//! gives a stable short name for reports.

use std::path::PathBuf;

/// Fatal errors: the engine cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The tesseract data directory does not hold `<language>.traineddata`.
    #[error("tesseract language data {language:?} not found in {tessdata} (install tesseract-ocr-{language} or set ocr.tessdata)")]
    MissingLanguage { language: String, tessdata: PathBuf },
    /// Tesseract refused to initialise with the given data.
    #[error("tesseract failed to initialise language {language:?} from {tessdata}: {message}")]
    Tesseract {
        language: String,
        tessdata: PathBuf,
        message: String,
    },
    /// No PDFium library could be found or loaded.
    #[error("PDFium library not loadable: {0}")]
    Pdfium(String),
    /// The glyphless font `pdf.ttf` shipped with tesseract was not found.
    #[error("glyphless font pdf.ttf not found in {0} nor in the system tessdata")]
    MissingFont(PathBuf),
    /// A worker thread could not be spawned.
    #[error("cannot start OCR worker thread")]
    Thread(#[source] std::io::Error),
}

/// Tesseract failed on one image; the engine reports it as [`DocError::Recognition`] with the
/// page number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RecognizeError(pub String);

/// Errors that fail one document; the engine stays usable.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// Not a PDF, or a PDF too damaged to be opened or rewritten.
    #[error("invalid PDF: {0}")]
    InvalidPdf(String),
    /// The document needs a user password to be opened.
    #[error("encrypted PDF: a user password is required to open it")]
    Encrypted,
    /// The document opens but has no page.
    #[error("PDF has no pages")]
    NoPages,
    /// PDFium could not render a page (page numbers start at 1).
    #[error("page {page}: render failed: {message}")]
    Render { page: usize, message: String },
    /// Tesseract failed on a page (page numbers start at 1).
    #[error("page {page}: recognition failed: {message}")]
    Recognition { page: usize, message: String },
}

impl DocError {
    /// Stable short name of the error kind, for summaries and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            DocError::InvalidPdf(_) => "invalid_pdf",
            DocError::Encrypted => "encrypted",
            DocError::NoPages => "no_pages",
            DocError::Render { .. } => "render",
            DocError::Recognition { .. } => "recognition",
        }
    }
}
