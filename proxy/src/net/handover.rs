//! Listener handover for reloads (`-sf`/`-st`): the old process hands its listening sockets
//! to the new one over a unix socket (SCM_RIGHTS), so the new process accepts on the very
//! same sockets and no connection waiting in a kernel queue is lost when the old one stops.
//! haproxy reaches the same end with `-x` and `expose-fd listeners`; Fulcrum does it on its
//! own for every reload.
//!
//! Each process serves its sockets on the abstract address `fulcrum-listeners-<pid>`, to
//! peers of the same user (or root) only.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixAddr, UnixListener, UnixStream};

/// A listening socket and what it listens on, in a form both processes agree on.
#[derive(Debug)]
pub struct Handed {
    /// `inet ADDR`, `unix PATH` or `abns NAME`.
    pub key: String,
    /// The socket.
    pub fd: OwnedFd,
}

fn address_of(pid: u32) -> io::Result<UnixAddr> {
    UnixAddr::from_abstract_name(format!("fulcrum-listeners-{pid}").as_bytes())
}

/// The sockets this process offers to a successor. One per process by nature; emptied by
/// [`withdraw`] so that a stopping process holds no listening socket open.
static OFFERED: std::sync::Mutex<Vec<(String, OwnedFd)>> = std::sync::Mutex::new(Vec::new());

/// Stops offering (and closes our extra copies of) the listening sockets: on soft stop the
/// sockets must close unless a successor already holds them.
pub fn withdraw() {
    if let Ok(mut o) = OFFERED.lock() {
        o.clear();
    }
}

/// Serves `sockets` to successors, from a background thread, for the life of the process.
pub fn serve(sockets: Vec<(String, OwnedFd)>) -> io::Result<()> {
    let listener = UnixListener::bind_addr(&address_of(std::process::id())?)?;
    if let Ok(mut o) = OFFERED.lock() {
        *o = sockets;
    }
    std::thread::Builder::new()
        .name("fulcrum-handover".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                if !trusted(&conn) {
                    continue;
                }
                if let Ok(sockets) = OFFERED.lock() {
                    for (key, fd) in sockets.iter() {
                        if send_fd(&conn, key.as_bytes(), fd.as_raw_fd()).is_err() {
                            break;
                        }
                    }
                }
                // An empty message without a descriptor ends the list.
                let _ = send_fd(&conn, b"", -1);
            }
        })?;
    Ok(())
}

/// Fetches the listening sockets of process `pid`; empty when it serves none.
pub fn fetch(pid: i32) -> io::Result<Vec<Handed>> {
    let pid = u32::try_from(pid).map_err(|_| io::Error::other("bad pid"))?;
    let conn = UnixStream::connect_addr(&address_of(pid)?)?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut out = Vec::new();
    loop {
        let (key, fd) = recv_fd(&conn)?;
        match fd {
            Some(fd) => out.push(Handed { key, fd }),
            None => return Ok(out),
        }
    }
}

fn trusted(conn: &UnixStream) -> bool {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`.
    let r = unsafe {
        libc::getsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut cred as *mut _ as *mut libc::c_void,
            &mut len,
        )
    };
    // SAFETY: getuid cannot fail.
    r == 0 && (cred.uid == 0 || cred.uid == unsafe { libc::getuid() })
}

/// Control-message space, aligned as `cmsghdr` requires.
#[repr(C, align(8))]
struct CBuf([u8; 64]);

fn send_fd(conn: &UnixStream, data: &[u8], fd: RawFd) -> io::Result<()> {
    let mut payload = Vec::with_capacity(data.len() + 2);
    payload.extend_from_slice(&(data.len() as u16).to_be_bytes());
    payload.extend_from_slice(data);
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr() as *mut _,
        iov_len: payload.len(),
    };
    let mut cbuf = CBuf([0u8; 64]);
    // SAFETY: msghdr is plain data; every pointer set below points into live buffers of the
    // stated sizes, and CMSG_* compute offsets inside `cbuf`, which is large enough for one fd.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if fd >= 0 {
            msg.msg_control = cbuf.0.as_mut_ptr() as *mut _;
            msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut RawFd, fd);
        }
        if libc::sendmsg(conn.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn recv_fd(conn: &UnixStream) -> io::Result<(String, Option<OwnedFd>)> {
    let mut buf = [0u8; 4096];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut _,
        iov_len: buf.len(),
    };
    let mut cbuf = CBuf([0u8; 64]);
    // SAFETY: as in send_fd; the received descriptor is taken into an OwnedFd at once.
    let (n, fd) = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.0.as_mut_ptr() as *mut _;
        msg.msg_controllen = cbuf.0.len();
        let n = libc::recvmsg(conn.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut fd = None;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if !cmsg.is_null()
            && (*cmsg).cmsg_level == libc::SOL_SOCKET
            && (*cmsg).cmsg_type == libc::SCM_RIGHTS
        {
            let raw = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const RawFd);
            fd = Some(OwnedFd::from_raw_fd(raw));
        }
        (n as usize, fd)
    };
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "handover ended early",
        ));
    }
    let mut r = &buf[..n];
    let mut len = [0u8; 2];
    r.read_exact(&mut len)?;
    let len = usize::from(u16::from_be_bytes(len));
    let key = r
        .get(..len)
        .ok_or_else(|| io::Error::other("short handover message"))?;
    Ok((String::from_utf8_lossy(key).into_owned(), fd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_pass_between_processes_by_pid() {
        // Within one process: serve our own sockets, then fetch them back by our own pid.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let dup = l.try_clone().unwrap();
        serve(vec![(format!("inet {addr}"), dup.into())]).unwrap();
        let got = fetch(std::process::id() as i32).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key, format!("inet {addr}"));
        // It is the same listening socket: a connection queued on it is accepted through
        // the received descriptor.
        let _client = std::net::TcpStream::connect(addr).unwrap();
        let received: std::net::TcpListener = got.into_iter().next().unwrap().fd.into();
        let (_, peer) = received.accept().unwrap();
        assert_eq!(peer.ip(), addr.ip());
    }
}
