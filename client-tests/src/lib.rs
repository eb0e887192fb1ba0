//! Real-client tests live in tests/it.
