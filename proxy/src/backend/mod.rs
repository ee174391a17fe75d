//! Backends at run time: server state, server choice and connection slots.
//!
//! The data paths call [`Backend::acquire`] for each connection (TCP) or request (HTTP): it
//! picks a server with the configured algorithm ([`lb`]), waits for a slot when `maxconn` is
//! reached ([`queue`]) and returns a [`ServerGuard`] that holds the slot until dropped. After a
//! failed connect, [`Backend::after_connect_failure`] tells whether to retry the same server
//! or to redispatch, as haproxy's `retries` and `option redispatch` do.
//!
//! Known differences from haproxy 2.6 (by design or not yet done):
//! - roundrobin replays haproxy's order from a table; a state change restarts the order at
//!   its beginning where haproxy carries positions over, and a full server simply loses its
//!   turn (haproxy requeues it "as if consumed", which can shift the order slightly).
//! - leastconn scans the servers (O(n)) instead of walking a locked tree; same choice.
//! - no `minconn`/`fullconn` dynamic maxconn, no `slowstart`, no `hash-balance-factor`,
//!   no `hash-key`, no `check_post` for url_param; `set weight` is applied to map-based
//!   algorithms too (haproxy only allows 0/100 % there).
//! - only the first usable backup is used without `option allbackups` (haproxy's map-based
//!   tables can leak other backups in when the first backup's weight is above 1).

pub mod lb;
pub mod queue;
pub mod server;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::config::model::{self, Balance};
use lb::{Lb, Pick};
pub use lb::{LbRequest, SrcOnly};
use queue::{dec, Queues, Waiter};
pub use server::{AdminState, OperState, ServerState};

/// Why no server slot could be obtained. Each ends in a 503 in HTTP mode; they are kept apart
/// for the logs' termination state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcquireError {
    /// No usable server (all down, in maintenance, draining or weight 0).
    NoServer,
    /// The chosen server's queue already holds `maxqueue` requests.
    QueueFull {
        /// The server whose queue was full.
        server: String,
    },
    /// `timeout queue` (or `timeout connect`) expired while waiting for a slot.
    QueueTimeout {
        /// The server whose queue it was, `None` for the backend queue.
        server: Option<String>,
    },
}

impl AcquireError {
    /// The two-letter session state haproxy logs for this outcome (`SC`: no server, `sQ`:
    /// timed out in queue, `SQ` for a refused queue slot).
    pub fn termination_state(&self) -> &'static str {
        match self {
            AcquireError::NoServer => "SC",
            AcquireError::QueueFull { .. } => "SQ",
            AcquireError::QueueTimeout { .. } => "sQ",
        }
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcquireError::NoServer => f.write_str("no server available"),
            AcquireError::QueueFull { server } => write!(f, "queue of server {server} is full"),
            AcquireError::QueueTimeout { server: Some(s) } => {
                write!(f, "timed out in the queue of server {s}")
            }
            AcquireError::QueueTimeout { server: None } => {
                f.write_str("timed out in the backend queue")
            }
        }
    }
}

impl std::error::Error for AcquireError {}

/// What to do after a failed connect attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try the same server again (haproxy waits up to one second before, as a turn-around).
    SameServer,
    /// Pick another server: call [`Backend::acquire`] with the failed server as `avoid`.
    Redispatch,
    /// `retries` are exhausted: report the connection error.
    GiveUp,
}

/// A backend's servers, balancer and queues. Cheap to clone (shared).
#[derive(Clone)]
pub struct Backend {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    servers: Vec<Arc<ServerState>>,
    lb: Lb,
    queues: Mutex<Queues>,
    /// Requests waiting in the backend queue.
    be_queued: AtomicU32,
    /// Serialises snapshot rebuilds (never taken by pickers).
    rebuild: Mutex<()>,
    queue_timeout: Option<Duration>,
    retries: u32,
    redispatch: Option<i32>,
    persist: bool,
    no_server: AtomicU64,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("name", &self.inner.name)
            .field("servers", &self.inner.servers.len())
            .finish()
    }
}

