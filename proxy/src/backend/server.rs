//! Runtime state of one server, shared by every worker thread.
//!
//! Everything the per-request path touches is an atomic. Administrative state (what the
//! operator asked: ready, drain, maintenance) and operational state (what health checks see:
//! up, down) are kept apart as haproxy does, because they are driven by different actors and
//! a server only takes new traffic when both agree.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

use crate::config::model::{self, ServerAddr};

/// What the operator asked for a server (`disabled`, `set server state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminState {
    /// Takes traffic.
    Ready,
    /// Finishes what it has and keeps persistent clients, but the balancer picks it no more.
    Drain,
    /// Maintenance: no traffic at all.
    Maint,
}

/// What health checks (or the runtime API) say about a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperState {
    /// Reachable.
    Up,
    /// Failed its checks.
    Down,
}

impl AdminState {
    fn to_u8(self) -> u8 {
        match self {
            AdminState::Ready => 0,
            AdminState::Drain => 1,
            AdminState::Maint => 2,
        }
    }
    fn from_u8(v: u8) -> Self {
        match v {
            0 => AdminState::Ready,
            1 => AdminState::Drain,
            _ => AdminState::Maint,
        }
    }
}

/// Runtime state of a server: its configuration plus live counters.
#[derive(Debug)]
pub struct ServerState {
    /// `server` name.
    pub name: String,
    /// Numeric id (`id`, or the declaration rank from 1).
    pub id: u32,
    /// Where to connect.
    pub addr: ServerAddr,
    /// `backup`.
    pub backup: bool,
    /// `maxconn` (0 = unlimited).
    pub maxconn: u32,
    /// `maxqueue` (0 = unlimited).
    pub maxqueue: u32,
    /// Rank in the backend's server list (declaration order).
    pub(crate) index: usize,
    /// Weight as configured, the reference for percentages (`set weight 50%`).
    initial_weight: u32,
    /// Current user weight (0..=256).
    weight: AtomicU32,
    admin: AtomicU8,
    oper_up: AtomicU8,
    /// Connections currently held (one per `ServerGuard`).
    pub(crate) cur: AtomicU32,
    /// Requests waiting in this server's own queue.
    pub(crate) queued: AtomicU32,
    /// Connections ever handed out.
    total: AtomicU64,
    /// Highest `cur` seen.
    max_seen: AtomicU32,
    /// Connect failures reported by the data path.
    failed: AtomicU64,
    /// Requests that timed out or were refused in this server's queue.
    queue_errors: AtomicU64,
    /// leastconn tie-break: the time the server was last taken or released. haproxy requeues a
    /// server at the end of its equal-load peers on each change; ordering on this stamp gives
    /// the same round robin among equally loaded servers.
    pub(crate) lc_stamp: AtomicU64,
}

impl ServerState {
    /// Runtime state for a configured server; `index` is its rank in the backend.
    pub fn new(s: &model::Server, index: usize) -> Self {
        ServerState {
            name: s.name.clone(),
            id: s.id,
            addr: s.addr.clone(),
            backup: s.backup,
            maxconn: s.maxconn,
            maxqueue: s.maxqueue,
            index,
            initial_weight: s.weight,
            weight: AtomicU32::new(s.weight.min(256)),
            admin: AtomicU8::new(if s.disabled {
                AdminState::Maint.to_u8()
            } else {
                AdminState::Ready.to_u8()
            }),
            oper_up: AtomicU8::new(1),
            cur: AtomicU32::new(0),
            queued: AtomicU32::new(0),
            total: AtomicU64::new(0),
            max_seen: AtomicU32::new(0),
            failed: AtomicU64::new(0),
            queue_errors: AtomicU64::new(0),
            lc_stamp: AtomicU64::new(index as u64),
        }
    }

    /// Current user weight.
    pub fn weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }
    /// Configured weight.
    pub fn initial_weight(&self) -> u32 {
        self.initial_weight
    }
    /// Administrative state.
    pub fn admin(&self) -> AdminState {
        AdminState::from_u8(self.admin.load(Ordering::Acquire))
    }
    /// Operational state.
    pub fn oper(&self) -> OperState {
        if self.oper_up.load(Ordering::Acquire) != 0 {
            OperState::Up
        } else {
            OperState::Down
        }
    }
    /// Connections currently held.
    pub fn current(&self) -> u32 {
        self.cur.load(Ordering::Relaxed)
    }
    /// Requests waiting in this server's queue.
    pub fn queued(&self) -> u32 {
        self.queued.load(Ordering::Relaxed)
    }
    /// Connections ever handed out.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
    /// Highest number of concurrent connections seen.
    pub fn max_seen(&self) -> u32 {
        self.max_seen.load(Ordering::Relaxed)
    }
    /// Connect failures recorded with [`ServerState::record_connect_failure`].
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
    /// Requests that failed in this server's queue (full or timed out).
    pub fn queue_errors(&self) -> u64 {
        self.queue_errors.load(Ordering::Relaxed)
    }
    /// Counts a failed connect attempt (for stats).
    pub fn record_connect_failure(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the balancer may pick this server for new traffic: ready, up and weighted
    /// (haproxy's `srv_currently_usable`).
    pub fn usable(&self) -> bool {
        self.admin() == AdminState::Ready && self.oper() == OperState::Up && self.weight() > 0
    }

    /// Whether a new connection can start now without queueing: haproxy's
    /// `!maxconn || (!nbpend && served < maxconn)`; waiters go first so the queue stays FIFO.
    pub(crate) fn has_free_slot(&self) -> bool {
        self.maxconn == 0
            || (self.queued.load(Ordering::SeqCst) == 0
                && self.cur.load(Ordering::SeqCst) < self.maxconn)
    }

    /// Takes a connection slot if `maxconn` allows it, and counts it.
    pub(crate) fn try_take(&self) -> bool {
        let taken = self.try_reserve();
        if taken {
            self.count_taken();
        }
        taken
    }

    /// Reserves a slot without counting it as a connection yet: the queue reserves one before
    /// it knows whether a waiter is still there to use it.
    pub(crate) fn try_reserve(&self) -> bool {
        if self.maxconn == 0 {
            self.cur.fetch_add(1, Ordering::SeqCst);
            true
        } else {
            self.cur
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                    (c < self.maxconn).then_some(c + 1)
                })
                .is_ok()
        }
    }

    /// Bookkeeping once a slot is held (also for slots handed over from a releasing guard).
    pub(crate) fn count_taken(&self) {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.max_seen
            .fetch_max(self.cur.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    pub(crate) fn count_queue_error(&self) {
        self.queue_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn store_weight(&self, w: u32) {
        self.weight.store(w.min(256), Ordering::Release);
    }
    pub(crate) fn store_admin(&self, a: AdminState) {
        self.admin.store(a.to_u8(), Ordering::Release);
    }
    pub(crate) fn store_oper(&self, o: OperState) {
        self.oper_up
            .store(u8::from(o == OperState::Up), Ordering::Release);
    }
}
