//! data-tasks library: stages, domain and adapters.
