//! Placeholder: the OCR engine lands here (issue 5).
