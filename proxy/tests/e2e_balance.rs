//! Load balancing: every `balance` algorithm gives the same server sequence as haproxy for the
//! same request sequence; backup servers, allbackups, weight 0, server maxconn + queue,
//! retries + redispatch.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::client::{get, get_h, Resp};
use support::proc::{Kind, Proxy};
use support::upstream::{refused, HttpUpstream};

const KINDS: [Kind; 2] = [Kind::Fulcrum, Kind::Haproxy];

fn cfg(back: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout client 2s\n  timeout server 2s\n  timeout connect 500ms\n\
frontend f\n  bind 127.0.0.1:{{{{P0}}}}\n  default_backend b\nbackend b\n{back}"
    )
}

/// Three servers `s1 s2 s3` with per-server suffixes (e.g. " weight 3").
fn servers(ups: &[HttpUpstream], suffix: &[&str]) -> String {
    ups.iter()
        .enumerate()
        .map(|(i, u)| {
            format!(
                "  server s{} {}{}\n",
                i + 1,
                u.addr,
                suffix.get(i).unwrap_or(&"")
            )
        })
        .collect()
}

fn ups(n: usize) -> Vec<HttpUpstream> {
    (1..=n)
        .map(|i| HttpUpstream::start(&format!("s{i}")))
        .collect()
}

fn who(r: &Resp) -> String {
    if r.status != 200 {
        return format!("status {}", r.status);
    }
    r.header("x-upstream").unwrap_or("?").to_string()
}

/// Requests (path, extra header lines), one client connection each.
type Reqs = Vec<(String, String)>;

/// Runs `reqs` through fulcrum and haproxy on the same backend body; returns both sequences.
fn sequences(algo: &str, suffix: &[&str], reqs: &Reqs) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    for k in KINDS {
        let u = ups(3);
        let p = Proxy::start(
            k,
            &cfg(&format!("  balance {algo}\n{}", servers(&u, suffix))),
        );
        out.push(
            reqs.iter()
                .map(|(path, h)| who(&get_h(p.addr(0), path, h)))
                .collect::<Vec<_>>(),
        );
    }
    let h = out.pop().unwrap();
    (out.pop().unwrap(), h)
}

fn plain(n: usize) -> Reqs {
    (0..n).map(|i| (format!("/r{i}"), String::new())).collect()
}

fn counts(v: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for s in v {
        *m.entry(s.clone()).or_insert(0) += 1;
    }
    m
}

#[test]
fn roundrobin_weights_3_2_1_counts_match_haproxy() {
    let (f, h) = sequences(
        "roundrobin",
        &[" weight 3", " weight 2", " weight 1"],
        &plain(60),
    );
    assert_eq!(counts(&h).get("s1"), Some(&30), "haproxy reference {h:?}");
    assert_eq!(counts(&f), counts(&h), "fulcrum {f:?}\nhaproxy {h:?}");
}

#[test]
fn roundrobin_weights_3_2_1_sequence_matches_haproxy() {
    let (f, h) = sequences(
        "roundrobin",
        &[" weight 3", " weight 2", " weight 1"],
        &plain(12),
    );
    assert_eq!(f, h);
}

#[test]
fn static_rr_sequence_matches_haproxy() {
    let (f, h) = sequences(
        "static-rr",
        &[" weight 3", " weight 2", " weight 1"],
        &plain(24),
    );
    assert_eq!(f, h);
}

#[test]
fn leastconn_sequence_matches_haproxy() {
    let (f, h) = sequences("leastconn", &[], &plain(12));
    assert_eq!(f, h);
}

#[test]
fn leastconn_avoids_busy_server() {
    let mut res = Vec::new();
    for k in KINDS {
        let u = ups(2);
        let p = Proxy::start(
            k,
            &cfg(&format!("  balance leastconn\n{}", servers(&u, &[]))),
        );
        let a = p.addr(0);
        let slow = std::thread::spawn(move || who(&get(a, "/sleep/700")));
        std::thread::sleep(Duration::from_millis(150));
        let mut during: Vec<String> = (0..4).map(|i| who(&get(a, &format!("/q{i}")))).collect();
        let busy = slow.join().unwrap();
        during.insert(0, busy);
        res.push(during);
    }
    let busy = res[0][0].clone();
    assert!(res[0][1..].iter().all(|s| *s != busy), "{:?}", res[0]);
    assert_eq!(res[0], res[1]);
}

#[test]
fn first_sequence_matches_haproxy() {
    let (f, h) = sequences("first", &[" maxconn 10"; 3], &plain(6));
    assert_eq!(h, vec!["s1"; 6]);
    assert_eq!(f, h);
}

#[test]
fn source_sequence_matches_haproxy() {
    let (f, h) = sequences("source", &[], &plain(6));
    assert_eq!(f, h);
}

#[test]
fn uri_sequence_matches_haproxy() {
    let reqs: Reqs = (0..20)
        .map(|i| (format!("/p/{}", i % 10), String::new()))
        .collect();
    let (f, h) = sequences("uri", &[], &reqs);
    assert_eq!(f, h);
}

#[test]
fn url_param_sequence_matches_haproxy() {
    let reqs: Reqs = (0..20)
        .map(|i| (format!("/x?a=1&userid=u{}", i % 10), String::new()))
        .collect();
    let (f, h) = sequences("url_param userid", &[], &reqs);
    assert_eq!(f, h);
}

