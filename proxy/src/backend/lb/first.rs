//! `balance first` (haproxy's lb_fas.c): the usable server with the lowest id that still has
//! a free connection slot, so that the others can be switched off when idle.

use std::sync::Arc;

use super::{free, Pick, Snapshot};
use crate::backend::server::ServerState;

/// First server by id with room (`group` is sorted by id), `avoid` only as a last resort.
pub fn pick(snap: &Snapshot, servers: &[Arc<ServerState>], avoid: Option<usize>) -> Pick {
    let mut avoided = None;
    for &i in &snap.group {
        if free(servers, i) {
            if Some(i) != avoid {
                return Pick::Server(i);
            }
            avoided = Some(i);
        }
    }
    avoided.map_or(Pick::AllFull, Pick::Server)
}
