//! Unit tests of the ecospheres sync: JSON-LD handling, the column recipe, dates, paging helpers.
