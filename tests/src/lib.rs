//! Cross-crate integration tests live in `tests/`; probe programs they run live in `src/bin/`.
