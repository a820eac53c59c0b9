//! Domain vocabulary shared by the stages: identifiers and the closed sets of values the
//! Envinorma web app accepts (regimes, Seveso statuses, families, activity states, OCR statuses).
//! Pure functions, no I/O; each validation says what was expected.

pub(crate) mod ap_store;
pub(crate) mod ids;
pub(crate) mod installation;
