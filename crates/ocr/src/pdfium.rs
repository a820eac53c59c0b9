//! Locating, loading and opening documents with the PDFium library.
//!
//! PDFium is bound at run time (`pdfium-render`); the bindings are global to the process, so
//! the first engine's library path wins and later engines reuse it. The library is looked up
//! in this order: the explicit option, env `PDFIUM_LIB`, `libpdfium.so` next to the current
//! executable (or its parent directory, for test and example binaries under `target/`), then
//! `.deps/pdfium/libpdfium.so` in an ancestor of the executable or of this crate's source.
//! Failing to load it is a [`SetupError`]; failing to open a document is a [`DocError`]
//! (`invalid_pdf` or `encrypted`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pdfium_render::prelude::*;

use crate::error::{DocError, SetupError};

const LIB_NAME: &str = "libpdfium.so";

static PDFIUM: OnceLock<Result<Pdfium, String>> = OnceLock::new();

/// Candidate library paths, most specific first.
pub fn candidate_paths(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push(p.to_path_buf());
        return out;
    }
    if let Some(p) = std::env::var_os("PDFIUM_LIB").filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(p));
        return out;
    }
    let mut roots = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            out.push(dir.join(LIB_NAME));
            if let Some(parent) = dir.parent() {
                out.push(parent.join(LIB_NAME));
            }
            roots.push(dir.to_path_buf());
        }
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    for root in roots {
        for anc in root.ancestors() {
            out.push(anc.join(".deps").join("pdfium").join(LIB_NAME));
        }
    }
    out
}

/// The process-wide PDFium instance, loading the library on first use.
pub fn pdfium(explicit: Option<&Path>) -> Result<&'static Pdfium, SetupError> {
    let loaded = PDFIUM.get_or_init(|| {
        let candidates = candidate_paths(explicit);
        let mut tried = Vec::new();
        for path in &candidates {
            if !path.is_file() {
                continue;
            }
            match Pdfium::bind_to_library(path) {
                Ok(bindings) => return Ok(Pdfium::new(bindings)),
                Err(e) => tried.push(format!("{}: {e:?}", path.display())),
            }
        }
        if tried.is_empty() {
            let names: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            Err(format!(
                "{LIB_NAME} not found (set PDFIUM_LIB or ocr.pdfium); looked at {}",
                names.join(", ")
            ))
        } else {
            Err(tried.join("; "))
        }
    });
    loaded.as_ref().map_err(|e| SetupError::Pdfium(e.clone()))
}

/// Opens a document from memory, mapping PDFium's errors onto [`DocError`].
pub fn open<'a>(pdfium: &'a Pdfium, bytes: &'a [u8]) -> Result<PdfDocument<'a>, DocError> {
    if !looks_like_pdf(bytes) {
        return Err(DocError::InvalidPdf("no %PDF header".into()));
    }
    pdfium
        .load_pdf_from_byte_slice(bytes, None)
        .map_err(|e| match e {
            PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError) => {
                DocError::Encrypted
            }
            PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::SecurityError) => {
                DocError::Encrypted
            }
            other => DocError::InvalidPdf(format!("PDFium cannot open it: {other:?}")),
        })
}

/// True when `%PDF-` appears in the first KiB (where readers accept it).
pub fn looks_like_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}
