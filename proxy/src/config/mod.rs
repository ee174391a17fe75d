//! haproxy.cfg: lexing, conditional blocks, sections, the typed model and its validation.
//!
//! Flow: `reader` turns files into located word lists (quotes, escapes, `${ENV}`, `.if`),
//! `parser` dispatches each line to the keyword tables of its section and fills `model`,
//! `validate` checks what spans sections. Every problem becomes a located [`Diag`]; all of
//! them are collected before the caller decides to stop.

pub mod diag;
pub mod model;

pub use diag::{Diag, Loc, Severity};
pub use model::Config;
