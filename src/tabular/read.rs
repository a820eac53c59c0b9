//! CSV reading as pandas `read_csv(dtype=str)` does it, without its failure modes.
//!
//! Every cell is text, except that a cell whose whole content is one of pandas' 18 NA tokens
//! (empty, `NA`, `NULL`, `nan`, `#N/A`…; not `None`) is *missing*. Short rows are padded with
//! missing values. Blank lines are skipped. A leading UTF-8 BOM is ignored. What pandas would
//! crash on is reported instead: a row with more fields than the header is a [`MalformedRow`]
//! (skipped, with its line number); a file that is not UTF-8 is a [`TabularError::Encoding`]
//! naming the file and line; a required column that is absent is [`TabularError::MissingColumn`].
//!
//! Input is bounded: a line longer than [`MAX_LINE_BYTES`], a record (which quoted line ends can
//! spread over lines) longer than [`MAX_RECORD_BYTES`] or a header of more than [`MAX_COLUMNS`]
//! columns makes the whole file unusable — the extractions' lines are a few hundred bytes, so such
//! a file is not one of them. Messages never quote more than [`crate::text::clip`] keeps.

use csv::StringRecord;

/// Longest line accepted (between `\n` or `\r`).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Longest record accepted (quoted line ends included).
pub const MAX_RECORD_BYTES: usize = 4 << 20;
/// Most columns accepted in a header.
pub const MAX_COLUMNS: usize = 4096;

/// Errors that make a whole file unusable.
#[derive(Debug, thiserror::Error)]
pub enum TabularError {
    #[error("{file}: not valid UTF-8 at line {line} (byte {byte}); the S3IC/Géorisques extractions are UTF-8 — convert the file, e.g. `iconv -f WINDOWS-1252 -t UTF-8`")]
    Encoding {
        file: String,
        line: usize,
        byte: usize,
    },
    #[error("{file}: missing column {column:?} (header has: {found})")]
    MissingColumn {
        file: String,
        column: String,
        found: String,
    },
    #[error("{file}: the file is empty (no header line)")]
    Empty { file: String },
    #[error("{file}: line {line} is longer than {max_kib} KiB: not a CSV extraction")]
    LineTooLong {
        file: String,
        line: u64,
        max_kib: usize,
    },
    #[error(
        "{file}: the record at line {line} is longer than {max_kib} KiB: not a CSV extraction"
    )]
    RecordTooLong {
        file: String,
        line: u64,
        max_kib: usize,
    },
    #[error("{file}: the header has {columns} columns, more than {max}: not a CSV extraction")]
    TooManyColumns {
        file: String,
        columns: usize,
        max: usize,
    },
    #[error("{file}: unreadable CSV at line {line}: {reason}")]
    Csv {
        file: String,
        line: u64,
        reason: String,
    },
}

/// How the first line is treated.
#[derive(Debug, Clone, Copy)]
pub enum Header<'a> {
    /// The first line names the columns.
    Present,
    /// No header line: columns are named by the caller.
    Names(&'a [&'a str]),
}

/// A row that was skipped because it could not be aligned with the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedRow {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for MalformedRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.reason)
    }
}

/// One data row: the fields' text end to end and where each field ends (two allocations, where
/// a `csv::StringRecord` takes three and twice the memory).
#[derive(Debug, Clone)]
pub struct Record {
    text: Box<str>,
    ends: Box<[u32]>,
    line: u64,
}

impl Record {
    /// The cell at `index`; `None` when missing (NA token, or absent in a short row).
    #[inline]
    pub fn get(&self, index: usize) -> Option<&str> {
        self.raw(index).filter(|s| !is_na(s))
    }

    /// The cell at `index` as written (NA tokens included); `None` when absent.
    #[inline]
    fn raw(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            i => self.ends[i - 1] as usize,
        };
        Some(&self.text[start..end])
    }

    /// The record made of `fields`; `None` when its text exceeds 4 GiB.
    fn new<'a>(fields: impl IntoIterator<Item = &'a str>, line: u64) -> Option<Record> {
        let fields = fields.into_iter();
        let mut text = String::new();
        let mut ends = Vec::with_capacity(fields.size_hint().0);
        for f in fields {
            text.push_str(f);
            ends.push(u32::try_from(text.len()).ok()?);
        }
        Some(Record {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
            line,
        })
    }

    /// The record of a parsed one (whose fields are already end to end in one buffer); `None`
    /// when its text exceeds 4 GiB.
    fn from_csv(rec: &StringRecord, line: u64) -> Option<Record> {
        let text = rec.as_slice();
        u32::try_from(text.len()).ok()?;
        let ends = (0..rec.len())
            .map(|i| rec.range(i).map_or(0, |r| r.end) as u32)
            .collect();
        Some(Record {
            text: text.into(),
            ends,
            line,
        })
    }

    /// 1-based line of the file where the row starts.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Number of fields actually present in the file.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.ends.len()
    }
}

