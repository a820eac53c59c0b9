//! The records of the fake Biolovision site, shaped as the real API writes them (every shape the
//! fake serves is built here, so the rest of the fake only chooses what to send):
//!
//! - every scalar is a JSON string: ids, counts, flags, precision, and the coordinates of
//!   sightings (`observers[].coord_lat/coord_lon`), of places (`lat/lon`, `coord_lat/coord_lon`)
//!   and of forms (`lat/lon`);
//! - dates are objects `{"@notime", "@offset", "@timestamp", "#text"}`, `#text` localised in
//!   French in one of the wordings the sites used over the years, plus `"@ISO8601"` in the long
//!   form only (reference lists and `short_version=0` answers);
//! - in the short form (`short_version=1`) `insert_date`/`update_date` are epoch strings and
//!   `medias[].insert_date` is `"YYYY-MM-DD HH:MM:SS"`; in the long form all three are date
//!   objects;
//! - a long place carries `coord_lat/coord_lon/county/insee/municipality/altitude`, a short one
//!   `lat/lon/id_universal/loc_precision`;
//! - a sighting's `id_universal` names the site it was entered on (`65_…` the NaturaList/data
//!   portal, `30_…` a neighbouring portal), never the site queried;
//! - one observer's `last_inserted_data` is the epoch `"32400"` (1970-01-01 10:00 Paris);
//! - the site's statistics page (`index.php?m_id=23`) lists every taxo group with its number of
//!   sightings.

use chrono::{Datelike, Offset, TimeZone, Timelike};
use serde_json::{json, Value};

use super::{Sighting, TZ};

const DAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `#text` of a date: `samedi 15 septembre 2018[, 19:45:01]` (current wording) or
/// `Samedi, 15 Septembre 2018[ 19:45]` (older sites), by `style`.
fn text(ts: i64, with_time: bool, style: u32) -> String {
    let t = TZ.timestamp_opt(ts, 0).unwrap();
    let day = DAYS[t.weekday().num_days_from_monday() as usize];
    let month = MONTHS[t.month0() as usize];
    let cap = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    match (style % 2, with_time) {
        (0, false) => format!("{day} {} {month} {}", t.day(), t.year()),
        (0, true) => format!(
            "{day} {} {month} {}, {:02}:{:02}:{:02}",
            t.day(),
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        (_, false) => format!("{}, {} {} {}", cap(day), t.day(), cap(month), t.year()),
        (_, true) => format!(
            "{}, {} {} {} {:02}:{:02}",
            cap(day),
            t.day(),
            cap(month),
            t.year(),
            t.hour(),
            t.minute()
        ),
    }
}

/// A date object. `notime`: a day without time (`@timestamp` is then local midnight).
pub fn date(ts: i64, notime: bool, long: bool, style: u32) -> Value {
    let t = TZ.timestamp_opt(ts, 0).unwrap();
    let ts = if notime {
        super::local_midnight(t.date_naive())
    } else {
        ts
    };
    let t = TZ.timestamp_opt(ts, 0).unwrap();
    let offset = t.offset().fix().local_minus_utc();
    let mut d = json!({
        "@notime": if notime { "1" } else { "0" },
        "@offset": offset.to_string(),
        "@timestamp": ts.to_string(),
        "#text": text(ts, !notime, style),
    });
    if long {
        d["@ISO8601"] = json!(t.to_rfc3339());
    }
    d
}

/// A coordinate as the API writes it.
pub fn coord(v: f64) -> String {
    v.to_string()
}

/// The site a sighting was entered on (its `id_universal` prefix).
pub fn origin(id: u32) -> u32 {
    if id % 5 == 0 {
        30
    } else {
        65
    }
}

/// One sighting, `update` its `update_date` (none: never modified).
pub fn sighting(s: &Sighting, update: Option<i64>, long: bool) -> Value {
    let style = s.id % 3;
    let stamp = |ts: i64| {
        if long {
            date(ts, false, true, style)
        } else {
            json!(ts.to_string())
        }
    };
    let mut obs = json!({
        "@id": format!("{}", 30 + s.id % 4), "@uid": format!("{}", 10 + s.id % 7), "traid": "33",
        "id_sighting": s.id.to_string(),
        "id_universal": format!("{}_{}", origin(s.id), 70_000_000 + s.id),
        "coord_lat": coord(s.lat), "coord_lon": coord(s.lon), "altitude": format!("{}", 100 + s.id % 900),
        "precision": if s.id % 4 == 0 { "place" } else { "precise" },
        "atlas_grid_name": "E080N640", "count": format!("{}", 1 + s.id % 5),
        "estimation_code": if s.id % 2 == 0 { "EXACT_VALUE" } else { "MINIMUM" }, "flight_number": "1",
        "insert_date": stamp(s.entry),
        "timing": date(s.date, false, long, style),
        "hidden": "0", "admin_hidden": "0", "anonymous": "0", "has_death": "0", "second_hand": "0",
        "name": "Jeanne Observatrice", "source": if s.id % 3 == 0 { "MOBILE" } else { "WEB" },
        "details": [{"count": "1", "sex": {"@id": "U", "#text": "sexe inconnu"}, "age": {"@id": "U", "#text": "âge inconnu"}}],
        "comment": format!("obs {} — «é»", s.id),
    });
    if let Some(u) = update {
        obs["update_date"] = stamp(u);
    }
    if s.id % 10 == 0 {
        let at = TZ.timestamp_opt(s.entry, 0).unwrap();
        obs["medias"] = json!([{
            "@id": format!("{}", 40_000 + s.id),
            "filename": format!("3_{}-{}.jpg", s.entry, s.id),
            "path": "https://cdnmedia3.biolovision.net/data.biolovision.net/2026-01",
            "type": "PHOTO", "media_is_hidden": "0", "metadata": "",
            "insert_date": if long { date(s.entry, false, true, style) } else { json!(at.format("%Y-%m-%d %H:%M:%S").to_string()) },
        }]);
    }
    let place_id = 500 + s.id % 11;
    let place = if long {
        json!({"@id": place_id.to_string(), "name": "Lieu-dit", "place_type": "place",
               "coord_lat": coord(s.lat), "coord_lon": coord(s.lon), "altitude": "215",
               "county": "07", "country": "", "insee": format!("070{:02}", s.id % 40),
               "municipality": "Privas", "loc_precision": "0"})
    } else {
        json!({"@id": place_id.to_string(), "id_universal": format!("65_{place_id}"),
               "lat": coord(s.lat), "lon": coord(s.lon), "loc_precision": if s.id % 7 == 0 { "750" } else { "0" },
               "name": "Lieu-dit", "place_type": "place"})
    };
    json!({
        "species": {"@id": format!("{}", 100 + s.id % 13), "taxonomy": s.group.to_string(),
                    "name": "Espèce", "latin_name": "Genus species", "rarity": "common", "sys_order": "262"},
        "date": date(s.date, true, long, style),
        "place": place,
        "observers": [obs],
    })
}

/// A form holding `sightings` (its coordinates as strings).
pub fn form(id: u32, lat: f64, lon: f64, sightings: Vec<Value>) -> Value {
    json!({
        "@id": id.to_string(), "id_form_universal": format!("65_{id}"),
        "time_start": "08:00:00", "time_stop": "09:30:00", "full_form": "1", "version": "0",
        "lat": coord(lat), "lon": coord(lon), "comment": "",
        "sightings": sightings,
    })
}

/// A diff entry.
pub fn diff_entry(id: u32, kind: &str) -> Value {
    json!({"id_sighting": id.to_string(), "id_universal": format!("{}_{}", origin(id), 70_000_000 + id), "modification_type": kind})
}

/// The items of a reference controller (`groups`: the site's taxo groups).
pub fn reference(
    controller: &str,
    groups: &[(u32, &'static str)],
    id_commune: Option<u32>,
    id_taxo_group: Option<u32>,
) -> Vec<Value> {
    match controller {
        "taxo_groups" => groups
            .iter()
            .map(|(id, name)| json!({"id": id.to_string(), "name": name, "latin_name": "Taxa", "name_constant": format!("TAXO_GROUP_{id}"), "access_mode": "full"}))
            .chain(std::iter::once(json!({"id": "99", "name": "Hidden", "latin_name": "Taxa", "name_constant": "TAXO_GROUP_99", "access_mode": "none"})))
            .collect(),
        "territorial_units" => vec![json!({"id": "7", "id_country": "FR", "short_name": "07", "name": "Ardèche"})],
        "local_admin_units" => (1..=3u32)
            .map(|i| json!({"id": i.to_string(), "id_canton": "07", "name": format!("Commune {i}"), "insee": format!("0700{i}"),
                            "coord_lat": coord(44.7 + f64::from(i) / 10.0 + 0.000_123_4), "coord_lon": coord(4.391_882_001_578_09)}))
            .collect(),
        "places" => {
            let communes: Vec<u32> = match id_commune {
                Some(c) => vec![c],
                None => (1..=3).collect(),
            };
            communes
                .iter()
                .flat_map(|c| {
                    (0..2u32).map(move |k| {
                        json!({"id": (500 + c * 10 + k).to_string(), "id_commune": c.to_string(), "id_region": "1",
                               "name": "Lieu-dit", "coord_lat": coord(44.887_677_239_404), "coord_lon": coord(4.5 + f64::from(k) / 100.0 + 0.000_372_035),
                               "altitude": "215", "loc_precision": "0", "place_type": "place", "is_private": "0", "visible": "1"})
                    })
                })
                .collect()
        }
        "species" => {
            let g = id_taxo_group.unwrap_or(1);
            (0..5u32)
                .map(|k| json!({"id": (100 + g * 10 + k).to_string(), "id_taxo_group": g.to_string(), "french_name": format!("Espèce {k}"),
                                "latin_name": "Genus species", "rarity": "common", "sys_order": format!("{}", 200 + k), "category": "C", "is_used": "1"}))
                .collect()
        }
        "observers" => (1..=4u32)
            .map(|k| {
                // The first observer last entered data at epoch 32400 (an account that never did).
                let last = if k == 1 { 32_400 } else { 1_760_000_000 + i64::from(k) * 86_400 };
                json!({"id": k.to_string(), "id_universal": (1000 + k).to_string(), "name": "Obs", "surname": format!("N{k}"),
                       "anonymous": "0", "id_entity": "1", "lat": coord(44.9), "lon": coord(4.4),
                       "last_inserted_data": date(last, false, true, 0),
                       "last_login": date(1_760_000_000, false, true, 1)})
            })
            .collect(),
        "entities" => vec![json!({"id": "1", "short_name": "LPO", "full_name_french": "Ligue"})],
        "families" => vec![json!({"id": "1", "generic": "0", "latin_name": "Anatidae", "name": "Canards"})],
        "validations" => vec![json!({"id": "1", "committee": "CHN", "name": "Homologation", "date_start": "0", "date_stop": "0"})],
        "fields" => vec![json!({"id": "1", "default": "0", "empty_choice": "1", "mandatory": "0", "name": "ATLAS_CODE"})],
        _ => Vec::new(),
    }
}

/// The site's statistics page (`index.php?m_id=23`): among other tables, one whose row holds five
/// cells per taxo group — the group's icon (`title` = its name), three other figures, and its
/// number of sightings with spaces between thousands (`12 345`).
pub fn stats_page(groups: &[(String, u64)]) -> String {
    let thousands = |n: u64| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    };
    let mut cells = String::from("<td>Groupe</td>");
    for (i, (name, n)) in groups.iter().enumerate() {
        cells.push_str(&format!(
            "<td><img src=\"/images/taxo_{i}.png\" title=\"{}\" alt=\"\"/></td><td>{}</td><td>{}</td><td>&nbsp;</td><td><b>{}</b></td>",
            name.replace('&', "&amp;").replace('"', "&quot;"),
            10 + i,
            thousands(n / 3 + 1),
            thousands(*n)
        ));
    }
    cells.push_str("<td>Total</td>");
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Statistiques</title></head><body>\
<table><tr><td>menu</td></tr></table><table><tr><td>bandeau</td></tr></table>\
<table><tr><td>Statistiques générales</td></tr><tr><td>a</td><td>b</td><td>c</td><td>\
<h1>Données</h1><p>x</p><p>y</p><p>z</p><p>w</p><div><table><tr>{cells}</tr></table></div>\
</td></tr></table></body></html>"
    )
}
