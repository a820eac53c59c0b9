//! `misc/georisques_ids.json` (docs/formats.md §7): the `georisques_id` column of
//! `aps_all.csv` as Python's `json.dumps` writes a list of strings — row order, duplicates kept,
//! `", "` separators, ASCII only (`\uXXXX` escapes), no trailing newline. Cannot fail.

use std::fmt::Write;

/// The JSON array of ids.
pub fn to_json<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = String::from("[");
    for (i, id) in ids.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_string(&mut out, id);
    }
    out.push(']');
    out.into_bytes()
}

/// One JSON string with `ensure_ascii=True` escaping.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
