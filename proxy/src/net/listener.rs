//! Listening sockets for `bind` lines: IP (one `SO_REUSEPORT` socket per worker thread, so the
//! kernel spreads connections and each thread accepts on its own), unix paths, Linux abstract
//! names and inherited `fd@N` sockets (shared by the workers).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener as StdUnixListener;

use socket2::{Domain, Socket, Type};
use tokio::net::{TcpListener, UnixListener};

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
        Ok(match self {
            StdListener::Tcp(l) => {
                l.set_nonblocking(true)?;
                Listener::Tcp(TcpListener::from_std(l)?)
            }
            StdListener::Unix(l) => {
                l.set_nonblocking(true)?;
                Listener::Unix(UnixListener::from_std(l)?)
            }
        })
    }

    /// The bound IP address, for listeners bound to port 0 in tests.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            StdListener::Tcp(l) => l.local_addr().ok(),
            StdListener::Unix(_) => None,
        }
    }
}

/// A listening socket on a worker's event loop.
#[derive(Debug)]
pub enum Listener {
    /// An IP socket.
    Tcp(TcpListener),
    /// A unix or abstract socket.
    Unix(UnixListener),
}

impl Listener {
    /// Waits for the next connection.
    pub async fn accept(&self) -> io::Result<Stream> {
        match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept().await?;
                // Like haproxy, never delay small writes on the client side.
                let _ = s.set_nodelay(true);
                Ok(Stream::Tcp(s))
            }
            Listener::Unix(l) => Ok(Stream::Unix(l.accept().await?.0)),
        }
    }
}

/// How many sockets an address needs: IP addresses get one per worker (`SO_REUSEPORT`), the
/// others are bound once and shared.
pub fn bind_all(bind: &Bind, addr: &BindAddr, workers: usize) -> io::Result<Vec<StdListener>> {
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
            Ok(out)
        }
        other => {
            let l = bind_shared(bind, other)?;
            let mut out = Vec::with_capacity(workers);
            for _ in 1..workers {
                out.push(l.try_clone()?);
            }
            out.push(l);
            Ok(out)
        }
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
            // A stale socket file from a previous run would make bind fail; haproxy replaces it.
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                use std::os::unix::fs::FileTypeExt;
                if meta.file_type().is_socket() {
                    let _ = std::fs::remove_file(path);
                }
            }
            let l = StdUnixListener::bind(path)?;
            if let Some(mode) = bind.unix_mode {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
            }
            if bind.unix_uid.is_some() || bind.unix_gid.is_some() {
                std::os::unix::fs::chown(path, bind.unix_uid, bind.unix_gid)?;
            }
            relisten(l.into(), backlog(bind)).map(|fd| StdListener::Unix(fd.into()))
        }
        BindAddr::Abns(name) => {
            use std::os::linux::net::SocketAddrExt;
            let sa = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
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
        let ls = bind_all(&b, &BindAddr::Inet("127.0.0.1:0".parse().unwrap()), 3).unwrap();
        assert_eq!(ls.len(), 3);
        let port = ls[0].local_addr().unwrap().port();
        assert!(ls.iter().all(|l| l.local_addr().unwrap().port() == port));
    }

    #[test]
    fn unix_socket_gets_its_mode_and_replaces_a_stale_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let mut b = bind_line();
        b.unix_mode = Some(0o600);
        drop(bind_all(&b, &BindAddr::Unix(path.clone()), 1).unwrap());
        // The file is left behind, as after a crash: binding again must work.
        let ls = bind_all(&b, &BindAddr::Unix(path.clone()), 2).unwrap();
        assert_eq!(ls.len(), 2);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
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
