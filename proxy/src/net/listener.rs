//! Listening sockets for `bind` lines: IP (one `SO_REUSEPORT` socket per worker thread, so the
//! kernel spreads connections and each thread accepts on its own), unix paths, Linux abstract
//! names and inherited `fd@N` sockets (shared by the workers).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener as StdUnixListener;

use socket2::{Domain, Socket, Type};
use tokio::io::unix::{AsyncFd, AsyncFdReadyGuard};
use tokio::net::{TcpStream, UnixStream};

use super::stream::Stream;
use crate::config::model::{Bind, BindAddr};

/// A bound, listening socket not yet given to a worker's event loop.
#[derive(Debug)]
pub enum StdListener {
    /// An IP socket.
    Tcp(std::net::TcpListener),
    /// A unix or abstract socket.
    Unix(StdUnixListener),
}

impl StdListener {
    /// Another handle on the same socket, for a worker that shares it.
    pub fn try_clone(&self) -> io::Result<StdListener> {
        Ok(match self {
            StdListener::Tcp(l) => StdListener::Tcp(l.try_clone()?),
            StdListener::Unix(l) => StdListener::Unix(l.try_clone()?),
        })
    }

    /// Hands the socket to the current tokio runtime.
    pub fn into_tokio(self) -> io::Result<Listener> {
        match &self {
            StdListener::Tcp(l) => l.set_nonblocking(true)?,
            StdListener::Unix(l) => l.set_nonblocking(true)?,
        }
        // SAFETY: the descriptor belongs to `self`, which the AsyncFd owns from here on, and a
        // StdListener always returns the same descriptor.
        let fd = unsafe { AsyncFd::register_with_interest(self, tokio::io::Interest::READABLE) }?;
        Ok(Listener { fd })
    }

    /// The key under which a reload hands this socket over (its actual bound address).
    pub fn handover_key(&self) -> Option<String> {
        match self {
            StdListener::Tcp(l) => l.local_addr().ok().map(|a| format!("inet {a}")),
            StdListener::Unix(l) => {
                use std::os::linux::net::SocketAddrExt;
                let a = l.local_addr().ok()?;
                if let Some(p) = a.as_pathname() {
                    // The socket was bound under `PATH.PID.tmp` and renamed to PATH.
                    let p = p.to_string_lossy();
                    let p = p
                        .strip_suffix(".tmp")
                        .and_then(|r| r.rsplit_once('.'))
                        .filter(|(_, pid)| pid.bytes().all(|b| b.is_ascii_digit()))
                        .map_or(&*p, |(path, _)| path);
                    Some(format!("unix {p}"))
                } else {
                    a.as_abstract_name()
                        .map(|n| format!("abns {}", String::from_utf8_lossy(n)))
                }
            }
        }
    }

    /// A second descriptor for the same socket.
    pub fn dup_fd(&self) -> io::Result<OwnedFd> {
        use std::os::fd::AsFd;
        match self {
            StdListener::Tcp(l) => l.as_fd().try_clone_to_owned(),
            StdListener::Unix(l) => l.as_fd().try_clone_to_owned(),
        }
    }

    /// The bound IP address, for listeners bound to port 0 in tests.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            StdListener::Tcp(l) => l.local_addr().ok(),
            StdListener::Unix(_) => None,
        }
    }
}

/// A listening socket on a worker's event loop. Accepting is split in two (wait until a
/// connection is pending, then take it) so that a worker takes `maxconn` slots only for a
/// connection that is really waiting in its own queue.
#[derive(Debug)]
pub struct Listener {
    fd: AsyncFd<StdListener>,
}

impl std::os::fd::AsRawFd for StdListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match self {
            StdListener::Tcp(l) => l.as_raw_fd(),
            StdListener::Unix(l) => l.as_raw_fd(),
        }
    }
}

