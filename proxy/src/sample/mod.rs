//! Samples (haproxy configuration manual 7.3): typed values, fetches, converters,
//! variables and maps. The config parser turns expression text into a [`SampleExpr`] once;
//! the data paths evaluate it against their [`SampleCtx`].
//!
//! How the pieces plug in:
//!
//! ```text
//! // config parser, once per rule (errors get "file:line: " prepended by the caller):
//! let expr = SampleExpr::parse("req.hdr(host),lower,map(/etc/hosts.map,default)")?;
//! // data path, per request, with its own context type implementing SampleCtx:
//! let value: Option<Sample> = expr.eval(&ctx);   // typed value (set-var, set-header...)
//! let text: Vec<u8> = expr.eval_text(&ctx);      // what "%[...]" prints in log-format
//! ```
//!
//! Everything is parsed at configuration time: keywords, arguments, regexes, map files
//! (shared through `map::load_shared`), variable names. Evaluation never parses text.
//! One file per concept: `value` (types and casts), `ctx` (the data-path trait and
//! `FakeCtx`), `fetch*` (fetch registry and helpers), `conv*` (converters by family),
//! `map`, `varstore`, `args` (keyword-call syntax), `expr` (the chain).

pub mod args;
pub mod conv;
pub mod conv_hash;
pub mod conv_num;
pub mod conv_str;
pub mod conv_time;
pub mod ctx;
pub mod expr;
pub mod fetch;
pub mod fetch_http;
pub mod fetch_misc;
pub mod map;
pub mod value;
pub mod varstore;

pub use ctx::{FakeCtx, SampleCtx};
pub use expr::SampleExpr;
pub use value::{Method, Sample, SmpType};
pub use varstore::{VarName, VarScope, VarStore};

#[cfg(test)]
mod tests;
