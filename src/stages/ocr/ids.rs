//! Which ids a run processes: the list (`georisques_ids.json` in `misc`, or `--ids FILE` holding a
//! JSON array or one id per line), each checked against the Géorisques id shape (others are
//! reported and skipped: they never reach a URL or a key), deduplicated in list order, restricted
//! to a `--shard I/N` by a stable hash (FNV-1a, identical on every machine and release), minus the
//! ids already in the `ap` store, then cut to `--limit`.

use std::path::Path;

use crate::model::ap_store::ApIndex;
use crate::model::ids::is_georisques_id;
use crate::storage::{StorageError, Store};

use super::{OcrArgs, OcrStats};

/// A partition of the ids: this process takes those whose hash modulo `count` is `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: expected I/N, e.g. 0/4"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: I is not a number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: N is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("{s:?}: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    pub fn contains(&self, id: &str) -> bool {
        (fnv1a(id.as_bytes()) % u64::from(self.count)) as u32 == self.index
    }
}

pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[derive(Debug, thiserror::Error)]
pub enum IdsError {
    #[error("cannot read the id list {name}: {reason}")]
    Read { name: String, reason: String },
    #[error("{name} is not a JSON array of strings: {reason}")]
    Json { name: String, reason: String },
    #[error("cannot read {name} from misc")]
    Storage { name: String, source: StorageError },
    #[error("the id list {name} is larger than {max_mib} MiB (sources.max_source_mib)")]
    TooLarge { name: String, max_mib: u64 },
}

/// Parsed list: valid ids in order (deduplicated), and messages about rejected entries.
pub struct Listed {
    pub ids: Vec<String>,
    pub rejected: Vec<String>,
}

/// Parses a JSON array of strings, or one id per line.
pub fn parse_ids(name: &str, text: &str) -> Result<Listed, IdsError> {
    let raw: Vec<String> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(|e| IdsError::Json {
            name: name.into(),
            reason: crate::text::clip(&e.to_string()),
        })?
    } else {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut seen = std::collections::HashSet::with_capacity(raw.len());
    let mut ids = Vec::with_capacity(raw.len());
    let mut rejected = Vec::new();
    for (i, id) in raw.into_iter().enumerate() {
        if !is_georisques_id(&id) {
            let shown: String = id.chars().take(60).collect();
            rejected.push(format!(
                "{name} entry {}: {shown:?} is not a Géorisques id, skipped",
                i + 1
            ));
        } else if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    Ok(Listed { ids, rejected })
}

/// Reads the id list from `ids_file` or `misc/georisques_ids.json`, refusing one larger than
/// `max_bytes` before reading it.
pub fn load(ids_file: Option<&Path>, misc: &Store, max_bytes: u64) -> Result<Listed, IdsError> {
    let too_large = |name: &str| IdsError::TooLarge {
        name: name.to_string(),
        max_mib: max_bytes.div_ceil(1 << 20),
    };
    match ids_file {
        Some(path) => {
            let name = path.display().to_string();
            let read_err = |e: std::io::Error| IdsError::Read {
                name: name.clone(),
                reason: e.to_string(),
            };
            if std::fs::metadata(path).map_err(read_err)?.len() > max_bytes {
                return Err(too_large(&name));
            }
            let text = std::fs::read_to_string(path).map_err(read_err)?;
            parse_ids(&name, &text)
        }
        None => {
            let name = "georisques_ids.json".to_string();
            let storage_err = |source| IdsError::Storage {
                name: name.clone(),
                source,
            };
            if misc.size(&name).map_err(storage_err)? > max_bytes {
                return Err(too_large(&name));
            }
            let bytes = misc.get(&name).map_err(storage_err)?;
            let text = String::from_utf8_lossy(&bytes);
            parse_ids(&format!("{}/{name}", misc.url()), &text)
        }
    }
}

pub fn select(
    ids: Vec<String>,
    args: &OcrArgs,
    ap: &Store,
    stats: &mut OcrStats,
) -> Result<Vec<String>, StorageError> {
    let mut ids: Vec<String> = match args.shard {
        Some(shard) => ids.into_iter().filter(|id| shard.contains(id)).collect(),
        None => ids,
    };
    if !args.force_redo {
        let done = ApIndex::from_listing(ap.list(None)?.map(|o| o.map(|o| (o.key, o.size))))?;
        let before = ids.len();
        ids.retain(|id| !done.is_processed(id));
        stats.already_done = before - ids.len();
    }
    if let Some(limit) = args.limit {
        ids.truncate(limit);
    }
    Ok(ids)
}