impl Listener {
    /// The socket's descriptor (for `-d` traces).
    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.fd.get_ref().as_raw_fd()
    }

    /// Waits until a connection is pending (or another worker took it first: then
    /// [`Listener::try_accept`] finds nothing and clears the readiness).
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, StdListener>> {
        self.fd.readable().await
    }

    /// Takes a pending connection, with the client's address (which accept gives for free:
    /// asking the socket later would cost a system call). `WouldBlock` when none is pending.
    pub fn try_accept(
        guard: &mut AsyncFdReadyGuard<'_, StdListener>,
    ) -> io::Result<(Stream, Option<SocketAddr>)> {
        match guard.try_io(|fd| accept_now(fd.get_ref())) {
            Ok(r) => r,
            Err(_would_block) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Waits for the next connection (for listeners without `maxconn` slots).
    pub async fn accept(&self) -> io::Result<(Stream, Option<SocketAddr>)> {
        loop {
            let mut guard = self.readable().await?;
            match Self::try_accept(&mut guard) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return r,
            }
        }
    }
}

fn accept_now(l: &StdListener) -> io::Result<(Stream, Option<SocketAddr>)> {
    match l {
        StdListener::Tcp(l) => {
            let (s, peer) = l.accept()?;
            s.set_nonblocking(true)?;
            // Like haproxy, never delay small writes on the client side.
            let _ = s.set_nodelay(true);
            Ok((Stream::Tcp(TcpStream::from_std(s)?), Some(peer)))
        }
        StdListener::Unix(l) => {
            let (s, _) = l.accept()?;
            s.set_nonblocking(true)?;
            Ok((Stream::Unix(UnixStream::from_std(s)?), None))
        }
    }
}

/// The name under which a reload hands this address's sockets over (`None`: not handed over;
/// an inherited `fd@N` is inherited again by the successor).
pub fn handover_key(addr: &BindAddr) -> Option<String> {
    match addr {
        BindAddr::Inet(sa) if sa.port() != 0 => Some(format!("inet {sa}")),
        BindAddr::Inet(_) | BindAddr::Fd(_) => None,
        BindAddr::Unix(p) => Some(format!("unix {}", p.display())),
        BindAddr::Abns(n) => Some(format!("abns {n}")),
    }
}

/// The sockets for one address, one list entry per worker: IP addresses get one socket per
/// worker (`SO_REUSEPORT`), the others are bound once and shared. `inherited` are the same
/// address's sockets handed over by the process being replaced: they are used first (all of
/// them, so that no queued connection is left behind), and only missing ones are bound.
pub fn bind_all(
    bind: &Bind,
    addr: &BindAddr,
    workers: usize,
    inherited: Vec<OwnedFd>,
) -> io::Result<Vec<Vec<StdListener>>> {
    if !inherited.is_empty() {
        let mut out: Vec<Vec<StdListener>> = (0..workers).map(|_| Vec::new()).collect();
        let n = inherited.len();
        let unix = !matches!(addr, BindAddr::Inet(_));
        for (i, fd) in inherited.into_iter().enumerate() {
            let l = if unix {
                StdListener::Unix(fd.into())
            } else {
                StdListener::Tcp(fd.into())
            };
            out[i % workers].push(l);
        }
        // Fewer sockets than workers: IP addresses get more of their own; shared sockets
        // are shared.
        for w in n..workers {
            let extra = match (&out[0][0], addr) {
                (StdListener::Tcp(l), BindAddr::Inet(_)) => {
                    StdListener::Tcp(bind_inet(l.local_addr()?, bind)?)
                }
                (first, _) => first.try_clone()?,
            };
            out[w].push(extra);
        }
        return Ok(out);
    }
    let single = |v: Vec<StdListener>| v.into_iter().map(|l| vec![l]).collect();
    match addr {
        BindAddr::Inet(sa) => {
            let mut out = Vec::with_capacity(workers);
            let first = bind_inet(*sa, bind)?;
            // With port 0 the kernel picks the port: the other workers must share that one.
            let sa = first.local_addr()?;
            out.push(StdListener::Tcp(first));
            for _ in 1..workers {
                out.push(StdListener::Tcp(bind_inet(sa, bind)?));
            }
            Ok(single(out))
        }
        other => {
            let l = bind_shared(bind, other)?;
            let mut out = Vec::with_capacity(workers);
            for _ in 1..workers {
                out.push(l.try_clone()?);
            }
            out.push(l);
            Ok(single(out))
        }
    }
}

