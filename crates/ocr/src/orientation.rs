//! Orientation detection (tesseract OSD) and image rotation for pages scanned sideways.
//!
//! OSD costs about a second per page, so the engine calls it only when the upright
//! recognition's confidence is low. This module holds the crate's only direct tesseract C API
//! calls (the `tesseract` crate does not expose `DetectOrientationScript`). Detection failing
//! (no `osd.traineddata`, blank page, too little text) yields `None`: the page keeps its
//! upright recognition.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::path::Path;

use image::GrayImage;
use tesseract_sys as sys;

/// Clockwise rotation, in degrees, that makes the text upright, with OSD's confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Orientation {
    pub rotate_cw: u32,
    pub confidence: f32,
}

/// A tesseract instance initialised with the `osd` model (one per worker thread).
pub struct OrientationDetector {
    handle: *mut sys::TessBaseAPI,
}

// SAFETY: the handle is owned by this value and only used through `&mut self`; tesseract
// instances may move between threads as long as they are not used concurrently.
unsafe impl Send for OrientationDetector {}

impl OrientationDetector {
    /// `None` when `osd.traineddata` is missing or tesseract refuses it.
    pub fn new(tessdata: &Path) -> Option<Self> {
        if !tessdata.join("osd.traineddata").is_file() {
            return None;
        }
        let dir = CString::new(tessdata.to_str()?).ok()?;
        let lang = CString::new("osd").ok()?;
        // SAFETY: plain C API calls on a handle we own; strings outlive the calls.
        unsafe {
            let handle = sys::TessBaseAPICreate();
            if handle.is_null() {
                return None;
            }
            if sys::TessBaseAPIInit3(handle, dir.as_ptr(), lang.as_ptr()) != 0 {
                sys::TessBaseAPIDelete(handle);
                return None;
            }
            sys::TessBaseAPISetPageSegMode(handle, sys::TessPageSegMode_PSM_OSD_ONLY);
            if let (Ok(k), Ok(v)) = (CString::new("debug_file"), CString::new("/dev/null")) {
                sys::TessBaseAPISetVariable(handle, k.as_ptr(), v.as_ptr());
            }
            Some(OrientationDetector { handle })
        }
    }

    /// Detects the page orientation of `image` (rendered at `dpi`).
    pub fn detect(&mut self, image: &GrayImage, dpi: u32) -> Option<Orientation> {
        let (w, h) = image.dimensions();
        let (wi, hi) = (c_int::try_from(w).ok()?, c_int::try_from(h).ok()?);
        let data = image.as_raw();
        if data.len() < (w as usize) * (h as usize) || w == 0 || h == 0 {
            return None;
        }
        let mut deg: c_int = 0;
        let mut conf: f32 = 0.0;
        let mut script: *const c_char = std::ptr::null();
        let mut script_conf: f32 = 0.0;
        // SAFETY: `data` holds h rows of w bytes and outlives the calls (tesseract copies it
        // in SetImage); out-pointers are valid locals; the script name is not retained.
        let ok = unsafe {
            sys::TessBaseAPISetImage(self.handle, data.as_ptr(), wi, hi, 1, wi);
            sys::TessBaseAPISetSourceResolution(self.handle, c_int::try_from(dpi).unwrap_or(300));
            let ok = sys::TessBaseAPIDetectOrientationScript(
                self.handle,
                &mut deg,
                &mut conf,
                &mut script,
                &mut script_conf,
            );
            sys::TessBaseAPIClear(self.handle);
            ok
        };
        if ok == 0 || !conf.is_finite() {
            return None;
        }
        // OSD reports the counter-clockwise angle the page is turned by; undo it clockwise.
        let rotate_cw = (360 - (deg.rem_euclid(360) as u32)) % 360;
        Some(Orientation {
            rotate_cw,
            confidence: conf,
        })
    }
}

impl Drop for OrientationDetector {
    fn drop(&mut self) {
        // SAFETY: the handle was created by TessBaseAPICreate and is deleted once.
        unsafe { sys::TessBaseAPIDelete(self.handle) }
    }
}

/// Rotates `image` clockwise by a multiple of 90°.
pub fn rotate_cw(image: &GrayImage, degrees: u32) -> GrayImage {
    match degrees % 360 {
        90 => image::imageops::rotate90(image),
        180 => image::imageops::rotate180(image),
        270 => image::imageops::rotate270(image),
        _ => image.clone(),
    }
}
