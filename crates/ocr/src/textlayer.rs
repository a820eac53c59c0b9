//! Writing the invisible text layer into the PDF with `lopdf`.
//!
//! For each OCRed page one content stream is appended holding invisible text (render mode 3)
//! in a glyphless font (tesseract's `pdf.ttf`, embedded once per document as a Type0 /
//! CIDFontType2 font, Identity-H, CID = Unicode value, with a ToUnicode CMap so extraction
//! gives accents back). Each word is placed on its line's baseline and stretched with `Tz` to
//! cover its box, so selections match the scanned words. The original content is wrapped in
//! `q … Q` by two small added streams; its streams and images are never rewritten. Page
//! boxes, `/Rotate` and an extra rotation (sideways scans) are honoured. Owner-password
//! documents are written decrypted. Fails with `invalid_pdf` when lopdf cannot parse or
//! write the document, `encrypted` when it cannot be decrypted with an empty password.

use std::fmt::Write as _;

use lopdf::{dictionary, Dictionary, Document, Object, ObjectId, Stream, StringFormat};

use crate::error::DocError;
use crate::recognize::PageText;

/// Font name inside the PDF; [`crate::classify`] recognises pages carrying it as OCRed.
pub const FONT_BASE_NAME: &[u8] = b"GlyphLessFont";
/// Glyph advance of every CID, in 1/1000 em.
const GLYPH_WIDTH: f64 = 500.0;
/// Font size as a share of the line box height (ascenders to descenders span ~1.25 em).
const LINE_TO_FONT: f64 = 0.85;

/// The recognised text of one page, with the image geometry it refers to.
#[derive(Debug, Clone)]
pub struct PageOverlay {
    /// 0-based page index.
    pub page_index: usize,
    pub text: PageText,
    /// Clockwise rotation applied to the rendered (as displayed) image before recognition.
    pub extra_rotate_cw: u32,
}

/// A page box in user space: (x0, y0, x1, y1) with x0 < x1 and y0 < y1.
type Rect = (f64, f64, f64, f64);

/// Returns `pdf` with a text layer added to the pages of `overlays`.
pub fn add_text_layer(
    pdf: &[u8],
    overlays: &[PageOverlay],
    font_program: &[u8],
) -> Result<Vec<u8>, DocError> {
    let mut doc = Document::load_mem(pdf)
        .map_err(|e| DocError::InvalidPdf(format!("cannot parse for writing: {e}")))?;
    drop_encryption(&mut doc)?;
    let pages = doc.get_pages();
    let page_ids: Vec<ObjectId> = pages.values().copied().collect();
    // Every OCRed page gets a layer, even an empty one (a page where recognition found no
    // text): its font marks the page as done, so a second run keeps it.
    let font_id = add_font(&mut doc, font_program)?;
    for overlay in overlays {
        let page_id = *page_ids.get(overlay.page_index).ok_or_else(|| {
            DocError::InvalidPdf(format!(
                "page {} missing from the page tree",
                overlay.page_index + 1
            ))
        })?;
        add_overlay(&mut doc, page_id, overlay, font_id)?;
    }
    let mut out = Vec::with_capacity(pdf.len() + 16 * 1024);
    doc.save_to(&mut out)
        .map_err(|e| DocError::InvalidPdf(format!("cannot write: {e}")))?;
    Ok(out)
}

/// Owner-password-only files were decrypted while loading: write them without encryption.
fn drop_encryption(doc: &mut Document) -> Result<(), DocError> {
    if !doc.is_encrypted() {
        return Ok(());
    }
    if doc.encryption_state.is_none() && doc.decrypt("").is_err() {
        return Err(DocError::Encrypted);
    }
    if let Ok(Object::Reference(id)) = doc.trailer.get(b"Encrypt") {
        let id = *id;
        doc.objects.remove(&id);
    }
    doc.trailer.remove(b"Encrypt");
    doc.encryption_state = None;
    Ok(())
}

fn add_font(doc: &mut Document, font_program: &[u8]) -> Result<ObjectId, DocError> {
    let compress = |mut s: Stream| -> Stream {
        // Compression failing only costs bytes.
        let _ = s.compress();
        s
    };
    let file = compress(Stream::new(
        dictionary! { "Length1" => font_program.len() as i64 },
        font_program.to_vec(),
    ));
    let file_id = doc.add_object(file);
    let descriptor_id = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => Object::Name(FONT_BASE_NAME.to_vec()),
        "Flags" => 5,
        "FontBBox" => vec![0.into(), 0.into(), (GLYPH_WIDTH as i64).into(), 1000.into()],
        "ItalicAngle" => 0,
        "Ascent" => 1000,
        "Descent" => 0,
        "CapHeight" => 1000,
        "StemV" => 80,
        "FontFile2" => file_id,
    });
    // Every CID is drawn with glyph 1 of the glyphless font.
    let map: Vec<u8> = std::iter::repeat_n([0u8, 1u8], 65536).flatten().collect();
    let map_id = doc.add_object(compress(Stream::new(dictionary! {}, map)));
    let cid_font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => Object::Name(FONT_BASE_NAME.to_vec()),
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::String(b"Adobe".to_vec(), StringFormat::Literal),
            "Ordering" => Object::String(b"Identity".to_vec(), StringFormat::Literal),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor_id,
        "DW" => GLYPH_WIDTH as i64,
        "CIDToGIDMap" => map_id,
    });
    let to_unicode_id = doc.add_object(compress(Stream::new(
        dictionary! {},
        identity_to_unicode_cmap().into_bytes(),
    )));
    Ok(doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => Object::Name(FONT_BASE_NAME.to_vec()),
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![Object::Reference(cid_font_id)],
        "ToUnicode" => to_unicode_id,
    }))
}

