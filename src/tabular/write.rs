//! CSV writing as pandas `to_csv(index=False)` does it: `,` separator, `\n` after every line,
//! no BOM, a field quoted only when it holds `,`, `"` or `\n` (inner quotes doubled; a lone `\r`
//! is not quoted), missing values as empty fields, everything else verbatim. Writes to memory;
//! cannot fail.

/// An in-memory CSV document being written.
pub struct CsvWriter {
    buf: Vec<u8>,
    rows: usize,
}

impl CsvWriter {
    /// Starts a document with its header line.
    pub fn with_header(columns: &[&str]) -> CsvWriter {
        let mut w = CsvWriter {
            buf: Vec::with_capacity(1 << 16),
            rows: 0,
        };
        w.write_fields(columns.iter().map(|c| Some(*c)));
        w.rows = 0;
        w
    }

    /// Appends one row; `None` is a missing value.
    pub fn write_row<'a>(&mut self, fields: impl IntoIterator<Item = Option<&'a str>>) {
        self.write_fields(fields);
    }

    fn write_fields<'a>(&mut self, fields: impl IntoIterator<Item = Option<&'a str>>) {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            if let Some(text) = f {
                push_field(&mut self.buf, text);
            }
        }
        self.buf.push(b'\n');
        self.rows += 1;
    }

    /// Number of data rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Appends one field with pandas' minimal quoting.
pub fn push_field(buf: &mut Vec<u8>, text: &str) {
    let needs_quotes = text.bytes().any(|b| b == b',' || b == b'"' || b == b'\n');
    if !needs_quotes {
        buf.extend_from_slice(text.as_bytes());
        return;
    }
    buf.push(b'"');
    for b in text.bytes() {
        if b == b'"' {
            buf.push(b'"');
        }
        buf.push(b);
    }
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_quoting_like_pandas() {
        let mut w = CsvWriter::with_header(&["a", "b", "c", "d"]);
        w.write_row([Some("DUPONT, FILS"), None, Some("say \"hi\""), Some(" sp ")]);
        w.write_row([Some("two\nlines"), Some("cr\ronly"), Some(""), Some("é")]);
        assert_eq!(w.rows(), 2);
        assert_eq!(
            String::from_utf8(w.into_bytes()).unwrap(),
            "a,b,c,d\n\"DUPONT, FILS\",,\"say \"\"hi\"\"\", sp \n\"two\nlines\",cr\ronly,,é\n"
        );
    }
}