/// The abstract socket name haproxy uses for `abns@NAME`: the name padded with zeros to the
/// whole `sun_path` (107 bytes after the leading zero), so haproxy and Fulcrum reach each
/// other's abstract sockets.
pub fn abns_name(name: &str) -> Vec<u8> {
    let mut v = name.as_bytes().to_vec();
    v.resize(v.len().max(107), 0);
    v
}

/// An address as haproxy prints it in errors.
pub fn describe(addr: &BindAddr) -> String {
    match addr {
        BindAddr::Inet(sa) => format!("[{sa}]"),
        BindAddr::Unix(p) => format!("[unix@{}]", p.display()),
        BindAddr::Abns(n) => format!("[abns@{n}]"),
        BindAddr::Fd(n) => format!("[fd@{n}]"),
    }
}

fn backlog(bind: &Bind) -> i32 {
    // haproxy's default backlog is the frontend's maxconn; the kernel caps it at somaxconn.
    bind.backlog
        .or(bind.maxconn)
        .map(|b| b.min(i32::MAX as u32) as i32)
        .unwrap_or(1024)
}

fn bind_inet(sa: SocketAddr, bind: &Bind) -> io::Result<std::net::TcpListener> {
    let sock = Socket::new(Domain::for_address(sa), Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    if sa.is_ipv6() {
        if bind.v6only {
            sock.set_only_v6(true)?;
        } else if bind.v4v6 {
            sock.set_only_v6(false)?;
        }
    }
    sock.set_nonblocking(true)?;
    sock.bind(&sa.into())?;
    sock.listen(backlog(bind))?;
    Ok(sock.into())
}

fn bind_shared(bind: &Bind, addr: &BindAddr) -> io::Result<StdListener> {
    match addr {
        BindAddr::Inet(_) => unreachable!("IP addresses are bound per worker"),
        BindAddr::Unix(path) => {
            // Like haproxy: bind under a temporary name, set mode and owner, then rename over
            // the final path, so that no client ever sees the socket with the wrong rights
            // (and a stale socket from a previous run is replaced atomically).
            let mut tmp = path.as_os_str().to_owned();
            tmp.push(format!(".{}.tmp", std::process::id()));
            let tmp = std::path::PathBuf::from(tmp);
            let _ = std::fs::remove_file(&tmp);
            let l = StdUnixListener::bind(&tmp)?;
            let setup = (|| {
                if let Some(mode) = bind.unix_mode {
                    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
                }
                if bind.unix_uid.is_some() || bind.unix_gid.is_some() {
                    std::os::unix::fs::chown(&tmp, bind.unix_uid, bind.unix_gid)?;
                }
                std::fs::rename(&tmp, path)
            })();
            if let Err(e) = setup {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            relisten(l.into(), backlog(bind)).map(|fd| StdListener::Unix(fd.into()))
        }
        BindAddr::Abns(name) => {
            use std::os::linux::net::SocketAddrExt;
            let sa = std::os::unix::net::SocketAddr::from_abstract_name(abns_name(name))?;
            let l = StdUnixListener::bind_addr(&sa)?;
            relisten(l.into(), backlog(bind)).map(|fd| StdListener::Unix(fd.into()))
        }
        BindAddr::Fd(fd) => inherit_fd(*fd),
    }
}

/// std listens with its own backlog; apply the configured one.
fn relisten(fd: OwnedFd, backlog: i32) -> io::Result<OwnedFd> {
    let sock = Socket::from(fd);
    sock.listen(backlog)?;
    Ok(sock.into())
}

/// Takes over an inherited listening socket (`fd@N`), whatever its family.
fn inherit_fd(fd: i32) -> io::Result<StdListener> {
    // SAFETY: `fd@N` is the operator telling us that descriptor N is a socket handed to this
    // process; we check it is one (and listening) before use, and nothing else owns it.
    let sock = unsafe { Socket::from_raw_fd(fd) };
    let check = (|| {
        let ty = sock.r#type()?;
        if ty != Type::STREAM {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a stream socket",
            ));
        }
        if !sock.is_listener()? {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "socket is not listening",
            ));
        }
        sock.local_addr()
    })();
    match check {
        Ok(local) if local.is_unix() => Ok(StdListener::Unix(OwnedFd::from(sock).into())),
        Ok(_) => Ok(StdListener::Tcp(sock.into())),
        Err(e) => {
            // Not ours after all: do not close a descriptor we do not own.
            let _ = sock.into_raw_fd();
            Err(io::Error::new(e.kind(), format!("fd@{fd}: {e}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn bind_line() -> Bind {
        Bind {
            loc: crate::config::Loc {
                file: std::sync::Arc::new(PathBuf::from("t.cfg")),
                line: 1,
            },
            addrs: vec![],
            name: None,
            maxconn: None,
            backlog: None,
            v4v6: false,
            v6only: false,
            unix_mode: None,
            unix_uid: None,
            unix_gid: None,
        }
    }

    #[test]
    fn ip_addresses_get_one_socket_per_worker_on_one_port() {
        let b = bind_line();
        let ls = bind_all(
            &b,
            &BindAddr::Inet("127.0.0.1:0".parse().unwrap()),
            3,
            vec![],
        )
        .unwrap();
        assert_eq!(ls.len(), 3);
        let ls: Vec<_> = ls.into_iter().flatten().collect();
        let port = ls[0].local_addr().unwrap().port();
        assert!(ls.iter().all(|l| l.local_addr().unwrap().port() == port));
    }

    #[test]
    fn unix_socket_gets_its_mode_and_replaces_a_stale_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let mut b = bind_line();
        b.unix_mode = Some(0o600);
        drop(bind_all(&b, &BindAddr::Unix(path.clone()), 1, vec![]).unwrap());
        // The file is left behind, as after a crash: binding again must work.
        let ls = bind_all(&b, &BindAddr::Unix(path.clone()), 2, vec![]).unwrap();
        assert_eq!(ls.len(), 2);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn handed_over_sockets_are_all_used_and_completed_per_worker() {
        let b = bind_line();
        let old = bind_all(
            &b,
            &BindAddr::Inet("127.0.0.1:0".parse().unwrap()),
            1,
            vec![],
        )
        .unwrap();
        let StdListener::Tcp(l) = old.into_iter().flatten().next().unwrap() else {
            panic!()
        };
        let addr = l.local_addr().unwrap();
        let fd: OwnedFd = l.into();
        // One socket handed over, three workers: the socket is kept, two more are bound on
        // the same address.
        let ls = bind_all(&b, &BindAddr::Inet(addr), 3, vec![fd]).unwrap();
        assert_eq!(ls.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1]);
        assert!(ls.iter().flatten().all(|l| l.local_addr() == Some(addr)));
    }

    #[test]
    fn inherited_fd_must_be_a_listening_socket() {
        let file = tempfile::tempfile().unwrap();
        let fd = file.into_raw_fd();
        let err = inherit_fd(fd).unwrap_err();
        assert!(err.to_string().starts_with(&format!("fd@{fd}:")), "{err}");
        // The descriptor was not closed by the failed attempt.
        assert!(unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0);
        unsafe { libc::close(fd) };
    }
}