/// A parsed file.
#[derive(Debug)]
pub struct Table {
    pub file: String,
    pub headers: Vec<String>,
    pub rows: Vec<Record>,
    pub malformed: Vec<MalformedRow>,
}

impl Table {
    /// Index of a required column, or an error naming the file and the column.
    pub fn column(&self, name: &str) -> Result<usize, TabularError> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| TabularError::MissingColumn {
                file: self.file.clone(),
                column: name.to_string(),
                found: crate::text::clip(&self.headers.join(", ")),
            })
    }

    /// Indexes of several required columns, in the order asked.
    pub fn columns<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], TabularError> {
        let mut out = [0; N];
        for (o, n) in out.iter_mut().zip(names) {
            *o = self.column(n)?;
        }
        Ok(out)
    }
}

impl Table {
    /// The same table restricted to `names`, in that order (a no-op when it already is).
    pub fn project(self, names: &[&str]) -> Result<Table, TabularError> {
        if self
            .headers
            .iter()
            .map(String::as_str)
            .eq(names.iter().copied())
        {
            return Ok(self);
        }
        let idx = names
            .iter()
            .map(|n| self.column(n))
            .collect::<Result<Vec<_>, _>>()?;
        let rows = self
            .rows
            .iter()
            .map(|r| {
                Record::new(idx.iter().map(|&i| r.raw(i).unwrap_or("")), r.line)
                    .expect("a projection is no longer than its record")
            })
            .collect();
        Ok(Table {
            file: self.file,
            headers: names.iter().map(|s| s.to_string()).collect(),
            rows,
            malformed: self.malformed,
        })
    }
}

/// pandas' default NA tokens (pandas 1.5.3): a cell equal to one of them is missing.
#[inline]
pub fn is_na(s: &str) -> bool {
    s.len() <= 8
        && matches!(
            s,
            "" | "#N/A"
                | "#N/A N/A"
                | "#NA"
                | "-1.#IND"
                | "-1.#QNAN"
                | "-NaN"
                | "-nan"
                | "1.#IND"
                | "1.#QNAN"
                | "<NA>"
                | "N/A"
                | "NA"
                | "NULL"
                | "NaN"
                | "n/a"
                | "nan"
                | "null"
        )
}

/// Inputs at least this long are parsed in parallel chunks.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// Parses `data` (the whole file) named `file` for messages.
pub fn read_table(
    file: &str,
    data: &[u8],
    delimiter: u8,
    header: Header<'_>,
) -> Result<Table, TabularError> {
    check_lines(file, data)?;
    let chunk_bytes = if data.len() >= PARALLEL_MIN_BYTES {
        (data.len() / (4 * rayon::current_num_threads())).max(PARALLEL_MIN_BYTES / 4)
    } else {
        usize::MAX / 4
    };
    read_table_chunked(file, data, delimiter, header, chunk_bytes)
}

/// [`read_table`], in parallel chunks of about `chunk_bytes` or more when `data` holds two.
fn read_table_chunked(
    file: &str,
    data: &[u8],
    delimiter: u8,
    header: Header<'_>,
    chunk_bytes: usize,
) -> Result<Table, TabularError> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if data.len() >= 2 * chunk_bytes.max(1) {
        if let Some(table) = read_parallel(file, data, delimiter, header, chunk_bytes)? {
            return Ok(table);
        }
    }
    read_sequential(file, data, delimiter, header)
}

/// Fails on the first line longer than [`MAX_LINE_BYTES`] (lines end at `\n` or `\r`).
fn check_lines(file: &str, data: &[u8]) -> Result<(), TabularError> {
    if data.len() <= MAX_LINE_BYTES {
        return Ok(());
    }
    let mut start = 0;
    let ends = memchr::memchr2_iter(b'\n', b'\r', data).chain(std::iter::once(data.len()));
    for end in ends {
        if end - start > MAX_LINE_BYTES {
            return Err(TabularError::LineTooLong {
                file: file.into(),
                line: count_newlines(&data[..start]) as u64 + 1,
                max_kib: MAX_LINE_BYTES / 1024,
            });
        }
        start = end + 1;
    }
    Ok(())
}

