//! Unit tests of the AM export modules.
