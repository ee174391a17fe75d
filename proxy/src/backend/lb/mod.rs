//! Load-balancing algorithms: which server gets the next connection or request.
//!
//! Every state change (weight, admin or operational state) builds a new immutable [`Snapshot`]
//! of the usable servers and the precomputed tables of the algorithm; it is swapped in
//! atomically. Picking a server reads the current snapshot, a few atomics (cursors, load
//! counters) and takes no lock and allocates nothing.
//!
//! The server group follows haproxy: the usable active servers; when there is none, the
//! first usable backup (declaration order), or every usable backup with `option allbackups`.

pub mod chash;
pub mod first;
pub mod hash;
pub mod hdr;
pub mod leastconn;
pub mod map;
pub mod random;
pub mod roundrobin;
pub mod source;
pub mod static_rr;
pub mod uri;
pub mod url_param;

#[cfg(test)]
pub(crate) mod tests;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::server::ServerState;
use crate::config::model::{Balance, HashMethod, HashType};

/// What the balancer may look at in a request. TCP mode only has the source address.
///
/// `Sync` so that `&dyn LbRequest` can be held across the queue wait of
/// [`Backend::acquire`](crate::backend::Backend::acquire) in a `Send` future.
pub trait LbRequest: Sync {
    /// The client's address (`None` for unix-socket clients).
    fn src(&self) -> Option<IpAddr>;
    /// The request target as received (origin-form `/p?q` or absolute-form), HTTP only.
    fn uri(&self) -> Option<&[u8]>;
    /// The first value of header `name` (case-insensitive name), HTTP only.
    fn header(&self, name: &str) -> Option<&[u8]>;
}

/// A request that only has a source address: TCP mode, or a client on a unix socket (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SrcOnly(pub Option<IpAddr>);

impl LbRequest for SrcOnly {
    fn src(&self) -> Option<IpAddr> {
        self.0
    }
    fn uri(&self) -> Option<&[u8]> {
        None
    }
    fn header(&self, _name: &str) -> Option<&[u8]> {
        None
    }
}

/// The result of a pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// This server (index in the backend's server list).
    Server(usize),
    /// Servers are usable but every one is at its `maxconn`: queue in the backend.
    AllFull,
    /// No usable server at all (haproxy's 503 "no server available").
    NoServer,
}

/// Immutable view of the servers the balancer may use, rebuilt on every state change.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Usable servers of the group in use (declaration order; by id for `first`).
    pub(crate) group: Vec<usize>,
    /// Effective weight of each `group` member, in the algorithm's own scale.
    pub(crate) eweights: Vec<u32>,
    /// Map-based table (map hashing, static-rr) or the fwrr order (roundrobin).
    pub(crate) table: Vec<u32>,
    /// roundrobin: `table[..rr_prefix]` is played once, then `table[rr_prefix..]` cycles.
    pub(crate) rr_prefix: usize,
    /// roundrobin: position in `table`; a new snapshot restarts the order.
    pub(crate) rr_cursor: AtomicUsize,
    /// Consistent-hash ring: (key, server index) sorted by key then insertion order.
    pub(crate) ring: Vec<(u32, u32)>,
}

/// The balancing algorithm of a backend, with its current snapshot and cursors.
#[derive(Debug)]
pub struct Lb {
    balance: Balance,
    hash_type: HashType,
    allbackups: bool,
    /// map-based tables divide every weight by the GCD of the configured weights, as
    /// haproxy's `init_server_map` does once at startup; the modulo depends on it.
    map_gcd: u32,
    snap: ArcSwap<Snapshot>,
    /// static-rr and the map-based round-robin fallback: next table index (haproxy `rr_idx`).
    map_cursor: AtomicUsize,
    /// Consistent-hash round-robin fallback: last ring index used (haproxy `chash.last`).
    ring_cursor: AtomicUsize,
    /// leastconn: the clock stamping each take/release (tie-break order).
    lc_clock: AtomicU64,
}

/// Which lookup a hash-based algorithm uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    Map,
    Ring,
}