fn reader_builder(delimiter: u8) -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.delimiter(delimiter).has_headers(false).flexible(true);
    b
}

fn encoding_error(file: &str, data: &[u8]) -> Result<(), TabularError> {
    match std::str::from_utf8(data) {
        Ok(_) => Ok(()),
        Err(e) => {
            let byte = e.valid_up_to();
            let line = count_newlines(&data[..byte]) + 1;
            Err(TabularError::Encoding {
                file: file.into(),
                line,
                byte,
            })
        }
    }
}

fn count_newlines(data: &[u8]) -> usize {
    data.iter().filter(|&&b| b == b'\n').count()
}

fn read_sequential(
    file: &str,
    data: &[u8],
    delimiter: u8,
    header: Header<'_>,
) -> Result<Table, TabularError> {
    encoding_error(file, data)?;
    let mut reader = reader_builder(delimiter).from_reader(data);
    let headers = read_headers(file, &mut reader, header)?;
    let mut body = Body::new(file, headers.len(), data.len() / 100);
    body.parse(&mut reader, data, 1, false)?;
    Ok(Table {
        file: file.into(),
        headers,
        rows: body.rows,
        malformed: body.malformed,
    })
}

fn read_headers<R: std::io::Read>(
    file: &str,
    reader: &mut csv::Reader<R>,
    header: Header<'_>,
) -> Result<Vec<String>, TabularError> {
    Ok(match header {
        Header::Names(names) => names.iter().map(|s| s.to_string()).collect(),
        Header::Present => {
            let mut rec = StringRecord::new();
            match reader.read_record(&mut rec) {
                Ok(true) if rec.len() > MAX_COLUMNS => {
                    return Err(TabularError::TooManyColumns {
                        file: file.into(),
                        columns: rec.len(),
                        max: MAX_COLUMNS,
                    })
                }
                Ok(true) => rec.iter().map(str::to_string).collect(),
                Ok(false) => return Err(TabularError::Empty { file: file.into() }),
                Err(e) => return Err(csv_error(file, e)),
            }
        }
    })
}

/// The rows of one stretch of the file.
struct Body<'f> {
    file: &'f str,
    width: usize,
    rows: Vec<Record>,
    malformed: Vec<MalformedRow>,
}

impl<'f> Body<'f> {
    fn new(file: &'f str, width: usize, capacity: usize) -> Self {
        Body {
            file,
            width,
            rows: Vec::with_capacity(capacity),
            malformed: Vec::new(),
        }
    }

    /// Reads every record of `reader`, which reads `data` (whose first line is `first_line`
    /// of the file). With `sentinel`, the reader reads one more line after `data`, a record
    /// of its own when `data` ends outside quotes: returns whether it was found (and drops it).
    fn parse<R: std::io::Read>(
        &mut self,
        reader: &mut csv::Reader<R>,
        data: &[u8],
        first_line: u64,
        sentinel: bool,
    ) -> Result<bool, TabularError> {
        let file = self.file;
        let mut rec = StringRecord::new();
        // Line numbers from byte offsets: the csv crate does not count the blank lines it skips.
        let (mut counted_to, mut line) = (0usize, first_line);
        while reader
            .read_record(&mut rec)
            .map_err(|e| csv_error(file, e))?
        {
            let pos = rec.position().map(|p| p.byte()).unwrap_or(0) as usize;
            let mut start = pos.min(data.len());
            // The reported start precedes the blank lines skipped before the record.
            while start < data.len() && (data[start] == b'\n' || data[start] == b'\r') {
                start += 1;
            }
            if sentinel && start == data.len() {
                // Only the sentinel starts there, and only if `data` ended outside quotes.
                return Ok(true);
            }
            if start > counted_to {
                line += count_newlines(&data[counted_to..start]) as u64;
                counted_to = start;
            }
            if rec.len() == 1 && rec.get(0) == Some("") {
                continue; // blank line
            }
            if rec.as_slice().len() > MAX_RECORD_BYTES {
                return Err(TabularError::RecordTooLong {
                    file: file.into(),
                    line,
                    max_kib: MAX_RECORD_BYTES / 1024,
                });
            }
            if rec.len() > self.width {
                self.malformed.push(MalformedRow {
                    file: file.into(),
                    line,
                    reason: format!("expected {} fields, saw {}", self.width, rec.len()),
                });
                continue;
            }
            let record = Record::from_csv(&rec, line).ok_or_else(|| TabularError::Csv {
                file: file.into(),
                line,
                reason: "record longer than 4 GiB".into(),
            })?;
            self.rows.push(record);
        }
        Ok(!sentinel)
    }
}

