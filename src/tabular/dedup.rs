//! Whole-row equality for pandas' `drop_duplicates()`: two rows are duplicates when every column
//! holds the same value, a missing value (NA token) being equal to another missing value.

use std::hash::{Hash, Hasher};

use super::Record;

/// A row compared on its first `width` columns; put it in a `HashSet` to drop later duplicates.
pub struct WholeRow<'a>(pub &'a Record, pub usize);

impl PartialEq for WholeRow<'_> {
    fn eq(&self, other: &Self) -> bool {
        (0..self.1).all(|i| self.0.get(i) == other.0.get(i))
    }
}

impl Eq for WholeRow<'_> {}

impl Hash for WholeRow<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for i in 0..self.1 {
            self.0.get(i).hash(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::{read_table, Header};

    #[test]
    fn missing_equals_missing_whatever_the_token() {
        let t = read_table("d.csv", b"a;b\n1;NA\n1;\n1;None\n", b';', Header::Present).unwrap();
        let mut set = std::collections::HashSet::new();
        let kept: Vec<bool> = t.rows.iter().map(|r| set.insert(WholeRow(r, 2))).collect();
        assert_eq!(kept, [true, false, true]);
    }
}
