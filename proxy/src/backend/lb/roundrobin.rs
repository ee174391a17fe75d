//! `balance roundrobin`: haproxy's fast weighted round robin (lb_fwrr.c).
//!
//! haproxy keeps servers in trees keyed by their next position and walks them under a lock.
//! Its order is a pure function of the weights as long as nobody is saturated, so the
//! snapshot rebuild runs the very same state machine once (positions, remainders, tree
//! switches, ebtree insertion order) and records the order until it repeats. Picking is then
//! one atomic increment and a table read, and the order is haproxy's.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{free, Pick, Snapshot, BE_WEIGHT_SCALE, SRV_EWGHT_MAX};
use crate::backend::server::ServerState;

/// haproxy's `SRV_UWGHT_RANGE`.
const SRV_UWGHT_RANGE: i64 = 256;
/// Upper bound of recorded picks: beyond it the order is cut (and merely cycles), which only
/// concerns backends with thousands of heavy servers.
const MAX_RECORDED: usize = 1 << 22;
/// Windows simulated while looking for the order to repeat.
const MAX_WINDOWS: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tree {
    Curr,
    T(usize),
    Nowhere,
}

struct Srv {
    w: i64,
    npos: i64,
    rweight: i64,
    tree: Tree,
    node: (i64, u64),
}

struct Group {
    srv: Vec<Srv>,
    curr: BTreeSet<(i64, u64, usize)>,
    t: [BTreeSet<(i64, u64, usize)>; 2],
    init: usize,
    next: usize,
    curr_pos: i64,
    curr_weight: i64,
    next_weight: i64,
    seq: u64,
}

impl Group {
    fn insert(&mut self, tree: Tree, key: i64, k: usize) {
        self.seq += 1;
        let node = (key, self.seq, k);
        match tree {
            Tree::Curr => self.curr.insert(node),
            Tree::T(i) => self.t[i].insert(node),
            Tree::Nowhere => false,
        };
        self.srv[k].tree = tree;
        self.srv[k].node = (key, self.seq);
    }

    fn dequeue(&mut self, k: usize) {
        let (key, seq) = self.srv[k].node;
        match self.srv[k].tree {
            Tree::Curr => self.curr.remove(&(key, seq, k)),
            Tree::T(i) => self.t[i].remove(&(key, seq, k)),
            Tree::Nowhere => false,
        };
        self.srv[k].tree = Tree::Nowhere;
    }

    /// `fwrr_queue_by_weight`: heavier servers first.
    fn queue_by_weight(&mut self, t: usize, k: usize) {
        let key = i64::from(SRV_EWGHT_MAX) - self.srv[k].w;
        self.insert(Tree::T(t), key, k);
    }

    /// `fwrr_queue_srv`.
    fn queue_srv(&mut self, k: usize) {
        let (cw, nw) = (self.curr_weight, self.next_weight);
        let s = &self.srv[k];
        if s.w <= 0 || s.npos >= 2 * cw || s.npos >= cw + nw {
            self.srv[k].npos -= cw;
            self.queue_by_weight(self.next, k);
        } else {
            let key = SRV_UWGHT_RANGE * s.npos
                + (i64::from(SRV_EWGHT_MAX) + s.rweight - s.w) / i64::from(BE_WEIGHT_SCALE);
            self.insert(Tree::Curr, key, k);
        }
    }

    /// `fwrr_get_server_from_group`. Note that haproxy returns the head of the current tree
    /// even when its position is ahead ("a hole") if the init tree is empty.
    fn head_of_group(&mut self) -> Option<usize> {
        let head = self.curr.first().map(|&(_, _, k)| k);
        if head.is_none_or(|k| self.srv[k].npos > self.curr_pos) {
            if let Some(&(_, _, k)) = self.t[self.init].first() {
                self.srv[k].npos = 0;
                self.srv[k].rweight = 0;
                return Some(k);
            }
        }
        head
    }