/// Start offsets of chunks of `data` of about `chunk_bytes` or more, each at a line start outside
/// quoted fields (by the parity of the quotes before it; a file with stray quotes is caught when
/// its chunks are parsed), with the 1-based line number there.
fn chunk_starts(data: &[u8], chunk_bytes: usize) -> Vec<(usize, u64)> {
    let mut starts = vec![(0, 1)];
    let (mut pos, mut line, mut quoted) = (0usize, 1u64, false);
    loop {
        let target = pos + chunk_bytes;
        if target + chunk_bytes / 2 >= data.len() {
            return starts;
        }
        let skipped = &data[pos..target];
        line += count_newlines(skipped) as u64;
        quoted ^= skipped.iter().filter(|&&b| b == b'"').count() % 2 == 1;
        pos = target;
        loop {
            match data.get(pos) {
                None => return starts,
                Some(b'\n') => {
                    pos += 1;
                    line += 1;
                    if !quoted {
                        break;
                    }
                }
                Some(b'"') => {
                    pos += 1;
                    quoted = !quoted;
                }
                Some(_) => pos += 1,
            }
        }
        if pos >= data.len() {
            return starts;
        }
        starts.push((pos, line));
    }
}

type Parsed = (Vec<Record>, Vec<MalformedRow>);

/// The parallel reading, or `None` where the file must be read sequentially (a header that is
/// not valid, a chunk boundary inside a quoted field).
fn read_parallel(
    file: &str,
    data: &[u8],
    delimiter: u8,
    header: Header<'_>,
    chunk_bytes: usize,
) -> Result<Option<Table>, TabularError> {
    use rayon::prelude::*;
    use std::io::Read;

    let Ok(headers) = read_headers(
        file,
        &mut reader_builder(delimiter).from_reader(data),
        header,
    ) else {
        return Ok(None);
    };
    let width = headers.len();
    let starts = chunk_starts(data, chunk_bytes);
    if starts.len() < 2 {
        return Ok(None);
    }
    // Any byte other than the delimiter, a quote or a line end makes a one-field record.
    let sentinel: &[u8] = if delimiter == b'x' { b"y\n" } else { b"x\n" };
    let parsed: Vec<Result<Option<Parsed>, TabularError>> = (0..starts.len())
        .into_par_iter()
        .map(|k| {
            let (start, first_line) = starts[k];
            let last = k + 1 == starts.len();
            let end = starts.get(k + 1).map_or(data.len(), |s| s.0);
            let chunk = &data[start..end];
            if let Err(TabularError::Encoding { line, byte, .. }) = encoding_error(file, chunk) {
                return Err(TabularError::Encoding {
                    file: file.into(),
                    line: line + first_line as usize - 1,
                    byte: byte + start,
                });
            }
            let mut body = Body::new(file, width, chunk.len() / 100);
            let input = chunk.chain(if last { &b""[..] } else { sentinel });
            let mut reader = reader_builder(delimiter).from_reader(input);
            if k == 0 {
                read_headers(file, &mut reader, header)?;
            }
            Ok(body
                .parse(&mut reader, chunk, first_line, !last)?
                .then_some((body.rows, body.malformed)))
        })
        .collect();
    let mut chunks = Vec::with_capacity(parsed.len());
    for p in parsed {
        match p? {
            Some(c) => chunks.push(c),
            None => return Ok(None),
        }
    }
    let mut rows = Vec::with_capacity(chunks.iter().map(|c| c.0.len()).sum());
    let mut malformed = Vec::new();
    for (r, m) in chunks {
        rows.extend(r);
        malformed.extend(m);
    }
    Ok(Some(Table {
        file: file.into(),
        headers,
        rows,
        malformed,
    }))
}

