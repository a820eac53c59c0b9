//! Makes PDFs searchable: `ocr_file IN OUT [--jobs N] [--force-ocr] [--sidecar F]`.
//!
//! IN and OUT are files, or directories (every `*.pdf` of IN is processed as one stream,
//! outputs and `.txt` sidecars written under OUT). Run with `OMP_THREAD_LIMIT=1`.
//! Exit codes: 0 ok, 1 a document failed, 2 setup or usage error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ocr::{OcrEngine, OcrOptions};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    let mut opts = OcrOptions::default();
    let mut sidecar: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--jobs" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => opts.jobs = n,
                None => return usage("--jobs needs a number"),
            },
            "--force-ocr" => opts.force_ocr = true,
            "--sidecar" => sidecar = args.next().map(PathBuf::from),
            "--dpi" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => opts.dpi = n,
                None => return usage("--dpi needs a number"),
            },
            _ if a.starts_with("--") => return usage(&format!("unknown option {a}")),
            _ => positional.push(PathBuf::from(a)),
        }
    }
    let [input, output] = positional.as_slice() else {
        return usage("expected IN OUT");
    };
    let engine = match OcrEngine::new(opts) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("setup error: {e}");
            return ExitCode::from(2);
        }
    };
    let docs: Vec<(PathBuf, PathBuf)> = if input.is_dir() {
        if let Err(e) = std::fs::create_dir_all(output) {
            eprintln!("{}: {e}", output.display());
            return ExitCode::from(2);
        }
        let mut v: Vec<PathBuf> = match std::fs::read_dir(input) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
                .collect(),
            Err(e) => {
                eprintln!("{}: {e}", input.display());
                return ExitCode::from(2);
            }
        };
        v.sort();
        v.into_iter()
            .map(|p| {
                let out = output.join(p.file_name().unwrap_or_default());
                (p, out)
            })
            .collect()
    } else {
        vec![(input.clone(), output.clone())]
    };
    let single = docs.len() == 1;
    let mut failed = false;
    let stream = docs
        .into_iter()
        .filter_map(|(inp, out)| match std::fs::read(&inp) {
            Ok(b) => Some(((inp, out), b)),
            Err(e) => {
                eprintln!("{}: {e}", inp.display());
                None
            }
        });
    engine.process_stream(stream, |(inp, out), result| match result {
        Ok(o) => {
            eprintln!(
                "{}: pages {} ocred {} kept {} already_searchable {} conf {:?}",
                inp.display(),
                o.pages,
                o.pages_ocred,
                o.pages_kept,
                o.already_searchable,
                o.mean_confidence
            );
            if let Err(e) = std::fs::write(&out, &o.pdf) {
                eprintln!("{}: {e}", out.display());
                failed = true;
            }
            let txt = match (&sidecar, single) {
                (Some(s), true) => Some(s.clone()),
                (Some(_), false) => Some(out.with_extension("txt")),
                (None, _) => None,
            };
            if let Some(t) = txt {
                if let Err(e) = std::fs::write(&t, o.text.as_bytes()) {
                    eprintln!("{}: {e}", t.display());
                    failed = true;
                }
            }
        }
        Err(e) => {
            eprintln!("{}: {} ({})", inp.display(), e, e.kind());
            failed = true;
        }
    });
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("{msg}\nusage: ocr_file IN OUT [--jobs N] [--force-ocr] [--sidecar F] [--dpi D]");
    let _ = Path::new(".");
    ExitCode::from(2)
}
