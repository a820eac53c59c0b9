//! Shared helpers of the integration tests: the engine (or a skip), fixtures, CER, oracles.
//!
//! With `CI=true` (or `1`), missing tesseract `fra` data, `libpdfium.so`, `qpdf` or `pdftotext`
//! fail the tests; elsewhere the tests print a notice and skip (`testkit::require`, the policy of
//! the whole workspace).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use ocr::{OcrEngine, OcrOptions};

/// A missing dependency: fails under CI, skips with a notice elsewhere (the workspace's one
/// policy, `testkit::require`).
fn unavailable(what: &str) {
    testkit::require(what, false);
}

/// The shared engine (2 workers), or `None` (test skipped) outside CI.
pub fn engine() -> Option<&'static OcrEngine> {
    static ENGINE: OnceLock<Result<OcrEngine, String>> = OnceLock::new();
    let e = ENGINE.get_or_init(|| {
        OcrEngine::new(OcrOptions {
            jobs: 2,
            ..OcrOptions::default()
        })
        .map_err(|e| e.to_string())
    });
    match e {
        Ok(e) => Some(e),
        Err(msg) => {
            unavailable(&format!("the OCR engine cannot start ({msg})"));
            None
        }
    }
}

/// An engine with custom options (not shared).
pub fn engine_with(opts: OcrOptions) -> Option<OcrEngine> {
    match OcrEngine::new(opts) {
        Ok(e) => Some(e),
        Err(e) => {
            unavailable(&format!("the OCR engine cannot start ({e})"));
            None
        }
    }
}

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ocr/fixtures")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let p = fixture_dir().join(format!("{name}.pdf"));
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e} (run testdata/ocr/gen_fixtures.py)", p.display()))
}

pub fn truth(name: &str) -> String {
    let p = fixture_dir().join(format!("{name}.txt"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn normalize(s: &str) -> Vec<char> {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect()
}

/// Character error rate of `got` against `expected`, whitespace runs collapsed.
pub fn cer(got: &str, expected: &str) -> f64 {
    let (a, b) = (normalize(got), normalize(expected));
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let v = (prev[j + 1] + 1)
                .min(cur[j] + 1)
                .min(prev[j] + usize::from(ca != cb));
            cur.push(v);
        }
        prev = cur;
    }
    prev[b.len()] as f64 / b.len().max(1) as f64
}

fn tool(name: &str) -> bool {
    let ok = Command::new(name).arg("--version").output().is_ok();
    if !ok {
        unavailable(&format!("{name} is not installed"));
    }
    ok
}

fn temp_pdf(bytes: &[u8]) -> tempfile_lite::TempFile {
    tempfile_lite::TempFile::new(bytes)
}

/// `pdftotext` of a PDF (optionally `-layout`), or `None` when pdftotext is missing.
pub fn pdftotext(pdf: &[u8], layout: bool) -> Option<String> {
    if !tool("pdftotext") {
        return None;
    }
    let f = temp_pdf(pdf);
    let mut cmd = Command::new("pdftotext");
    if layout {
        cmd.arg("-layout");
    }
    let out = cmd.arg(f.path()).arg("-").output().expect("pdftotext runs");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Asserts `qpdf --check` finds no error or warning.
pub fn assert_qpdf_clean(pdf: &[u8]) {
    if !tool("qpdf") {
        return;
    }
    let f = temp_pdf(pdf);
    let out = Command::new("qpdf")
        .arg("--check")
        .arg(f.path())
        .output()
        .expect("qpdf runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("WARNING"),
        "qpdf --check: {text}"
    );
}

/// Asserts every content stream and image of every input page is in the output, byte for byte.
pub fn assert_page_streams_unchanged(input: &[u8], output: &[u8]) {
    use lopdf::{Document, Object};
    let a = Document::load_mem(input).expect("input parses");
    let b = Document::load_mem(output).expect("output parses");
    let streams = |d: &Document, page: lopdf::ObjectId| -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = d
            .get_page_contents(page)
            .into_iter()
            .filter_map(|id| {
                d.get_object(id)
                    .ok()?
                    .as_stream()
                    .ok()
                    .map(|s| s.content.clone())
            })
            .collect();
        if let Ok((Some(res), _)) = d.get_page_resources(page) {
            if let Ok(xo) = res
                .get(b"XObject")
                .and_then(|o| d.dereference(o))
                .and_then(|(_, o)| o.as_dict())
            {
                for (_, o) in xo.iter() {
                    if let Ok(Object::Stream(s)) = d.dereference(o).map(|(_, o)| o) {
                        v.push(s.content.clone());
                    }
                }
            }
        }
        v
    };
    let (pa, pb) = (a.get_pages(), b.get_pages());
    assert_eq!(pa.len(), pb.len(), "page count changed");
    for ((n, ia), (_, ib)) in pa.iter().zip(pb.iter()) {
        let after = streams(&b, *ib);
        for s in streams(&a, *ia) {
            assert!(
                after.contains(&s),
                "page {n}: an original stream ({} bytes) changed or vanished",
                s.len()
            );
        }
    }
}

/// Minimal temporary file (no extra dependency).
pub mod tempfile_lite {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};

    pub struct TempFile(PathBuf);

    impl TempFile {
        pub fn new(bytes: &[u8]) -> TempFile {
            static N: AtomicU64 = AtomicU64::new(0);
            let p = std::env::temp_dir().join(format!(
                "ocr-test-{}-{}.pdf",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::write(&p, bytes).expect("write temp file");
            TempFile(p)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// A one-page PDF (A4) built with lopdf: a white 200×280 gray image over the whole page when
/// `scan` (a scan where recognition finds no text), else nothing at all (a blank page).
pub fn blank_pdf(scan: bool) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut resources = lopdf::Dictionary::new();
    let mut content = Vec::new();
    if scan {
        let image = Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => 200,
                "Height" => 280,
                "ColorSpace" => "DeviceGray",
                "BitsPerComponent" => 8,
            },
            vec![255u8; 200 * 280],
        );
        let image_id = doc.add_object(image);
        resources.set("XObject", dictionary! { "Im0" => image_id });
        content = b"q 595 0 0 842 0 0 cm /Im0 Do Q\n".to_vec();
    }
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id,
        "Resources" => resources,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save the blank PDF");
    out
}
