//! Consistent hashing (haproxy's lb_chash.c): each server owns `weight * 16` points on a
//! 32-bit ring at `full_hash(id * 4096 + n)`; a key goes to the closest point (the previous one
//! on a tie). Same points and same rule as haproxy, hence the same server for a key.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{free, Pick, Snapshot};
use crate::backend::lb::hash::full_hash;
use crate::backend::server::ServerState;

/// haproxy's `SRV_EWGHT_RANGE`: spacing of the point ranks of consecutive server ids.
const SRV_EWGHT_RANGE: u32 = 256 * 16;

/// The ring for members `(server index, server id, effective weight = points)`, sorted by key;
/// equal keys keep insertion order, as in haproxy's ebtree.
pub fn build(members: &[(u32, u32, u32)]) -> Vec<(u32, u32)> {
    let mut ring: Vec<(u32, u32)> = Vec::new();
    for &(idx, id, points) in members {
        for node in 0..points {
            ring.push((
                full_hash(id.wrapping_mul(SRV_EWGHT_RANGE).wrapping_add(node)),
                idx,
            ));
        }
    }
    // A stable sort keeps insertion order among equal keys.
    ring.sort_by_key(|&(k, _)| k);
    ring
}

/// `chash_get_server_hash`: the closest point to `hash`; walks on when it is `avoid`.
pub fn lookup(snap: &Snapshot, hash: u32, avoid: Option<usize>) -> Pick {
    let ring = &snap.ring;
    let n = ring.len();
    if n == 0 {
        return Pick::NoServer;
    }
    // First point >= hash (the first of equal keys), wrapping to the start.
    let ge = ring.partition_point(|&(k, _)| k < hash);
    let next = if ge == n { 0 } else { ge };
    let prev = if next == 0 { n - 1 } else { next - 1 };
    let dp = hash.wrapping_sub(ring[prev].0);
    let dn = ring[next].0.wrapping_sub(hash);
    let mut at = if dp <= dn { prev } else { next };
    if let Some(a) = avoid {
        // Walk forward to the next point of another server (once around at most).
        for _ in 0..n {
            if ring[at].1 as usize != a {
                break;
            }
            at = (at + 1) % n;
        }
    }
    Pick::Server(ring[at].1 as usize)
}

/// `chash_get_next_server`: round robin over the ring's points, skipping full servers; the
/// fallback when the request carries no key.
pub fn next(
    snap: &Snapshot,
    cursor: &AtomicUsize,
    servers: &[Arc<ServerState>],
    avoid: Option<usize>,
) -> Pick {
    let ring = &snap.ring;
    let n = ring.len();
    if n == 0 {
        return Pick::NoServer;
    }
    loop {
        let last = cursor.load(Ordering::Acquire);
        let mut avoided = None;
        let mut found = None;
        for k in 1..=n {
            let at = if last >= n { k - 1 } else { (last + k) % n };
            let s = ring[at].1 as usize;
            if free(servers, s) {
                if Some(s) != avoid {
                    found = Some((s, at));
                    break;
                }
                avoided.get_or_insert((s, at));
            }
        }
        let Some((s, at)) = found.or(avoided) else {
            return Pick::AllFull;
        };
        if cursor
            .compare_exchange(last, at, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Pick::Server(s);
        }
    }
}
