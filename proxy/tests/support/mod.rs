//! Shared helpers of the integration tests: upstream servers on loopback and clients.
//!
//! - `upstream`: HTTP/TCP upstreams (named HTTP server with `/sleep/MS`, 100-continue and a
//!   peak-concurrency gauge, echo, silent, closer, refused, websocket, raw responder).
//! - `proc`: runs the real `fulcrum` binary, or haproxy on the same config (`run_both`),
//!   on fresh loopback ports; `fd@N` sockets can be passed; killed on drop.
//! - `client`: a raw HTTP/1.x client keeping the exact bytes received.
#![allow(dead_code)]

pub mod client;
pub mod proc;
pub mod upstream;
