//! Waiting lines for connection slots (haproxy's pendconns).
//!
//! A request waits in a server's queue when it must go to that server (hash-based choice) and
//! the server is at its `maxconn`, or in the backend's queue when every usable server is full;
//! whichever server frees a slot first serves the oldest of its own waiters and the
//! backend's. The queues live under one mutex that only the slow path takes: a release looks
//! at two atomic counters and goes no further while nobody waits.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::oneshot;

/// One waiting request: it is handed the index of the server whose slot it now holds.
#[derive(Debug)]
pub(crate) struct Waiter {
    pub(crate) seq: u64,
    pub(crate) tx: oneshot::Sender<usize>,
}

/// Every queue of a backend.
#[derive(Debug)]
pub(crate) struct Queues {
    /// Arrival counter: the order between server and backend queues.
    pub(crate) seq: u64,
    /// Per-server queues, by server index.
    pub(crate) servers: Vec<VecDeque<Waiter>>,
    /// The backend queue.
    pub(crate) backend: VecDeque<Waiter>,
}

impl Queues {
    pub(crate) fn new(n: usize) -> Self {
        Queues {
            seq: 0,
            servers: (0..n).map(|_| VecDeque::new()).collect(),
            backend: VecDeque::new(),
        }
    }

    /// Removes waiter `seq`, looking in queue `server` first, then in the backend queue (where
    /// a down server's waiters are moved). Returns the queue it was in: `Some(None)` for the
    /// backend's, `None` when it is no longer queued.
    pub(crate) fn remove(&mut self, server: Option<usize>, seq: u64) -> Option<Option<usize>> {
        if let Some(i) = server {
            if let Some(q) = self.servers.get_mut(i) {
                if let Some(p) = q.iter().position(|w| w.seq == seq) {
                    q.remove(p);
                    return Some(Some(i));
                }
            }
        }
        let p = self.backend.iter().position(|w| w.seq == seq)?;
        self.backend.remove(p);
        Some(None)
    }

    /// Moves every waiter of server `i` to the backend queue, keeping arrival order, and
    /// returns how many moved (haproxy's `pendconn_redistribute`).
    pub(crate) fn redistribute(&mut self, i: usize) -> usize {
        let Some(q) = self.servers.get_mut(i) else {
            return 0;
        };
        let moved: Vec<Waiter> = q.drain(..).collect();
        let n = moved.len();
        if n > 0 {
            let mut all: Vec<Waiter> = self.backend.drain(..).chain(moved).collect();
            all.sort_by_key(|w| w.seq);
            self.backend = all.into();
        }
        n
    }

    /// Pops the oldest waiter server `i` may serve: its own, or the backend's when `usable`.
    /// Returns the waiter and whether it came from the backend queue.
    pub(crate) fn pop_for(&mut self, i: usize, usable: bool) -> Option<(Waiter, bool)> {
        let own = self.servers.get(i).and_then(|q| q.front()).map(|w| w.seq);
        let be = if usable {
            self.backend.front().map(|w| w.seq)
        } else {
            None
        };
        match (own, be) {
            (Some(a), Some(b)) if b < a => self.backend.pop_front().map(|w| (w, true)),
            (Some(_), _) => self
                .servers
                .get_mut(i)
                .and_then(|q| q.pop_front())
                .map(|w| (w, false)),
            (None, Some(_)) => self.backend.pop_front().map(|w| (w, true)),
            (None, None) => None,
        }
    }
}

/// Decrements a waiting counter without wrapping below zero.
pub(crate) fn dec(c: &AtomicU32) {
    let _ = c.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1));
}
