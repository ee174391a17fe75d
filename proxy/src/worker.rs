//! Worker threads: each runs its own single-threaded event loop and accepts on its own
//! listeners, so a connection lives on one thread from accept to close and the data path
//! shares nothing mutable with other threads but atomic counters.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::net::listener::StdListener;
use crate::runtime::{Frontend, Runtime};

/// The listeners one worker accepts on.
pub type WorkerListeners = Vec<(Arc<Frontend>, crate::runtime::Limit, StdListener)>;

/// Starts one thread per entry of `per_worker`.
pub fn start(rt: Arc<Runtime>, per_worker: Vec<WorkerListeners>) -> Vec<JoinHandle<()>> {
    per_worker
        .into_iter()
        .enumerate()
        .map(|(i, listeners)| {
            let rt = rt.clone();
            std::thread::Builder::new()
                .name(format!("fulcrum-w{i}"))
                .spawn(move || run(rt, listeners))
                .expect("spawning a worker thread")
        })
        .collect()
}

fn run(rt: Arc<Runtime>, listeners: WorkerListeners) {
    let tokio_rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fulcrum: cannot start a worker event loop: {e}");
            std::process::exit(1);
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&tokio_rt, async move {
        let mut loops = Vec::new();
        for (fe, bind_limit, l) in listeners {
            let l = match l.into_tokio() {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("fulcrum: listener of '{}': {e}", fe.name);
                    continue;
                }
            };
            let rt = rt.clone();
            loops.push(tokio::task::spawn_local(accept_loop(rt, fe, bind_limit, l)));
        }
        for l in loops {
            let _ = l.await;
        }
        // Listeners are closed; connections still open finish on this thread.
        rt.wait_idle().await;
    });
}

async fn accept_loop(
    rt: Arc<Runtime>,
    fe: Arc<Frontend>,
    bind_limit: crate::runtime::Limit,
    l: crate::net::listener::Listener,
) {
    let mut stopping = rt.stopping.subscribe();
    let lfd = l.raw_fd();
    loop {
        if *stopping.borrow() {
            return;
        }
        let mut ready = tokio::select! {
            r = l.readable() => match r {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("fulcrum: listener of '{}': {e}", fe.name);
                    return;
                }
            },
            _ = stopping.changed() => continue,
        };
        // A connection is waiting in this worker's queue: only now take the slots. When a
        // limit is reached the connection stays in the kernel's backlog, as with haproxy, and
        // no idle worker sits on a slot that another worker's queue needs.
        let permits = tokio::select! {
            p = async { (rt.maxconn.acquire().await, fe.maxconn.acquire().await, bind_limit.acquire().await) } => p,
            _ = stopping.changed() => continue,
        };
        match crate::net::listener::Listener::try_accept(&mut ready) {
            Ok((stream, peer)) => {
                let (rt, fe) = (rt.clone(), fe.clone());
                tokio::task::spawn_local(async move {
                    crate::frontend::serve(rt, fe, stream, peer, lfd).await;
                    drop(permits);
                });
            }
            // Another worker sharing this socket took it.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => {
                // Out of descriptors or memory: pause instead of spinning, as haproxy does.
                eprintln!("fulcrum: accept on '{}': {e}", fe.name);
                drop(ready);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
