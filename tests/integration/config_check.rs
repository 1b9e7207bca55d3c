//! The `config` action through the binary.
