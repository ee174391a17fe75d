//! The process around the workers: daemon mode, pid file, signals (SIGTERM stops now,
//! SIGUSR1 stops accepting and exits once idle), and the handover from old processes
//! (`-sf`/`-st`).

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::Runtime;

/// A daemon child that has not finished starting: its stdio still reaches the terminal (so
/// startup errors are seen) and its parent waits for [`Detach::done`] to exit with the
/// right status.
#[derive(Debug)]
pub struct Detach {
    pipe: std::fs::File,
}

/// Goes to the background: forks before anything else is started (threads do not survive a
/// fork). The parent waits until the child reports that startup succeeded, then exits 0;
/// if the child fails or dies first, the parent exits 1. Returns in the child only.
pub fn daemonize() -> io::Result<Detach> {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills the two descriptors we pass.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are fresh and owned by us from here on.
    let (mut rd, wr) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    // SAFETY: called while the process is single-threaded, so fork duplicates everything the
    // child needs; the parent only waits on the pipe and exits.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        _ => {
            drop(wr);
            let mut b = [0u8; 1];
            let code = match rd.read(&mut b) {
                Ok(1) if b[0] == 0 => 0,
                _ => 1,
            };
            // SAFETY: leaving the parent without running the child's destructors twice.
            unsafe { libc::_exit(code) };
        }
    }
    drop(rd);
    // SAFETY: plain syscall on our own process.
    if unsafe { libc::setsid() } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(Detach { pipe: wr })
}

impl Detach {
    /// Startup succeeded: the parent exits 0 and stdio goes to /dev/null.
    pub fn done(mut self) -> io::Result<()> {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        self.pipe.write_all(&[0])?;
        let devnull = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")?;
        for fd in 0..3 {
            // SAFETY: replaces stdio with /dev/null, as daemons do; both descriptors are valid.
            unsafe { libc::dup2(devnull.as_raw_fd(), fd) };
        }
        Ok(())
    }
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
