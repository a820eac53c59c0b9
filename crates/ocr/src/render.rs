//! Rendering one PDF page to an 8-bit gray image with PDFium.
//!
//! The page is rendered as displayed (its `/Rotate` applied, CropBox area) at the requested
//! resolution, lowered when the page would exceed the pixel cap (gigantic pages) or the
//! 30 000-pixel side limit of the recognition library. Fails with [`DocError::Render`] when
//! PDFium cannot render the page or the page has no area.

use image::GrayImage;
use pdfium_render::prelude::*;

use crate::error::DocError;

/// Longest image side we hand to tesseract/leptonica.
const MAX_SIDE: f64 = 30_000.0;

/// A rendered page and the resolution actually used.
#[derive(Debug, Clone)]
pub struct RenderedPage {
    pub image: GrayImage,
    pub dpi: u32,
}

/// Resolution to use for a page of `w_pt`×`h_pt` points so that it stays under `max_pixels`.
pub fn effective_dpi(w_pt: f64, h_pt: f64, dpi: u32, max_pixels: u64) -> f64 {
    let mut d = f64::from(dpi.max(1));
    let px = (w_pt * d / 72.0) * (h_pt * d / 72.0);
    if max_pixels > 0 && px > max_pixels as f64 {
        d *= (max_pixels as f64 / px).sqrt();
    }
    let side = w_pt.max(h_pt) * d / 72.0;
    if side > MAX_SIDE {
        d *= MAX_SIDE / side;
    }
    d
}

/// Renders page `index` (0-based) of `doc` to gray.
pub fn render_page(
    doc: &PdfDocument<'_>,
    index: usize,
    dpi: u32,
    max_pixels: u64,
) -> Result<RenderedPage, DocError> {
    let page_no = index + 1;
    let err = |message: String| DocError::Render {
        page: page_no,
        message,
    };
    let idx = PdfPageIndex::try_from(index).map_err(|_| err("page index out of range".into()))?;
    let page = doc
        .pages()
        .get(idx)
        .map_err(|e| err(format!("cannot load page: {e:?}")))?;
    render_loaded_page(&page, page_no, dpi, max_pixels)
}

/// Renders an already loaded page (`page_no` is 1-based, for messages).
pub fn render_loaded_page(
    page: &PdfPage<'_>,
    page_no: usize,
    dpi: u32,
    max_pixels: u64,
) -> Result<RenderedPage, DocError> {
    let err = |message: String| DocError::Render {
        page: page_no,
        message,
    };
    let (w_pt, h_pt) = (
        f64::from(page.width().value),
        f64::from(page.height().value),
    );
    if !(w_pt.is_finite() && h_pt.is_finite() && w_pt >= 1.0 && h_pt >= 1.0) {
        return Err(err(format!("page has no area ({w_pt}×{h_pt} pt)")));
    }
    let d = effective_dpi(w_pt, h_pt, dpi, max_pixels);
    let width = ((w_pt * d / 72.0).round() as i32).max(1);
    let height = ((h_pt * d / 72.0).round() as i32).max(1);
    let config = PdfRenderConfig::new()
        .set_target_size(width, height)
        .set_format(PdfBitmapFormat::Gray)
        .set_reverse_byte_order(false)
        .render_form_data(true)
        .render_annotations(true)
        .set_clear_color(PdfColor::WHITE);
    let bitmap = page
        .render_with_config(&config)
        .map_err(|e| err(format!("PDFium render: {e:?}")))?;
    let (bw, bh) = (bitmap.width(), bitmap.height());
    let raw = bitmap.as_raw_bytes();
    let (w, h) = (
        usize::try_from(bw).unwrap_or(0),
        usize::try_from(bh).unwrap_or(0),
    );
    if w == 0 || h == 0 || raw.len() < w * h {
        return Err(err(format!(
            "unexpected bitmap {bw}×{bh} with {} bytes",
            raw.len()
        )));
    }
    let stride = raw.len() / h;
    let pixels = if stride == w {
        raw
    } else {
        let mut packed = Vec::with_capacity(w * h);
        for row in raw.chunks_exact(stride) {
            packed.extend_from_slice(&row[..w]);
        }
        packed
    };
    let image = GrayImage::from_raw(w as u32, h as u32, pixels)
        .ok_or_else(|| err("bitmap size mismatch".into()))?;
    Ok(RenderedPage {
        image,
        dpi: d.round().max(1.0) as u32,
    })
}
