//! Map-based hashing (haproxy's lb_map.c): a table where each server appears as many times as
//! its weight, spread as evenly as haproxy's `recalc_server_map` does, indexed by
//! `hash % total_weight`. Same table and same modulo as haproxy, hence the same server.

use super::{Pick, Snapshot};

/// GCD of the non-zero configured weights (1 when there is none). haproxy divides every
/// weight by it once at startup to shrink the table; that changes `hash % total`, so it must
/// be reproduced.
pub fn weights_gcd(weights: &[u32]) -> u32 {
    let mut it = weights.iter().copied().skip_while(|&w| w == 0);
    let Some(mut g) = it.next() else { return 1 };
    for w in it {
        if g <= 1 {
            break;
        }
        let mut w = w;
        while w != 0 {
            let t = g % w;
            g = w;
            w = t;
        }
    }
    g.max(1)
}

/// The table for members with effective weights `weights`: entries are member ranks.
/// This is `recalc_server_map`: each slot goes to the member whose accumulated score is the
/// highest (first declared wins ties), which interleaves heavy and light servers.
pub fn build(weights: &[u32]) -> Vec<usize> {
    let tot: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    let Ok(tot_usize) = usize::try_from(tot) else {
        return Vec::new();
    };
    let mut table = Vec::with_capacity(tot_usize);
    if tot == 1 {
        // haproxy short-circuits here: the first server with a weight takes the only slot.
        table.extend(weights.iter().position(|&w| w > 0));
        return table;
    }
    let tot = tot as i64;
    let mut score = vec![0i64; weights.len()];
    for _ in 0..tot {
        let mut best: Option<usize> = None;
        let mut max = 0i64;
        for (k, &w) in weights.iter().enumerate() {
            if w == 0 {
                continue;
            }
            score[k] += i64::from(w);
            let v = (score[k] + tot) / tot;
            if best.is_none() || v > max {
                max = v;
                best = Some(k);
            }
        }
        if let Some(b) = best {
            score[b] -= tot;
            table.push(b);
        }
    }
    table
}

/// `map_get_server_hash`.
pub fn lookup(snap: &Snapshot, hash: u32) -> Pick {
    let n = snap.table.len();
    if n == 0 {
        return Pick::NoServer;
    }
    Pick::Server(snap.table[(hash as usize) % n] as usize)
}
