//! Per-page decision: keep the page as it is, or OCR it.
//!
//! Facts are read with PDFium (extracted text, object counts, image coverage, fonts) and
//! turned into a [`PageAction`]: pages with a plausible text layer or an existing OCR layer
//! (glyphless font) are kept; pages whose text is garbage (fonts without Unicode mapping),
//! that only carry a few stray characters over big images, or whose text is drawn as vector
//! curves are OCRed, as are scans without text. Blank pages are kept. Reading facts never
//! fails: what PDFium cannot tell counts as absent.

use pdfium_render::prelude::*;

use crate::textlayer::FONT_BASE_NAME;

/// Below this many non-space characters a text layer is "a few stray characters".
const FEW_CHARS: usize = 20;
/// Minimum share of plausible characters in a real text layer.
const MIN_PLAUSIBLE: f64 = 0.75;
/// Path objects on a textless page above which text is probably drawn as curves.
const MANY_PATHS: usize = 100;
/// Share of the page covered by images above which the page is a scan.
const BIG_IMAGES: f64 = 0.3;

/// What PDFium tells about a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageFacts {
    /// Non-whitespace characters of the extracted text.
    pub chars: usize,
    /// Of those, letters, digits and usual punctuation.
    pub plausible: usize,
    pub text_objects: usize,
    pub path_objects: usize,
    pub image_objects: usize,
    /// Sum of image areas over page area (may exceed 1 with overlaps).
    pub image_coverage: f64,
    /// The page already carries an OCR text layer (glyphless font).
    pub has_ocr_layer: bool,
}

/// Why a page is OCRed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcrReason {
    Forced,
    NoText,
    GarbageText,
    StrayTextOverImages,
    VectorText,
}

/// Why a page is kept as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepReason {
    RealText,
    AlreadyOcred,
    Blank,
}

/// The decision for one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAction {
    Keep(KeepReason),
    Ocr(OcrReason),
}

/// Reads the facts of a loaded page.
pub fn page_facts(page: &PdfPage<'_>) -> PageFacts {
    let mut facts = PageFacts::default();
    if let Ok(text) = page.text() {
        for c in text.all().chars().filter(|c| !c.is_whitespace()) {
            facts.chars += 1;
            if is_plausible(c) {
                facts.plausible += 1;
            }
        }
    }
    let page_area = f64::from(page.width().value) * f64::from(page.height().value);
    let mut image_area = 0.0;
    for object in page.objects().iter() {
        match object.object_type() {
            PdfPageObjectType::Text => {
                facts.text_objects += 1;
                if !facts.has_ocr_layer {
                    if let Some(t) = object.as_text_object() {
                        let name = t.font().name();
                        facts.has_ocr_layer = name
                            .as_bytes()
                            .windows(FONT_BASE_NAME.len())
                            .any(|w| w == FONT_BASE_NAME);
                    }
                }
            }
            PdfPageObjectType::Path => facts.path_objects += 1,
            PdfPageObjectType::Image => {
                facts.image_objects += 1;
                if let (Ok(w), Ok(h)) = (object.width(), object.height()) {
                    image_area += f64::from(w.value.abs()) * f64::from(h.value.abs());
                }
            }
            _ => {}
        }
    }
    if page_area > 0.0 {
        facts.image_coverage = image_area / page_area;
    }
    facts
}

fn is_plausible(c: char) -> bool {
    c.is_alphanumeric() || ".,;:!?'’\"«»()[]-–—/%°€$&@*+=<>_#§".contains(c)
}

/// Turns facts into a decision.
pub fn decide(facts: &PageFacts, force_ocr: bool) -> PageAction {
    if force_ocr {
        return PageAction::Ocr(OcrReason::Forced);
    }
    if facts.has_ocr_layer {
        return PageAction::Keep(KeepReason::AlreadyOcred);
    }
    let has_images = facts.image_objects > 0 && facts.image_coverage > 0.01;
    if facts.chars > 0 {
        let share = facts.plausible as f64 / facts.chars as f64;
        if share < MIN_PLAUSIBLE {
            return PageAction::Ocr(OcrReason::GarbageText);
        }
        if facts.chars < FEW_CHARS && facts.image_coverage >= BIG_IMAGES {
            return PageAction::Ocr(OcrReason::StrayTextOverImages);
        }
        return PageAction::Keep(KeepReason::RealText);
    }
    if has_images {
        PageAction::Ocr(OcrReason::NoText)
    } else if facts.path_objects >= MANY_PATHS {
        PageAction::Ocr(OcrReason::VectorText)
    } else {
        PageAction::Keep(KeepReason::Blank)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(chars: usize, plausible: usize) -> PageFacts {
        PageFacts {
            chars,
            plausible,
            ..PageFacts::default()
        }
    }

    #[test]
    fn decisions() {
        assert_eq!(
            decide(&facts(500, 490), false),
            PageAction::Keep(KeepReason::RealText)
        );
        assert_eq!(
            decide(&facts(500, 100), false),
            PageAction::Ocr(OcrReason::GarbageText)
        );
        assert_eq!(
            decide(&facts(500, 490), true),
            PageAction::Ocr(OcrReason::Forced)
        );
        let scan = PageFacts {
            image_objects: 1,
            image_coverage: 1.0,
            ..facts(3, 3)
        };
        assert_eq!(
            decide(&scan, false),
            PageAction::Ocr(OcrReason::StrayTextOverImages)
        );
        let curves = PageFacts {
            path_objects: 800,
            ..facts(0, 0)
        };
        assert_eq!(
            decide(&curves, false),
            PageAction::Ocr(OcrReason::VectorText)
        );
        assert_eq!(
            decide(&facts(0, 0), false),
            PageAction::Keep(KeepReason::Blank)
        );
        let ocred = PageFacts {
            has_ocr_layer: true,
            ..facts(10, 2)
        };
        assert_eq!(
            decide(&ocred, false),
            PageAction::Keep(KeepReason::AlreadyOcred)
        );
    }
}