fn csv_error(file: &str, e: csv::Error) -> TabularError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    TabularError::Csv {
        file: file.into(),
        line,
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(data: &str) -> Table {
        read_table("f.csv", data.as_bytes(), b';', Header::Present).unwrap()
    }

    #[test]
    fn na_tokens_are_missing_and_none_is_text() {
        let tab = t("a;b;c\nNA;None;\"NULL\"\n n/a;nan ;x\n");
        let r = &tab.rows[0];
        assert_eq!((r.get(0), r.get(1), r.get(2)), (None, Some("None"), None));
        let r = &tab.rows[1];
        assert_eq!((r.get(0), r.get(1)), (Some(" n/a"), Some("nan ")));
    }

    #[test]
    fn quoting_padding_blank_lines_and_bom() {
        let tab = t("\u{feff}a;b;c\n\"x;y\";\"two\nlines\";\"q\"\"q\"\n\nshort\n");
        assert_eq!(tab.headers, ["a", "b", "c"]);
        assert_eq!(tab.rows.len(), 2);
        assert_eq!(tab.rows[0].get(0), Some("x;y"));
        assert_eq!(tab.rows[0].get(1), Some("two\nlines"));
        assert_eq!(tab.rows[0].get(2), Some("q\"q"));
        assert_eq!(tab.rows[1].get(0), Some("short"));
        assert_eq!(tab.rows[1].get(2), None);
        assert_eq!(tab.rows[1].line(), 5);
    }

    #[test]
    fn long_rows_are_reported_with_their_line() {
        let tab = t("a;b\n1;2\n1;2;3\n4;5\n");
        assert_eq!(tab.rows.len(), 2);
        assert_eq!(tab.malformed.len(), 1);
        assert_eq!(tab.malformed[0].line, 3);
        assert!(tab.malformed[0].to_string().contains("f.csv line 3"));
    }

    #[test]
    fn latin1_is_a_clear_error() {
        let data = b"a;b\n1;2\nCarri\xe8re;3\n";
        let e = read_table("s3ic.csv", data, b';', Header::Present).unwrap_err();
        assert!(matches!(e, TabularError::Encoding { line: 3, .. }), "{e}");
        assert!(e.to_string().contains("s3ic.csv"));
    }

    #[test]
    fn oversized_lines_records_and_headers_are_refused_without_echo() {
        let mut one_line = vec![b'a'; MAX_LINE_BYTES + 10];
        one_line.extend_from_slice(b"\n1\n");
        let e = read_table("big.csv", &one_line, b';', Header::Present).unwrap_err();
        assert!(
            matches!(e, TabularError::LineTooLong { line: 1, .. }),
            "{e}"
        );
        assert!(e.to_string().len() < 200, "{e}");
        let mut later = b"a;b\n1;2\n".to_vec();
        later.extend(vec![b'x'; MAX_LINE_BYTES + 1]);
        let e = read_table("big.csv", &later, b';', Header::Present).unwrap_err();
        assert!(
            matches!(e, TabularError::LineTooLong { line: 3, .. }),
            "{e}"
        );
        // A record spread over many short lines by a quoted field.
        let mut quoted = b"a;b\n1;\"".to_vec();
        quoted.extend("x\n".repeat(MAX_RECORD_BYTES / 2 + 1).as_bytes());
        quoted.extend(b"\"\n");
        let e = read_table("q.csv", &quoted, b';', Header::Present).unwrap_err();
        assert!(
            matches!(e, TabularError::RecordTooLong { line: 2, .. }),
            "{e}"
        );
        let wide = ";".repeat(MAX_COLUMNS + 1) + "\n";
        let e = read_table("w.csv", wide.as_bytes(), b';', Header::Present).unwrap_err();
        assert!(matches!(e, TabularError::TooManyColumns { .. }), "{e}");
        // A long header without the needed column is quoted clipped.
        let header = (0..3000)
            .map(|i| format!("col{i}"))
            .collect::<Vec<_>>()
            .join(";");
        let tab = read_table("h.csv", header.as_bytes(), b';', Header::Present).unwrap();
        let e = tab.column("code_s3ic").unwrap_err().to_string();
        assert!(e.len() < 400, "{} bytes", e.len());
    }

    #[test]
    fn missing_column_names_file_and_column() {
        let e = t("a;b\n1;2\n").column("code_s3ic").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("f.csv") && msg.contains("code_s3ic"), "{msg}");
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(matches!(
            read_table("e.csv", b"", b';', Header::Present),
            Err(TabularError::Empty { .. })
        ));
    }

    #[test]
    fn headerless_files_take_given_names() {
        let tab = read_table("d.csv", b"1;x\n2;y\n", b';', Header::Names(&["id", "type"])).unwrap();
        assert_eq!(tab.column("type").unwrap(), 1);
        assert_eq!(tab.rows.len(), 2);
    }

    fn same(a: &Table, b: &Table) {
        assert_eq!(a.headers, b.headers);
        assert_eq!(a.malformed, b.malformed);
        assert_eq!(a.rows.len(), b.rows.len());
        for (x, y) in a.rows.iter().zip(&b.rows) {
            assert_eq!((x.line(), x.len()), (y.line(), y.len()));
            assert!(
                (0..x.len()).all(|i| x.raw(i) == y.raw(i)),
                "line {}",
                x.line()
            );
        }
    }

    /// A file of every shape: quoted delimiters and line ends, doubled quotes, blank and CRLF
    /// lines, short and long rows, non-ASCII text.
    fn big_input(rows: usize) -> String {
        let mut s = String::from("id;name;note\n");
        for i in 0..rows {
            match i % 11 {
                0 => s.push_str(&format!("{i};\"two\nlines\";\"q\"\"q\"\n")),
                1 => s.push_str("\n\n"),
                2 => s.push_str(&format!("{i};Carrière;NA\r\n")),
                3 => s.push_str(&format!("{i};a;b;extra\n")),
                4 => s.push_str(&format!("{i};short\n")),
                5 => s.push_str(&format!("{i};\"x;y\";\"\n\n\"\n")),
                6 => s.push_str("\"\"\n"),
                _ => s.push_str(&format!("{i};Élevage de la Côte;{}\n", i * 7)),
            }
        }
        s
    }

    #[test]
    fn chunked_parsing_is_sequential_parsing() {
        let data = big_input(20_000);
        let seq = read_sequential("f.csv", data.as_bytes(), b';', Header::Present).unwrap();
        assert!(seq.malformed.len() > 1000 && seq.rows.len() > 10_000);
        for chunk in [64, 1000, 4096, 50_000] {
            assert!(chunk_starts(data.as_bytes(), chunk).len() > 2);
            let direct = read_parallel("f.csv", data.as_bytes(), b';', Header::Present, chunk);
            assert!(
                direct.unwrap().is_some(),
                "chunks of {chunk} bytes fell back"
            );
            let par = read_table_chunked("f.csv", data.as_bytes(), b';', Header::Present, chunk);
            same(&par.unwrap(), &seq);
        }
        // Headerless, and through the public entry point (sequential below its threshold).
        let names = ["a", "b", "c"];
        let seq = read_table("d.csv", data.as_bytes(), b';', Header::Names(&names)).unwrap();
        let par = read_table_chunked("d.csv", data.as_bytes(), b';', Header::Names(&names), 999);
        same(&par.unwrap(), &seq);
    }

    #[test]
    fn chunked_parsing_survives_stray_quotes_and_reports_encoding_errors() {
        // A quote inside an unquoted field is text: quote parity is off from there on, and a
        // chunk boundary may fall inside a quoted field; the sequential parse is then used.
        let mut data = String::from("a;b\n1;12\" screen\n");
        data.push_str(&big_input(5000));
        let seq = read_sequential("f.csv", data.as_bytes(), b';', Header::Present).unwrap();
        let direct = read_parallel("f.csv", data.as_bytes(), b';', Header::Present, 1000);
        assert!(
            direct.unwrap().is_none(),
            "a boundary inside quotes went unnoticed"
        );
        for chunk in [64, 1000, 4096] {
            let par = read_table_chunked("f.csv", data.as_bytes(), b';', Header::Present, chunk);
            same(&par.unwrap(), &seq);
        }
        let mut bad = big_input(5000).into_bytes();
        let at = bad.len() * 3 / 4;
        let at = at + bad[at..].iter().position(|&b| b == b'\n').unwrap() + 3;
        bad[at] = 0xe8;
        let seq = read_sequential("f.csv", &bad, b';', Header::Present).unwrap_err();
        let par = read_table_chunked("f.csv", &bad, b';', Header::Present, 1000).unwrap_err();
        assert_eq!(par.to_string(), seq.to_string());
        assert!(
            matches!(par, TabularError::Encoding { byte, .. } if byte == at),
            "{par}"
        );
    }
}
