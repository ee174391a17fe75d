//! Shared helpers of the integration tests: upstream servers on loopback and clients.
#![allow(dead_code)]

pub mod client;
pub mod proc;
pub mod upstream;
