//! The separate metadata export of the kinds `synthese_with_metadata_separated` and
//! `metadata_only` (docs/syncs/gn2pg.md §7): every item is an acquisition framework holding its
//! datasets in `datasets`. The framework is stored without `datasets` (level `acquisition
//! framework`), each dataset with `ca_uuid` set to its framework's UUID (level `dataset`), as
//! gn2pg-client 1.10.1 stores them. The whole export is read again at every run, full or update,
//! before any data row is written, so the triggers on `data_json` find the datasets in place.
//!
//! Paging is gn2pg-client's: `limit` and a 0-based `offset` page index, the page count taken from
//! the first page's `total_filtered` (else `total`) and `limit`. Each page is one transaction
//! ([`Writer::write_page`]): frameworks first, then datasets, counters with them. A framework or a
//! dataset without a valid UUID goes to `error_log` (controler `metadata`).

use serde_json::value::RawValue;

use super::page::{uuid_of, write_object, BadRow, Level, MetaRow, ParsedPage, RawObject};
use super::remote::{Api, ExportPage};
use super::store::{PageCounts, Writer};
use super::SourceError;
use crate::syncs::protocol::Work;

/// Splits a metadata export page into `metadata_json` rows.
pub fn parse(page: &ExportPage) -> ParsedPage {
    let mut out = ParsedPage {
        items: page.items.len(),
        ..ParsedPage::default()
    };
    for i in 0..page.items.len() {
        let text = page.item(i);
        let mut framework: RawObject<'_> = match serde_json::from_str(text) {
            Ok(o) => o,
            Err(e) => {
                out.bad.push(bad(
                    text,
                    format!("metadata item is not a JSON object: {e}"),
                ));
                continue;
            }
        };
        let datasets = framework.remove("datasets");
        let framework_text = write_object(&framework, &[]);
        let ca_raw = framework.get("uuid").copied();
        let ca = match uuid_of(ca_raw) {
            Ok(Some(u)) => u,
            Ok(None) | Err(_) => {
                out.bad.push(bad(
                    &framework_text,
                    "acquisition framework without a valid uuid".into(),
                ));
                continue;
            }
        };
        out.metas.push(MetaRow {
            uuid: ca,
            level: Level::Framework,
            item: framework_text,
        });
        let ca_text = ca_raw.map(|r| r.get()).unwrap_or("null");
        let list: Vec<&RawValue> = datasets
            .and_then(|d| serde_json::from_str::<Option<Vec<&RawValue>>>(d.get()).ok())
            .flatten()
            .unwrap_or_default();
        for raw in list {
            let Ok(dataset) = serde_json::from_str::<RawObject<'_>>(raw.get()) else {
                out.bad.push(bad(
                    raw.get(),
                    format!("a dataset of framework {ca_text} is not a JSON object"),
                ));
                continue;
            };
            let item = write_object(&dataset, &[("ca_uuid", ca_text)]);
            match uuid_of(dataset.get("uuid").copied()) {
                Ok(Some(u)) => out.metas.push(MetaRow {
                    uuid: u,
                    level: Level::Dataset,
                    item,
                }),
                Ok(None) | Err(_) => out.bad.push(bad(
                    &item,
                    format!("a dataset of framework {ca_text} has no valid uuid"),
                )),
            }
        }
    }
    out
}

fn bad(item: &str, error: String) -> BadRow {
    BadRow {
        id: None,
        uuid: None,
        item: item.to_string(),
        error,
        controler: "metadata",
    }
}

/// Reads the whole metadata export into `metadata_json`, one transaction per page; returns what
/// it stored (`items` counts frameworks, as gn2pg-client's `api_count_items`).
pub fn refresh(
    api: &Api,
    writer: &mut Writer,
    page_size: u32,
    w: &mut Work<'_>,
) -> Result<PageCounts, SourceError> {
    let mut totals = PageCounts::default();
    let mut limit = u64::from(page_size);
    let mut pages = 1u64;
    let mut offset = 0u64;
    while offset < pages {
        w.deadline.check()?;
        let page = api.metadata_page(limit, offset)?;
        if offset == 0 {
            limit = page.limit;
            pages = page.count().unwrap_or(0).div_ceil(limit);
        }
        if page.items.is_empty() {
            break;
        }
        let parsed = parse(&page);
        let counts = writer.write_page(&parsed, None, None)?;
        totals.add(&counts);
        w.counts.http_retries = api.retries();
        offset += 1;
    }
    Ok(totals)
}
