//! haproxy.cfg: lexing, conditional blocks, sections, the typed model and its validation.
//!
//! Flow: `reader` turns files into located word lists (quotes, escapes, `${ENV}`, `.if`),
//! `parser` dispatches each line to the keyword tables of its section and fills `model`,
//! `validate` checks what spans sections. Every problem becomes a located [`Diag`]; all of
//! them are collected before the caller decides to stop.
//!
//! Entry points: [`load`] (the `-f` paths; directories expand to their `*.cfg` files in
//! lexical order), [`parse_str`] (tests), [`eval_condition_str`] (`-cc EXPR`). Variables come
//! from an [`Env`] ([`ProcessEnv`] in the binary, [`MapEnv`] in tests); `setenv` & co. in
//! `global` change what later lines see without touching the process environment.
//!
//! Where the parser follows haproxy 2.6 rather than intuition (each checked against the
//! Debian 2.6.12 binary):
//! - `${VAR}` / `$VAR` are expanded inside double quotes only; outside they stay literal.
//! - A keyword used where its capability is missing (e.g. `balance` in a frontend) is a
//!   warning and is ignored, exactly as haproxy does; only what haproxy refuses (`bind` or
//!   `server` in `defaults`, `server` in a frontend, ...) is an error.
//! - A frontend or listen without `bind` is a warning, not an error.
//! - `option httplog`, `option forwardfor`, `monitor-uri` and layer-7 `balance` in a TCP proxy
//!   produce haproxy's warnings and the model holds the fallback haproxy really uses.
//! - Disabled proxies skip the cross-section checks; custom ids are still checked.
//! - `version_atleast()` / `version_before()` compare on `2.6` only: Fulcrum stands for the
//!   whole 2.6 branch.

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
