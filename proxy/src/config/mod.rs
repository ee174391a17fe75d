//! haproxy.cfg: lexing, conditional blocks, sections, the typed model and its validation.
//!
//! Flow: `reader` turns files into located word lists (quotes, escapes, `${ENV}`, `.if`),
//! `parser` dispatches each line to the keyword tables of its section and fills `model`,
//! `validate` checks what spans sections. Every problem becomes a located [`Diag`]; all of
//! them are collected before the caller decides to stop.

pub mod bind;
pub mod cond;
pub mod diag;
pub mod global;
pub mod keywords;
pub mod lexer;
pub mod model;
pub mod parser;
pub mod proxy;
pub mod reader;
pub mod server;
pub mod timeouts;
pub mod validate;

pub use cond::{eval_condition, eval_condition_env, eval_condition_str, HAPROXY_COMPAT_VERSION};
pub use diag::{Diag, Loc, Severity};
pub use lexer::{Env, EnvOverlay, MapEnv, ProcessEnv};
pub use model::Config;
pub use parser::{load, parse_str, render};
pub use reader::expand_paths;