impl Lb {
    /// The balancer for `balance` + `hash-type`; `initial_weights` are the configured weights
    /// of every server (they fix the map-based GCD). Call [`Lb::rebuild`] before picking.
    pub fn new(
        balance: &Balance,
        hash_type: HashType,
        allbackups: bool,
        initial_weights: &[u32],
    ) -> Self {
        Lb {
            balance: balance.clone(),
            hash_type,
            allbackups,
            map_gcd: map::weights_gcd(initial_weights),
            snap: ArcSwap::from_pointee(Snapshot::default()),
            map_cursor: AtomicUsize::new(0),
            ring_cursor: AtomicUsize::new(usize::MAX),
            lc_clock: AtomicU64::new(initial_weights.len() as u64),
        }
    }

    /// The algorithm.
    pub fn balance(&self) -> &Balance {
        &self.balance
    }

    /// Whether the server depends on the request (hash-based algorithms): such a request
    /// waits in the chosen server's queue instead of the backend's when the server is full.
    pub fn is_deterministic(&self) -> bool {
        matches!(
            self.balance,
            Balance::Source | Balance::Uri { .. } | Balance::UrlParam { .. } | Balance::Hdr { .. }
        )
    }

    /// Whether a request whose chosen server is full waits in that server's queue: haproxy
    /// queues there whenever the algorithm returned a full server, which only hash-based
    /// algorithms and `random` do (the others skip full servers and, when all are full,
    /// leave the request to the backend queue).
    pub fn queues_on_server(&self) -> bool {
        self.is_deterministic() || matches!(self.balance, Balance::Random { .. })
    }

    fn lookup(&self) -> Lookup {
        match self.balance {
            // haproxy always runs `random` on the consistent-hash tree, and static-rr on the
            // map whatever `hash-type` says.
            Balance::Random { .. } => Lookup::Ring,
            Balance::StaticRr => Lookup::Map,
            _ if self.hash_type.method == HashMethod::Consistent => Lookup::Ring,
            _ => Lookup::Map,
        }
    }

