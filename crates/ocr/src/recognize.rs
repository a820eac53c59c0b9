//! Text recognition of one page image with tesseract (one instance per worker thread).
//!
//! A [`Recognizer`] owns a tesseract engine initialised once (language data loaded once) and
//! reused for every page it is given. Page segmentation is fully automatic (`PSM_AUTO`, not
//! the C API's single-block default, which interleaves columns) and the source resolution is
//! always set. Results come back as words with pixel boxes grouped into lines, the plain text
//! and the mean confidence. Failures (tesseract refusing the image or failing to recognise)
//! are returned as messages; the engine is re-created after a failure.

use std::path::{Path, PathBuf};

use image::GrayImage;
use tesseract::{PageSegMode, Tesseract};

use crate::error::{RecognizeError, SetupError};

/// Directories where Debian and other distributions install tesseract language data.
const SYSTEM_TESSDATA: &[&str] = &[
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
];

/// The tessdata directory to use: the option, else `TESSDATA_PREFIX`, else the system's.
pub fn resolve_tessdata(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("TESSDATA_PREFIX").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    SYSTEM_TESSDATA
        .iter()
        .map(PathBuf::from)
        .find(|p| p.join("fra.traineddata").is_file() || p.join("eng.traineddata").is_file())
        .unwrap_or_else(|| PathBuf::from(SYSTEM_TESSDATA[0]))
}

/// Checks that every `+`-separated language of `language` has its traineddata file.
pub fn check_language(tessdata: &Path, language: &str) -> Result<(), SetupError> {
    for lang in language.split('+').filter(|l| !l.is_empty()) {
        if !tessdata.join(format!("{lang}.traineddata")).is_file() {
            return Err(SetupError::MissingLanguage {
                language: lang.to_string(),
                tessdata: tessdata.to_path_buf(),
            });
        }
    }
    if language.split('+').all(str::is_empty) {
        return Err(SetupError::MissingLanguage {
            language: language.to_string(),
            tessdata: tessdata.to_path_buf(),
        });
    }
    Ok(())
}

/// One recognised word; box in image pixels (right/bottom exclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub left: u32,
    pub top: u32,
    pub right: u32,
    pub bottom: u32,
    pub text: String,
    pub conf: f32,
}

/// A text line: its box and its words in reading order.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub left: u32,
    pub top: u32,
    pub right: u32,
    pub bottom: u32,
    pub words: Vec<Word>,
}

/// Recognition result of one page image.
#[derive(Debug, Clone, Default)]
pub struct PageText {
    pub lines: Vec<Line>,
    pub text: String,
    /// Tesseract's mean word confidence, 0–100.
    pub mean_conf: f32,
    pub width: u32,
    pub height: u32,
}

impl PageText {
    pub fn word_count(&self) -> usize {
        self.lines.iter().map(|l| l.words.len()).sum()
    }
}

/// A tesseract engine bound to one thread's lifetime.
pub struct Recognizer {
    tess: Option<Tesseract>,
    tessdata: PathBuf,
    language: String,
}

impl Recognizer {
    /// Loads the language data (≈0.2 s): do it once per worker.
    pub fn new(tessdata: &Path, language: &str) -> Result<Self, SetupError> {
        let tess = init(tessdata, language)?;
        Ok(Recognizer {
            tess: Some(tess),
            tessdata: tessdata.to_path_buf(),
            language: language.to_string(),
        })
    }

    /// Recognises a gray image rendered at `dpi`.
    pub fn recognize(&mut self, image: &GrayImage, dpi: u32) -> Result<PageText, RecognizeError> {
        self.try_recognize(image, dpi).map_err(RecognizeError)
    }

