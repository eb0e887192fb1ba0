//! No library code: the real-client tests and their harness live in `tests/it` (one test
//! binary, so `cargo test` builds them once). See `tests/it/support/mod.rs`.
