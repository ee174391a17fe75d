//! `balance random[(draws)]` (haproxy's `get_server_rnd`): `draws` random points on the
//! consistent-hash ring (so weights count), keeping the least loaded server drawn.

use std::cell::Cell;
use std::sync::Arc;

use super::{chash, Pick, Snapshot};
use crate::backend::server::ServerState;

thread_local! {
    /// Per-thread xorshift state: no shared cache line on the pick path.
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x9e37_79b9_7f4a_7c15);
    h.finish() | 1
}

/// A uniformly distributed 32-bit number (xorshift64*).
pub fn random_u32() -> u32 {
    RNG.with(|r| {
        let mut x = r.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    })
}

/// The least loaded (relative to weight) of `draws` servers drawn on the ring.
pub fn pick(
    snap: &Snapshot,
    servers: &[Arc<ServerState>],
    draws: u32,
    avoid: Option<usize>,
) -> Pick {
    let mut best: Option<usize> = None;
    for _ in 0..draws.max(1) {
        let Pick::Server(cur) = chash::lookup(snap, random_u32(), avoid) else {
            return Pick::NoServer;
        };
        if let Some(prev) = best {
            if prev != cur && load_cmp(servers, cur, prev) {
                continue;
            }
        }
        best = Some(cur);
    }
    best.map_or(Pick::NoServer, Pick::Server)
}

/// Whether `cur` is more loaded than `prev` relative to their weights (haproxy compares
/// `cur.inflight * prev.weight > prev.inflight * cur.weight`).
fn load_cmp(servers: &[Arc<ServerState>], cur: usize, prev: usize) -> bool {
    let (Some(c), Some(p)) = (servers.get(cur), servers.get(prev)) else {
        return false;
    };
    let lc = u64::from(c.current() + c.queued()) * u64::from(p.weight());
    let lp = u64::from(p.current() + p.queued()) * u64::from(c.weight());
    lc > lp
}
