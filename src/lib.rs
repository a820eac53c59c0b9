//! data-tasks library: stages, domain and adapters.

pub mod stages;
