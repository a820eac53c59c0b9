//! `data-tasks ocr-file IN.pdf OUT.pdf`: one file, like `ocrmypdf -l fra --skip-text`. Pages with a
//! real text layer are kept, the others get an invisible French text layer (an empty one where
//! recognition found no text, so that the page counts as done); a file that needs nothing is
//! copied unchanged, so a second run on its own output returns it byte for byte. The message then
//! says why nothing was needed: pages with text, or blank/vector-only pages with nothing to OCR.
//! Pages are shown as they are done (a progress bar, or with `-v` a debug line per page). Exit
//! status: 0 done, 1 document error (the message names the kind), 2 fatal (tessdata or PDFium
//! missing, unreadable input, unwritable output). The folders of OUT and of the sidecar are
//! checked first — they must exist and be writable — so a run never OCRs to find it cannot
//! write.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::outcome::{ExitStatus, Summary};
use crate::progress::{Progress, Unit};

/// The command's arguments.
#[derive(Debug, Clone)]
pub struct OcrFileArgs {
    pub input: PathBuf,
    pub output: PathBuf,
    pub jobs: usize,
    pub force_ocr: bool,
    pub sidecar: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum OcrFileError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Folder {
        path: PathBuf,
        source: crate::storage::local::FolderError,
    },
    #[error("OCR engine unavailable")]
    Engine(#[from] ocr::SetupError),
}

/// Checks, before any work, that `path` can be written: its folder exists and is writable.
fn check_writable(path: &Path) -> Result<(), OcrFileError> {
    let folder = path.parent().unwrap_or(Path::new(""));
    crate::storage::local::writable_folder(folder, false)
        .map(|_| ())
        .map_err(|source| OcrFileError::Folder {
            path: path.to_path_buf(),
            source,
        })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), OcrFileError> {
    // Written aside then renamed: OUT is never left half-written.
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| OcrFileError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// Why a document needed no OCR: its pages have text (a text layer, or an earlier run's OCR
/// layer), or are blank/vector-only with nothing to OCR (including pages an earlier run OCRed
/// without finding text) — or a mix.
fn why_nothing_to_do(kept: &ocr::KeptPages, pages: usize) -> String {
    let n = |count: usize| match count {
        1 => "1 page".to_string(),
        n => format!("{n} pages"),
    };
    let with_text = kept.text + kept.ocr_layer;
    let nothing = kept.blank + kept.ocr_layer_empty;
    let layers = match (kept.text, kept.ocr_layer) {
        (_, 0) => "a text layer",
        (0, _) => "an OCR layer of an earlier run",
        _ => "a text or OCR layer",
    };
    let earlier = match kept.ocr_layer_empty {
        0 => String::new(),
        e => format!(
            ", {} already OCRed by an earlier run that found no text",
            if e == nothing {
                "all".to_string()
            } else {
                e.to_string()
            }
        ),
    };
    match (with_text, nothing) {
        (_, 0) => format!("already has text on every page ({}, {layers})", n(pages)),
        (0, _) => format!(
            "has only blank/vector pages, nothing to OCR ({}{earlier})",
            n(pages)
        ),
        (t, b) => format!(
            "already has text on {t} of {} ({layers}); the other {} blank/vector, nothing to OCR{earlier}",
            n(pages),
            if b == 1 { "page is".to_string() } else { format!("{b} are") }
        ),
    }
}

pub fn run(args: &OcrFileArgs, engine: ocr::OcrOptions) -> Result<Summary, OcrFileError> {
    check_writable(&args.output)?;
    if let Some(sidecar) = &args.sidecar {
        check_writable(sidecar)?;
    }
    let input = std::fs::read(&args.input).map_err(|source| OcrFileError::Read {
        path: args.input.clone(),
        source,
    })?;
    let engine = ocr::OcrEngine::new(ocr::OcrOptions {
        force_ocr: args.force_ocr,
        ..engine
    })?;
    let start = std::time::Instant::now();
    let mut summary = Summary::new("ocr-file");
    let progress = Arc::new(Progress::new("ocr-file", None, Unit::Items("pages")));
    let observer = {
        let progress = progress.clone();
        Arc::new(move |p: &ocr::PageDone| {
            progress.set_total(p.pages as u64);
            progress.inc(1);
            tracing::debug!(
                page = p.page,
                pages = p.pages,
                action = ?p.action,
                words = p.words,
                "page {}/{} done",
                p.page,
                p.pages
            );
        })
    };
    let processed = engine.process_observed(&input, observer);
    progress.finish();
    match processed {
        Ok(out) => {
            write(&args.output, &out.pdf)?;
            if let Some(sidecar) = &args.sidecar {
                write(sidecar, out.text.as_bytes())?;
            }
            summary.count("pages", out.pages);
            summary.count("pages_ocred", out.pages_ocred);
            summary.count("pages_kept", out.pages_kept);
            let secs = start.elapsed().as_secs_f64();
            summary.count("pages_without_text", out.pages_without_text);
            summary.headline = if out.already_searchable {
                format!(
                    "ocr-file: nothing to do, {} {}, copied to {}",
                    args.input.display(),
                    why_nothing_to_do(&out.kept, out.pages),
                    args.output.display()
                )
            } else {
                format!(
                    "ocr-file: {} pages OCRed, {} kept, in {secs:.1} s → {}",
                    out.pages_ocred,
                    out.pages_kept,
                    args.output.display()
                )
            };
        }
        Err(e) => {
            summary.status = ExitStatus::Partial;
            summary
                .problems
                .push(format!("{}: {e}", args.input.display()));
            summary.headline = format!(
                "ocr-file: {} cannot be processed ({}): {e}",
                args.input.display(),
                e.kind()
            );
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_do_says_why() {
        let kept = |text, ocr_layer, ocr_layer_empty, blank| ocr::KeptPages {
            text,
            ocr_layer,
            ocr_layer_empty,
            blank,
        };
        assert_eq!(
            why_nothing_to_do(&kept(2, 0, 0, 0), 2),
            "already has text on every page (2 pages, a text layer)"
        );
        assert_eq!(
            why_nothing_to_do(&kept(0, 3, 0, 0), 3),
            "already has text on every page (3 pages, an OCR layer of an earlier run)"
        );
        assert_eq!(
            why_nothing_to_do(&kept(0, 0, 0, 1), 1),
            "has only blank/vector pages, nothing to OCR (1 page)"
        );
        assert_eq!(
            why_nothing_to_do(&kept(0, 0, 1, 0), 1),
            "has only blank/vector pages, nothing to OCR (1 page, all already OCRed by an earlier run that found no text)"
        );
        assert!(why_nothing_to_do(&kept(1, 0, 0, 2), 3).contains(
            "text on 1 of 3 pages (a text layer); the other 2 are blank/vector, nothing"
        ));
    }
}
