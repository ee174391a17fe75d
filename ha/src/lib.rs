//! `fulcrum-ha`: keeps a floating IP on the active node of an active/passive pair.
//!
//! Election is VRRPv3 ([`vrrp`]); the address is moved by one or more [`mover`]s; the
//! local proxy is watched from outside by [`probe`].

pub mod config;
pub mod mover;
pub mod vrrp;
