//! `visionature count`: per site × taxo group, the sightings stored locally beside the number the
//! site shows on its statistics page (docs/syncs/visionature.md §12), as Client-API-VN 2.x
//! `--count` printed them.
//!
//! - Remote: the public page `{url}index.php?m_id=23` ([`STATS_PAGE`]); each taxo group is a run of
//!   five cells, the first holding an element whose `title` is the group's name, the fifth its
//!   number of sightings (thousands separated by spaces). Groups are matched by name against the
//!   API's `taxo_groups` ([`parse_stats`]).
//! - Local: `observations_json` rows of the site by `item.species.taxonomy`.
//! - A group differs when `|local − remote| > tolerance × remote` (`count_tolerance`); groups
//!   not downloaded (`access_mode = none`, `filter.taxo_exclude`) or absent from the page are
//!   shown but not judged ([`compare`]).
//!
//! What can fail: the page cannot be read or shows none of the downloaded groups (its layout
//! changed): [`CountError`].

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// The statistics page of a site, relative to its URL.
pub const STATS_PAGE: &str = "index.php?m_id=23";

/// How a group's two counts compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the tolerance.
    Ok,
    /// Fewer sightings stored than the site holds, beyond the tolerance.
    Below,
    /// More sightings stored than the site holds, beyond the tolerance.
    Above,
    /// Not downloaded (no access, or excluded): not judged.
    NotDownloaded,
    /// Not on the statistics page: not judged.
    NotOnPage,
}

impl Verdict {
    /// The word printed and stored.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Below => "below",
            Verdict::Above => "above",
            Verdict::NotDownloaded => "not downloaded",
            Verdict::NotOnPage => "not on page",
        }
    }
}

/// One taxo group of one site.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCount {
    pub id: i32,
    pub name: String,
    pub local: u64,
    pub remote: Option<u64>,
    pub verdict: Verdict,
}

/// A taxo group as the API lists it.
#[derive(Debug, Clone)]
pub struct TaxoGroup {
    pub id: i32,
    pub name: String,
    /// Downloaded by transfer (readable, not excluded).
    pub downloaded: bool,
}

/// Why a site could not be counted.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    #[error("statistics page {url}: none of the downloaded taxo groups ({names}) appears with a count: has its layout changed?")]
    Layout { url: String, names: String },
}

/// The taxo groups of a `taxo_groups` answer; `excluded` are `filter.taxo_exclude` constants.
pub fn taxo_groups(data: &[Value], excluded: &[String]) -> Vec<TaxoGroup> {
    data.iter()
        .filter_map(|g| {
            let id = match g.get("id")? {
                Value::Number(n) => n.as_i64()?,
                Value::String(s) => s.trim().parse().ok()?,
                _ => return None,
            };
            let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("");
            Some(TaxoGroup {
                id: i32::try_from(id).ok()?,
                name: s("name").to_string(),
                downloaded: s("access_mode") != "none"
                    && !excluded.iter().any(|x| x == s("name_constant")),
            })
        })
        .collect()
}

/// Decodes the few HTML entities a name or a number may hold.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "nbsp" => Some('\u{a0}'),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of an HTML fragment (tags removed, entities decoded).
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

/// A count as the page writes it: digits with spaces (plain, no-break, narrow), dots or
/// apostrophes between thousands.
fn count_of(text: &str) -> Option<u64> {
    let digits: String = text
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '\u{a0}' | '\u{202f}' | '.' | '\'' | ',')))
        .collect();
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The cell (`<td…>…</td>`) starting at byte `at` of `html`: its inner HTML.
fn cell_at(html: &str, at: usize) -> Option<&str> {
    let open_end = at + html[at..].find('>')? + 1;
    let close = open_end + html[open_end..].find("</td")?;
    Some(&html[open_end..close])
}

/// The number of sightings of each group of `names` on the statistics page: the fifth cell of
/// the run that starts with the cell holding `title="<name>"`.
pub fn parse_stats(html: &str, names: &[(i32, String)]) -> HashMap<i32, u64> {
    let lower = html.to_ascii_lowercase();
    // Byte offsets of every cell opening.
    let cells: Vec<usize> = lower
        .match_indices("<td")
        .map(|(i, _)| i)
        .filter(|&i| {
            lower[i + 3..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c.is_whitespace())
        })
        .collect();
    let mut out = HashMap::new();
    let mut search = 0;
    while let Some(found) = lower[search..].find("title=") {
        let at = search + found;
        search = at + 6;
        let quote = html[search..].chars().next();
        let Some(q @ ('"' | '\'')) = quote else {
            continue;
        };
        let Some(len) = html[search + 1..].find(q) else {
            break;
        };
        let title = unescape(&html[search + 1..search + 1 + len]);
        let title = title.trim();
        let Some((id, _)) = names.iter().find(|(_, n)| n.trim() == title) else {
            continue;
        };
        // The cell holding the title, then the fourth cell after it.
        let own = cells.partition_point(|&c| c < at);
        let Some(&fifth) = (own + 3 < cells.len()).then(|| &cells[own + 3]) else {
            continue;
        };
        if let Some(n) = cell_at(html, fifth)
            .map(strip_tags)
            .and_then(|t| count_of(&t))
        {
            out.entry(*id).or_insert(n);
        }
    }
    out
}

