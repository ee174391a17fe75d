//! Fulcrum: a load balancer that runs haproxy.cfg unchanged.
//!
//! Where things live: `config` reads haproxy.cfg into typed structures; `runtime` compiles
//! them into what the workers run; `net` has sockets; `worker` runs the event loops;
//! `frontend` takes an accepted connection to `tcp` (layer 4) or `http` (layer 7); `backend`
//! holds servers and balancing; `app` and `process` tie the process together.

pub mod acl;
pub mod app;
pub mod args;
pub mod backend;
pub mod cli;
pub mod config;
pub mod debug;
pub mod frontend;
pub mod http;
pub mod log;
pub mod master;
pub mod net;
pub mod process;
pub mod runtime;
pub mod sample;
pub mod stream_ctx;
pub mod tcp;
pub mod version;
pub mod worker;
