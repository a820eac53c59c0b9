//! The download pipeline of one source: fetchers → parsers → the writer, pages kept in order.
//!
//! - keyset paging: one fetcher asks `filter_n_up_id_synthese=<last id + 1>` page after page (it
//!   needs only the last id of a page, read when the page's envelope is checked) until a page has
//!   fewer items than the `limit` the server returned while `total_filtered` says nothing is left,
//!   or an empty page; an empty GeoJSON page (rows without geometry dropped) is skipped over with
//!   the next `offset` from the same cursor while `total_filtered` counts rows past it;
//! - offset paging: `pages = ceil(total_filtered / limit)` from the first page, then `jobs`
//!   fetchers take offsets `1..pages` in parallel (a short page in the middle is an error, unless
//!   it is GeoJSON).
//!
//! `jobs` parser threads turn pages into rows ([`super::page::parse`]) while the next pages
//! download; the writer (the calling thread) commits them strictly in page order. At most
//! `prefetch + jobs` pages are in flight (a private gate), so memory stays flat whatever the
//! export size. With a stage function (`writer_connections = 2`), a thread on a second connection
//! COPYs page `k + 1` into a shared staging table while the writer upserts page `k` from the other.
//! The first failure — a fetch that failed after its retries, ids that do not strictly increase
//! (a repeated or unordered page), a database error — stops everything; the pages before it stay
//! committed. The first page is fetched once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::config::Paging;
use super::page::{self, ParsedPage};
use super::remote::{Api, ExportPage};
use super::SourceError;

/// What to download.
pub struct Plan<'a> {
    pub api: &'a Api,
    pub paging: Paging,
    /// Filters, `orderby`, `limit` and the date window.
    pub params: Vec<(String, String)>,
    /// Resume: the first id to ask for (`filter_n_up_id_synthese`).
    pub start_at: Option<i64>,
    pub jobs: usize,
    pub prefetch: usize,
}

/// Bounds the pages in flight: page `seq` may be fetched once the writer is within `window`.
struct Gate {
    next: Mutex<u64>,
    cv: Condvar,
    stop: AtomicBool,
    window: u64,
}

