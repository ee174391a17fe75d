//! `fulcrum-ha`: keeps a floating IP on the active node of an active/passive pair.
//!
//! Election is VRRPv3 ([`vrrp`]); the address is moved by one or more [`mover`]s; the
//! local proxy is watched from outside by [`probe`], because it must keep working when
//! the proxy is dead.

#![warn(missing_docs)]

pub mod config;
pub mod log;
pub mod metrics;
pub mod mover;
pub mod probe;
pub mod runtime;
pub mod status;
pub mod vrrp;
