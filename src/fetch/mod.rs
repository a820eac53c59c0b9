//! Reading sources: a `SRC` is a local path, an `http(s)://` URL or a storage URL
//! (`file://`, `s3://bucket/key`, `memory://name/key`). Gzip-compressed content (by its magic
//! bytes) is decompressed transparently.
//!
//! Every source is read through [`Limits`]: at most `sources.max_source_mib` bytes after
//! decompression (a gzip member announcing more in its trailer is refused before anything is
//! decompressed; otherwise reading stops at the cap), and, for CSV sources, no line longer than
//! [`crate::tabular::MAX_LINE_BYTES`] — checked while reading, so a 100 MB file without a line end
//! is refused after its first MiB. Local files are streamed; HTTP bodies and storage objects are
//! refused when larger than the cap before being decompressed. Past a cap the error
//! ([`FetchError::TooLarge`], [`FetchError::LineTooLong`]) names the source and the setting,
//! never the content. Errors say which source failed and why, without printing secret URLs in
//! full ([`crate::secrets::redact_url`]).

pub(crate) mod config;
pub mod http;

use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::progress::{Progress, ProgressReader, Unit};
use crate::storage::{S3Settings, StorageError, Store};

/// Why a source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot read {path}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Http(#[from] http::HttpError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{src}: storage URL needs an object key after the bucket (e.g. s3://bucket/folder/file.csv)")]
    NoKey { src: String },
    #[error("{src}: invalid gzip content")]
    Gzip { src: String, source: std::io::Error },
    #[error("{src}: larger than {max_mib} MiB{} (raise {setting}, if the input really is that big)", if *.decompressed { " once decompressed" } else { "" })]
    TooLarge {
        src: String,
        max_mib: u64,
        decompressed: bool,
        /// The setting (and its variable) that sets the cap.
        setting: &'static str,
    },
    #[error("{src}: not enough memory to read it whole")]
    Memory { src: String },
    #[error("{src}: line {line} is longer than {max_kib} KiB: not a CSV extraction (their lines are a few hundred bytes)")]
    LineTooLong {
        src: String,
        line: u64,
        max_kib: u64,
    },
}

/// Caps applied while reading a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of content, after decompression.
    pub max_bytes: u64,
    /// Longest line (between `\n` or `\r`), for CSV sources; `None` for other content.
    pub max_line_bytes: Option<u64>,
    /// The setting behind `max_bytes`, named when it is exceeded.
    pub setting: &'static str,
}

/// The setting of the `[sources]` caps, with its environment variable.
pub const SOURCES_SETTING: &str = "sources.max_source_mib, DATA_TASKS_SOURCES_MAX_SOURCE_MIB";

impl Limits {
    /// The caps of `[sources]` for a CSV source.
    pub fn csv(sources: &config::SourcesConfig) -> Limits {
        Limits {
            max_bytes: sources.max_source_mib.saturating_mul(1 << 20),
            max_line_bytes: Some(crate::tabular::MAX_LINE_BYTES as u64),
            setting: SOURCES_SETTING,
        }
    }

    /// The caps of `[sources]` for binary content (archives).
    pub fn binary(sources: &config::SourcesConfig) -> Limits {
        Limits {
            max_bytes: sources.max_source_mib.saturating_mul(1 << 20),
            max_line_bytes: None,
            setting: SOURCES_SETTING,
        }
    }

    fn max_mib(&self) -> u64 {
        self.max_bytes.div_ceil(1 << 20)
    }
}

/// What reading sources needs: the HTTP client, the S3 settings of `s3://` sources and the caps.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    pub client: &'a http::HttpClient,
    pub s3: &'a S3Settings,
    pub limits: Limits,
}

impl Reader<'_> {
    /// Reads `src` whole ([`read_source`]).
    pub fn read(&self, src: &str) -> Result<Bytes, FetchError> {
        read_source(src, self.client, self.s3, &self.limits)
    }
}

