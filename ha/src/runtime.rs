//! The daemon: VRRP socket + state machine + probe + movers + status/metrics, one loop.

use crate::config::{Config, ProbeFailMode};
use crate::metrics::Metrics;
use crate::mover::{self, Mover, Role};
use crate::probe::Probe;
use crate::status::Status;
use crate::vrrp::packet::{Advert, TTL};
use crate::vrrp::socket::{primary_address, VrrpSocket};
use crate::vrrp::state::{Action, Event, OnProbeFail, Params, Router, State};
use crate::{log, mover::linux::if_index};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};

fn role_of(s: State) -> Role {
    match s {
        State::Master => Role::Master,
        State::Backup => Role::Backup,
        State::Fault => Role::Fault,
        State::Initialize => Role::Stop,
    }
}

/// Applies the latest wanted role with every mover, in order; the election loop never
/// waits for a slow mover (a DigitalOcean assign can take many seconds).
async fn mover_task(
    movers: Vec<Box<dyn Mover>>,
    mut rx: watch::Receiver<Option<Role>>,
    mut reannounce: mpsc::Receiver<()>,
    metrics: Arc<Metrics>,
    status: Arc<Mutex<Status>>,
    status_file: std::path::PathBuf,
) {
    let mut applied: Option<Role> = None;
    let refresh = movers.iter().filter_map(|m| m.refresh_every()).min();
    loop {
        // None: no decision yet (the first transition comes right after startup).
        let Some(role) = *rx.borrow_and_update() else {
            if rx.changed().await.is_err() {
                return;
            }
            continue;
        };
        if applied != Some(role) {
            let mut err = None;
            let mut cancelled = false;
            for m in &movers {
                let t = Instant::now();
                let r = if role == Role::Master {
                    // An acquire that is still retrying (a DigitalOcean API outage can
                    // last minutes) must not complete after we lost mastership: it
                    // would take the address back from the new master. Drop it as soon
                    // as the wanted role changes.
                    tokio::select! {
                        r = m.apply(role) => r,
                        c = rx.changed() => {
                            if c.is_err() {
                                return;
                            }
                            log!("{} mover: MASTER abandoned: no longer master", m.name());
                            cancelled = true;
                            break;
                        }
                    }
                } else {
                    m.apply(role).await
                };
                let secs = t.elapsed().as_secs_f64();
                metrics.mover_run(m.name(), secs, r.is_ok());
                match r {
                    Ok(()) => log!("{} mover: {} done in {:.3}s", m.name(), role.name(), secs),
                    Err(e) => {
                        log!("{e} (after {secs:.3}s, role {})", role.name());
                        err = Some(e);
                    }
                }
            }
            if cancelled {
                // Apply whatever is wanted now.
                continue;
            }
            {
                let mut st = status.lock().unwrap_or_else(|p| p.into_inner());
                st.mover_error = err.as_ref().map(|e| e.to_string());
                let _ = st.write(&status_file);
            }
            match err {
                // Retry a failed acquire while we are still supposed to be master.
                Some(e) if e.retryable && role == Role::Master => {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        c = rx.changed() => if c.is_err() { return },
                    }
                    continue;
                }
                _ => applied = Some(role),
            }
        }
        if role == Role::Stop {
            return;
        }
        let refresh_due = async {
            match refresh {
                Some(d) if role == Role::Master => tokio::time::sleep(d).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            c = rx.changed() => if c.is_err() { return },
            Some(()) = reannounce.recv() => {
                if role == Role::Master {
                    log!("another master heard: re-announcing the address");
                    for m in &movers {
                        m.reannounce().await;
                    }
                }
            }
            _ = refresh_due => {
                for m in &movers {
                    m.reannounce().await;
                }
            }
        }
    }
}

async fn metrics_server(
    addr: std::net::SocketAddr,
    metrics: Arc<Metrics>,
    status: Arc<Mutex<Status>>,
) {
    let l = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            log!("metrics: cannot listen on {addr}: {e}");
            return;
        }
    };
    while let Ok((mut s, _)) = l.accept().await {
        let metrics = metrics.clone();
        let status = status.clone();
        tokio::spawn(async move {
            let mut b = [0u8; 2048];
            let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b))
                .await
                .ok()
                .and_then(|r| r.ok())
                .unwrap_or(0);
            let req = String::from_utf8_lossy(&b[..n]);
            let path = req.split_whitespace().nth(1).unwrap_or("");
            let (code, ctype, body) = match path {
                "/metrics" => ("200 OK", "text/plain; version=0.0.4", metrics.render()),
                "/status" => {
                    let st = status.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    (
                        "200 OK",
                        "application/json",
                        serde_json::to_string(&st).unwrap_or_default(),
                    )
                }
                _ => ("404 Not Found", "text/plain", "not found\n".to_string()),
            };
            let resp = format!(
                "HTTP/1.1 {code}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
        });
    }
}

