//! Server state, queues, retries and concurrency of [`Backend`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::lb::tests::{proxy, w, Req, S};
use super::*;
use crate::config::model::{Balance, HashType, Proxy};

fn rr(servers: &[S]) -> Proxy {
    proxy(Balance::RoundRobin, HashType::default(), servers)
}

/// `balance source`: every request from 127.0.0.1 goes to the same server, so requests queue
/// on that server rather than in the backend.
fn sticky(servers: &[S]) -> Proxy {
    proxy(Balance::Source, HashType::default(), servers)
}

async fn names(be: &Backend, n: usize) -> Vec<String> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(match be.acquire(&Req::get("/"), None).await {
            Ok(g) => g.server().name.clone(),
            Err(e) => format!("ERR {e}"),
        });
    }
    v
}

#[tokio::test]
async fn backend_maint_drain_and_down_servers_are_not_picked() {
    let be = Backend::new(&rr(&[w(1), w(1), w(1)]));
    let s2 = be.server("s2").unwrap().clone();
    for state in [AdminState::Maint, AdminState::Drain] {
        be.set_admin(&s2, state);
        assert!(
            !names(&be, 6).await.contains(&"s2".to_string()),
            "{state:?}"
        );
        be.set_admin(&s2, AdminState::Ready);
        assert!(names(&be, 6).await.contains(&"s2".to_string()));
    }
    be.set_oper(&s2, OperState::Down);
    assert!(!names(&be, 6).await.contains(&"s2".to_string()));
    be.set_oper(&s2, OperState::Up);
    be.set_weight(&s2, 0);
    assert!(!names(&be, 6).await.contains(&"s2".to_string()));
}

#[tokio::test]
async fn backend_backups_take_over_only_without_active_servers() {
    let bk = S {
        backup: true,
        ..w(1)
    };
    let be = Backend::new(&rr(&[w(1), bk, bk]));
    let s1 = be.server("s1").unwrap().clone();
    assert_eq!(names(&be, 3).await, ["s1", "s1", "s1"]);
    be.set_oper(&s1, OperState::Down);
    // Only the first backup without `option allbackups`.
    assert_eq!(names(&be, 3).await, ["s2", "s2", "s2"]);
    let s2 = be.server("s2").unwrap().clone();
    be.set_admin(&s2, AdminState::Maint);
    assert_eq!(names(&be, 2).await, ["s3", "s3"]);
    be.set_oper(&s1, OperState::Up);
    assert_eq!(names(&be, 2).await, ["s1", "s1"]);
}

#[tokio::test]
async fn backend_no_usable_server_is_an_error() {
    let be = Backend::new(&rr(&[w(0), w(1)]));
    let s2 = be.server("s2").unwrap().clone();
    be.set_admin(&s2, AdminState::Maint);
    let err = be.acquire(&Req::get("/"), None).await.unwrap_err();
    assert_eq!(err, AcquireError::NoServer);
    assert_eq!(err.termination_state(), "SC");
    assert_eq!(be.no_server_errors(), 1);
}

#[tokio::test]
async fn backend_guard_counts_and_frees_the_slot() {
    let be = Backend::new(&rr(&[w(1)]));
    let s1 = be.server("s1").unwrap().clone();
    let a = be.acquire(&Req::get("/"), None).await.unwrap();
    let b = be.acquire(&Req::get("/"), None).await.unwrap();
    assert_eq!((s1.current(), s1.total(), s1.max_seen()), (2, 2, 2));
    drop(a);
    drop(b);
    assert_eq!((s1.current(), s1.total()), (0, 2));
}

