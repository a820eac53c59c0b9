//! The fake's metadata export (`/api/exports/api/<metadata_export_id>`, the export the kinds
//! `synthese_with_metadata_separated` and `metadata_only` read): one item per acquisition
//! framework, its datasets nested in `datasets`. Paging like the data export (`limit` capped,
//! `offset` a 0-based page index). Generated from the seed: framework `k` has `k % 4` datasets
//! (none for `k % 4 == 0`; framework 1 has `datasets: null`); [`Settings::metadata_version`]
//! renames every third framework and the first dataset of the others, as an edit in GeoNature would.

use super::rows::{splitmix, uuid_from};
use super::Settings;

/// The UUID of framework `k`.
pub fn framework_uuid(s: &Settings, k: u64) -> String {
    uuid_from(splitmix(s.seed ^ 0xfa), splitmix(k << 8 | 0xfa))
}

/// The UUID of dataset `j` of framework `k`.
pub fn dataset_uuid(s: &Settings, k: u64, j: u64) -> String {
    uuid_from(splitmix(s.seed ^ 0xd5), splitmix((k * 16 + j) << 8 | 0xd5))
}

/// How many datasets framework `k` has.
pub fn datasets_of(k: u64) -> u64 {
    if k == 1 {
        0
    } else {
        k % 4
    }
}

fn framework(s: &Settings, k: u64) -> String {
    let v = s.metadata_version;
    let renamed = |cond: bool| {
        if cond && v > 0 {
            format!(" (v{v})")
        } else {
            String::new()
        }
    };
    let datasets = if k == 1 {
        "null".to_string()
    } else {
        let list: Vec<String> = (0..datasets_of(k))
            .map(|j| {
                format!(
                    "{{\"id_dataset\":{id},\"uuid\":\"{u}\",\"dataset_name\":\"Jeu de données {k}.{j}{r}\",\
                     \"dataset_shortname\":\"JDD {k}.{j}\",\"keywords\":[\"faune\",\"suivi\"],\
                     \"active\":true,\"validable\":true,\"cor_dataset_actor\":[{{\"role\":\"Producteur du jeu de données\",\
                     \"organism\":\"LPO\"}}],\"meta_create_date\":\"2022-01-{d:02} 10:00:00\"}}",
                    id = k * 16 + j,
                    u = dataset_uuid(s, k, j),
                    r = renamed(j == 0 && k % 3 != 0),
                    d = 1 + j,
                )
            })
            .collect();
        format!("[{}]", list.join(","))
    };
    format!(
        "{{\"id_acquisition_framework\":{k},\"uuid\":\"{u}\",\"acquisition_framework_name\":\"Cadre d'acquisition {k}{r}\",\
         \"acquisition_framework_desc\":\"Suivi des oiseaux nicheurs, cadre n° {k}\",\"territorial_level\":\"Régional\",\
         \"acquisition_framework_start_date\":\"2021-0{m}-01\",\"is_parent\":false,\"datasets\":{datasets}}}",
        u = framework_uuid(s, k),
        r = renamed(k % 3 == 0),
        m = 1 + k % 9,
    )
}

/// The body of page `offset` (0-based) with `limit` items.
pub fn page(s: &Settings, limit: u64, offset: u64) -> String {
    let total = s.metadata_frameworks;
    let from = (offset * limit).min(total);
    let to = (from + limit).min(total);
    let items: Vec<String> = (from..to).map(|k| framework(s, k)).collect();
    format!(
        "{{\"total\":{total},\"total_filtered\":{total},\"page\":{offset},\"limit\":{limit},\"items\":[{}]}}",
        items.join(",")
    )
}
