//! The `http` action through the binary.
