//! `balance leastconn` (haproxy's lb_fwlc.c): the server with the lowest load relative to its
//! weight; equally loaded servers take turns.
//!
//! haproxy keys its tree on `(inflight + 1) * SRV_EWGHT_MAX / eweight` (0 when idle) and
//! requeues a server behind its equals whenever its load changes, which is a round robin among
//! ties. Here each take/release stamps the server from a clock and ties go to the oldest
//! stamp: the same order, with a scan instead of a locked tree.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Pick, Snapshot, SRV_EWGHT_MAX};
use crate::backend::server::ServerState;

/// haproxy's tree key for a server with `inflight` connections (served + queued).
pub fn load_key(inflight: u32, eweight: u32) -> u64 {
    if inflight == 0 || eweight == 0 {
        0
    } else {
        (u64::from(inflight) + 1) * u64::from(SRV_EWGHT_MAX) / u64::from(eweight)
    }
}

/// The least loaded server with a free slot, `avoid` only when nothing else has room.
pub fn pick(snap: &Snapshot, servers: &[Arc<ServerState>], avoid: Option<usize>) -> Pick {
    let mut best: Option<(u64, u64, usize)> = None;
    let mut avoided = None;
    for (&i, &w) in snap.group.iter().zip(&snap.eweights) {
        let Some(s) = servers.get(i) else { continue };
        if !s.has_free_slot() {
            continue;
        }
        if Some(i) == avoid {
            avoided = Some(i);
            continue;
        }
        let inflight = s.current().saturating_add(s.queued());
        let rank = (load_key(inflight, w), s.lc_stamp.load(Ordering::Relaxed), i);
        if best.is_none_or(|b| (rank.0, rank.1) < (b.0, b.1)) {
            best = Some(rank);
        }
    }
    match (best, avoided) {
        (Some((_, _, i)), _) => Pick::Server(i),
        (None, Some(i)) => Pick::Server(i),
        (None, None) => Pick::AllFull,
    }
}