/// The groups of a site, judged: `local` and `remote` counts by group id.
pub fn compare(
    groups: &[TaxoGroup],
    local: &HashMap<i32, u64>,
    remote: &HashMap<i32, u64>,
    tolerance: f64,
) -> Vec<GroupCount> {
    let mut rows: BTreeMap<i32, GroupCount> = BTreeMap::new();
    for g in groups {
        let l = local.get(&g.id).copied().unwrap_or(0);
        let r = remote.get(&g.id).copied();
        let verdict = match r {
            _ if !g.downloaded => Verdict::NotDownloaded,
            None => Verdict::NotOnPage,
            Some(r) => {
                let gap = l.abs_diff(r) as f64;
                if gap <= tolerance * r as f64 {
                    Verdict::Ok
                } else if l < r {
                    Verdict::Below
                } else {
                    Verdict::Above
                }
            }
        };
        rows.insert(
            g.id,
            GroupCount {
                id: g.id,
                name: g.name.clone(),
                local: l,
                remote: r,
                verdict,
            },
        );
    }
    // Stored sightings of groups the API no longer lists.
    for (&id, &l) in local {
        rows.entry(id).or_insert(GroupCount {
            id,
            name: String::new(),
            local: l,
            remote: None,
            verdict: Verdict::NotOnPage,
        });
    }
    rows.into_values().collect()
}

/// The per-group table, in the psql layout Client-API-VN 2.x printed (its four columns first).
pub fn table(site: &str, rows: &[GroupCount]) -> String {
    let header = [
        "Site",
        "TaxoName",
        "Remote count",
        "Local count",
        "Id",
        "Status",
    ];
    let body: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                site.to_string(),
                r.name.clone(),
                r.remote
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "-".into()),
                r.local.to_string(),
                r.id.to_string(),
                r.verdict.word().to_string(),
            ]
        })
        .collect();
    let width = |i: usize| {
        body.iter()
            .map(|r| r[i].chars().count())
            .chain(std::iter::once(header[i].chars().count()))
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let numeric = [false, false, true, true, true, false];
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if numeric[i] {
                    format!(" {c:>w$} ", w = widths[i])
                } else {
                    format!(" {c:<w$} ", w = widths[i])
                }
            })
            .collect();
        format!("|{}|\n", parts.join("|"))
    };
    let rule = format!(
        "+{}+\n",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    let mut out = rule.clone();
    out.push_str(&line(&header.map(String::from)));
    out.push_str(&rule);
    for r in &body {
        out.push_str(&line(r));
    }
    out.push_str(&rule);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<(i32, String)> {
        vec![(1, "Oiseaux".into()), (2, "Libellules & co".into())]
    }

    #[test]
    fn the_fifth_cell_of_each_named_run_is_its_count() {
        let html = "<table><tr><td>x</td>\
            <td><img title=\"Oiseaux\"/></td><td>12</td><td>3 001</td><td>&nbsp;</td><td><b>1 234 567</b></td>\
            <td class=\"g\"><img title='Libellules &amp; co'></td><td>1</td><td>2</td><td>3</td><td>8&#160;765</td>\
            <td><img title=\"Papillons\"/></td><td>1</td><td>2</td><td>3</td><td>99</td>\
            <td>Total</td></tr></table>";
        let got = parse_stats(html, &names());
        assert_eq!(got.get(&1), Some(&1_234_567));
        assert_eq!(got.get(&2), Some(&8_765));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn another_layout_yields_nothing() {
        assert!(parse_stats("<div title=\"Oiseaux\">12</div>", &names()).is_empty());
        assert!(parse_stats(
            "<td><img title=\"Oiseaux\"/></td><td>1</td><td>2</td><td>3</td><td>n/a</td>",
            &names()
        )
        .is_empty());
    }

    #[test]
    fn groups_beyond_the_tolerance_are_below_or_above() {
        let g = |id, downloaded| TaxoGroup {
            id,
            name: format!("g{id}"),
            downloaded,
        };
        let groups = [g(1, true), g(2, true), g(3, true), g(4, false), g(5, true)];
        let local = HashMap::from([(1, 990), (2, 900), (3, 1100), (4, 0), (9, 3)]);
        let remote = HashMap::from([(1, 1000), (2, 1000), (3, 1000), (4, 50)]);
        let v: Vec<(i32, Verdict)> = compare(&groups, &local, &remote, 0.01)
            .iter()
            .map(|r| (r.id, r.verdict))
            .collect();
        assert_eq!(
            v,
            [
                (1, Verdict::Ok),
                (2, Verdict::Below),
                (3, Verdict::Above),
                (4, Verdict::NotDownloaded),
                (5, Verdict::NotOnPage),
                (9, Verdict::NotOnPage)
            ]
        );
        // Zero tolerance: any difference counts.
        let rows = compare(&groups[..1], &local, &remote, 0.0);
        assert_eq!(rows[0].verdict, Verdict::Below);
    }

    #[test]
    fn the_table_has_the_clients_columns_first() {
        let t = table(
            "ff",
            &[GroupCount {
                id: 1,
                name: "Oiseaux".into(),
                local: 5,
                remote: Some(1234),
                verdict: Verdict::Below,
            }],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[1].starts_with("| Site | TaxoName | Remote count | Local count |"));
        assert!(lines[3].contains("|         1234 |"), "{t}");
        assert!(lines[3].ends_with("| below  |"), "{t}");
    }
}