    /// `fwrr_update_position`.
    fn update_position(&mut self, k: usize) {
        let (cp, nw) = (self.curr_pos, self.next_weight);
        let s = &mut self.srv[k];
        if s.npos == 0 {
            s.npos = cp + nw / s.w;
        } else {
            s.npos += nw / s.w;
        }
        s.rweight += nw % s.w;
        if s.rweight >= s.w {
            s.rweight -= s.w;
            s.npos += 1;
        }
    }

    fn switch_trees(&mut self) {
        std::mem::swap(&mut self.init, &mut self.next);
        self.curr_weight = self.next_weight;
        self.curr_pos = self.curr_weight;
    }

    /// What determines the rest of the order at a tree switch: the init tree's order (the
    /// current and next trees are empty then, and extraction from init resets positions).
    fn switch_state(&self) -> Vec<usize> {
        self.t[self.init].iter().map(|&(_, _, k)| k).collect()
    }
}

/// haproxy's order for members with effective weights `eweights` (user weight * 16), as
/// member ranks: `(order, prefix)` where `order[..prefix]` is played once and
/// `order[prefix..]` repeats forever.
pub fn fwrr_order(eweights: &[u32]) -> (Vec<usize>, usize) {
    let tot: i64 = eweights.iter().map(|&w| i64::from(w)).sum();
    if tot == 0 {
        return (Vec::new(), 0);
    }
    let mut g = Group {
        srv: eweights
            .iter()
            .map(|&w| Srv {
                w: i64::from(w),
                npos: 0,
                rweight: 0,
                tree: Tree::Nowhere,
                node: (0, 0),
            })
            .collect(),
        curr: BTreeSet::new(),
        t: [BTreeSet::new(), BTreeSet::new()],
        init: 0,
        next: 1,
        curr_pos: tot,
        curr_weight: tot,
        next_weight: tot,
        seq: 0,
    };
    for (k, &w) in eweights.iter().enumerate() {
        if w > 0 {
            g.queue_by_weight(g.init, k);
        }
    }
    let mut order = Vec::new();
    let mut seen: Vec<(Vec<usize>, usize)> = vec![(g.switch_state(), 0)];
    loop {
        let k = match g.head_of_group() {
            Some(k) => k,
            None => {
                g.switch_trees();
                let state = g.switch_state();
                if let Some((_, at)) = seen.iter().find(|(s, _)| *s == state) {
                    return (order, *at);
                }
                if seen.len() >= MAX_WINDOWS {
                    return (order, 0);
                }
                seen.push((state, order.len()));
                match g.head_of_group() {
                    Some(k) => k,
                    None => return (order, 0),
                }
            }
        };
        g.update_position(k);
        g.dequeue(k);
        g.curr_pos += 1;
        g.queue_srv(k);
        order.push(k);
        if order.len() >= MAX_RECORDED {
            return (order, 0);
        }
    }
}

/// Next server in haproxy's order. A full server (or `avoid`) loses its turn to the next one
/// in the order, as haproxy skips saturated servers.
pub fn pick(snap: &Snapshot, servers: &[Arc<ServerState>], avoid: Option<usize>) -> Pick {
    let n = snap.table.len();
    let prefix = snap.rr_prefix.min(n);
    if n == 0 {
        return Pick::NoServer;
    }
    let at = |i: usize| -> usize {
        if i < prefix || n == prefix {
            i % n
        } else {
            prefix + (i - prefix) % (n - prefix)
        }
    };
    let i = snap.rr_cursor.fetch_add(1, Ordering::Relaxed);
    let mut avoided = None;
    for k in 0..n {
        let s = snap.table[at(i.wrapping_add(k))] as usize;
        if free(servers, s) {
            if Some(s) != avoid {
                return Pick::Server(s);
            }
            avoided = Some(s);
        }
    }
    avoided.map_or(Pick::AllFull, Pick::Server)
}
