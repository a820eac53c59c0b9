//! Reading the catalogue page by page: each page is fetched, parsed, indexed and turned into
//! rows, then handed — in page order — to a sink (the collector: de-duplication and the spill
//! file), so memory holds a few pages at a time whatever the size of the catalogue.
//!
//! Object-store pages are fetched and computed by `parallel_pages` worker threads at most a
//! window ahead of the sink; HTTP pages one after the other (each page names the next). A page
//! that cannot be fetched or read reaches the sink as a [`PageFailure`]; the sink decides
//! (`on_bad_page`) and may stop the run by returning an error, which stops the workers.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Condvar, Mutex};

use super::columns::{self, Computed};
use super::jsonld::{self, kind, Graph, PageError, Pred};
use super::remote::{self, StorePages};
use crate::fetch::http::HttpClient;

/// What one page holds.
#[derive(Debug, Default)]
pub struct PageData {
    /// The `@id` of its `hydra:PagedCollection` node.
    pub page_id: Option<String>,
    pub next: Option<String>,
    pub last: Option<String>,
    pub total: Option<u64>,
    pub datasets: Vec<Computed>,
    pub series: usize,
    /// `dcat:Dataset` nodes without an IRI (skipped).
    pub blank: usize,
    pub remote_contexts: Vec<String>,
}

/// Why a page could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageFailure {
    #[error("{0}")]
    Fetch(String),
    #[error(transparent)]
    Read(#[from] PageError),
}

/// Parses a page and computes its rows.
pub fn process(bytes: &[u8]) -> Result<PageData, PageError> {
    let doc = jsonld::parse(bytes)?;
    let g = Graph::build(&doc)?;
    let mut data = PageData {
        remote_contexts: g.remote_contexts().to_vec(),
        ..PageData::default()
    };
    for node in &g.nodes {
        if node.is(kind::PAGE) && data.page_id.is_none() {
            data.page_id = node.id.as_deref().map(str::to_string);
            let text = |p: Pred| g.values(node, p).find_map(|t| t.text()).map(str::to_string);
            data.next = text(Pred::NextPage);
            data.last = text(Pred::LastPage);
            data.total = text(Pred::TotalItems).and_then(|t| t.trim().parse().ok());
        }
        if node.is(kind::DATASET) {
            match node.id.as_deref() {
                Some(iri) if !iri.starts_with("_:") => {
                    data.datasets.push(columns::compute(&g, node, iri));
                    if node.is(kind::SERIES) {
                        data.series += 1;
                    }
                }
                _ => data.blank += 1,
            }
        }
    }
    Ok(data)
}

/// One page, as the sink receives it.
pub struct Page {
    /// 0-based position in the catalogue.
    pub index: usize,
    /// Object key or URL (shown).
    pub name: String,
    pub result: Result<PageData, PageFailure>,
}

/// Reads every page of an object-store prefix with `workers` threads, handing them to `sink`
/// in key order. Stops at the first error of the sink.
pub fn store_pages<E>(
    pages: &StorePages,
    workers: usize,
    mut sink: impl FnMut(Page) -> Result<(), E>,
) -> Result<(), E> {
    let n = pages.keys.len();
    let workers = workers.clamp(1, n.max(1));
    let window = workers * 2;
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let consumed = Mutex::new(0usize);
    let moved = Condvar::new();
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<Page>(window);
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, stop, consumed, moved) = (&next, &stop, &consumed, &moved);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n || stop.load(Ordering::SeqCst) {
                    break;
                }
                {
                    let mut c = consumed.lock().unwrap_or_else(|p| p.into_inner());
                    while i >= *c + window && !stop.load(Ordering::SeqCst) {
                        c = moved.wait(c).unwrap_or_else(|p| p.into_inner());
                    }
                }
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let key = &pages.keys[i];
                let result = pages
                    .fetch(key)
                    .map_err(|e| PageFailure::Fetch(e.to_string()))
                    .and_then(|bytes| process(&bytes).map_err(PageFailure::Read));
                let page = Page {
                    index: i,
                    name: key.clone(),
                    result,
                };
                if tx.send(page).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = 0usize;
        let mut outcome = Ok(());
        'recv: for page in rx.iter() {
            pending.insert(page.index, page);
            while let Some(page) = pending.remove(&want) {
                if let Err(e) = sink(page) {
                    outcome = Err(e);
                    break 'recv;
                }
                want += 1;
                *consumed.lock().unwrap_or_else(|p| p.into_inner()) = want;
                moved.notify_all();
            }
        }
        stop.store(true, Ordering::SeqCst);
        moved.notify_all();
        drop(rx);
        outcome
    })
}

/// How the HTTP walk goes on after a page.
pub enum Next {
    /// Follow this URL (`hydra:nextPage`, or the next page number after a skipped page).
    Url(String),
    Stop,
}

/// Why the HTTP walk stopped early.
#[derive(Debug)]
pub enum WalkError<E> {
    /// The sink refused a page.
    Sink(E),
    /// A link leads back to a page already read.
    Loop { url: String },
}

/// Walks a CKAN export from `first`, handing each page to `sink`, which returns where to go
/// next (it also gets the page's URL); a URL seen before is a [`WalkError::Loop`]. `max_pages` bounds the walk.
pub fn http_pages<E>(
    client: &HttpClient,
    first: &str,
    max_pages: u32,
    mut sink: impl FnMut(Page, &str) -> Result<Next, E>,
) -> Result<usize, WalkError<E>> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut url = first.to_string();
    let mut index = 0usize;
    loop {
        let canonical = url::Url::parse(&url)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| url.clone());
        if !seen.insert(canonical) {
            return Err(WalkError::Loop {
                url: remote::shown_url(&url),
            });
        }
        let result = remote::fetch_page(client, &url)
            .map_err(|e| PageFailure::Fetch(e.to_string()))
            .and_then(|bytes| process(&bytes).map_err(PageFailure::Read));
        let page = Page {
            index,
            name: remote::shown_url(&url),
            result,
        };
        index += 1;
        match sink(page, &url).map_err(WalkError::Sink)? {
            Next::Url(next) if index < max_pages as usize => url = next,
            _ => return Ok(index),
        }
    }
}
