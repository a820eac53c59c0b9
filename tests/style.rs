//! Policies of STYLE.md that the compiler and clippy cannot check, checked on the sources of every
//! crate of the workspace:
//! - an error message never repeats its source: a `thiserror` variant that has a source
//!   (`#[from]`, `#[source]` or a field named `source`) does not print it (`{0}`, `{source}`), so
//!   the chain the binary prints shows each cause once;
//! - no public library function returns `Result<_, String>`.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Library sources of the workspace (`src/` of the root crate and of `crates/*` but the test
/// helpers of `crates/testkit`), with their text up to their unit tests.
fn library_sources() -> Vec<(PathBuf, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for krate in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        let src = krate.path().join("src");
        if src.is_dir() && !krate.path().ends_with("testkit") {
            rust_files(&src, &mut files);
        }
    }
    files.sort();
    files
        .into_iter()
        .filter(|f| !f.ends_with("tests.rs"))
        .map(|f| {
            let mut text = std::fs::read_to_string(&f).unwrap();
            if let Some(at) = text.find("#[cfg(test)]") {
                text.truncate(at);
            }
            (f, text)
        })
        .collect()
}

/// `(line, message, variant text)` of every `#[error(...)]` attribute of `text`: the variant
/// runs to the next `#[error` or the end of the enum.
fn error_variants(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(at) = rest.find("#[error(") {
        let start = at + "#[error(".len();
        let Some(close) = rest[start..].find(")]\n") else {
            break;
        };
        let message = rest[start..start + close].to_string();
        let body_start = start + close + 3;
        let body = &rest[body_start..];
        let end = [body.find("#[error("), body.find("\n}"), body.find(";\n")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(body.len());
        let line = text[..offset + at].lines().count() + 1;
        out.push((line, message, body[..end].to_string()));
        offset += body_start;
        rest = &rest[body_start..];
    }
    out
}

fn has_source(variant: &str) -> bool {
    variant.contains("#[from]")
        || variant.contains("#[source]")
        || variant
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .any(|w| w == "source:")
}

fn prints_source(message: &str) -> bool {
    ["{0}", "{0:", "{source}", "{source:"]
        .iter()
        .any(|p| message.contains(p))
}

#[test]
fn error_messages_never_repeat_their_source() {
    let mut bad = Vec::new();
    for (file, text) in library_sources() {
        for (line, message, variant) in error_variants(&text) {
            if message.contains("transparent") {
                continue;
            }
            if has_source(&variant) && prints_source(&message) {
                bad.push(format!("{}:{line}: #[error({message})]", file.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "these messages print their source, which the chain prints again (use context-only text or #[error(transparent)]):\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_public_function_returns_a_string_error() {
    let mut bad = Vec::new();
    for (file, text) in library_sources() {
        // Signatures may span lines: join each `pub fn` up to its body.
        let mut rest = text.as_str();
        while let Some(at) = rest.find("pub fn ") {
            let sig_end = rest[at..].find('{').map_or(rest.len(), |e| at + e);
            let sig: String = rest[at..sig_end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            // The return type follows the parameters' closing parenthesis.
            let ret = sig.rsplit_once(") -> ").map_or("", |(_, r)| r).trim();
            if ret.starts_with("Result<") && ret.ends_with(", String>") {
                bad.push(format!("{}: {sig}", file.display()));
            }
            rest = &rest[sig_end.max(at + 1)..];
        }
    }
    assert!(
        bad.is_empty(),
        "library functions returning Result<_, String> (use a typed error):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scanner_sees_what_it_must() {
    let sample = "enum E {\n    #[error(\"cannot read {path}: {source}\")]\n    Read { path: String, source: std::io::Error },\n    #[error(\"cannot publish\")]\n    Storage(#[from] S),\n    #[error(\"x: {0}\")]\n    Plain(String),\n}\n";
    let v = error_variants(sample);
    assert_eq!(v.len(), 3);
    assert!(has_source(&v[0].2) && prints_source(&v[0].1));
    assert!(has_source(&v[1].2) && !prints_source(&v[1].1));
    assert!(!has_source(&v[2].2) && prints_source(&v[2].1));
}

#[test]
fn the_library_reads_the_environment_only_through_its_snapshot() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut bad = Vec::new();
    for (file, text) in library_sources() {
        let rel = file.strip_prefix(&root).unwrap_or(&file).to_path_buf();
        // The binary takes the snapshot (`Env::from_process`, in secrets.rs); crates/ocr resolves
        // its own defaults (PDFIUM_LIB, TESSDATA_PREFIX) like the tools it replaces.
        if !rel.starts_with("src")
            || rel == Path::new("src/main.rs")
            || rel == Path::new("src/secrets.rs")
        {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            if [
                "std::env::var",
                "env::vars(",
                "env::var_os",
                "env::var(",
                "Env::from_process",
            ]
            .iter()
            .any(|p| line.contains(p))
            {
                bad.push(format!("{}:{}: {}", rel.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "library code reading the process environment (take a secrets::Env instead):\n{}",
        bad.join("\n")
    );
}
