//! The Géorisques dump (docs/formats.md §2.3): download the tar.gz and read its two used
//! members, `IC_documents.csv` and `IC_types_document.csv`, straight from the tar stream into
//! memory. Nothing is ever extracted to disk, so no member can be written anywhere.
//!
//! The archive comes from outside, so it is checked member by member before anything is used:
//! absolute paths, `..` components, links, devices and FIFOs, members larger than
//! `sources.max_source_mib` and archives with more than [`MAX_MEMBERS`] members reject the whole
//! archive ([`ApsError::UnsafeMember`]); a missing used member is [`ApsError::MissingMember`].
//! The download, and the whole archive once decompressed, are capped by `sources.max_source_mib`
//! too ([`ApsError::TooLarge`]): a gzip bomb is refused from its trailer when it announces more,
//! and stopped at the cap otherwise.
//! The URL is a secret: messages and logs show it redacted ([`crate::secrets::redact_url`]).

use std::io::Read;
use std::path::Component;
use std::time::Duration;

use bytes::Bytes;
use tar::EntryType;

use super::ApsError;
use crate::fetch::http::{HttpClient, HttpError, Method};
use crate::fetch::CappedReader;
use crate::progress::{Progress, ProgressReader, Unit};
use crate::settings::HttpConfig;

/// Most members accepted in the archive.
pub const MAX_MEMBERS: usize = 1000;

pub const DOCUMENTS: &str = "IC_documents.csv";
pub const TYPES: &str = "IC_types_document.csv";

/// The two used members, whole.
#[derive(Debug)]
pub struct Dump {
    pub documents: Vec<u8>,
    pub types: Vec<u8>,
}

/// The client for the dump: the configured policy with the long `dump_timeout_s`.
pub fn client(cfg: &HttpConfig) -> Result<HttpClient, ApsError> {
    Ok(HttpClient::with_timeout(
        cfg,
        Duration::from_secs(cfg.dump_timeout_s),
    )?)
}

/// Downloads the dump (retrying transient failures, at most `max_bytes`) and reads its two
/// members (the archive at most `max_bytes` once decompressed).
pub fn fetch(url: &str, client: &HttpClient, max_bytes: u64) -> Result<Dump, ApsError> {
    let what = format!("Géorisques dump {}", crate::secrets::redact_url(url));
    let too_large = |decompressed| ApsError::TooLarge {
        max_mib: max_bytes.div_ceil(1 << 20),
        decompressed,
    };
    let download = Progress::new("Géorisques dump", None, Unit::Bytes);
    let on_progress = |done: u64, total: Option<u64>| {
        if let Some(total) = total {
            download.set_total(total);
        }
        download.set_position(done);
    };
    let raw: Bytes = client
        .request(Method::GET, url, &what)
        .max_bytes(max_bytes)
        .progress(&on_progress)
        .send()
        .map(|resp| resp.body)
        .map_err(|e| match e {
            HttpError::TooLarge { .. } => too_large(false),
            e => ApsError::Download(e),
        })?;
    download.finish();
    tracing::info!(bytes = raw.len(), "downloaded the Géorisques dump");
    if crate::fetch::gzip_size_hint(&raw).is_some_and(|size| size > max_bytes) {
        return Err(too_large(true));
    }
    let reading = Progress::new("reading the dump", Some(raw.len() as u64), Unit::Bytes);
    let dump = read_members(ProgressReader::new(&raw[..], &reading), max_bytes);
    reading.finish();
    dump
}

/// Reads `IC_documents.csv` and `IC_types_document.csv` from a gzip tar stream of at most
/// `max_bytes` once decompressed, checking every member of the archive.
pub fn read_members(tar_gz: impl Read, max_bytes: u64) -> Result<Dump, ApsError> {
    read_members_with_limits(tar_gz, max_bytes, MAX_MEMBERS, max_bytes)
}

pub(super) fn read_members_with_limits(
    tar_gz: impl Read,
    max_member: u64,
    max_members: usize,
    max_total: u64,
) -> Result<Dump, ApsError> {
    let (decoder, exceeded) =
        CappedReader::new(flate2::read::MultiGzDecoder::new(tar_gz), max_total);
    let archive_err = |e: std::io::Error| {
        if CappedReader::<&[u8]>::exceeded(&exceeded) {
            ApsError::TooLarge {
                max_mib: max_total.div_ceil(1 << 20),
                decompressed: true,
            }
        } else {
            ApsError::Archive(format!("not a readable tar.gz: {e}"))
        }
    };
    let mut archive = tar::Archive::new(decoder);
    let (mut documents, mut types) = (None, None);
    for (n, entry) in archive.entries().map_err(archive_err)?.enumerate() {
        let mut entry = entry.map_err(archive_err)?;
        if n >= max_members {
            return Err(ApsError::Archive(format!(
                "more than {max_members} members: not the Géorisques dump"
            )));
        }
        let raw_name = crate::text::clip(&String::from_utf8_lossy(&entry.path_bytes()));
        let unsafe_member = |reason: String| ApsError::UnsafeMember {
            member: raw_name.clone(),
            reason,
        };
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::Directory => {}
            EntryType::XGlobalHeader | EntryType::XHeader => continue,
            other => {
                return Err(unsafe_member(format!(
                    "entry type {other:?} is not allowed"
                )))
            }
        }
        let path = entry.path().map_err(archive_err)?.into_owned();
        let mut normal = Vec::new();
        for c in path.components() {
            match c {
                Component::Normal(p) => normal.push(p.to_owned()),
                Component::CurDir => {}
                Component::ParentDir => return Err(unsafe_member("`..` component".into())),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(unsafe_member("absolute path".into()))
                }
            }
        }
        let size = entry.header().size().map_err(archive_err)?;
        if size > max_member {
            return Err(unsafe_member(format!(
                "{size} bytes, larger than the {max_member}-byte limit"
            )));
        }
        if kind == EntryType::Directory || normal.len() != 1 {
            continue;
        }
        let slot = match normal[0].to_str() {
            Some(DOCUMENTS) => &mut documents,
            Some(TYPES) => &mut types,
            _ => continue,
        };
        let mut buf = Vec::with_capacity(size as usize);
        (&mut entry)
            .take(max_member + 1)
            .read_to_end(&mut buf)
            .map_err(archive_err)?;
        if buf.len() as u64 > max_member {
            return Err(unsafe_member(format!(
                "larger than the {max_member}-byte limit"
            )));
        }
        *slot = Some(buf);
    }
    Ok(Dump {
        documents: documents.ok_or(ApsError::MissingMember(DOCUMENTS))?,
        types: types.ok_or(ApsError::MissingMember(TYPES))?,
    })
}