/// A ToUnicode CMap mapping every 2-byte code to the same UTF-16 value (surrogates excluded).
fn identity_to_unicode_cmap() -> String {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let highs: Vec<u32> = (0u32..=0xFF)
        .filter(|h| !(0xD8..=0xDF).contains(h))
        .collect();
    for chunk in highs.chunks(100) {
        let _ = writeln!(s, "{} beginbfrange", chunk.len());
        for h in chunk {
            let _ = writeln!(s, "<{h:02X}00> <{h:02X}FF> <{h:02X}00>");
        }
        s.push_str("endbfrange\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

/// Looks `key` up on the page, then on its ancestors (inheritable attributes).
fn inherited(doc: &Document, page_id: ObjectId, key: &[u8]) -> Option<Object> {
    let mut id = page_id;
    for _ in 0..64 {
        let dict = doc.get_dictionary(id).ok()?;
        if let Ok(v) = dict.get(key) {
            return Some(v.clone());
        }
        id = dict.get(b"Parent").and_then(Object::as_reference).ok()?;
    }
    None
}

fn resolve<'a>(doc: &'a Document, obj: &'a Object) -> &'a Object {
    doc.dereference(obj).map(|(_, o)| o).unwrap_or(obj)
}

fn number(o: &Object) -> Option<f64> {
    match o {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

fn rect(doc: &Document, obj: Option<Object>) -> Option<Rect> {
    let obj = obj?;
    let arr = resolve(doc, &obj).as_array().ok()?;
    if arr.len() != 4 {
        return None;
    }
    let v: Vec<f64> = arr.iter().filter_map(|o| number(resolve(doc, o))).collect();
    if v.len() != 4 || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    Some((
        v[0].min(v[2]),
        v[1].min(v[3]),
        v[0].max(v[2]),
        v[1].max(v[3]),
    ))
}

/// The visible page box (CropBox clipped to MediaBox) and the page's `/Rotate`.
fn page_geometry(doc: &Document, page_id: ObjectId) -> (Rect, u32) {
    let media = rect(doc, inherited(doc, page_id, b"MediaBox")).unwrap_or((0.0, 0.0, 612.0, 792.0));
    let visible = match rect(doc, inherited(doc, page_id, b"CropBox")) {
        Some(c) => {
            let r = (
                c.0.max(media.0),
                c.1.max(media.1),
                c.2.min(media.2),
                c.3.min(media.3),
            );
            if r.0 < r.2 && r.1 < r.3 {
                r
            } else {
                media
            }
        }
        None => media,
    };
    let rotate = inherited(doc, page_id, b"Rotate")
        .and_then(|o| number(resolve(doc, &o)))
        .map(|r| ((r as i64).rem_euclid(360) / 90 * 90) as u32)
        .unwrap_or(0);
    (visible, rotate)
}

/// Matrix taking "displayed" coordinates (points, origin bottom-left of the page as seen
/// after a clockwise rotation of `rot`) to user space, and the displayed width and height.
fn display_to_user(b: Rect, rot: u32) -> ([f64; 6], f64, f64) {
    let (x0, y0, x1, y1) = b;
    let (w, h) = (x1 - x0, y1 - y0);
    match rot % 360 {
        90 => ([0.0, 1.0, -1.0, 0.0, x1, y0], h, w),
        180 => ([-1.0, 0.0, 0.0, -1.0, x1, y1], w, h),
        270 => ([0.0, -1.0, 1.0, 0.0, x0, y1], h, w),
        _ => ([1.0, 0.0, 0.0, 1.0, x0, y0], w, h),
    }
}

/// Content stream drawing the page's words invisibly.
pub fn overlay_content(text: &PageText, bbox: Rect, rot: u32, font: &str) -> Vec<u8> {
    let (m, dw, dh) = display_to_user(bbox, rot);
    let sx = dw / f64::from(text.width.max(1));
    let sy = dh / f64::from(text.height.max(1));
    let mut s = String::with_capacity(64 * text.word_count() + 128);
    let _ = writeln!(
        s,
        "Q\nq\n{} {} {} {} {} {} cm\nBT\n3 Tr",
        f(m[0]),
        f(m[1]),
        f(m[2]),
        f(m[3]),
        f(m[4]),
        f(m[5])
    );
    let mut drawn = 0;
    for line in &text.lines {
        let size = (f64::from(line.bottom.saturating_sub(line.top)) * sy * LINE_TO_FONT).max(1.0);
        let baseline = dh - f64::from(line.bottom) * sy;
        let _ = writeln!(s, "/{font} {} Tf", f(size));
        let n = line.words.len();
        for (i, word) in line.words.iter().enumerate() {
            let x = f64::from(word.left) * sx;
            let mut units: Vec<u16> = word.text.chars().map(cid).collect();
            let right = match line.words.get(i + 1) {
                Some(next) if i + 1 < n && next.left > word.left => {
                    units.push(0x20);
                    next.left
                }
                _ => word.right.max(word.left + 1),
            };
            if units.is_empty() {
                continue;
            }
            let width = f64::from(right - word.left) * sx;
            let natural = units.len() as f64 * size * GLYPH_WIDTH / 1000.0;
            let tz = (100.0 * width / natural).clamp(1.0, 10_000.0);
            let _ = write!(s, "1 0 0 1 {} {} Tm {} Tz <", f(x), f(baseline), f(tz));
            for u in units {
                let _ = write!(s, "{u:04X}");
            }
            s.push_str("> Tj\n");
            drawn += 1;
        }
    }
    if drawn == 0 {
        // Recognition found no text: one invisible space in the OCR font marks the page as done.
        let _ = writeln!(s, "/{font} 1 Tf\n1 0 0 1 0 0 Tm <0020> Tj");
    }
    s.push_str("ET\nQ\n");
    s.into_bytes()
}

/// Two-byte code for a character: its Unicode value, `?` outside the BMP.
fn cid(c: char) -> u16 {
    u16::try_from(u32::from(c))
        .ok()
        .filter(|u| !(0xD800..=0xDFFF).contains(u))
        .unwrap_or(0x3F)
}

fn f(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.2}")
    }
}

fn add_overlay(
    doc: &mut Document,
    page_id: ObjectId,
    overlay: &PageOverlay,
    font_id: ObjectId,
) -> Result<(), DocError> {
    let (bbox, rotate) = page_geometry(doc, page_id);
    let rot = (rotate + overlay.extra_rotate_cw) % 360;

    // Resources: a direct copy of the (possibly inherited or shared) dictionary plus our font.
    let mut resources = match inherited(doc, page_id, b"Resources") {
        Some(o) => resolve(doc, &o).as_dict().cloned().unwrap_or_default(),
        None => Dictionary::new(),
    };
    let mut fonts = match resources.get(b"Font") {
        Ok(o) => resolve(doc, o).as_dict().cloned().unwrap_or_default(),
        Err(_) => Dictionary::new(),
    };
    let mut name = String::from("DtOcrF");
    let mut k = 0;
    while fonts.has(name.as_bytes()) {
        k += 1;
        name = format!("DtOcrF{k}");
    }
    fonts.set(name.as_bytes().to_vec(), Object::Reference(font_id));
    resources.set("Font", Object::Dictionary(fonts));

    // Contents: q + original streams + (Q + overlay).
    let original: Vec<Object> = match doc
        .get_dictionary(page_id)
        .ok()
        .and_then(|d| d.get(b"Contents").ok())
    {
        Some(Object::Array(a)) => a.clone(),
        Some(Object::Reference(r)) => match doc.get_object(*r) {
            Ok(Object::Array(a)) => a.clone(),
            _ => vec![Object::Reference(*r)],
        },
        _ => Vec::new(),
    };
    let content = overlay_content(&overlay.text, bbox, rot, &name);
    let mut overlay_stream = Stream::new(dictionary! {}, content);
    let _ = overlay_stream.compress();
    let overlay_id = doc.add_object(overlay_stream);
    let mut contents = Vec::with_capacity(original.len() + 2);
    if original.is_empty() {
        contents.push(Object::Reference(
            doc.add_object(Stream::new(dictionary! {}, b"q\n".to_vec())),
        ));
    } else {
        contents.push(Object::Reference(
            doc.add_object(Stream::new(dictionary! {}, b"q\n".to_vec())),
        ));
        contents.extend(original);
    }
    contents.push(Object::Reference(overlay_id));

    let page = doc
        .get_object_mut(page_id)
        .and_then(Object::as_dict_mut)
        .map_err(|e| DocError::InvalidPdf(format!("page {}: {e}", overlay.page_index + 1)))?;
    page.set("Resources", Object::Dictionary(resources));
    page.set("Contents", Object::Array(contents));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_matrices_map_displayed_corners_to_box_corners() {
        let b = (10.0, 20.0, 110.0, 220.0);
        for rot in [0, 90, 180, 270] {
            let (m, w, h) = display_to_user(b, rot);
            // The displayed origin and opposite corner land on box corners.
            for (dx, dy) in [(0.0, 0.0), (w, h)] {
                let x = m[0] * dx + m[2] * dy + m[4];
                let y = m[1] * dx + m[3] * dy + m[5];
                assert!(x == 10.0 || x == 110.0, "rot {rot}: x {x}");
                assert!(y == 20.0 || y == 220.0, "rot {rot}: y {y}");
            }
        }
    }

    #[test]
    fn cmap_has_no_surrogate_ranges() {
        let c = identity_to_unicode_cmap();
        assert!(!c.contains("<D800>"));
        assert!(c.contains("<E900> <E9FF> <E900>"));
    }
}