impl Gate {
    fn wait(&self, seq: u64) -> bool {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        while seq >= *next + self.window && !self.stop.load(Ordering::SeqCst) {
            next = self
                .cv
                .wait_timeout(next, Duration::from_millis(200))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        !self.stop.load(Ordering::SeqCst)
    }

    fn advance(&self, next: u64) {
        *self.next.lock().unwrap_or_else(|p| p.into_inner()) = next;
        self.cv.notify_all();
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.cv.notify_all();
    }
}

type Parsed = (u64, Result<ParsedPage, SourceError>);

fn with_param(
    params: &[(String, String)],
    key: &str,
    value: impl ToString,
) -> Vec<(String, String)> {
    let mut p = params.to_vec();
    p.push((key.to_string(), value.to_string()));
    p
}

/// Offset paging cannot recover the rows of a short page that is not the last one (unless the
/// page is GeoJSON: GeoNature dropped its rows without geometry, the others are all there).
fn short_offset_page(p: u64, pages: u64, page: &ExportPage) -> Option<SourceError> {
    let len = page.items.len() as u64;
    (p + 1 < pages && len < page.limit && !page.geojson).then(|| {
        protocol(
            p,
            format!(
                "{len} items where the limit is {} and {pages} pages were announced: rows would be \
                 missed (keyset paging follows short pages)",
                page.limit
            ),
        )
    })
}

fn protocol(seq: u64, reason: String) -> SourceError {
    SourceError::Protocol {
        what: format!("page {}", seq + 1),
        reason,
    }
}

/// Stages page `seq` on a connection of its own ahead of the writer; `Ok(false)`: not staged.
pub type StageFn<'a> = dyn FnMut(u64, &ParsedPage) -> Result<bool, SourceError> + Send + 'a;

/// Downloads and writes every page; `on_first` sees the first page (totals), `write` gets the
/// parsed pages in order (`staged` says whether `stage` staged them). With `stage`, a thread
/// stages page `k + 1` while the writer writes page `k`. Returns the number of pages written.
pub fn stream(
    plan: &Plan<'_>,
    on_first: impl FnOnce(&ExportPage),
    stage: Option<&mut StageFn<'_>>,
    mut write: impl FnMut(u64, &ParsedPage) -> Result<(), SourceError>,
) -> Result<u64, SourceError> {
    let base = match plan.start_at {
        Some(id) => with_param(&plan.params, "filter_n_up_id_synthese", id),
        None => plan.params.clone(),
    };
    let first = plan
        .api
        .export_page(&with_param(&base, "offset", 0), "page 1")?;
    on_first(&first);
    let pages = match plan.paging {
        Paging::Offset => {
            let count = first.count().ok_or_else(|| {
                protocol(
                    0,
                    "no total_filtered/total: offset paging cannot count pages".into(),
                )
            })?;
            count.div_ceil(first.limit).max(1)
        }
        Paging::Keyset => u64::MAX,
    };
    if plan.paging == Paging::Offset {
        if let Some(e) = short_offset_page(0, pages, &first) {
            return Err(e);
        }
    }
    let gate = Gate {
        next: Mutex::new(0),
        cv: Condvar::new(),
        stop: AtomicBool::new(false),
        window: (plan.prefetch + plan.jobs) as u64,
    };
    let (raw_tx, raw_rx) = sync_channel::<(u64, ExportPage)>(plan.prefetch.max(1));
    let (out_tx, out_rx) = sync_channel::<Parsed>(plan.prefetch.max(1));
    let raw_rx = Mutex::new(raw_rx);
    let next_offset = AtomicU64::new(1);
    // With a stager: it may fill page k's table once page k - 2 (same table) is written.
    let slots = Gate {
        next: Mutex::new(0),
        cv: Condvar::new(),
        stop: AtomicBool::new(false),
        window: 2,
    };
    std::thread::scope(|s| {
        for _ in 0..plan.jobs.max(1) {
            let out_tx = out_tx.clone();
            let raw_rx = &raw_rx;
            s.spawn(move || parser(raw_rx, out_tx));
        }
        let first_tail = Tail::of(&first);
        // Capacity ≥ 1 and nothing else has sent yet: this never blocks.
        let _ = raw_tx.send((0, first));
        match plan.paging {
            Paging::Keyset => {
                let (raw_tx, out_tx, gate) = (raw_tx.clone(), out_tx.clone(), &gate);
                s.spawn(move || {
                    keyset_fetcher(plan, &plan.params, gate, first_tail, raw_tx, out_tx)
                });
            }
            Paging::Offset => {
                for _ in 0..plan.jobs.max(1) {
                    let (raw_tx, out_tx, gate, base) =
                        (raw_tx.clone(), out_tx.clone(), &gate, &base);
                    let next_offset = &next_offset;
                    s.spawn(move || loop {
                        let p = next_offset.fetch_add(1, Ordering::SeqCst);
                        if p >= pages || !gate.wait(p) {
                            break;
                        }
                        let params = with_param(base, "offset", p);
                        match plan.api.export_page(&params, &format!("page {}", p + 1)) {
                            Ok(page) => {
                                if let Some(e) = short_offset_page(p, pages, &page) {
                                    let _ = out_tx.send((p, Err(e)));
                                    break;
                                }
                                if raw_tx.send((p, page)).is_err() {
                                    break;
                                }
                            }
                            Err(e) => {
                                // The writer stops when it reaches this page.
                                let _ = out_tx.send((p, Err(e.into())));
                                break;
                            }
                        }
                    });
                }
            }
        }
        drop(raw_tx);
        drop(out_tx);
        let result = match stage {
            None => ordered(out_rx, |seq, page| {
                write(seq, &page)?;
                gate.advance(seq + 1);
                Ok(())
            }),
            Some(stage) => {
                let (st_tx, st_rx) = sync_channel::<Parsed>(1);
                let slots_ref = &slots;
                s.spawn(move || {
                    let staged = ordered(out_rx, |seq, page| {
                        if !slots_ref.wait(seq) {
                            return Err(stopped());
                        }
                        let ok = stage(seq, &page)?;
                        let mut page = page;
                        page.staged = ok;
                        st_tx.send((seq, Ok(page))).map_err(|_| stopped())
                    });
                    if let Err(e) = staged {
                        let _ = st_tx.send((u64::MAX, Err(e)));
                    }
                });
                let mut written = 0;
                let result = loop {
                    match st_rx.recv() {
                        Ok((seq, Ok(page))) => {
                            if let Err(e) = write(seq, &page) {
                                break Err(e);
                            }
                            written = seq + 1;
                            gate.advance(written);
                            slots.advance(written);
                        }
                        Ok((_, Err(e))) => break Err(e),
                        Err(_) => break Ok(written),
                    }
                };
                slots.stop();
                gate.stop();
                drop(st_rx);
                result
            }
        };
        gate.stop();
        result
    })
}

fn stopped() -> SourceError {
    SourceError::Protocol {
        what: "pipeline".into(),
        reason: "stopped".into(),
    }
}

/// Parses pages until the fetchers are done; once the writer has stopped, it only drains the
/// queue (so no fetcher stays blocked on a full channel).
fn parser(raw_rx: &Mutex<Receiver<(u64, ExportPage)>>, out_tx: SyncSender<Parsed>) {
    let mut writer_gone = false;
    loop {
        let msg = raw_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok((seq, raw)) = msg else { break };
        if writer_gone {
            continue;
        }
        let parsed = page::parse(&raw);
        drop(raw);
        writer_gone = out_tx.send((seq, Ok(parsed))).is_err();
    }
}

/// What the keyset fetcher needs of a page to go on.
#[derive(Debug, Clone, Copy)]
struct Tail {
    len: u64,
    limit: u64,
    last: Option<i64>,
    /// `total_filtered`: the rows matching the filters, cursor included.
    remaining: Option<u64>,
    geojson: bool,
}

/// Where the keyset fetcher goes after a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Done,
    /// From the page's last id + 1, `offset=0`.
    After,
    /// The same cursor, the next `offset`: an empty GeoJSON page (every row of its window had a
    /// null geometry) while `total_filtered` says rows remain past that window.
    Skip,
}

