//! Fulcrum: a load balancer that runs haproxy.cfg unchanged.

pub mod config;