/// Reads a whole source into memory, through `limits`; `s3://` sources are reached with `s3`.
pub fn read_source(
    src: &str,
    client: &http::HttpClient,
    s3: &S3Settings,
    limits: &Limits,
) -> Result<Bytes, FetchError> {
    let shown = shown(src);
    let too_large = |decompressed| FetchError::TooLarge {
        src: shown.clone(),
        max_mib: limits.max_mib(),
        decompressed,
        setting: limits.setting,
    };
    let announced_too_large = |hint: Option<u64>| hint.is_some_and(|size| size > limits.max_bytes);
    let progress = Progress::new(&format!("reading {shown}"), None, Unit::Bytes);
    if src.starts_with("http://") || src.starts_with("https://") {
        let on_progress = |done: u64, total: Option<u64>| {
            if let Some(total) = total {
                progress.set_total(total);
            }
            progress.set_position(done);
        };
        let raw = client
            .request(http::Method::GET, src, &shown)
            .max_bytes(limits.max_bytes)
            .progress(&on_progress)
            .send()
            .map(|resp| resp.body)
            .map_err(|e| match e {
                http::HttpError::TooLarge { .. } => too_large(false),
                e => FetchError::Http(e),
            })?;
        if announced_too_large(gzip_size_hint(&raw)) {
            return Err(too_large(true));
        }
        return collect(&shown, raw.len(), &raw[..], limits);
    }
    if let Some((scheme, rest)) = src.split_once("://").filter(|(s, _)| *s != "file") {
        let (bucket, key) = rest
            .split_once('/')
            .filter(|(_, k)| !k.is_empty())
            .ok_or_else(|| FetchError::NoKey { src: src.into() })?;
        let store = Store::open_with(&format!("{scheme}://{bucket}"), s3)?;
        let size = store.size(key)?;
        if size > limits.max_bytes {
            return Err(too_large(false));
        }
        progress.set_total(size);
        let raw = store.get(key)?;
        progress.set_position(raw.len() as u64);
        if announced_too_large(gzip_size_hint(&raw)) {
            return Err(too_large(true));
        }
        return collect(&shown, raw.len(), &raw[..], limits);
    }
    let path = src.strip_prefix("file://").unwrap_or(src);
    let io_err = |source| FetchError::File {
        path: path.into(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    if len > limits.max_bytes {
        return Err(too_large(false));
    }
    if announced_too_large(file_gzip_size_hint(&mut file, len).map_err(io_err)?) {
        return Err(too_large(true));
    }
    progress.set_total(len);
    collect(
        &shown,
        len as usize,
        ProgressReader::new(file, &progress),
        limits,
    )
}

/// Content already in memory (a page read from a store), decompressed when gzip, through
/// `limits`; `src` names it in errors.
pub fn decompress(src: &str, raw: Bytes, limits: &Limits) -> Result<Bytes, FetchError> {
    let shown = shown(src);
    if !raw.starts_with(&[0x1f, 0x8b]) {
        if raw.len() as u64 > limits.max_bytes {
            return Err(FetchError::TooLarge {
                src: shown,
                max_mib: limits.max_mib(),
                decompressed: false,
                setting: limits.setting,
            });
        }
        return Ok(raw);
    }
    if gzip_size_hint(&raw).is_some_and(|size| size > limits.max_bytes) {
        return Err(FetchError::TooLarge {
            src: shown,
            max_mib: limits.max_mib(),
            decompressed: true,
            setting: limits.setting,
        });
    }
    collect(&shown, raw.len(), &raw[..], limits)
}

/// How a source is named in messages: URLs of http(s) sources may hold tokens.
fn shown(src: &str) -> String {
    if src.starts_with("http://") || src.starts_with("https://") {
        crate::secrets::redact_url(src)
    } else {
        crate::text::clip(src)
    }
}

/// The uncompressed size a gzip stream announces in its last member's trailer (`ISIZE`, modulo
/// 2³²): a lower bound of the real size, so a value above a cap proves the content is too big.
pub fn gzip_size_hint(raw: &[u8]) -> Option<u64> {
    if raw.len() < 18 || !raw.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let tail: [u8; 4] = raw[raw.len() - 4..].try_into().ok()?;
    Some(u64::from(u32::from_le_bytes(tail)))
}

/// [`gzip_size_hint`] of a file of `len` bytes (read from its first and last bytes, then
/// rewound).
fn file_gzip_size_hint(file: &mut std::fs::File, len: u64) -> std::io::Result<Option<u64>> {
    use std::io::{Seek, SeekFrom};
    if len < 18 {
        return Ok(None);
    }
    let (mut head, mut tail) = ([0u8; 2], [0u8; 4]);
    file.read_exact(&mut head)?;
    file.seek(SeekFrom::End(-4))?;
    file.read_exact(&mut tail)?;
    file.seek(SeekFrom::Start(0))?;
    Ok((head == [0x1f, 0x8b]).then(|| u64::from(u32::from_le_bytes(tail))))
}

/// Reads `reader` (`len` raw bytes, gzip or not) through `limits`.
fn collect(src: &str, len: usize, reader: impl Read, limits: &Limits) -> Result<Bytes, FetchError> {
    let mut reader = BufReader::with_capacity(64 << 10, reader);
    let io_err = |source| FetchError::File {
        path: src.into(),
        source,
    };
    let gzip = reader
        .fill_buf()
        .map_err(io_err)?
        .starts_with(&[0x1f, 0x8b]);
    let out = if gzip {
        let decoder = flate2::bufread::MultiGzDecoder::new(reader);
        read_capped(src, decoder, len.saturating_mul(6), limits, true)?
    } else {
        read_capped(src, reader, len, limits, false)?
    };
    Ok(Bytes::from(out))
}

/// Reads everything of `reader` into memory, failing as soon as the content passes
/// `limits.max_bytes` or holds a line longer than `limits.max_line_bytes`.
fn read_capped(
    src: &str,
    mut reader: impl Read,
    size_hint: usize,
    limits: &Limits,
    gzip: bool,
) -> Result<Vec<u8>, FetchError> {
    let cap = usize::try_from(limits.max_bytes).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    // Reserving up front saves copies; when memory is short, growing as needed may still do.
    let _ = out.try_reserve_exact(size_hint.min(cap).min(64 << 20));
    let mut lines = LineCheck::default();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) if gzip => {
                return Err(FetchError::Gzip {
                    src: src.into(),
                    source,
                })
            }
            Err(source) => {
                return Err(FetchError::File {
                    path: src.into(),
                    source,
                })
            }
        };
        if out.len() + n > cap {
            return Err(FetchError::TooLarge {
                src: src.into(),
                max_mib: limits.max_mib(),
                decompressed: gzip,
                setting: limits.setting,
            });
        }
        if let Some(max) = limits.max_line_bytes {
            lines
                .feed(&buf[..n], max)
                .map_err(|line| FetchError::LineTooLong {
                    src: src.into(),
                    line,
                    max_kib: max / 1024,
                })?;
        }
        out.try_reserve(n)
            .map_err(|_| FetchError::Memory { src: src.into() })?;
        out.extend_from_slice(&buf[..n]);
    }
    Ok(out)
}