#[tokio::test(start_paused = true)]
async fn backend_server_queue_is_fifo_and_wakes_on_release() {
    let be = Backend::new(&sticky(&[S { maxconn: 1, ..w(1) }]));
    let first = be.acquire(&Req::get("/"), None).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..3 {
        let (be, tx) = (be.clone(), tx.clone());
        tokio::spawn(async move {
            let g = be.acquire(&Req::get("/"), None).await.unwrap();
            tx.send(n).unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
            drop(g);
        });
        // Let the task reach its queue before the next one starts.
        tokio::task::yield_now().await;
    }
    let s1 = be.server("s1").unwrap().clone();
    assert_eq!(s1.queued(), 3);
    assert!(
        rx.try_recv().is_err(),
        "nobody gets a slot while it is held"
    );
    drop(first);
    let mut order = Vec::new();
    for _ in 0..3 {
        order.push(rx.recv().await.unwrap());
    }
    assert_eq!(order, [0, 1, 2]);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!((s1.current(), s1.queued()), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn backend_maxqueue_refuses_when_the_server_queue_is_full() {
    let mut p = sticky(&[S {
        maxconn: 1,
        maxqueue: 1,
        ..w(1)
    }]);
    p.timeouts.queue = Some(Duration::from_secs(5));
    let be = Backend::new(&p);
    let _held = be.acquire(&Req::get("/"), None).await.unwrap();
    let be2 = be.clone();
    let waiter = tokio::spawn(async move { be2.acquire(&Req::get("/"), None).await.map(|_| ()) });
    tokio::task::yield_now().await;
    let err = be.acquire(&Req::get("/"), None).await.unwrap_err();
    assert_eq!(
        err,
        AcquireError::QueueFull {
            server: "s1".into()
        }
    );
    assert_eq!(err.termination_state(), "SQ");
    // The queued one times out after `timeout queue`.
    let res = waiter.await.unwrap();
    assert_eq!(
        res.unwrap_err(),
        AcquireError::QueueTimeout {
            server: Some("s1".into())
        }
    );
    let s1 = be.server("s1").unwrap();
    assert_eq!((s1.queued(), s1.queue_errors()), (0, 2));
}

#[tokio::test(start_paused = true)]
async fn backend_queue_timeout_defaults_to_timeout_connect() {
    let mut p = sticky(&[S { maxconn: 1, ..w(1) }]);
    p.timeouts.connect = Some(Duration::from_secs(3));
    let be = Backend::new(&p);
    assert_eq!(be.queue_timeout(), Some(Duration::from_secs(3)));
    let _held = be.acquire(&Req::get("/"), None).await.unwrap();
    let start = tokio::time::Instant::now();
    let err = be.acquire(&Req::get("/"), None).await.unwrap_err();
    assert_eq!(err.termination_state(), "sQ");
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    p.timeouts.queue = Some(Duration::from_secs(1));
    assert_eq!(
        Backend::new(&p).queue_timeout(),
        Some(Duration::from_secs(1))
    );
}

#[tokio::test(start_paused = true)]
async fn backend_queue_when_all_full_goes_to_the_first_freed_server() {
    let mc1 = S { maxconn: 1, ..w(1) };
    let be = Backend::new(&rr(&[mc1, mc1]));
    let a = be.acquire(&Req::get("/"), None).await.unwrap();
    let b = be.acquire(&Req::get("/"), None).await.unwrap();
    assert_eq!(
        (a.server().name.as_str(), b.server().name.as_str()),
        ("s1", "s2")
    );
    let be2 = be.clone();
    let waiter = tokio::spawn(async move {
        let g = be2.acquire(&Req::get("/"), None).await.unwrap();
        g.server().name.clone()
    });
    tokio::task::yield_now().await;
    assert_eq!(be.queued(), 1);
    drop(b);
    assert_eq!(waiter.await.unwrap(), "s2");
    assert_eq!(be.queued(), 0);
    drop(a);
}

#[tokio::test(start_paused = true)]
async fn backend_abandoned_waiter_leaves_the_queue() {
    let be = Backend::new(&sticky(&[S { maxconn: 1, ..w(1) }]));
    let held = be.acquire(&Req::get("/"), None).await.unwrap();
    let be2 = be.clone();
    let waiter = tokio::spawn(async move { be2.acquire(&Req::get("/"), None).await.map(|_| ()) });
    tokio::task::yield_now().await;
    let s1 = be.server("s1").unwrap().clone();
    assert_eq!(s1.queued(), 1);
    waiter.abort();
    let _ = waiter.await;
    assert_eq!(s1.queued(), 0);
    drop(held);
    // The dead entry does not hold the free slot back.
    let g = be.acquire(&Req::get("/"), None).await.unwrap();
    assert_eq!(g.server().name, "s1");
}

#[tokio::test(start_paused = true)]
async fn backend_server_back_up_serves_the_backend_queue() {
    let be = Backend::new(&rr(&[S { maxconn: 1, ..w(1) }, w(1)]));
    let s2 = be.server("s2").unwrap().clone();
    be.set_admin(&s2, AdminState::Maint);
    let held = be.acquire(&Req::get("/"), None).await.unwrap();
    let be2 = be.clone();
    let waiter = tokio::spawn(async move {
        let g = be2.acquire(&Req::get("/"), None).await.unwrap();
        g.server().name.clone()
    });
    tokio::task::yield_now().await;
    assert_eq!(be.queued(), 1);
    be.set_admin(&s2, AdminState::Ready);
    assert_eq!(waiter.await.unwrap(), "s2");
    drop(held);
}

#[test]
fn backend_retries_then_redispatch_as_haproxy() {
    let mut p = proxy(Balance::Source, HashType::default(), &[w(1), w(1)]);
    p.retries = 3;
    let be = Backend::new(&p);
    let s1 = be.server("s1").unwrap().clone();
    let d = |be: &Backend, k| be.after_connect_failure(&s1, k, false);
    // No `option redispatch`: every retry on the same server, then give up.
    assert_eq!(
        [d(&be, 1), d(&be, 2), d(&be, 3), d(&be, 4)],
        [
            RetryDecision::SameServer,
            RetryDecision::SameServer,
            RetryDecision::SameServer,
            RetryDecision::GiveUp
        ]
    );
    // `option redispatch` (-1): the last retry goes elsewhere.
    p.redispatch = Some(-1);
    let be = Backend::new(&p);
    assert_eq!(
        [d(&be, 1), d(&be, 2), d(&be, 3)],
        [
            RetryDecision::SameServer,
            RetryDecision::SameServer,
            RetryDecision::Redispatch
        ]
    );
    // `option redispatch 2`: every second retry.
    p.redispatch = Some(2);
    let be = Backend::new(&p);
    assert_eq!(
        [d(&be, 1), d(&be, 2), d(&be, 3)],
        [
            RetryDecision::SameServer,
            RetryDecision::Redispatch,
            RetryDecision::SameServer
        ]
    );
    // A server that went down is left at once.
    be.set_oper(&s1, OperState::Down);
    assert_eq!(d(&be, 1), RetryDecision::Redispatch);
    // Round robin with several active servers: any other server will do, at every retry.
    let mut p = rr(&[w(1), w(1)]);
    p.redispatch = Some(-1);
    let be = Backend::new(&p);
    let s1 = be.server("s1").unwrap().clone();
    assert_eq!(
        be.after_connect_failure(&s1, 1, false),
        RetryDecision::Redispatch
    );
    assert_eq!(
        be.after_connect_failure(&s1, 1, true),
        RetryDecision::SameServer
    );
}

#[tokio::test]
async fn backend_redispatch_avoids_the_failed_server() {
    let be = Backend::new(&proxy(
        Balance::Source,
        HashType {
            method: crate::config::model::HashMethod::Consistent,
            ..HashType::default()
        },
        &[w(1), w(1), w(1)],
    ));
    let r = Req::get("/");
    let first = be.acquire(&r, None).await.unwrap().server().clone();
    let again = be.acquire(&r, Some(&first)).await.unwrap().server().clone();
    assert!(!Arc::ptr_eq(&first, &again));
}

#[test]
fn backend_concurrent_picks_keep_exact_counts() {
    // 8 threads pick 9600 times each from weights 3,2,1: 800 whole roundrobin cycles of 96,
    // each cursor value used once, so the counts are exact and every slot is given back.
    let be = Backend::new(&rr(&[w(3), w(2), w(1)]));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let be = be.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let r = Req::get("/");
                    for _ in 0..9600 {
                        let g = be.acquire(&r, None).await.unwrap();
                        drop(g);
                    }
                });
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let totals: Vec<(u64, u32)> = be
        .servers()
        .iter()
        .map(|s| (s.total(), s.current()))
        .collect();
    assert_eq!(totals, [(38400, 0), (25600, 0), (12800, 0)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backend_concurrent_maxconn_is_never_exceeded() {
    let mc = S { maxconn: 2, ..w(1) };
    for p in [
        rr(&[mc, mc, mc]),
        sticky(&[mc, mc]),
        proxy(Balance::LeastConn, HashType::default(), &[mc, mc]),
    ] {
        let be = Backend::new(&p);
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let be = be.clone();
                tokio::spawn(async move {
                    for _ in 0..50 {
                        let g = be.acquire(&Req::get("/"), None).await.unwrap();
                        tokio::task::yield_now().await;
                        drop(g);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let total: u64 = be.servers().iter().map(|s| s.total()).sum();
        assert_eq!(total, 64 * 50, "{:?}", p.balance);
        for s in be.servers() {
            assert!(s.max_seen() <= 2, "{} saw {}", s.name, s.max_seen());
            assert_eq!((s.current(), s.queued()), (0, 0));
        }
        assert_eq!(be.queued(), 0);
    }
}

#[test]
fn backend_acquire_future_is_send() {
    // The data paths run on a multi-threaded runtime: the wait must be movable between
    // threads. This fails to compile, not at run time, if it stops being so.
    fn is_send<T: Send>(_: &T) {}
    let be = Backend::new(&rr(&[w(1)]));
    let r = Req::get("/");
    let fut = be.acquire(&r, None);
    is_send(&fut);
}

#[tokio::test]
async fn backend_tcp_request_hashes_the_source_and_falls_back_without_it() {
    use super::lb::SrcOnly;
    let be = Backend::new(&sticky(&[w(1), w(1), w(1), w(1)]));
    // 127.0.0.1 folds to 0x7f000001, map slot 1 of 4: s2 (as haproxy's SOURCE4 capture).
    let ip = Some([127, 0, 0, 1].into());
    for _ in 0..3 {
        let g = be.acquire(&SrcOnly(ip), None).await.unwrap();
        assert_eq!(g.server().name, "s2");
    }
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(
            be.acquire(&SrcOnly(None), None)
                .await
                .unwrap()
                .server()
                .name
                .clone(),
        );
    }
    assert_eq!(got, ["s1", "s2", "s3", "s4"]);
}

#[tokio::test(start_paused = true)]
async fn backend_waiters_of_a_down_server_are_redispatched() {
    let mc1 = S { maxconn: 1, ..w(1) };
    for redispatch in [None, Some(-1)] {
        let mut p = sticky(&[mc1, mc1]);
        p.redispatch = redispatch;
        p.timeouts.queue = Some(Duration::from_secs(5));
        let be = Backend::new(&p);
        // 127.0.0.1 hashes to s2 (slot 1 of 2); fill s2 and queue one request behind it.
        let held = be.acquire(&Req::get("/"), None).await.unwrap();
        assert_eq!(held.server().name, "s2");
        let be2 = be.clone();
        let waiter = tokio::spawn(async move {
            match be2.acquire(&Req::get("/"), None).await {
                Ok(g) => g.server().name.clone(),
                Err(e) => e.to_string(),
            }
        });
        tokio::task::yield_now().await;
        let s2 = be.server("s2").unwrap().clone();
        assert_eq!(s2.queued(), 1);
        be.set_oper(&s2, OperState::Down);
        let got = waiter.await.unwrap();
        if redispatch.is_some() {
            assert_eq!(got, "s1", "moved to the backend queue and served by s1");
        } else {
            assert_eq!(got, "timed out in the queue of server s2");
        }
        assert_eq!((s2.queued(), be.queued()), (0, 0));
        drop(held);
    }
}

/// Counts heap allocations made by the current thread while `COUNTING` is set, to prove the
/// pick path allocates nothing.
mod alloc_count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        pub static COUNTING: Cell<bool> = const { Cell::new(false) };
        pub static ALLOCS: Cell<u64> = const { Cell::new(0) };
    }

    pub struct Counting;

    // SAFETY: every call is forwarded unchanged to the system allocator.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            if COUNTING.with(|c| c.get()) {
                ALLOCS.with(|a| a.set(a.get() + 1));
            }
            // SAFETY: same contract as ours.
            unsafe { System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            // SAFETY: same contract as ours.
            unsafe { System.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
            if COUNTING.with(|c| c.get()) {
                ALLOCS.with(|a| a.set(a.get() + 1));
            }
            // SAFETY: same contract as ours.
            unsafe { System.realloc(p, l, n) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    /// Allocations made by `f` on this thread.
    pub fn count(f: impl FnOnce()) -> u64 {
        ALLOCS.with(|a| a.set(0));
        COUNTING.with(|c| c.set(true));
        f();
        COUNTING.with(|c| c.set(false));
        ALLOCS.with(|a| a.get())
    }
}

#[test]
fn backend_pick_and_release_do_not_allocate() {
    use crate::config::model::HashMethod;
    use std::task::{Context, Poll, Waker};
    let cons = HashType {
        method: HashMethod::Consistent,
        ..HashType::default()
    };
    let ws = [w(3), w(2), w(1)];
    let uri = Balance::Uri {
        len: 0,
        depth: 0,
        whole: false,
        path_only: false,
    };
    let backends = [
        rr(&ws),
        proxy(Balance::StaticRr, HashType::default(), &ws),
        proxy(Balance::LeastConn, HashType::default(), &ws),
        proxy(Balance::First, HashType::default(), &ws),
        proxy(Balance::Random { draws: 2 }, HashType::default(), &ws),
        sticky(&ws),
        proxy(Balance::Source, cons, &ws),
        proxy(uri.clone(), HashType::default(), &ws),
        proxy(uri, cons, &ws),
        proxy(Balance::UrlParam { name: "id".into() }, cons, &ws),
        proxy(
            Balance::Hdr {
                name: "host".into(),
                use_domain_only: true,
            },
            HashType::default(),
            &ws,
        ),
    ];
    // The counter itself works: one Vec is one allocation.
    assert_eq!(
        alloc_count::count(|| drop(std::hint::black_box(vec![1u8]))),
        1
    );
    let req = Req::get("/a/b?id=3");
    for p in backends {
        let be = Backend::new(&p);
        let mut cx = Context::from_waker(Waker::noop());
        let n = alloc_count::count(|| {
            for _ in 0..100 {
                let fut = std::pin::pin!(be.acquire(&req, None));
                match fut.poll(&mut cx) {
                    Poll::Ready(Ok(g)) => drop(g),
                    _ => panic!("a free slot must be granted at once"),
                }
            }
        });
        assert_eq!(n, 0, "{:?} allocated", p.balance);
    }
}
