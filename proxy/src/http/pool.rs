//! Idle server connections, kept per worker thread (a connection lives on one thread, so the
//! pool needs no lock) and per server.

use std::cell::RefCell;
use std::collections::HashMap;

use hyper::client::conn::http1::SendRequest;

use super::body::ProxyBody;

/// How many connections per server a thread keeps around.
const MAX_PER_SERVER: usize = 64;

/// An idle connection and its socket's descriptor (for `-d` traces).
type Idle = (SendRequest<ProxyBody>, i32);

thread_local! {
    static POOL: RefCell<HashMap<usize, Vec<Idle>>> = RefCell::new(HashMap::new());
}

/// A server's identity in the pool (its state's address, stable for the process lifetime).
pub type Key = usize;

/// Takes an idle connection to the server (with its socket's descriptor, for traces),
/// dropping the ones the server closed meanwhile.
pub fn take(key: Key) -> Option<Idle> {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        let list = p.get_mut(&key)?;
        list.retain(|(s, _)| !s.is_closed());
        // Connections still streaming a previous response are not idle yet: skip them.
        let i = list.iter().rposition(|(s, _)| s.is_ready())?;
        Some(list.swap_remove(i))
    })
}

/// Returns a connection for later requests (it becomes usable once its response ends).
pub fn put(key: Key, sender: SendRequest<ProxyBody>, fd: i32) {
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        let list = p.entry(key).or_default();
        if list.len() >= MAX_PER_SERVER {
            list.retain(|(s, _)| !s.is_closed());
            if list.len() >= MAX_PER_SERVER {
                list.remove(0);
            }
        }
        list.push((sender, fd));
    })
}
