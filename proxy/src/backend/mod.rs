//! TEMPORARY stand-in for the backend module (being written on branch `backend`); same API.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::config::model::{self, ServerAddr};

/// What balancing algorithms may look at in a request.
pub trait LbRequest {
    /// Client address.
    fn src(&self) -> Option<IpAddr>;
    /// Request URI.
    fn uri(&self) -> Option<&[u8]>;
    /// A request header value.
    fn header(&self, name: &str) -> Option<&[u8]>;
}

/// A server at run time.
#[derive(Debug)]
pub struct ServerState {
    /// Name.
    pub name: String,
    /// Address.
    pub addr: ServerAddr,
    cur: AtomicUsize,
}

/// A backend at run time.
#[derive(Debug)]
pub struct Backend {
    servers: Vec<Arc<ServerState>>,
    next: AtomicUsize,
}

/// Why no server was given.
#[derive(Debug)]
pub enum AcquireError {
    /// No usable server.
    NoServer,
}

/// A connection slot on a server.
#[derive(Debug)]
pub struct ServerGuard(Arc<ServerState>);

impl ServerGuard {
    /// The server.
    pub fn server(&self) -> &Arc<ServerState> {
        &self.0
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.0.cur.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Backend {
    /// Builds the runtime backend.
    pub fn new(p: &model::Proxy) -> Backend {
        let servers = p
            .servers
            .iter()
            .filter(|s| !s.disabled && !s.backup)
            .map(|s| {
                Arc::new(ServerState {
                    name: s.name.clone(),
                    addr: s.addr.clone(),
                    cur: AtomicUsize::new(0),
                })
            })
            .collect();
        Backend {
            servers,
            next: AtomicUsize::new(0),
        }
    }

    /// Picks a server.
    pub async fn acquire(
        &self,
        _req: &dyn LbRequest,
        _avoid: Option<&Arc<ServerState>>,
    ) -> Result<ServerGuard, AcquireError> {
        if self.servers.is_empty() {
            return Err(AcquireError::NoServer);
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.servers.len();
        let s = self.servers[i].clone();
        s.cur.fetch_add(1, Ordering::Relaxed);
        Ok(ServerGuard(s))
    }
}