#[test]
fn hdr_host_sequence_matches_haproxy() {
    // `get_h` sends `Host: test` first; a request with two Host headers is invalid, so the
    // host varies in the path-less custom header instead: use a dedicated header.
    let reqs: Reqs = (0..20)
        .map(|i| {
            (
                "/".to_string(),
                format!("X-Tenant: tenant{}.example\r\n", i % 10),
            )
        })
        .collect();
    let (f, h) = sequences("hdr(x-tenant)", &[], &reqs);
    assert_eq!(f, h);
}

#[test]
fn random_uses_every_server() {
    let (f, h) = sequences("random", &[], &plain(60));
    for (k, v) in [("fulcrum", &f), ("haproxy", &h)] {
        let c = counts(v);
        assert_eq!(c.len(), 3, "{k}: {c:?}");
        assert!(c.values().all(|&n| n >= 5), "{k}: {c:?}");
    }
}

fn backup_run(
    back_extra: &str,
    suffix: &[&str],
    n: usize,
) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
    let mut out = Vec::new();
    for k in KINDS {
        let u = ups(4);
        let p = Proxy::start(k, &cfg(&format!("{back_extra}{}", servers(&u, suffix))));
        out.push(counts(
            &(0..n)
                .map(|_| who(&get(p.addr(0), "/")))
                .collect::<Vec<_>>(),
        ));
    }
    let h = out.pop().unwrap();
    (out.pop().unwrap(), h)
}

#[test]
fn backup_unused_while_an_active_is_up() {
    let (f, h) = backup_run("", &["", " disabled", " backup", " backup"], 6);
    assert_eq!(f, BTreeMap::from([("s1".to_string(), 6)]));
    assert_eq!(f, h);
}

#[test]
fn first_backup_used_when_all_actives_down() {
    let (f, h) = backup_run("", &[" disabled", " disabled", " backup", " backup"], 6);
    assert_eq!(f, BTreeMap::from([("s3".to_string(), 6)]));
    assert_eq!(f, h);
}

#[test]
fn allbackups_balances_over_all_backups() {
    let (f, h) = backup_run(
        "  option allbackups\n",
        &[" disabled", " disabled", " backup", " backup"],
        6,
    );
    assert_eq!(
        f,
        BTreeMap::from([("s3".to_string(), 3), ("s4".to_string(), 3)])
    );
    assert_eq!(f, h);
}

#[test]
fn weight_0_server_gets_nothing() {
    let (f, h) = backup_run("", &[" weight 0", "", " weight 0", " weight 0"], 6);
    assert_eq!(f, BTreeMap::from([("s2".to_string(), 6)]));
    assert_eq!(f, h);
}

#[test]
fn server_maxconn_queue_then_503_after_timeout_queue() {
    let mut res = Vec::new();
    for k in KINDS {
        let u = ups(1);
        let p = Proxy::start(
            k,
            &cfg(&format!(
                "  timeout queue 300ms\n  server s1 {} maxconn 1\n",
                u[0].addr
            )),
        );
        let a = p.addr(0);
        let slow = std::thread::spawn(move || get(a, "/sleep/1000").status);
        std::thread::sleep(Duration::from_millis(150));
        let t = Instant::now();
        let queued = get(a, "/queued");
        let waited = t.elapsed();
        let raw = String::from_utf8_lossy(&queued.raw).into_owned();
        res.push((
            queued.status,
            raw,
            waited >= Duration::from_millis(250) && waited < Duration::from_millis(900),
            slow.join().unwrap(),
        ));
    }
    assert_eq!(res[0].0, 503, "{:?}", res[0]);
    assert_eq!(res[0], res[1]);
}

#[test]
fn server_maxconn_queued_request_served_when_slot_frees() {
    let mut res = Vec::new();
    for k in KINDS {
        let u = ups(1);
        let p = Proxy::start(
            k,
            &cfg(&format!(
                "  timeout queue 2s\n  server s1 {} maxconn 1\n",
                u[0].addr
            )),
        );
        let a = p.addr(0);
        let slow = std::thread::spawn(move || get(a, "/sleep/300").status);
        std::thread::sleep(Duration::from_millis(100));
        let queued = get(a, "/queued").status;
        res.push((queued, slow.join().unwrap()));
    }
    assert_eq!(res[0], (200, 200));
    assert_eq!(res[0], res[1]);
}

#[test]
fn retries_redispatch_lands_on_another_server() {
    let mut res = Vec::new();
    for k in KINDS {
        let good = HttpUpstream::start("good");
        let p = Proxy::start(
            k,
            &cfg(&format!(
                "  retries 2\n  option redispatch\n  server bad {}\n  server good {}\n",
                refused(),
                good.addr
            )),
        );
        res.push(
            (0..4)
                .map(|_| who(&get(p.addr(0), "/")))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(res[0], vec!["good"; 4]);
    assert_eq!(res[0], res[1]);
}

#[test]
fn hdr_host_header_sequence_matches_haproxy() {
    let mut out = Vec::new();
    for k in KINDS {
        let u = ups(3);
        let p = Proxy::start(
            k,
            &cfg(&format!("  balance hdr(host)\n{}", servers(&u, &[]))),
        );
        out.push(
            (0..20)
                .map(|i| {
                    let mut c = support::client::Conn::new(p.addr(0));
                    c.req(&format!(
                        "GET / HTTP/1.1\r\nHost: site{}.example\r\nConnection: close\r\n\r\n",
                        i % 10
                    ))
                    .map(|r| who(&r))
                    .unwrap_or_default()
                })
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(out[0], out[1], "fulcrum (left) vs haproxy (right)");
}
