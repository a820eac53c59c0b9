//! Criterion benches: render one scanned A4 page (PDFium, 300 dpi gray) and recognise one
//! page (tesseract, fra, PSM auto). Run with `OMP_THREAD_LIMIT=1 cargo bench -p ocr`.
//! Skips with a notice when PDFium or the language data are missing.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use ocr::parts::{open, pdfium, render_page, resolve_tessdata, Recognizer};

fn fixture() -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/ocr/fixtures/scan_arrete.pdf");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn benches(c: &mut Criterion) {
    let pdfium = match pdfium(None) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("SKIPPED: {e}");
            return;
        }
    };
    let bytes = fixture();
    let doc = open(pdfium, &bytes).expect("fixture opens");
    let mut group = c.benchmark_group("page");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("render_300dpi_gray", |b| {
        b.iter(|| render_page(&doc, 0, 300, 20_000_000).expect("render"))
    });
    let page = render_page(&doc, 0, 300, 20_000_000).expect("render");
    let tessdata = resolve_tessdata(None);
    match Recognizer::new(&tessdata, "fra") {
        Ok(mut rec) => {
            group.measurement_time(Duration::from_secs(25));
            group.bench_function("recognize_fra", |b| {
                b.iter(|| rec.recognize(&page.image, page.dpi).expect("recognize"))
            });
        }
        Err(e) => eprintln!("SKIPPED recognize: {e}"),
    }
    group.finish();
}

criterion_group!(ocr_benches, benches);
criterion_main!(ocr_benches);
