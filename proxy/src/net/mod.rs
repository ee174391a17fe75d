//! Sockets: listening (`listener`), the byte stream of one side of a connection (`stream`),
//! connecting to servers (`connect`) and inactivity timeouts on a stream (`idle`).

pub mod connect;
pub mod handover;
pub mod idle;
pub mod listener;
pub mod stream;
