//! CSV reading as pandas `read_csv(dtype=str)` does it, without its failure modes.
//!
//! Every cell is text, except that a cell whose whole content is one of pandas' 18 NA tokens
//! (empty, `NA`, `NULL`, `nan`, `#N/A`…; not `None`) is *missing*. Short rows are padded with
//! missing values. Blank lines are skipped. A leading UTF-8 BOM is ignored. What pandas would
//! crash on is reported instead: a row with more fields than the header is a [`MalformedRow`]
//! (skipped, with its line number); a file that is not UTF-8 is a [`TabularError::Encoding`]
//! naming the file and line; a required column that is absent is [`TabularError::MissingColumn`].

use csv::StringRecord;

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

/// One data row.
#[derive(Debug, Clone)]
pub struct Record {
    fields: StringRecord,
    line: u64,
}

impl Record {
    /// The cell at `index`; `None` when missing (NA token, or absent in a short row).
    #[inline]
    pub fn get(&self, index: usize) -> Option<&str> {
        self.fields.get(index).filter(|s| !is_na(s))
    }

    /// 1-based line of the file where the row starts.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Number of fields actually present in the file.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
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
                found: self.headers.join(", "),
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
            .map(|r| Record {
                fields: idx.iter().map(|&i| r.fields.get(i).unwrap_or("")).collect(),
                line: r.line,
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

/// Parses `data` (the whole file) named `file` for messages.
pub fn read_table(
    file: &str,
    data: &[u8],
    delimiter: u8,
    header: Header<'_>,
) -> Result<Table, TabularError> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if let Err(e) = std::str::from_utf8(data) {
        let byte = e.valid_up_to();
        let line = data[..byte].iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(TabularError::Encoding {
            file: file.into(),
            line,
            byte,
        });
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut records = reader.records();
    let headers: Vec<String> = match header {
        Header::Names(names) => names.iter().map(|s| s.to_string()).collect(),
        Header::Present => match records.next() {
            Some(Ok(h)) => h.iter().map(str::to_string).collect(),
            Some(Err(e)) => return Err(csv_error(file, e)),
            None => return Err(TabularError::Empty { file: file.into() }),
        },
    };
    let width = headers.len();
    let mut rows = Vec::with_capacity(data.len() / 100);
    let mut malformed = Vec::new();
    // Line numbers from byte offsets: the csv crate does not count the blank lines it skips.
    let (mut counted_to, mut line) = (0usize, 1u64);
    for rec in records {
        let rec = rec.map_err(|e| csv_error(file, e))?;
        let mut start = (rec.position().map(|p| p.byte()).unwrap_or(0) as usize).min(data.len());
        // The reported start precedes the blank lines skipped before the record.
        while start < data.len() && (data[start] == b'\n' || data[start] == b'\r') {
            start += 1;
        }
        if start > counted_to {
            line += data[counted_to..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted_to = start;
        }
        if rec.len() == 1 && rec.get(0) == Some("") {
            continue; // blank line
        }
        if rec.len() > width {
            malformed.push(MalformedRow {
                file: file.into(),
                line,
                reason: format!("expected {width} fields, saw {}", rec.len()),
            });
            continue;
        }
        rows.push(Record { fields: rec, line });
    }
    Ok(Table {
        file: file.into(),
        headers,
        rows,
        malformed,
    })
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
}
