//! The OCR pipeline: one render thread feeding recognition workers.
//!
//! Pages are classified and rendered with PDFium on the calling thread (PDFium serialises
//! all calls per process anyway) and handed to worker threads through a bounded channel, so
//! at most about two pages per worker are in memory. Each worker owns one tesseract instance,
//! created when the engine is built and reused for every page of every document. The worker
//! finishing a document's last page writes its text layer and reports it; documents of a
//! stream are pipelined so workers stay busy across document boundaries. A panic while
//! recognising a page becomes a `recognition` error for that document; nothing on input data
//! panics the caller.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use image::GrayImage;
use pdfium_render::prelude::*;

use crate::classify::{decide, page_facts, OcrReason, PageAction};
use crate::error::{DocError, SetupError};
use crate::orientation::{rotate_cw, OrientationDetector};
use crate::recognize::{check_language, resolve_tessdata, PageText, Recognizer};
use crate::render::render_loaded_page;
use crate::textlayer::{add_text_layer, PageOverlay};
use crate::{KeptPages, OcrOptions, OcrOutput, PageDone, PageObserver};

/// Upright recognition below this mean confidence triggers orientation detection.
const LOW_CONFIDENCE: f32 = 50.0;
/// Minimum OSD confidence to try a rotation.
const MIN_OSD_CONFIDENCE: f32 = 1.0;

type DocResult = Result<OcrOutput, DocError>;

/// A reusable OCR engine: PDFium bound, tesseract loaded in every worker.
pub struct OcrEngine {
    opts: OcrOptions,
    pdfium: &'static Pdfium,
    font: Arc<Vec<u8>>,
    jobs_tx: Option<Sender<PageJob>>,
    workers: Vec<JoinHandle<()>>,
}

struct PageJob {
    doc: Arc<DocState>,
    page_index: usize,
    reason: OcrReason,
    image: GrayImage,
    dpi: u32,
}

/// Shared state of a document whose pages are being recognised.
struct DocState {
    seq: u64,
    bytes: Arc<Vec<u8>>,
    pages: usize,
    font: Arc<Vec<u8>>,
    /// Extracted text of kept pages, recognised text of OCRed pages.
    texts: Mutex<Vec<String>>,
    overlays: Mutex<Vec<PageOverlay>>,
    error: Mutex<Option<DocError>>,
    kept: Mutex<KeptPages>,
    observer: Option<PageObserver>,
    /// Pages in flight, plus one held by the render thread until it has sent them all.
    remaining: AtomicUsize,
    reported: AtomicBool,
    done_tx: Sender<(u64, DocResult)>,
}

impl DocState {
    fn observe(&self, page_index: usize, action: PageAction, words: usize) {
        if let Some(observer) = &self.observer {
            observer(&PageDone {
                page: page_index + 1,
                pages: self.pages,
                action,
                words,
            });
        }
    }

    fn fail(&self, e: DocError) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    /// Drops one reference count; the last one writes and reports the document.
    fn release(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let result = catch_unwind(AssertUnwindSafe(|| self.finish())).unwrap_or_else(|_| {
                Err(DocError::InvalidPdf("internal error while writing".into()))
            });
            self.report(result);
        }
    }

    fn report(&self, result: DocResult) {
        if !self.reported.swap(true, Ordering::AcqRel) {
            let _ = self.done_tx.send((self.seq, result));
        }
    }

    fn finish(&self) -> DocResult {
        if let Some(e) = self.error.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(e);
        }
        let mut overlays =
            std::mem::take(&mut *self.overlays.lock().unwrap_or_else(|p| p.into_inner()));
        overlays.sort_by_key(|o| o.page_index);
        let texts = std::mem::take(&mut *self.texts.lock().unwrap_or_else(|p| p.into_inner()));
        let confs: Vec<f32> = overlays
            .iter()
            .filter(|o| o.text.word_count() > 0)
            .map(|o| o.text.mean_conf)
            .collect();
        let mean_confidence =
            (!confs.is_empty()).then(|| confs.iter().sum::<f32>() / confs.len() as f32);
        let pages_ocred = overlays.len();
        let pages_without_text = overlays.iter().filter(|o| o.text.word_count() == 0).count();
        let kept = *self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let pdf = if overlays.is_empty() {
            self.bytes.as_ref().clone()
        } else {
            add_text_layer(&self.bytes, &overlays, &self.font)?
        };
        Ok(OcrOutput {
            pdf,
            pages: self.pages,
            pages_ocred,
            pages_kept: self.pages - pages_ocred,
            text: texts.join("\u{c}"),
            already_searchable: pages_ocred == 0,
            kept,
            pages_without_text,
            mean_confidence,
        })
    }
}