/// The length of the current line across chunks.
#[derive(Default)]
struct LineCheck {
    current: u64,
    /// Line ends (`\n`) seen so far.
    newlines: u64,
}

impl LineCheck {
    /// Feeds a chunk; `Err(line)` names the first line (1-based) longer than `max`.
    fn feed(&mut self, chunk: &[u8], max: u64) -> Result<(), u64> {
        let mut start = 0;
        for end in memchr::memchr2_iter(b'\n', b'\r', chunk) {
            self.current += (end - start) as u64;
            if self.current > max {
                return Err(self.newlines + 1);
            }
            self.current = 0;
            self.newlines += u64::from(chunk[end] == b'\n');
            start = end + 1;
        }
        self.current += (chunk.len() - start) as u64;
        if self.current > max {
            return Err(self.newlines + 1);
        }
        Ok(())
    }
}

/// A reader that fails once more than `max` bytes went through it; [`CappedReader::exceeded`]
/// then tells the failure from others (archives read through `tar`).
pub struct CappedReader<R> {
    inner: R,
    left: u64,
    exceeded: Arc<AtomicBool>,
}

impl<R: Read> CappedReader<R> {
    /// Wraps `inner`; the flag becomes `true` when the cap is passed.
    pub fn new(inner: R, max: u64) -> (CappedReader<R>, Arc<AtomicBool>) {
        let exceeded = Arc::new(AtomicBool::new(false));
        (
            CappedReader {
                inner,
                left: max,
                exceeded: exceeded.clone(),
            },
            exceeded,
        )
    }

