//! Reading sources: a `SRC` is a local path, an `http(s)://` URL or a storage URL
//! (`file://`, `s3://bucket/key`, `memory://name/key`). Gzip-compressed content (by its magic
//! bytes) is decompressed transparently. Errors say which source failed and why, without
//! printing secret URLs in full ([`crate::secrets::redact_url`]).

pub mod config;
pub mod http;

use std::io::Read;

use bytes::Bytes;

use crate::storage::{StorageError, Store};

/// Why a source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot read {path}: {source}")]
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
    #[error("{src}: invalid gzip content: {source}")]
    Gzip { src: String, source: std::io::Error },
}

/// Reads a whole source into memory.
pub fn read_source(src: &str, client: &http::HttpClient) -> Result<Bytes, FetchError> {
    let raw: Bytes = if src.starts_with("http://") || src.starts_with("https://") {
        client.get(src, &crate::secrets::redact_url(src), None)?
    } else if let Some(path) = src.strip_prefix("file://") {
        read_file(path)?
    } else if let Some((scheme, rest)) = src.split_once("://") {
        let (bucket, key) = rest
            .split_once('/')
            .filter(|(_, k)| !k.is_empty())
            .ok_or_else(|| FetchError::NoKey { src: src.into() })?;
        Store::open(&format!("{scheme}://{bucket}"))?.get(key)?
    } else {
        read_file(src)?
    };
    gunzip_if_needed(src, raw)
}

fn read_file(path: &str) -> Result<Bytes, FetchError> {
    std::fs::read(path)
        .map(Bytes::from)
        .map_err(|source| FetchError::File {
            path: path.into(),
            source,
        })
}

/// Decompresses gzip content (detected by its magic bytes); other content is returned as is.
pub fn gunzip_if_needed(src: &str, raw: Bytes) -> Result<Bytes, FetchError> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 6);
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .map_err(|source| FetchError::Gzip {
            src: crate::secrets::redact_url(src),
            source,
        })?;
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_paths_storage_urls_and_gzip() {
        let client = http::HttpClient::new(&crate::config::HttpConfig::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"x;y\n").unwrap();
        std::fs::write(&p, gz.finish().unwrap()).unwrap();
        assert_eq!(
            &read_source(p.to_str().unwrap(), &client).unwrap()[..],
            b"x;y\n"
        );
        let url = format!("file://{}", p.display());
        assert_eq!(&read_source(&url, &client).unwrap()[..], b"x;y\n");
        Store::open("memory://fetch-src")
            .unwrap()
            .put("in/a.csv", Bytes::from_static(b"plain"))
            .unwrap();
        assert_eq!(
            &read_source("memory://fetch-src/in/a.csv", &client).unwrap()[..],
            b"plain"
        );
        assert!(matches!(
            read_source("memory://fetch-src", &client),
            Err(FetchError::NoKey { .. })
        ));
        let missing = read_source("/nonexistent/s3ic.csv", &client).unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/s3ic.csv"));
    }
}
