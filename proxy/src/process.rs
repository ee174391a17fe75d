//! The process around the workers: daemon mode, pid file, signals (SIGTERM stops now,
//! SIGUSR1 stops accepting and exits once idle), and the handover from old processes
//! (`-sf`/`-st`).

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::Runtime;

/// Detaches from the terminal: fork, the parent exits, the child starts a new session.
/// Must run before any thread is started.
pub fn daemonize() -> io::Result<()> {
    // SAFETY: called while the process is single-threaded, so fork duplicates everything the
    // child needs; the parent only exits.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        _ => unsafe { libc::_exit(0) },
    }
    // SAFETY: plain syscalls on our own process.
    if unsafe { libc::setsid() } == -1 {
        return Err(io::Error::last_os_error());
    }
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    use std::os::fd::AsRawFd;
    for fd in 0..3 {
        // SAFETY: replaces stdio with /dev/null, as daemons do; both descriptors are valid.
        unsafe { libc::dup2(devnull.as_raw_fd(), fd) };
    }
    Ok(())
}

/// Writes our PID to `path`.
pub fn write_pidfile(path: &Path) -> io::Result<()> {
    std::fs::write(path, format!("{}\n", std::process::id()))
}

/// Tells the old processes of a reload to finish (`-sf`: SIGUSR1) or stop (`-st`: SIGTERM).
pub fn signal_old(soft: &[i32], hard: &[i32]) {
    for &pid in soft {
        // SAFETY: kill(2) with a PID the operator gave us.
        unsafe { libc::kill(pid, libc::SIGUSR1) };
    }
    for &pid in hard {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
}

/// Waits for a stop signal and carries it out; returns the exit code.
pub fn wait_for_signals(rt: Arc<Runtime>, hard_stop_after: Option<Duration>) -> i32 {
    let tokio_rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fulcrum: cannot start the signal loop: {e}");
            return 1;
        }
    };
    tokio_rt.block_on(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int), Ok(mut usr1)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::user_defined1()),
        ) else {
            eprintln!("fulcrum: cannot install signal handlers");
            return 1;
        };
        tokio::select! {
            _ = term.recv() => 0,
            _ = int.recv() => 0,
            _ = usr1.recv() => {
                // Soft stop: listeners close now, open connections finish.
                rt.stop_accepting();
                let idle = rt.wait_idle();
                match hard_stop_after {
                    Some(d) => { let _ = tokio::time::timeout(d, idle).await; }
                    None => tokio::select! {
                        _ = idle => {}
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    },
                }
                0
            }
        }
    })
}