/// Logs dropped packets at most once every 10 s: a misconfigured neighbour sending
/// adverts every second must not flood the log, but the operator must learn about it.
#[derive(Default)]
struct RateLimited {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimited {
    fn note(&mut self, from: IpAddr, why: &str) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|l| now.duration_since(l) < Duration::from_secs(10))
        {
            self.suppressed += 1;
            return;
        }
        log!(
            "dropped VRRP packet from {from}: {why} ({} more dropped since the last report)",
            self.suppressed
        );
        self.last = Some(now);
        self.suppressed = 0;
    }
}

/// Runs the daemon until SIGTERM/SIGINT; on the way out a master sends a priority-0
/// advert and the movers release the address.
pub async fn run(cfg: Config) -> Result<(), String> {
    let v = &cfg.vrrp;
    let v4 = v
        .virtual_ips
        .first()
        .map(|c| c.addr.is_ipv4())
        .unwrap_or(true);
    let ifindex = if_index(&v.interface).map_err(|e| e.to_string())?;
    let src = match v.source {
        Some(s) => s,
        None => primary_address(&v.interface, v4).map_err(|e| e.to_string())?,
    };
    let sock = VrrpSocket::open(&v.interface, ifindex, src, &v.peers)
        .map_err(|e| format!("VRRP socket on {}: {e} (needs CAP_NET_RAW)", v.interface))?;
    let movers = mover::build(&cfg).map_err(|e| e.to_string())?;
    let metrics = Arc::new(Metrics::default());
    let status = Arc::new(Mutex::new(Status {
        pid: std::process::id(),
        interface: v.interface.clone(),
        vrid: v.virtual_router_id,
        state: State::Initialize.name().into(),
        priority: v.priority,
        probe: if cfg.probe.is_some() {
            "down".into()
        } else {
            "none".into()
        },
        ..Default::default()
    }));
    let status_file = cfg.status.file.clone();
    let mut router = Router::new(Params {
        priority: v.priority,
        advert_interval: v.advert_interval,
        preempt: v.preempt,
        preempt_delay: Duration::from_secs(v.preempt_delay),
        primary: src,
        on_probe_fail: match v.on_probe_fail {
            ProbeFailMode::Fault => OnProbeFail::Fault,
            ProbeFailMode::Lower => OnProbeFail::Lower(v.lower_by),
        },
    });
    let addrs: Vec<IpAddr> = v.virtual_ips.iter().map(|c| c.addr).collect();
    let (role_tx, role_rx) = watch::channel(None);
    let (ann_tx, ann_rx) = mpsc::channel(1);
    let movers_done = tokio::spawn(mover_task(
        movers,
        role_rx,
        ann_rx,
        metrics.clone(),
        status.clone(),
        status_file.clone(),
    ));
    if let Some(a) = cfg.status.metrics_listen {
        tokio::spawn(metrics_server(a, metrics.clone(), status.clone()));
    }
    let (probe_tx, mut probe_rx) = mpsc::channel(8);
    if let Some(p) = &cfg.probe {
        // The probe starts unhealthy: the node waits in FAULT until its proxy answers.
        router.handle(Instant::now(), Event::ProbeDown);
        metrics.set_probe(false);
        let probe = Probe::new(
            &p.url,
            Duration::from_millis(p.interval_ms),
            Duration::from_millis(p.timeout_ms),
            p.rise,
            p.fall,
        );
        tokio::spawn(probe.run(probe_tx));
    } else {
        metrics.set_probe(true);
        drop(probe_tx);
    }
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    log!(
        "starting: interface {} (index {ifindex}) source {src} vrid {} priority {} interval {}cs {} {}",
        v.interface,
        v.virtual_router_id,
        v.priority,
        v.advert_interval,
        if v.peers.is_empty() { "multicast".to_string() } else { format!("unicast peers {:?}", v.peers) },
        if v.preempt { "preempt" } else { "nopreempt" },
    );

    let mut invalid_log = RateLimited::default();
    let mut pending = router.handle(Instant::now(), Event::Startup);
    let mut probe_open = cfg.probe.is_some();
    loop {
        for a in pending.drain(..) {
            execute(
                &a,
                &router,
                &sock,
                v.virtual_router_id,
                &addrs,
                &metrics,
                &status,
                &status_file,
                &role_tx,
                &ann_tx,
            )
            .await;
        }
        // The master can change without a local transition (a backup learns who the
        // master is from its adverts): keep `fulcrum-ha status` truthful.
        let master = router.master().map(|m| m.to_string());
        {
            let mut st = status.lock().unwrap_or_else(|p| p.into_inner());
            if st.master != master || st.priority != router.priority() {
                st.master = master;
                st.priority = router.priority();
                let _ = st.write(&status_file);
            }
        }
        let deadline = router.next_deadline();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => pending = router.handle(Instant::now(), Event::Tick),
            r = sock.recv() => match r {
                Ok(rx) => {
                    let ok = rx.ttl == TTL
                        && (v.peers.is_empty() || v.peers.contains(&rx.src));
                    match rx.advert {
                        // Our own packet (looped back by a bridge or a unicast quirk).
                        _ if rx.src == src => {}
                        Ok(a) if ok && a.vrid == v.virtual_router_id => {
                            metrics.advert_received(true);
                            pending = router.handle(Instant::now(), Event::Advert {
                                from: rx.src,
                                priority: a.priority,
                                max_adver_int: a.max_adver_int,
                            });
                        }
                        // Another VRID on the same segment is normal traffic, not an error.
                        Ok(a) if a.vrid != v.virtual_router_id => {}
                        Ok(_) => {
                            metrics.advert_received(false);
                            invalid_log.note(rx.src, &format!("TTL {} or not from a configured peer", rx.ttl));
                        }
                        Err(e) => {
                            metrics.advert_received(false);
                            invalid_log.note(rx.src, &e.to_string());
                        }
                    }
                }
                Err(e) => {
                    log!("VRRP receive: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            p = probe_rx.recv(), if probe_open => match p {
                Some(up) => {
                    log!("probe {}: local proxy {}", cfg.probe.as_ref().map(|p| p.url.as_str()).unwrap_or(""), if up { "healthy" } else { "failing" });
                    metrics.set_probe(up);
                    status.lock().unwrap_or_else(|p| p.into_inner()).probe = if up { "up".into() } else { "down".into() };
                    pending = router.handle(Instant::now(), if up { Event::ProbeUp } else { Event::ProbeDown });
                }
                None => probe_open = false,
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    log!("signal received: shutting down");
    let actions = router.handle(Instant::now(), Event::Shutdown);
    for a in &actions {
        execute(
            a,
            &router,
            &sock,
            v.virtual_router_id,
            &addrs,
            &metrics,
            &status,
            &status_file,
            &role_tx,
            &ann_tx,
        )
        .await;
    }
    let _ = role_tx.send(Some(Role::Stop));
    if tokio::time::timeout(Duration::from_secs(30), movers_done)
        .await
        .is_err()
    {
        log!("movers did not finish releasing within 30 s");
    }
    let _ = std::fs::remove_file(&status_file);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn execute(
    a: &Action,
    router: &Router,
    sock: &VrrpSocket,
    vrid: u8,
    addrs: &[IpAddr],
    metrics: &Metrics,
    status: &Mutex<Status>,
    status_file: &std::path::Path,
    role_tx: &watch::Sender<Option<Role>>,
    ann_tx: &mpsc::Sender<()>,
) {
    match a {
        Action::SendAdvert { priority } => {
            let adv = Advert {
                vrid,
                priority: *priority,
                max_adver_int: router.master_adver_int_for_send(),
                addrs: addrs.to_vec(),
            };
            match sock.send(&adv).await {
                Ok(()) => metrics.advert_sent(),
                Err(e) => log!("VRRP send: {e}"),
            }
        }
        Action::Reannounce => {
            // A full channel means one is already pending: that is enough.
            let _ = ann_tx.try_send(());
        }
        Action::Transition(t) => {
            log!(
                "transition {} -> {}: {}",
                t.from.name(),
                t.to.name(),
                t.reason
            );
            metrics.transition(t.to);
            metrics.set_priority(router.priority());
            {
                let mut st = status.lock().unwrap_or_else(|p| p.into_inner());
                st.state = t.to.name().into();
                st.priority = router.priority();
                st.master = router.master().map(|m| m.to_string());
                st.last_transition = Some(format!("{} -> {}", t.from.name(), t.to.name()));
                st.last_reason = Some(t.reason.clone());
                st.last_at = Some(crate::log::now_unix() as u64);
                st.transitions += 1;
                if let Err(e) = st.write(status_file) {
                    log!("status file {}: {e}", status_file.display());
                }
            }
            if t.to != State::Initialize {
                let _ = role_tx.send(Some(role_of(t.to)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mover::MoverError;
    use futures::future::BoxFuture;
    use futures::FutureExt;

    /// Records every role it is given; fails the first `fail_master` Master applies.
    struct Fake {
        calls: Arc<Mutex<Vec<(Role, tokio::time::Instant)>>>,
        fail_master: Mutex<u32>,
    }

    impl Mover for Fake {
        fn name(&self) -> &'static str {
            "fake"
        }
        fn apply(&self, role: Role) -> BoxFuture<'_, Result<(), MoverError>> {
            async move {
                self.calls
                    .lock()
                    .unwrap()
                    .push((role, tokio::time::Instant::now()));
                let mut f = self.fail_master.lock().unwrap();
                if role == Role::Master && *f > 0 {
                    *f -= 1;
                    return Err(MoverError::transient("fake", "try again"));
                }
                Ok(())
            }
            .boxed()
        }
        fn holds(&self) -> BoxFuture<'_, Result<Option<bool>, MoverError>> {
            async { Ok(None) }.boxed()
        }
    }

    /// Acquire hangs (an API outage); records when it is dropped.
    struct Hanging {
        calls: Arc<Mutex<Vec<(String, tokio::time::Instant)>>>,
    }

    struct DropMark(Arc<Mutex<Vec<(String, tokio::time::Instant)>>>);

    impl Drop for DropMark {
        fn drop(&mut self) {
            self.0
                .lock()
                .unwrap()
                .push(("dropped".into(), tokio::time::Instant::now()));
        }
    }

    impl Mover for Hanging {
        fn name(&self) -> &'static str {
            "hanging"
        }
        fn apply(&self, role: Role) -> BoxFuture<'_, Result<(), MoverError>> {
            async move {
                let now = tokio::time::Instant::now();
                self.calls.lock().unwrap().push((role.name().into(), now));
                if role == Role::Master {
                    let _mark = DropMark(self.calls.clone());
                    tokio::time::sleep(Duration::from_secs(600)).await;
                    std::mem::forget(_mark); // finished normally: not a drop
                }
                Ok(())
            }
            .boxed()
        }
        fn holds(&self) -> BoxFuture<'_, Result<Option<bool>, MoverError>> {
            async { Ok(None) }.boxed()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn losing_mastership_cancels_an_acquire_in_progress() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = watch::channel(None);
        let (_ann_tx, ann_rx) = mpsc::channel(1);
        let dir = std::env::temp_dir().join(format!("fulcrum-ha-rt2-{}", std::process::id()));
        let task = tokio::spawn(mover_task(
            vec![Box::new(Hanging {
                calls: calls.clone(),
            })],
            rx,
            ann_rx,
            Arc::new(Metrics::default()),
            Arc::new(Mutex::new(Status::default())),
            dir.join("status.json"),
        ));
        let t0 = tokio::time::Instant::now();
        tx.send(Some(Role::Master)).unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        tx.send(Some(Role::Backup)).unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        {
            let c = calls.lock().unwrap();
            let names: Vec<&str> = c.iter().map(|x| x.0.as_str()).collect();
            assert_eq!(names, vec!["MASTER", "dropped", "BACKUP"]);
            // Dropped and released at the moment the role changed, not 600 s later.
            assert_eq!(c[1].1 - t0, Duration::from_secs(3));
            assert_eq!(c[2].1 - t0, Duration::from_secs(3));
        }
        tx.send(Some(Role::Stop)).unwrap();
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .expect("task ended on Stop")
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(start_paused = true)]
    async fn mover_task_retries_acquire_and_stops_on_stop() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let fake = Fake {
            calls: calls.clone(),
            fail_master: Mutex::new(2),
        };
        let (tx, rx) = watch::channel(None);
        let (_ann_tx, ann_rx) = mpsc::channel(1);
        let dir = std::env::temp_dir().join(format!("fulcrum-ha-rt-{}", std::process::id()));
        let task = tokio::spawn(mover_task(
            vec![Box::new(fake)],
            rx,
            ann_rx,
            Arc::new(Metrics::default()),
            Arc::new(Mutex::new(Status::default())),
            dir.join("status.json"),
        ));
        let t0 = tokio::time::Instant::now();
        // Nothing happens before the first decision.
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(calls.lock().unwrap().is_empty());
        tx.send(Some(Role::Master)).unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        {
            let c = calls.lock().unwrap();
            let roles: Vec<Role> = c.iter().map(|x| x.0).collect();
            // Two transient failures, retried one second apart, then success; no more.
            assert_eq!(roles, vec![Role::Master, Role::Master, Role::Master]);
            assert_eq!(c[1].1 - c[0].1, Duration::from_secs(1));
            assert_eq!(c[2].1 - c[1].1, Duration::from_secs(1));
            assert_eq!(c[0].1 - t0, Duration::from_secs(5));
        }
        tx.send(Some(Role::Backup)).unwrap();
        tx.send(Some(Role::Stop)).unwrap();
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .expect("task ended on Stop")
            .unwrap();
        let roles: Vec<Role> = calls.lock().unwrap().iter().map(|x| x.0).collect();
        // The latest wanted role wins: Backup was superseded before it ran.
        assert_eq!(*roles.last().unwrap(), Role::Stop);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