    /// The current snapshot (for stats and tests).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snap.load_full()
    }

    /// Rebuilds the snapshot from the servers' current state and swaps it in. Callers
    /// serialise rebuilds (the backend holds a mutex); pickers never wait for it.
    pub fn rebuild(&self, servers: &[Arc<ServerState>]) {
        let mut group: Vec<usize> = servers
            .iter()
            .filter(|s| !s.backup && s.usable())
            .map(|s| s.index)
            .collect();
        if group.is_empty() {
            let backups = servers.iter().filter(|s| s.backup && s.usable());
            group = if self.allbackups {
                backups.map(|s| s.index).collect()
            } else {
                // haproxy's `fbck`: only the first usable backup takes traffic.
                backups.take(1).map(|s| s.index).collect()
            };
        }
        if matches!(self.balance, Balance::First) {
            group.sort_by_key(|&i| servers[i].id);
        }
        let uweights: Vec<u32> = group.iter().map(|&i| servers[i].weight()).collect();
        let mut snap = Snapshot {
            group,
            ..Snapshot::default()
        };
        match self.balance {
            Balance::RoundRobin => {
                snap.eweights = uweights.iter().map(|w| w * BE_WEIGHT_SCALE).collect();
                let (order, prefix) = roundrobin::fwrr_order(&snap.eweights);
                snap.table = order.iter().map(|&k| snap.group[k] as u32).collect();
                snap.rr_prefix = prefix;
            }
            Balance::LeastConn => {
                snap.eweights = uweights.iter().map(|w| w * BE_WEIGHT_SCALE).collect();
            }
            Balance::First => snap.eweights = uweights,
            _ => match self.lookup() {
                Lookup::Map => {
                    snap.eweights = uweights
                        .iter()
                        .map(|w| w.div_ceil(self.map_gcd.max(1)))
                        .collect();
                    snap.table = map::build(&snap.eweights)
                        .into_iter()
                        .map(|k| snap.group[k] as u32)
                        .collect();
                }
                Lookup::Ring => {
                    snap.eweights = uweights.iter().map(|w| w * BE_WEIGHT_SCALE).collect();
                    let members: Vec<(u32, u32, u32)> = snap
                        .group
                        .iter()
                        .zip(&snap.eweights)
                        .map(|(&i, &w)| (i as u32, servers[i].id, w))
                        .collect();
                    snap.ring = chash::build(&members);
                }
            },
        }
        self.snap.store(Arc::new(snap));
    }

    /// Chooses a server for `req`, avoiding `avoid` (the server that just failed) when another
    /// one will do.
    pub fn pick(
        &self,
        servers: &[Arc<ServerState>],
        req: &dyn LbRequest,
        avoid: Option<usize>,
    ) -> Pick {
        let snap = self.snap.load();
        if snap.group.is_empty() {
            return Pick::NoServer;
        }
        match &self.balance {
            Balance::RoundRobin => roundrobin::pick(&snap, servers, avoid),
            Balance::StaticRr => static_rr::pick(&snap, &self.map_cursor, servers, avoid),
            Balance::LeastConn => leastconn::pick(&snap, servers, avoid),
            Balance::First => first::pick(&snap, servers, avoid),
            Balance::Random { draws } => random::pick(&snap, servers, *draws, avoid),
            Balance::Source => {
                let key = req.src().map(source::hash);
                self.by_key(&snap, servers, key, avoid)
            }
            Balance::Uri {
                len,
                depth,
                whole,
                path_only,
            } => {
                let key = req
                    .uri()
                    .map(|u| uri::key(u, *len, *depth, *whole, *path_only))
                    .map(|k| hash::key_hash(&self.hash_type, k));
                self.by_key(&snap, servers, key, avoid)
            }
            Balance::UrlParam { name } => {
                let key = req
                    .uri()
                    .and_then(|u| url_param::value(u, name.as_bytes()))
                    .map(|k| hash::key_hash(&self.hash_type, k));
                self.by_key(&snap, servers, key, avoid)
            }
            Balance::Hdr {
                name,
                use_domain_only,
            } => {
                // An absent header falls back to round robin (checked against haproxy 2.6).
                let key = req
                    .header(name)
                    .map(|v| hdr::key(v, *use_domain_only))
                    .map(|k| hash::key_hash(&self.hash_type, k));
                self.by_key(&snap, servers, key, avoid)
            }
        }
    }

    /// A hash lookup, or haproxy's round-robin fallback when the request has no key. Ring
    /// lookups spread the key with `full_hash` first (source addresses included; they are
    /// never run through the hash function itself).
    fn by_key(
        &self,
        snap: &Snapshot,
        servers: &[Arc<ServerState>],
        key: Option<u32>,
        avoid: Option<usize>,
    ) -> Pick {
        match (self.lookup(), key) {
            (Lookup::Map, Some(h)) => map::lookup(snap, h),
            (Lookup::Ring, Some(h)) => chash::lookup(snap, hash::full_hash(h), avoid),
            (Lookup::Map, None) => static_rr::pick(snap, &self.map_cursor, servers, avoid),
            (Lookup::Ring, None) => chash::next(snap, &self.ring_cursor, servers, avoid),
        }
    }

    /// Bookkeeping when a connection slot of `srv` is taken or released (leastconn order).
    pub(crate) fn on_load_change(&self, srv: &ServerState) {
        if matches!(self.balance, Balance::LeastConn) {
            let t = self.lc_clock.fetch_add(1, Ordering::Relaxed);
            srv.lc_stamp.store(t, Ordering::Relaxed);
        }
    }
}

/// haproxy's `BE_WEIGHT_SCALE`: effective weights are user weights times 16 for the dynamic
/// algorithms, which keeps their arithmetic (and thus their order) identical to haproxy's.
pub(crate) const BE_WEIGHT_SCALE: u32 = 16;
/// haproxy's `SRV_EWGHT_MAX` (256 * 16).
pub(crate) const SRV_EWGHT_MAX: u32 = 256 * BE_WEIGHT_SCALE;

/// A server may take one more connection right now and is not the one to avoid.
pub(crate) fn free(servers: &[Arc<ServerState>], i: usize) -> bool {
    servers.get(i).is_some_and(|s| s.has_free_slot())
}
