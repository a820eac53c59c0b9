//! The sink of the read: takes the pages in catalogue order, keeps one row per dataset IRI (the
//! later `dct:modified` wins, then the later page — docs/syncs/ecospheres.md §2), writes the rows
//! to the spill file and keeps the counts and the notes the summary names.
//!
//! Memory per dataset is a 128-bit hash of its IRI and where its row is; duplicates are rare, so
//! the rows they replace are only marked, and left out when the spill is read back.
//!
//! What it refuses: a page read twice (same `hydra:PagedCollection` `@id`: the paging is broken,
//! fatal); a bad page when `on_bad_page = "fail"` (fatal). With `"skip"` the page is named in
//! the summary and the run ends with exit 1.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};

use rustc_hash::{FxHashMap, FxHashSet};

use super::config::OnBadPage;
use super::pipeline::{Page, PageData};
use super::store::{Spill, SpillReader};

/// Where a dataset's current row is.
struct Seen {
    key: Option<i64>,
    row: u32,
    /// Index in `page_names`.
    page: u32,
}

/// Counts of the read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub pages: u64,
    pub pages_skipped: u64,
    /// `dcat:Dataset` nodes with an IRI, duplicates included.
    pub datasets: u64,
    pub series: u64,
    /// `dcat:Dataset` nodes whose `@id` is a blank node (skipped).
    pub blank: u64,
    /// Copies of a dataset already read on an earlier page.
    pub duplicates: u64,
    /// `hydra:totalItems` of the first page that gives it.
    pub announced: Option<u64>,
    /// `hydra:lastPage` of the last page that gives one.
    pub last_page: Option<String>,
}

/// One kind of note, counted, with a few examples.
#[derive(Debug, Clone, Default)]
struct Group {
    count: u64,
    examples: Vec<String>,
}

const EXAMPLES: usize = 3;

/// Why the collector stops the run.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("catalogue page {page} is unusable: {reason} (on_bad_page = \"fail\")")]
    BadPage { page: String, reason: String },
    #[error("catalogue page {id} read twice ({first}, then {second}): its paging is broken")]
    PageTwice {
        id: String,
        first: String,
        second: String,
    },
    #[error("temporary row file")]
    Spill(#[from] std::io::Error),
}

/// The sink (see the module doc).
pub struct Collector {
    spill: Option<Spill>,
    rows: u32,
    replaced_count: u64,
    pub stats: Stats,
    /// Spill positions of rows replaced by a later copy.
    pub replaced: FxHashSet<u32>,
    /// Named page failures (skipped pages).
    pub bad_pages: Vec<String>,
    on_bad_page: OnBadPage,
    seen: FxHashMap<u128, Seen>,
    hash: (RandomState, RandomState),
    page_ids: FxHashMap<String, String>,
    page_names: Vec<String>,
    notes: BTreeMap<&'static str, Group>,
}

