//! `data-tasks ocr-file IN.pdf OUT.pdf`: one file, like `ocrmypdf -l fra --skip-text`. Pages with a
//! real text layer are kept, the others get an invisible French text layer; a file that needs
//! nothing is copied unchanged, so a second run on its own output does nothing. Exit status: 0
//! done, 1 document error (the message names the kind), 2 fatal (tessdata or PDFium missing,
//! unreadable input, unwritable output).

use std::path::{Path, PathBuf};

use crate::config::OcrConfig;
use crate::outcome::{ExitStatus, Summary};

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
    #[error("OCR engine unavailable")]
    Engine(#[from] ocr::SetupError),
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

pub fn run(args: &OcrFileArgs, cfg: &OcrConfig) -> Result<Summary, OcrFileError> {
    let input = std::fs::read(&args.input).map_err(|source| OcrFileError::Read {
        path: args.input.clone(),
        source,
    })?;
    let engine = ocr::OcrEngine::new(ocr::OcrOptions {
        force_ocr: args.force_ocr,
        ..cfg.engine_options(args.jobs)
    })?;
    let start = std::time::Instant::now();
    let mut summary = Summary::new("ocr-file");
    match engine.process(&input) {
        Ok(out) => {
            write(&args.output, &out.pdf)?;
            if let Some(sidecar) = &args.sidecar {
                write(sidecar, out.text.as_bytes())?;
            }
            summary.count("pages", out.pages);
            summary.count("pages_ocred", out.pages_ocred);
            summary.count("pages_kept", out.pages_kept);
            let secs = start.elapsed().as_secs_f64();
            summary.headline = if out.already_searchable {
                format!(
                    "ocr-file: nothing to do, {} already searchable ({} pages), copied to {}",
                    args.input.display(),
                    out.pages,
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