impl Tail {
    fn of(p: &ExportPage) -> Tail {
        Tail {
            len: p.items.len() as u64,
            limit: p.limit,
            last: p.last_id,
            remaining: p.total_filtered,
            geojson: p.geojson,
        }
    }

    /// What follows this page, fetched at `offset` from its cursor. The export ends with an empty
    /// page, or one shorter than the `limit` while `total_filtered` says nothing is left; a
    /// short page in the middle is followed up, and an empty GeoJSON page is skipped over while
    /// `total_filtered` counts rows past its window.
    fn next(&self, offset: u64) -> Next {
        let window_end = (offset + 1).saturating_mul(self.limit);
        if self.len == 0 {
            if self.geojson && self.remaining.is_some_and(|r| r > window_end) {
                return Next::Skip;
            }
            return Next::Done;
        }
        if self.len < self.limit && self.remaining.is_none_or(|r| r <= self.len) {
            return Next::Done;
        }
        Next::After
    }
}

fn keyset_fetcher(
    plan: &Plan<'_>,
    base: &[(String, String)],
    gate: &Gate,
    mut tail: Tail,
    raw_tx: SyncSender<(u64, ExportPage)>,
    out_tx: SyncSender<Parsed>,
) {
    let mut seq = 0u64;
    // The cursor (`filter_n_up_id_synthese`) and `offset` of the page just fetched.
    let (mut cursor, mut offset) = (plan.start_at, 0u64);
    // The largest id received so far.
    let mut last_seen: Option<i64> = plan.start_at.map(|c| c - 1);
    loop {
        match tail.next(offset) {
            Next::Done => return,
            Next::Skip => offset += 1,
            Next::After => {
                let Some(last_id) = tail.last else {
                    let _ = out_tx.send((
                        seq,
                        Err(protocol(
                            seq,
                            "its last item has no integer id_synthese: keyset paging cannot go on"
                                .into(),
                        )),
                    ));
                    return;
                };
                (cursor, offset) = (Some(last_id + 1), 0);
                last_seen = Some(last_id);
            }
        }
        seq += 1;
        if !gate.wait(seq) {
            return;
        }
        let params = match cursor {
            Some(c) => with_param(base, "filter_n_up_id_synthese", c),
            None => base.to_vec(),
        };
        let params = with_param(&params, "offset", offset);
        match plan.api.export_page(&params, &format!("page {}", seq + 1)) {
            Ok(page) => {
                if let (Some(l), Some(last_id)) = (page.last_id, last_seen) {
                    if l <= last_id {
                        let _ = out_tx.send((
                            seq,
                            Err(protocol(
                                seq,
                                format!(
                                    "asked for ids from {} but the page ends at id {l} \
                                     (a repeated page, or a server ignoring filter_n_up_id_synthese)",
                                    last_id + 1
                                ),
                            )),
                        ));
                        return;
                    }
                }
                tail = Tail::of(&page);
                if raw_tx.send((seq, page)).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = out_tx.send((seq, Err(e.into())));
                return;
            }
        }
    }
}

/// Takes parsed pages as they come, checks their order and hands them on in page order.
fn ordered(
    out_rx: Receiver<Parsed>,
    mut next_page: impl FnMut(u64, ParsedPage) -> Result<(), SourceError>,
) -> Result<u64, SourceError> {
    let mut buffer: BTreeMap<u64, Result<ParsedPage, SourceError>> = BTreeMap::new();
    let mut next = 0u64;
    let mut last_id: Option<i64> = None;
    let (mut writing, mut waiting) = (Duration::ZERO, Duration::ZERO);
    loop {
        while let Some(r) = buffer.remove(&next) {
            let page = r?;
            if let Some(d) = &page.disorder {
                return Err(protocol(next, d.clone()));
            }
            if let (Some(prev), Some(first)) = (last_id, page.first_id) {
                if first <= prev {
                    return Err(protocol(
                        next,
                        format!(
                            "starts at id_synthese {first}, not after {prev}: a repeated or unordered page"
                        ),
                    ));
                }
            }
            if page.last_id.is_some() {
                last_id = page.last_id;
            }
            let t = Instant::now();
            next_page(next, page)?;
            writing += t.elapsed();
            next += 1;
        }
        let t = Instant::now();
        let received = out_rx.recv();
        waiting += t.elapsed();
        match received {
            Ok((seq, r)) => {
                buffer.insert(seq, r);
            }
            Err(_) => {
                // Every sender is gone: what is left waits behind a page that never came.
                let pending = !buffer.is_empty();
                if let Some(e) = buffer.into_values().find_map(|r| r.err()) {
                    return Err(e);
                }
                if pending {
                    return Err(protocol(next, "never arrived".into()));
                }
                tracing::debug!(pages = next, handing_on = ?writing, waiting = ?waiting,
                    "pipeline: time handing pages on vs waiting for them");
                return Ok(next);
            }
        }
    }
}