fn short(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

impl Collector {
    pub fn new(on_bad_page: OnBadPage) -> std::io::Result<Collector> {
        Ok(Collector {
            spill: Some(Spill::new()?),
            rows: 0,
            replaced_count: 0,
            stats: Stats::default(),
            replaced: FxHashSet::default(),
            bad_pages: Vec::new(),
            on_bad_page,
            seen: FxHashMap::default(),
            hash: (RandomState::new(), RandomState::new()),
            page_ids: FxHashMap::default(),
            page_names: Vec::new(),
            notes: BTreeMap::new(),
        })
    }

    fn note(&mut self, kind: &'static str, example: impl FnOnce() -> String) {
        let g = self.notes.entry(kind).or_default();
        g.count += 1;
        if g.examples.len() < EXAMPLES {
            g.examples.push(example());
        }
    }

    fn hash(&self, iri: &str) -> u128 {
        ((self.hash.0.hash_one(iri) as u128) << 64) | self.hash.1.hash_one(iri) as u128
    }

    /// Takes the next page. Returns the page's data links (`None` for a skipped page).
    pub fn page(&mut self, page: Page) -> Result<Option<Links>, CollectError> {
        let data = match page.result {
            Ok(data) => data,
            Err(failure) => {
                let reason = short(&failure.to_string(), 300);
                if self.on_bad_page == OnBadPage::Fail {
                    return Err(CollectError::BadPage {
                        page: page.name,
                        reason,
                    });
                }
                tracing::warn!(page = %page.name, "skipping unusable page: {reason}");
                self.stats.pages_skipped += 1;
                self.bad_pages.push(format!("{}: {reason}", page.name));
                return Ok(None);
            }
        };
        if let Some(id) = &data.page_id {
            if let Some(first) = self.page_ids.insert(id.clone(), page.name.clone()) {
                return Err(CollectError::PageTwice {
                    id: short(id, 200),
                    first,
                    second: page.name,
                });
            }
        }
        self.stats.pages += 1;
        let links = Links {
            next: data.next.clone(),
            last: data.last.clone(),
        };
        self.take(page.name, data)?;
        Ok(Some(links))
    }

    fn take(&mut self, name: String, data: PageData) -> Result<(), CollectError> {
        if self.stats.announced.is_none() {
            self.stats.announced = data.total;
        }
        if data.last.is_some() {
            self.stats.last_page.clone_from(&data.last);
        }
        for url in &data.remote_contexts {
            self.note("remote @context not fetched", || format!("{url} on {name}"));
        }
        for _ in 0..data.blank {
            self.note("dcat:Dataset with a blank-node @id (skipped)", || {
                name.clone()
            });
        }
        self.stats.blank += data.blank as u64;
        self.stats.series += data.series as u64;
        let page_no = self.page_names.len() as u32;
        self.page_names.push(name);
        for computed in data.datasets {
            self.stats.datasets += 1;
            let iri = &computed.row.dataset;
            for note in &computed.notes {
                // Fields borrowed apart: the example is only formatted while it is kept.
                let g = self.notes.entry(note.kind()).or_default();
                g.count += 1;
                if g.examples.len() < EXAMPLES {
                    let value = note
                        .value()
                        .map(|v| format!(" ({v:?})"))
                        .unwrap_or_default();
                    g.examples.push(format!(
                        "{}{value} on {}",
                        short(iri, 160),
                        self.page_names[page_no as usize]
                    ));
                }
            }
            let h = self.hash(iri);
            let previous = self.seen.get(&h).map(|s| (s.key, s.row, s.page));
            if let Some((key, row, earlier)) = previous {
                self.stats.duplicates += 1;
                let keep_new = computed.modified_key >= key;
                let (iri_s, earlier_s, now_s) = (
                    short(iri, 160),
                    self.page_names[earlier as usize].clone(),
                    self.page_names[page_no as usize].clone(),
                );
                self.note("dataset on several pages (one row kept)", || {
                    format!(
                        "{iri_s} on {earlier_s} and {now_s}: kept {}",
                        if keep_new { &now_s } else { &earlier_s }
                    )
                });
                if !keep_new {
                    continue;
                }
                self.replaced.insert(row);
                self.replaced_count += 1;
            }
            let spill = self
                .spill
                .as_mut()
                .ok_or_else(|| std::io::Error::other("the rows were already taken for the load"))?;
            let row = spill.push(&computed.row)?;
            self.rows = spill.len();
            self.seen.insert(
                h,
                Seen {
                    key: computed.modified_key,
                    row,
                    page: page_no,
                },
            );
        }
        Ok(())
    }

    /// Rows the table will hold.
    pub fn rows(&self) -> u64 {
        self.rows as u64 - self.replaced_count
    }

    /// The rows to load, without those replaced by a later copy (once).
    pub fn take_rows(&mut self) -> std::io::Result<SpillReader> {
        let spill = self
            .spill
            .take()
            .ok_or_else(|| std::io::Error::other("the rows were already taken for the load"))?;
        spill.reader(std::mem::take(&mut self.replaced))
    }

    /// `(kind, count, examples)` of every note, for the summary.
    pub fn notes(&self) -> impl Iterator<Item = (&'static str, u64, &[String])> + '_ {
        self.notes
            .iter()
            .map(|(k, g)| (*k, g.count, g.examples.as_slice()))
    }

    /// Total of the notes.
    pub fn note_count(&self) -> u64 {
        self.notes.values().map(|g| g.count).sum()
    }
}

/// The paging links of a page.
#[derive(Debug, Clone, Default)]
pub struct Links {
    pub next: Option<String>,
    pub last: Option<String>,
}
