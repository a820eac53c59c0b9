//! The tabular conventions of the original pipeline (pandas `read_csv(dtype=str)` /
//! `to_csv(index=False)`), shared by every stage that reads or publishes a CSV:
//! [`read`] (NA tokens, padding, malformed rows with line numbers, encoding errors),
//! [`mod@write`] (minimal quoting, `\n` line ends, empty missing values) and [`date`] (ISO dates as
//! Python's `date.fromisoformat` accepts them, written `YYYY-MM-DD`).

pub(crate) mod date;
pub(crate) mod dedup;
pub(crate) mod read;
pub(crate) mod write;

pub use date::{parse_date, Date};
pub use read::{read_table, Header, MalformedRow, Record, Table, TabularError, MAX_LINE_BYTES};
pub use write::CsvWriter;
