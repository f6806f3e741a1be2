//! The C ABI of clusto: `libclusto.so` and `libclusto.a`, described by the generated
//! header `include/clusto.h`.
//!
//! Every fallible function returns a [`ClustoStatus`] and sets a per-thread message
//! readable with [`clusto_last_error`]. NULL pointers, invalid UTF-8 and out-of-range
//! values are INVALID_ARGUMENT; panics are caught at the boundary and become PANIC.
//! Strings and lists the library returns are freed with its own free functions.

mod api;
mod args;
mod handles;
mod json_api;
mod status;
mod values;

pub use api::*;
pub use args::clusto_string_free;
pub use handles::*;
pub use json_api::*;
pub use status::{ClustoStatus, clusto_last_error};
pub use values::*;
