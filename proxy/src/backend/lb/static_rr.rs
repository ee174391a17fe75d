//! `balance static-rr` (haproxy's `map_get_server_rr`): walks the weighted map table in order.
//! Also the fallback of map-based hashing when a request has no key.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{free, Pick, Snapshot};
use crate::backend::server::ServerState;

/// Next server of the table from `cursor`, skipping full servers and `avoid` (which is still
/// returned when it is the only one with room, as haproxy does).
pub fn pick(
    snap: &Snapshot,
    cursor: &AtomicUsize,
    servers: &[Arc<ServerState>],
    avoid: Option<usize>,
) -> Pick {
    let n = snap.table.len();
    if n == 0 {
        return Pick::NoServer;
    }
    loop {
        let start = cursor.load(Ordering::Acquire);
        // The cursor survives rebuilds (as haproxy's rr_idx): bring it back into the table.
        let base = if start >= n { 0 } else { start };
        let mut avoided = None;
        let mut found = None;
        for k in 0..n {
            let idx = (base + k) % n;
            let s = snap.table[idx] as usize;
            if free(servers, s) {
                if Some(s) != avoid {
                    found = Some((s, idx + 1));
                    break;
                }
                if avoided.is_none() {
                    avoided = Some((s, idx + 1));
                }
            }
        }
        let Some((s, next)) = found.or(avoided) else {
            return Pick::AllFull;
        };
        // Lock-free advance: if another thread moved the cursor meanwhile, start again from
        // its position so that two requests do not take the same turn.
        if cursor
            .compare_exchange(start, next, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Pick::Server(s);
        }
    }
}
