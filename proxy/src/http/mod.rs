//! The layer-7 data path: HTTP/1.1 on both sides (hyper), one request pipeline, pooled server
//! connections, and haproxy's own error responses.

pub mod body;
pub mod client_io;
pub mod errors;
pub mod headers;
pub mod log;
pub mod pool;
pub mod session;
pub mod txn;