    fn try_recognize(&mut self, image: &GrayImage, dpi: u32) -> Result<PageText, String> {
        let tess = match self.tess.take() {
            Some(t) => t,
            None => init(&self.tessdata, &self.language).map_err(|e| e.to_string())?,
        };
        let (w, h) = image.dimensions();
        let (wi, hi) = (
            i32::try_from(w).map_err(|_| "image too wide")?,
            i32::try_from(h).map_err(|_| "image too tall")?,
        );
        let tess = tess
            .set_frame(image.as_raw(), wi, hi, 1, wi)
            .map_err(|e| format!("set image: {e:?}"))?;
        let dpi = i32::try_from(dpi.clamp(1, 2400)).unwrap_or(300);
        let mut tess = tess
            .set_source_resolution(dpi)
            .recognize()
            .map_err(|e| format!("recognize: {e:?}"))?;
        let text = tess.get_text().map_err(|e| format!("get text: {e:?}"))?;
        let tsv = tess
            .get_tsv_text(0)
            .map_err(|e| format!("get tsv: {e:?}"))?;
        let mean_conf = tess.mean_text_conf() as f32;
        self.tess = Some(tess);
        Ok(PageText {
            lines: parse_tsv(&tsv),
            text,
            mean_conf,
            width: w,
            height: h,
        })
    }
}

fn init(tessdata: &Path, language: &str) -> Result<Tesseract, SetupError> {
    let fail = |message: String| SetupError::Tesseract {
        language: language.to_string(),
        tessdata: tessdata.to_path_buf(),
        message,
    };
    let dir = tessdata
        .to_str()
        .ok_or_else(|| fail("tessdata path is not UTF-8".into()))?;
    let tess = Tesseract::new(Some(dir), Some(language)).map_err(|e| fail(e.to_string()))?;
    // Tesseract's diagnostics ("Detected 77 diacritics", …) would go to stderr.
    let mut tess = tess
        .set_variable("debug_file", "/dev/null")
        .map_err(|e| fail(e.to_string()))?;
    tess.set_page_seg_mode(PageSegMode::PsmAuto);
    Ok(tess)
}

/// Parses tesseract's TSV output into lines of words (levels 4 and 5).
pub fn parse_tsv(tsv: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut current_key: Option<(u32, u32, u32, u32)> = None;
    for row in tsv.lines() {
        let cols: Vec<&str> = row.splitn(12, '\t').collect();
        if cols.len() < 11 {
            continue;
        }
        let num = |i: usize| cols[i].trim().parse::<i64>().ok();
        let (Some(level), Some(left), Some(top), Some(width), Some(height)) =
            (num(0), num(6), num(7), num(8), num(9))
        else {
            continue;
        };
        let key = (
            num(1).unwrap_or(0) as u32,
            num(2).unwrap_or(0) as u32,
            num(3).unwrap_or(0) as u32,
            num(4).unwrap_or(0) as u32,
        );
        let clamp = |v: i64| v.clamp(0, i64::from(u32::MAX)) as u32;
        let (l, t) = (clamp(left), clamp(top));
        let (r, b) = (clamp(left + width.max(0)), clamp(top + height.max(0)));
        match level {
            4 => {
                lines.push(Line {
                    left: l,
                    top: t,
                    right: r,
                    bottom: b,
                    words: Vec::new(),
                });
                current_key = Some(key);
            }
            5 => {
                let text = cols.get(11).map(|s| s.trim()).unwrap_or("");
                if text.is_empty() || current_key != Some(key) {
                    continue;
                }
                let conf = cols[10].trim().parse::<f32>().unwrap_or(-1.0);
                if let Some(line) = lines.last_mut() {
                    line.words.push(Word {
                        left: l,
                        top: t,
                        right: r,
                        bottom: b,
                        text: text.to_string(),
                        conf,
                    });
                }
            }
            _ => {}
        }
    }
    lines.retain(|l| !l.words.is_empty());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_groups_words_into_lines() {
        let tsv = "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
                   4\t1\t1\t1\t1\t0\t10\t20\t80\t12\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t96.5\tArrêté\n\
                   5\t1\t1\t1\t1\t2\t50\t21\t40\t11\t91\tpréfectoral\n\
                   4\t1\t1\t1\t2\t0\t10\t40\t80\t12\t-1\t\n\
                   5\t1\t1\t1\t2\t1\t10\t40\t30\t12\t95\t \n";
        let lines = parse_tsv(tsv);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].words.len(), 2);
        assert_eq!(lines[0].words[0].text, "Arrêté");
        assert_eq!(lines[0].words[1].right, 90);
        assert_eq!(lines[0].bottom, 32);
    }
}