impl Drop for DocState {
    fn drop(&mut self) {
        // A job lost by a dead worker still reports its document.
        self.report(Err(DocError::Recognition {
            page: 0,
            message: "worker stopped before the document was finished".into(),
        }));
    }
}

impl OcrEngine {
    /// Loads PDFium, checks the language data and starts the workers.
    pub fn new(opts: OcrOptions) -> Result<OcrEngine, SetupError> {
        let tessdata = resolve_tessdata(opts.tessdata.as_deref());
        check_language(&tessdata, &opts.language)?;
        let font = Arc::new(load_font(&tessdata)?);
        let pdfium = crate::pdfium::pdfium(opts.pdfium.as_deref())?;
        let n = if opts.jobs == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            opts.jobs
        };
        let (jobs_tx, jobs_rx) = bounded::<PageJob>(n);
        let (ready_tx, ready_rx) = unbounded::<Result<(), SetupError>>();
        let mut workers = Vec::with_capacity(n);
        for i in 0..n {
            let rx = jobs_rx.clone();
            let ready = ready_tx.clone();
            let tessdata = tessdata.clone();
            let language = opts.language.clone();
            let handle = std::thread::Builder::new()
                .name(format!("ocr-worker-{i}"))
                .spawn(move || worker(rx, ready, tessdata, language))
                .map_err(SetupError::Thread)?;
            workers.push(handle);
        }
        drop(ready_tx);
        let mut engine = OcrEngine {
            opts,
            pdfium,
            font,
            jobs_tx: Some(jobs_tx),
            workers,
        };
        for _ in 0..n {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(SetupError::Thread(std::io::Error::other(
                        "worker exited during start-up",
                    )))
                }
            }
        }
        engine.opts.jobs = n;
        Ok(engine)
    }

    /// The options in use (`jobs` resolved to the actual worker count).
    pub fn options(&self) -> &OcrOptions {
        &self.opts
    }

    /// OCRs one document.
    pub fn process(&self, pdf: &[u8]) -> Result<OcrOutput, DocError> {
        self.process_one(pdf, None)
    }

    /// OCRs one document, reporting each page to `observer` as soon as it is done (kept pages
    /// from the calling thread, recognised ones from the workers).
    pub fn process_observed(
        &self,
        pdf: &[u8],
        observer: PageObserver,
    ) -> Result<OcrOutput, DocError> {
        self.process_one(pdf, Some(observer))
    }

    fn process_one(
        &self,
        pdf: &[u8],
        observer: Option<PageObserver>,
    ) -> Result<OcrOutput, DocError> {
        let mut out = None;
        self.stream(std::iter::once(((), pdf.to_vec())), observer, |_, r| {
            out = Some(r)
        });
        out.unwrap_or_else(|| {
            Err(DocError::Recognition {
                page: 0,
                message: "no result".into(),
            })
        })
    }

    /// OCRs a stream of documents, pipelining their pages across the workers; `on_done` is
    /// called once per document, on the calling thread, as soon as it is finished.
    pub fn process_stream<K, I, F>(&self, docs: I, on_done: F)
    where
        K: Send + 'static,
        I: IntoIterator<Item = (K, Vec<u8>)>,
        F: FnMut(K, Result<OcrOutput, DocError>),
    {
        self.stream(docs, None, on_done)
    }

    fn stream<K, I, F>(&self, docs: I, observer: Option<PageObserver>, mut on_done: F)
    where
        K: Send + 'static,
        I: IntoIterator<Item = (K, Vec<u8>)>,
        F: FnMut(K, Result<OcrOutput, DocError>),
    {
        let (done_tx, done_rx) = unbounded::<(u64, DocResult)>();
        let mut pending: HashMap<u64, K> = HashMap::new();
        let deliver =
            |pending: &mut HashMap<u64, K>, on_done: &mut F, (seq, r): (u64, DocResult)| {
                if let Some(k) = pending.remove(&seq) {
                    on_done(k, r);
                }
            };
        for (seq, (key, bytes)) in (0u64..).zip(docs) {
            pending.insert(seq, key);
            let mut tick = || {
                while let Ok(msg) = done_rx.try_recv() {
                    deliver(&mut pending, &mut on_done, msg);
                }
            };
            self.submit(seq, bytes, observer.clone(), &done_tx, &mut tick);
            tick();
        }
        drop(done_tx);
        while !pending.is_empty() {
            match done_rx.recv() {
                Ok(msg) => deliver(&mut pending, &mut on_done, msg),
                Err(_) => break,
            }
        }
    }

    /// Classifies and renders a document's pages, sending those to OCR to the workers.
    fn submit(
        &self,
        seq: u64,
        bytes: Vec<u8>,
        observer: Option<PageObserver>,
        done_tx: &Sender<(u64, DocResult)>,
        tick: &mut dyn FnMut(),
    ) {
        let bytes = Arc::new(bytes);
        let opened = catch_unwind(AssertUnwindSafe(|| {
            self.submit_pages(seq, &bytes, observer, done_tx, tick)
        }));
        let result = match opened {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(_) => DocError::InvalidPdf("internal error while reading the document".into()),
        };
        let _ = done_tx.send((seq, Err(result)));
    }

    fn submit_pages(
        &self,
        seq: u64,
        bytes: &Arc<Vec<u8>>,
        observer: Option<PageObserver>,
        done_tx: &Sender<(u64, DocResult)>,
        tick: &mut dyn FnMut(),
    ) -> Result<(), DocError> {
        let doc = crate::pdfium::open(self.pdfium, bytes)?;
        let pages = usize::try_from(doc.pages().len()).unwrap_or(0);
        if pages == 0 {
            return Err(DocError::NoPages);
        }
        let state = Arc::new(DocState {
            seq,
            bytes: Arc::clone(bytes),
            pages,
            font: Arc::clone(&self.font),
            texts: Mutex::new(vec![String::new(); pages]),
            overlays: Mutex::new(Vec::new()),
            error: Mutex::new(None),
            kept: Mutex::new(KeptPages::default()),
            observer,
            remaining: AtomicUsize::new(1),
            reported: AtomicBool::new(false),
            done_tx: done_tx.clone(),
        });
        let jobs_tx = self.jobs_tx.as_ref();
        for index in 0..pages {
            let page_no = index + 1;
            let page = match PdfPageIndex::try_from(index)
                .ok()
                .and_then(|i| doc.pages().get(i).ok())
            {
                Some(p) => p,
                None => {
                    state.fail(DocError::Render {
                        page: page_no,
                        message: "PDFium cannot load the page".into(),
                    });
                    break;
                }
            };
            let facts = page_facts(&page);
            let reason = match decide(&facts, self.opts.force_ocr) {
                PageAction::Keep(reason) => {
                    if let Ok(text) = page.text() {
                        state.texts.lock().unwrap_or_else(|p| p.into_inner())[index] = text.all();
                    }
                    state
                        .kept
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .add(reason, &facts);
                    state.observe(index, PageAction::Keep(reason), 0);
                    continue;
                }
                PageAction::Ocr(reason) => reason,
            };
            let rendered =
                match render_loaded_page(&page, page_no, self.opts.dpi, self.opts.max_pixels) {
                    Ok(r) => r,
                    Err(e) => {
                        state.fail(e);
                        break;
                    }
                };
            drop(page);
            state.remaining.fetch_add(1, Ordering::AcqRel);
            let job = PageJob {
                doc: Arc::clone(&state),
                page_index: index,
                reason,
                image: rendered.image,
                dpi: rendered.dpi,
            };
            let sent = jobs_tx.is_some_and(|tx| tx.send(job).is_ok());
            if !sent {
                state.remaining.fetch_sub(1, Ordering::AcqRel);
                state.fail(DocError::Recognition {
                    page: page_no,
                    message: "OCR workers are gone".into(),
                });
                break;
            }
            tick();
        }
        drop(doc);
        state.release();
        Ok(())
    }
}

