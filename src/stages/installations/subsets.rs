//! The `sample` and `idf` subsets (docs/formats.md §3.4, §4.6): which installations belong to
//! each, and the minimum-size rule checked before anything is published.

use std::collections::HashSet;

use super::establishments::{Installation, Installations};
use super::{InstallationsError, MIN_SUBSET_ROWS};

/// Membership of the two subsets, by installation id.
pub struct Subsets<'a> {
    pub sample_ids: HashSet<&'a str>,
    pub idf_ids: HashSet<&'a str>,
}

/// `sample`: the sum of the code points of the id is a multiple of 10.
pub fn in_sample(s3ic_id: &str) -> bool {
    s3ic_id.chars().map(|c| c as u64).sum::<u64>() % 10 == 0
}

/// `idf`: region exactly `ILE DE FRANCE`.
pub fn in_idf(region: Option<&str>) -> bool {
    region == Some("ILE DE FRANCE")
}

impl<'a> Subsets<'a> {
    pub fn of(installations: &'a Installations<'_>) -> Subsets<'a> {
        let ids = |f: &dyn Fn(&Installation<'_>) -> bool| {
            installations
                .rows
                .iter()
                .filter(|i| f(i))
                .map(|i| i.s3ic_id())
                .collect()
        };
        Subsets {
            sample_ids: ids(&|i| in_sample(i.s3ic_id())),
            idf_ids: ids(&|i| in_idf(i.region())),
        }
    }

    pub fn in_sample(&self, i: &Installation<'_>) -> bool {
        self.sample_ids.contains(i.s3ic_id())
    }

    pub fn in_idf(&self, i: &Installation<'_>) -> bool {
        self.idf_ids.contains(i.s3ic_id())
    }

    /// Passes a built subset through when it has enough rows.
    pub fn check(
        &self,
        dataset: &'static str,
        built: (Vec<u8>, usize),
    ) -> Result<(Vec<u8>, usize), InstallationsError> {
        if built.1 < MIN_SUBSET_ROWS {
            return Err(InstallationsError::TooFew {
                dataset,
                rows: built.1,
                min: MIN_SUBSET_ROWS,
            });
        }
        Ok(built)
    }
}
