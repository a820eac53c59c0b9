//! Unit tests of the installations rules, on small hand-written inputs.