impl Drop for OcrEngine {
    fn drop(&mut self) {
        self.jobs_tx.take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn load_font(tessdata: &Path) -> Result<Vec<u8>, SetupError> {
    let mut candidates = vec![tessdata.join("pdf.ttf")];
    candidates.push(resolve_tessdata(None).join("pdf.ttf"));
    candidates.push(PathBuf::from("/usr/share/tesseract-ocr/5/tessdata/pdf.ttf"));
    candidates
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .ok_or_else(|| SetupError::MissingFont(tessdata.to_path_buf()))
}

fn worker(
    rx: Receiver<PageJob>,
    ready: Sender<Result<(), SetupError>>,
    tessdata: PathBuf,
    language: String,
) {
    let mut rec = match Recognizer::new(&tessdata, &language) {
        Ok(r) => {
            let _ = ready.send(Ok(()));
            r
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    drop(ready);
    let mut osd: Option<Option<OrientationDetector>> = None;
    for job in rx {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            recognize_page(&mut rec, &mut osd, &tessdata, &job.image, job.dpi)
        }));
        let page_no = job.page_index + 1;
        match outcome {
            Ok(Ok((text, extra_rotate_cw))) => {
                job.doc.observe(
                    job.page_index,
                    PageAction::Ocr(job.reason),
                    text.word_count(),
                );
                job.doc.texts.lock().unwrap_or_else(|p| p.into_inner())[job.page_index] =
                    text.text.clone();
                job.doc
                    .overlays
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(PageOverlay {
                        page_index: job.page_index,
                        text,
                        extra_rotate_cw,
                    });
            }
            Ok(Err(message)) => job.doc.fail(DocError::Recognition {
                page: page_no,
                message,
            }),
            Err(_) => {
                job.doc.fail(DocError::Recognition {
                    page: page_no,
                    message: "tesseract panicked".into(),
                });
                if let Ok(r) = Recognizer::new(&tessdata, &language) {
                    rec = r;
                }
            }
        }
        job.doc.release();
    }
}

/// Recognises a page upright; when confidence is low, detects the orientation and keeps the
/// rotated recognition if it is better. Returns the text and the rotation applied.
fn recognize_page(
    rec: &mut Recognizer,
    osd: &mut Option<Option<OrientationDetector>>,
    tessdata: &Path,
    image: &GrayImage,
    dpi: u32,
) -> Result<(PageText, u32), String> {
    let upright = rec.recognize(image, dpi).map_err(|e| e.0)?;
    if upright.mean_conf >= LOW_CONFIDENCE && upright.word_count() > 0 {
        return Ok((upright, 0));
    }
    let detector = osd.get_or_insert_with(|| OrientationDetector::new(tessdata));
    let Some(detector) = detector.as_mut() else {
        return Ok((upright, 0));
    };
    match detector.detect(image, dpi) {
        Some(o) if o.rotate_cw != 0 && o.confidence >= MIN_OSD_CONFIDENCE => {
            let rotated = rotate_cw(image, o.rotate_cw);
            let turned = rec.recognize(&rotated, dpi).map_err(|e| e.0)?;
            if turned.mean_conf > upright.mean_conf && turned.word_count() > 0 {
                Ok((turned, o.rotate_cw))
            } else {
                Ok((upright, 0))
            }
        }
        _ => Ok((upright, 0)),
    }
}