impl Backend {
    /// The runtime backend of a configured proxy. `disabled` servers start in maintenance;
    /// the queue timeout is `timeout queue`, or `timeout connect` when unset (as haproxy).
    pub fn new(p: &model::Proxy) -> Self {
        let servers: Vec<Arc<ServerState>> = p
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| Arc::new(ServerState::new(s, i)))
            .collect();
        let weights: Vec<u32> = p.servers.iter().map(|s| s.weight).collect();
        let lb = Lb::new(&p.balance, p.hash_type, p.allbackups, &weights);
        lb.rebuild(&servers);
        Backend {
            inner: Arc::new(Inner {
                name: p.name.clone(),
                queues: Mutex::new(Queues::new(servers.len())),
                servers,
                lb,
                be_queued: AtomicU32::new(0),
                rebuild: Mutex::new(()),
                queue_timeout: p.timeouts.queue.or(p.timeouts.connect),
                retries: p.retries,
                redispatch: p.redispatch,
                persist: p.persist,
                no_server: AtomicU64::new(0),
            }),
        }
    }

    /// The backend's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }
    /// Every server, in declaration order.
    pub fn servers(&self) -> &[Arc<ServerState>] {
        &self.inner.servers
    }
    /// The server called `name`.
    pub fn server(&self, name: &str) -> Option<&Arc<ServerState>> {
        self.inner.servers.iter().find(|s| s.name == name)
    }
    /// The balancer (algorithm and current snapshot).
    pub fn lb(&self) -> &Lb {
        &self.inner.lb
    }
    /// Requests waiting in the backend queue.
    pub fn queued(&self) -> u32 {
        self.inner.be_queued.load(Ordering::Relaxed)
    }
    /// Requests refused because no server was usable.
    pub fn no_server_errors(&self) -> u64 {
        self.inner.no_server.load(Ordering::Relaxed)
    }
    /// The effective queue timeout (`None`: wait forever).
    pub fn queue_timeout(&self) -> Option<Duration> {
        self.inner.queue_timeout
    }

    /// Sets a server's administrative state and rebuilds the balancer.
    pub fn set_admin(&self, srv: &ServerState, state: AdminState) {
        srv.store_admin(state);
        self.rebuild();
    }
    /// Sets a server's operational state (health checks) and rebuilds the balancer.
    pub fn set_oper(&self, srv: &ServerState, state: OperState) {
        srv.store_oper(state);
        self.rebuild();
    }
    /// Sets a server's user weight (0..=256) and rebuilds the balancer.
    pub fn set_weight(&self, srv: &ServerState, weight: u32) {
        srv.store_weight(weight);
        self.rebuild();
    }

    /// Rebuilds the balancer snapshot from the servers' state, then lets servers that can
    /// take queued requests (newly usable ones, for instance) serve them.
    pub fn rebuild(&self) {
        {
            let _g = lock(&self.inner.rebuild);
            self.inner.lb.rebuild(&self.inner.servers);
        }
        // haproxy's pendconn_redistribute: with `option redispatch` (and no `option persist`)
        // the requests waiting for a server that can no longer be used go back to the
        // backend queue, to be served by any server.
        if self.inner.redispatch.is_some_and(|n| n != 0) && !self.inner.persist {
            let mut q = lock(&self.inner.queues);
            for s in self.inner.servers.iter().filter(|s| !s.usable()) {
                for _ in 0..q.redistribute(s.index) {
                    dec(&s.queued);
                    self.inner.be_queued.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        for i in 0..self.inner.servers.len() {
            self.inner.dispatch(i);
        }
    }

    /// A server and a connection slot on it for `req`, avoiding `avoid` (a server that just
    /// failed) when another will do. Waits in a queue when `maxconn` is reached.
    pub async fn acquire(
        &self,
        req: &dyn LbRequest,
        avoid: Option<&Arc<ServerState>>,
    ) -> Result<ServerGuard, AcquireError> {
        let inner = &self.inner;
        // Only a server of this backend can be avoided (it knows its own rank).
        let avoid = avoid.and_then(|a| {
            inner
                .servers
                .get(a.index)
                .filter(|s| Arc::ptr_eq(s, a))
                .map(|_| a.index)
        });
        match inner.lb.pick(&inner.servers, req, avoid) {
            Pick::NoServer => {
                inner.no_server.fetch_add(1, Ordering::Relaxed);
                Err(AcquireError::NoServer)
            }
            Pick::Server(i) => {
                let s = &inner.servers[i];
                if s.has_free_slot() && s.try_take() {
                    return Ok(self.guard(i));
                }
                if inner.lb.queues_on_server() {
                    self.queue_on_server(i).await
                } else {
                    self.queue_on_backend(req, avoid).await
                }
            }
            Pick::AllFull => self.queue_on_backend(req, avoid).await,
        }
    }

    fn guard(&self, i: usize) -> ServerGuard {
        self.inner.lb.on_load_change(&self.inner.servers[i]);
        ServerGuard {
            inner: self.inner.clone(),
            idx: i,
        }
    }

    async fn queue_on_server(&self, i: usize) -> Result<ServerGuard, AcquireError> {
        let inner = &self.inner;
        let s = &inner.servers[i];
        let (tx, rx) = oneshot::channel();
        let seq = {
            let mut q = lock(&inner.queues);
            if s.maxqueue > 0 && s.queued() >= s.maxqueue {
                s.count_queue_error();
                return Err(AcquireError::QueueFull {
                    server: s.name.clone(),
                });
            }
            // Announce the wait before the last try: a release that misses this count has
            // already freed its slot, which the try below then sees.
            s.queued.fetch_add(1, Ordering::SeqCst);
            if q.servers[i].is_empty() && s.try_take() {
                dec(&s.queued);
                return Ok(self.guard(i));
            }
            q.seq += 1;
            let seq = q.seq;
            q.servers[i].push_back(Waiter { seq, tx });
            seq
        };
        self.wait(rx, Some(i), seq).await
    }

    async fn queue_on_backend(
        &self,
        req: &dyn LbRequest,
        avoid: Option<usize>,
    ) -> Result<ServerGuard, AcquireError> {
        let inner = &self.inner;
        let (tx, rx) = oneshot::channel();
        let seq = {
            let mut q = lock(&inner.queues);
            inner.be_queued.fetch_add(1, Ordering::SeqCst);
            if q.backend.is_empty() {
                match inner.lb.pick(&inner.servers, req, avoid) {
                    Pick::Server(i) if inner.servers[i].try_take() => {
                        dec(&inner.be_queued);
                        return Ok(self.guard(i));
                    }
                    Pick::NoServer => {
                        dec(&inner.be_queued);
                        inner.no_server.fetch_add(1, Ordering::Relaxed);
                        return Err(AcquireError::NoServer);
                    }
                    _ => {}
                }
            }
            q.seq += 1;
            let seq = q.seq;
            q.backend.push_back(Waiter { seq, tx });
            seq
        };
        self.wait(rx, None, seq).await
    }

    async fn wait(
        &self,
        rx: oneshot::Receiver<usize>,
        server: Option<usize>,
        seq: u64,
    ) -> Result<ServerGuard, AcquireError> {
        let mut pending = Pending {
            inner: &self.inner,
            server,
            seq,
            rx,
            done: false,
        };
        let got = match self.inner.queue_timeout {
            Some(d) => tokio::time::timeout(d, &mut pending.rx).await.ok(),
            None => Some((&mut pending.rx).await),
        };
        match got {
            Some(Ok(i)) => {
                pending.done = true;
                Ok(ServerGuard {
                    inner: self.inner.clone(),
                    idx: i,
                })
            }
            // The sender went away without a slot: cannot happen while the backend lives.
            Some(Err(_)) => {
                pending.done = true;
                Err(AcquireError::NoServer)
            }
            None => {
                // Timed out; a slot handed over at the very last moment is still taken.
                if let Some(i) = pending.cancel() {
                    return Ok(ServerGuard {
                        inner: self.inner.clone(),
                        idx: i,
                    });
                }
                let name = server.map(|i| {
                    let s = &self.inner.servers[i];
                    s.count_queue_error();
                    s.name.clone()
                });
                Err(AcquireError::QueueTimeout { server: name })
            }
        }
    }

    /// Whether the next attempt after failed connect number `failed_attempts` (1 for the
    /// first failure) to `srv` goes to the same server, another one, or nowhere.
    ///
    /// As haproxy: `retries` more attempts after the first; with `option redispatch [N]` the
    /// attempt moves to another server when the server is no longer usable, on every N-th
    /// retry (N > 0), on the (-N)-th retry before the last (N < 0; plain `option redispatch`
    /// is -1: the last retry), and on every retry when the choice is not persistent
    /// (`direct` false), more than one active server is usable and the algorithm is a round
    /// robin kind (roundrobin, static-rr, random), since any server will then do.
    pub fn after_connect_failure(
        &self,
        srv: &ServerState,
        failed_attempts: u32,
        direct: bool,
    ) -> RetryDecision {
        let inner = &self.inner;
        if failed_attempts > inner.retries {
            return RetryDecision::GiveUp;
        }
        let Some(after) = inner.redispatch.filter(|&n| n != 0) else {
            return RetryDecision::SameServer;
        };
        let k = i64::from(failed_attempts);
        let every = if after > 0 {
            k % i64::from(after) == 0
        } else {
            let period = i64::from(inner.retries) + 1 + i64::from(after);
            period > 0 && k % period == 0
        };
        let rr_kind = matches!(
            inner.lb.balance(),
            Balance::RoundRobin | Balance::StaticRr | Balance::Random { .. }
        );
        let active = inner
            .servers
            .iter()
            .filter(|s| !s.backup && s.usable())
            .count();
        if !srv.usable() || every || (!direct && active > 1 && rr_kind) {
            RetryDecision::Redispatch
        } else {
            RetryDecision::SameServer
        }
    }
}

impl Inner {
    /// Frees a slot of server `i` and lets the oldest eligible waiter have it.
    fn release(&self, i: usize) {
        let s = &self.servers[i];
        s.cur.fetch_sub(1, Ordering::SeqCst);
        self.lb.on_load_change(s);
        // The common case: nobody waits, nothing more to do.
        if s.queued.load(Ordering::SeqCst) == 0 && self.be_queued.load(Ordering::SeqCst) == 0 {
            return;
        }
        self.dispatch(i);
    }

    /// Hands free slots of server `i` to waiters, oldest first (its own queue, and the
    /// backend's when the balancer may use it).
    fn dispatch(&self, i: usize) {
        let Some(s) = self.servers.get(i) else { return };
        if s.queued.load(Ordering::SeqCst) == 0 && self.be_queued.load(Ordering::SeqCst) == 0 {
            return;
        }
        let for_backend = self.lb.snapshot().group.contains(&i);
        let mut q = lock(&self.queues);
        loop {
            if !s.try_reserve() {
                break;
            }
            let Some((w, from_backend)) = q.pop_for(i, for_backend) else {
                s.cur.fetch_sub(1, Ordering::SeqCst);
                break;
            };
            dec(if from_backend {
                &self.be_queued
            } else {
                &s.queued
            });
            if w.tx.send(i).is_ok() {
                s.count_taken();
                self.lb.on_load_change(s);
            } else {
                s.cur.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

/// A waiting request; leaving its queue when dropped (client gone, timeout) keeps the queues
/// free of dead entries, which would otherwise hold servers back.
struct Pending<'a> {
    inner: &'a Arc<Inner>,
    server: Option<usize>,
    seq: u64,
    rx: oneshot::Receiver<usize>,
    done: bool,
}

impl Pending<'_> {
    /// Leaves the queue. Returns the server whose slot was handed over meanwhile, if any.
    fn cancel(&mut self) -> Option<usize> {
        if self.done {
            return None;
        }
        self.done = true;
        let removed = {
            let mut q = lock(&self.inner.queues);
            q.remove(self.server, self.seq)
        };
        if let Some(from) = removed {
            match from {
                Some(i) => dec(&self.inner.servers[i].queued),
                None => dec(&self.inner.be_queued),
            }
            None
        } else {
            // Popped by a dispatcher under the lock, so its send is complete.
            self.rx.try_recv().ok()
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.cancel() {
            self.inner.release(i);
        }
    }
}

/// A connection slot on a server; dropping it frees the slot and serves the next waiter.
pub struct ServerGuard {
    inner: Arc<Inner>,
    idx: usize,
}

impl ServerGuard {
    /// The server.
    pub fn server(&self) -> &Arc<ServerState> {
        &self.inner.servers[self.idx]
    }
}

impl fmt::Debug for ServerGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ServerGuard")
            .field(&self.server().name)
            .finish()
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.inner.release(self.idx);
    }
}

/// Locks a mutex, going on with the data if a thread panicked while holding it: the queues
/// stay consistent between statements, and refusing all traffic would be worse.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
