//! Samples (haproxy configuration manual 7.3): typed values, fetches, converters,
//! variables and maps. The config parser turns expression text into a [`SampleExpr`] once;
//! the data paths evaluate it against their [`SampleCtx`].

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
