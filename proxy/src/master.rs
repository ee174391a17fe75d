//! Master-worker mode (`-W`, `-Ws`, global `master-worker`): a small master process runs the
//! proxy as a child worker, reloads it on SIGUSR2 or SIGHUP (a new worker started with
//! `-sf OLD`, which takes over the old one's sockets) and passes stop signals on. A reload
//! with a broken configuration leaves the running worker alone.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::signal::unix::{signal, SignalKind};

/// Set in a worker's environment so it does not become a master itself.
pub const WORKER_ENV: &str = "FULCRUM_MASTER_WORKER_CHILD";

/// Whether this process is a worker started by a master.
pub fn is_worker() -> bool {
    std::env::var_os(WORKER_ENV).is_some()
}

/// The worker's command line: the master's, less what only the master does.
pub fn worker_argv(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut skip_value = false;
    let mut skipping_pids = false;
    for a in argv {
        if skip_value {
            skip_value = false;
            continue;
        }
        if skipping_pids {
            if a.parse::<i32>().is_ok() {
                continue;
            }
            skipping_pids = false;
        }
        match a.as_str() {
            "-W" | "-Ws" | "-D" => {}
            "-p" => skip_value = true,
            // The master's own -sf/-st were for the processes it replaced.
            "-sf" | "-st" => skipping_pids = true,
            _ => out.push(a.clone()),
        }
    }
    out
}

/// The `-sf`/`-st` groups of the master's command line: its first worker takes over from
/// those processes.
fn handover_args(argv: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_group = false;
    for a in argv {
        if a == "-sf" || a == "-st" {
            in_group = true;
            out.push(a.clone());
        } else if in_group && a.parse::<i32>().is_ok() {
            out.push(a.clone());
        } else {
            in_group = false;
        }
    }
    out
}

fn spawn(argv: &[String], extra: &[String]) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(argv)
        .args(extra)
        .env(WORKER_ENV, "1")
        .stdin(Stdio::null())
        .kill_on_drop(false);
    cmd.spawn()
}

fn kill(pid: Option<u32>, sig: i32) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Runs the master until the workers are gone; returns the exit code.
pub fn run(argv: Vec<String>) -> i32 {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("[ALERT] master: cannot start: {e}");
            return 1;
        }
    };
    rt.block_on(async move {
        let first = handover_args(&argv);
        let argv = worker_argv(&argv);
        let mut worker = match spawn(&argv, &first) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("[ALERT] master: cannot start a worker: {e}");
                return 1;
            }
        };
        let (Ok(mut term), Ok(mut int), Ok(mut usr1), Ok(mut usr2), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::user_defined1()),
            signal(SignalKind::user_defined2()),
            signal(SignalKind::hangup()),
        ) else {
            eprintln!("[ALERT] master: cannot install signal handlers");
            return 1;
        };
        // Old workers finishing their connections after a reload.
        let mut old: Vec<Child> = Vec::new();
        loop {
            tokio::select! {
                status = worker.wait() => {
                    // The current worker ended on its own: the master's job is over.
                    for o in old.iter_mut() { let _ = o.wait().await; }
                    return status.ok().and_then(|s| s.code()).unwrap_or(1);
                }
                _ = term.recv() => return stop(&mut worker, &mut old, libc::SIGTERM).await,
                _ = int.recv() => return stop(&mut worker, &mut old, libc::SIGTERM).await,
                _ = usr1.recv() => return stop(&mut worker, &mut old, libc::SIGUSR1).await,
                _ = async { tokio::select! { _ = usr2.recv() => {}, _ = hup.recv() => {} } } => {
                    let sf = ["-sf".to_string(), worker.id().unwrap_or(0).to_string()];
                    match spawn(&argv, &sf) {
                        Ok(mut new) => {
                            // A broken configuration makes the new worker exit at once,
                            // before it signals the old one: keep the old one then.
                            match tokio::time::timeout(Duration::from_millis(500), new.wait()).await {
                                Ok(_) => eprintln!("[WARNING] master: reload failed, keeping the running worker"),
                                Err(_) => old.push(std::mem::replace(&mut worker, new)),
                            }
                        }
                        Err(e) => eprintln!("[WARNING] master: reload failed: {e}"),
                    }
                }
            }
            // Forget old workers that have finished.
            old.retain_mut(|o| matches!(o.try_wait(), Ok(None)));
        }
    })
}

async fn stop(worker: &mut Child, old: &mut [Child], sig: i32) -> i32 {
    kill(worker.id(), sig);
    for o in old.iter_mut() {
        kill(o.id(), sig);
    }
    let status = worker.wait().await;
    for o in old.iter_mut() {
        let _ = o.wait().await;
    }
    status.ok().and_then(|s| s.code()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_command_line_drops_master_only_flags() {
        let argv: Vec<String> = [
            "-W",
            "-D",
            "-f",
            "a.cfg",
            "-p",
            "/run/x.pid",
            "-sf",
            "12",
            "34",
            "-q",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(worker_argv(&argv), ["-f", "a.cfg", "-q"]);
        assert_eq!(handover_args(&argv), ["-sf", "12", "34"]);
    }
}