    /// Whether the cap was passed.
    pub fn exceeded(flag: &AtomicBool) -> bool {
        flag.load(Ordering::Relaxed)
    }
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.exceeded.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("content larger than the cap"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(p).unwrap();
            out.extend(e.finish().unwrap());
        }
        out
    }

    fn limits(max_bytes: u64, line: Option<u64>) -> Limits {
        Limits {
            max_bytes,
            max_line_bytes: line,
            setting: SOURCES_SETTING,
        }
    }

    fn client() -> http::HttpClient {
        http::HttpClient::new(&crate::settings::HttpConfig::default()).unwrap()
    }

    #[test]
    fn reads_paths_storage_urls_and_gzip() {
        let (client, s3) = (client(), S3Settings::default());
        let big = limits(1 << 20, Some(1024));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv.gz");
        std::fs::write(&p, gz(&[b"x;y\n"])).unwrap();
        let read = |src: &str| read_source(src, &client, &s3, &big);
        assert_eq!(&read(p.to_str().unwrap()).unwrap()[..], b"x;y\n");
        let url = format!("file://{}", p.display());
        assert_eq!(&read(&url).unwrap()[..], b"x;y\n");
        Store::open("memory://fetch-src")
            .unwrap()
            .put("in/a.csv", Bytes::from_static(b"plain"))
            .unwrap();
        assert_eq!(&read("memory://fetch-src/in/a.csv").unwrap()[..], b"plain");
        assert!(matches!(
            read("memory://fetch-src"),
            Err(FetchError::NoKey { .. })
        ));
        let missing = read("/nonexistent/s3ic.csv").unwrap_err();
        let chain = crate::outcome::error_chain(&missing);
        assert_eq!(
            chain,
            "cannot read /nonexistent/s3ic.csv: No such file or directory (os error 2)"
        );
    }

    fn assert_too_large(e: &FetchError, decompressed: bool) {
        assert!(
            matches!(e, FetchError::TooLarge { decompressed: d, .. } if *d == decompressed),
            "{e}"
        );
    }

    #[test]
    fn caps_apply_to_plain_gzip_and_storage_content() {
        let (client, s3) = (client(), S3Settings::default());
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p.display().to_string()
        };
        let lines = "a;b\n".repeat(1000);
        let small = limits(1000, Some(100));
        // Plain file larger than the cap: refused from its size.
        let p = write("big.csv", lines.as_bytes());
        let e = read_source(&p, &client, &s3, &small).unwrap_err();
        assert_too_large(&e, false);
        assert!(e.to_string().contains("sources.max_source_mib"), "{e}");
        // Gzip announcing more than the cap in its trailer.
        let p = write("bomb.csv.gz", &gz(&[lines.as_bytes()]));
        let e = read_source(&p, &client, &s3, &small).unwrap_err();
        assert_too_large(&e, true);
        // A big first member hidden behind a small last one: stopped while decompressing.
        let hidden = gz(&[lines.as_bytes(), b"x\n"]);
        assert_eq!(gzip_size_hint(&hidden), Some(2));
        let p = write("hidden.csv.gz", &hidden);
        let e = read_source(&p, &client, &s3, &small).unwrap_err();
        assert_too_large(&e, true);
        // A line longer than the line cap, plain or compressed, named by its number.
        let long = format!("a;b\n{}\n", "x".repeat(500));
        let p = write("long.csv", long.as_bytes());
        let e = read_source(&p, &client, &s3, &small).unwrap_err();
        assert!(matches!(e, FetchError::LineTooLong { line: 2, .. }), "{e}");
        let p = write("long.csv.gz", &gz(&[long.as_bytes()]));
        let e = read_source(&p, &client, &s3, &small).unwrap_err();
        assert!(matches!(e, FetchError::LineTooLong { line: 2, .. }), "{e}");
        // \r ends lines too (old Mac files), and content under the caps passes.
        let cr = "a;b\r".repeat(200);
        let ok = limits(1 << 20, Some(100));
        let p = write("cr.csv", cr.as_bytes());
        assert_eq!(read_source(&p, &client, &s3, &ok).unwrap().len(), cr.len());
        // Storage objects are refused from their size.
        let store = Store::open("memory://fetch-cap").unwrap();
        store.put("k.csv", lines.clone().into_bytes()).unwrap();
        let e = read_source("memory://fetch-cap/k.csv", &client, &s3, &small).unwrap_err();
        assert!(matches!(e, FetchError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn line_check_spans_chunks() {
        let mut c = LineCheck::default();
        assert!(c.feed(b"abc", 5).is_ok());
        assert!(c.feed(b"de\nab", 5).is_ok());
        assert_eq!(c.feed(b"cdef", 5), Err(2));
    }

    #[test]
    fn capped_reader_flags_what_passes_the_cap() {
        let (mut r, flag) = CappedReader::new(&b"0123456789"[..], 4);
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
        assert!(CappedReader::<&[u8]>::exceeded(&flag));
    }
}
