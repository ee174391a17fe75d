//! Raw VRRP sockets (IP protocol 112), IPv4 and IPv6, multicast or unicast peers.
//!
//! Receiving checks what only the IP layer shows: TTL / hop limit 255 (RFC 5798 §7.1),
//! source and destination (needed for the pseudo-header checksum).

use super::packet::{split_ipv4, Advert, DecodeError, IPPROTO_VRRP, MCAST_V4, MCAST_V6, TTL};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// One received VRRP packet, decoded or not.
#[derive(Debug)]
pub struct Received {
    /// IP source.
    pub src: IpAddr,
    /// IP destination.
    pub dst: IpAddr,
    /// TTL or hop limit as received.
    pub ttl: u8,
    /// The decoded advert, or why it is invalid.
    pub advert: Result<Advert, DecodeError>,
}

/// A VRRP socket bound to one interface and source address.
pub struct VrrpSocket {
    tx: AsyncFd<Socket>,
    rx: AsyncFd<Socket>,
    src: IpAddr,
    ifindex: u32,
    dests: Vec<IpAddr>,
}

/// First address of `interface` of the wanted family (link-local for IPv6), through
/// getifaddrs: what VRRP uses as the router's primary address.
pub fn primary_address(interface: &str, v4: bool) -> io::Result<IpAddr> {
    let mut found = None;
    // SAFETY: getifaddrs/freeifaddrs pair; the list is only read in between, and each
    // ifa_addr is checked for null and read according to its sa_family.
    unsafe {
        let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
        if libc::getifaddrs(&mut ifap) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut p = ifap;
        while !p.is_null() {
            let ifa = &*p;
            p = ifa.ifa_next;
            if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
                continue;
            }
            let name = std::ffi::CStr::from_ptr(ifa.ifa_name).to_string_lossy();
            if name != interface {
                continue;
            }
            let fam = i32::from((*ifa.ifa_addr).sa_family);
            if v4 && fam == libc::AF_INET {
                let sa = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                found = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr))));
                break;
            }
            if !v4 && fam == libc::AF_INET6 {
                let sa = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                let a = Ipv6Addr::from(sa.sin6_addr.s6_addr);
                if a.segments()[0] & 0xffc0 == 0xfe80 {
                    found = Some(IpAddr::V6(a));
                    break;
                }
            }
        }
        libc::freeifaddrs(ifap);
    }
    found.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "interface {interface} has no {} address",
                if v4 { "IPv4" } else { "IPv6 link-local" }
            ),
        )
    })
}

fn setsockopt_int(fd: i32, level: i32, name: i32, val: i32) -> io::Result<()> {
    // SAFETY: passes a pointer to a live i32 and its size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&val as *const i32).cast(),
            std::mem::size_of::<i32>() as u32,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Attaches a classic BPF program that drops every packet, so the send-only socket never
/// queues input nobody reads.
fn drop_all_input(s: &Socket) -> io::Result<()> {
    let mut insn = [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: 0,
    }];
    let prog = libc::sock_fprog {
        len: 1,
        filter: insn.as_mut_ptr(),
    };
    // SAFETY: prog points at a live one-instruction program for the duration of the call.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&prog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as u32,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl VrrpSocket {
    /// Opens the sockets on `interface` (index `ifindex`) with source `src`; sends to
    /// `peers` or, if empty, to the VRRP multicast group, which it joins.
    ///
    /// Two sockets: a raw socket bound to an address only receives packets sent to that
    /// address, so the sender is bound to `src` (which fixes the source the checksum
    /// covers) and a second, unbound socket receives both multicast and unicast adverts.
    pub fn open(
        interface: &str,
        ifindex: u32,
        src: IpAddr,
        peers: &[IpAddr],
    ) -> io::Result<VrrpSocket> {
        let v4 = src.is_ipv4();
        let new = || -> io::Result<Socket> {
            let s = Socket::new(
                if v4 { Domain::IPV4 } else { Domain::IPV6 },
                Type::RAW,
                Some(Protocol::from(i32::from(IPPROTO_VRRP))),
            )?;
            s.bind_device(Some(interface.as_bytes()))?;
            s.set_nonblocking(true)?;
            Ok(s)
        };
        let tx = new()?;
        let rx = new()?;
        match src {
            IpAddr::V4(a) => {
                tx.bind(&SockAddr::from(SocketAddrV4::new(a, 0)))?;
                tx.set_ttl(u32::from(TTL))?;
                tx.set_multicast_ttl_v4(u32::from(TTL))?;
                tx.set_multicast_loop_v4(false)?;
                tx.set_multicast_if_v4(&a)?;
                if peers.is_empty() {
                    rx.join_multicast_v4_n(
                        &MCAST_V4,
                        &socket2::InterfaceIndexOrAddress::Index(ifindex),
                    )?;
                }
                // Only the groups this socket joined, not every group of the host.
                setsockopt_int(rx.as_raw_fd(), libc::IPPROTO_IP, libc::IP_MULTICAST_ALL, 0)?;
            }
            IpAddr::V6(a) => {
                tx.bind(&SockAddr::from(SocketAddrV6::new(a, 0, 0, ifindex)))?;
                tx.set_unicast_hops_v6(u32::from(TTL))?;
                tx.set_multicast_hops_v6(u32::from(TTL))?;
                tx.set_multicast_loop_v6(false)?;
                tx.set_multicast_if_v6(ifindex)?;
                if peers.is_empty() {
                    rx.join_multicast_v6(&MCAST_V6, ifindex)?;
                }
                setsockopt_int(
                    rx.as_raw_fd(),
                    libc::IPPROTO_IPV6,
                    libc::IPV6_RECVHOPLIMIT,
                    1,
                )?;
                setsockopt_int(
                    rx.as_raw_fd(),
                    libc::IPPROTO_IPV6,
                    libc::IPV6_RECVPKTINFO,
                    1,
                )?;
            }
        }
        drop_all_input(&tx)?;
        let dests = if peers.is_empty() {
            vec![if v4 {
                IpAddr::V4(MCAST_V4)
            } else {
                IpAddr::V6(MCAST_V6)
            }]
        } else {
            peers.to_vec()
        };
        // SAFETY: the sockets are owned and stay open as long as their AsyncFd owns them.
        let tx = unsafe { AsyncFd::register(tx) }.map_err(|e| e.into_parts().1)?;
        // SAFETY: as above.
        let rx = unsafe { AsyncFd::register(rx) }.map_err(|e| e.into_parts().1)?;
        Ok(VrrpSocket {
            tx,
            rx,
            src,
            ifindex,
            dests,
        })
    }

    /// Our source (primary) address.
    pub fn source(&self) -> IpAddr {
        self.src
    }

    /// Sends `advert` to every destination, each with its own checksum.
    pub async fn send(&self, advert: &Advert) -> io::Result<()> {
        let mut last_err = None;
        for &dst in &self.dests {
            let bytes = advert.encode(self.src, dst);
            let to: SocketAddr = match dst {
                IpAddr::V4(d) => SocketAddr::V4(SocketAddrV4::new(d, 0)),
                IpAddr::V6(d) => SocketAddr::V6(SocketAddrV6::new(d, 0, 0, self.ifindex)),
            };
            let to = SockAddr::from(to);
            let r = self
                .tx
                .async_io(Interest::WRITABLE, |s| s.send_to(&bytes, &to))
                .await;
            if let Err(e) = r {
                last_err = Some(e);
            }
        }
        match last_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Receives the next VRRP packet addressed to us (our source, or the group).
    pub async fn recv(&self) -> io::Result<Received> {
        loop {
            let r = if self.src.is_ipv4() {
                self.recv_v4().await?
            } else {
                self.recv_v6().await?
            };
            if let Some(r) = r {
                return Ok(r);
            }
        }
    }

    async fn recv_v4(&self) -> io::Result<Option<Received>> {
        let mut buf = [0u8; 2048];
        let n = self
            .rx
            .async_io(Interest::READABLE, |s| {
                // SAFETY: buf is valid for writes of buf.len() bytes.
                let n = unsafe { libc::recv(s.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            })
            .await?;
        let Some((meta, payload)) = split_ipv4(&buf[..n]) else {
            return Ok(None);
        };
        if meta.proto != IPPROTO_VRRP {
            return Ok(None);
        }
        let (src, dst) = (IpAddr::V4(meta.src), IpAddr::V4(meta.dst));
        Ok(Some(Received {
            src,
            dst,
            ttl: meta.ttl,
            advert: Advert::decode(src, dst, payload),
        }))
    }

    async fn recv_v6(&self) -> io::Result<Option<Received>> {
        let mut buf = [0u8; 2048];
        let mut cmsg = [0u64; 32];
        let (n, src, hops, dst) = self
            .rx
            .async_io(Interest::READABLE, |s| {
                // SAFETY: recvmsg with iovec/control buffers that outlive the call; the
                // control messages are walked with the libc CMSG_* helpers within
                // msg_controllen, and read with read_unaligned.
                unsafe {
                    let mut from: libc::sockaddr_in6 = std::mem::zeroed();
                    let mut iov = libc::iovec {
                        iov_base: buf.as_mut_ptr().cast(),
                        iov_len: buf.len(),
                    };
                    let mut msg: libc::msghdr = std::mem::zeroed();
                    msg.msg_name = (&mut from as *mut libc::sockaddr_in6).cast();
                    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as u32;
                    msg.msg_iov = &mut iov;
                    msg.msg_iovlen = 1;
                    msg.msg_control = cmsg.as_mut_ptr().cast();
                    msg.msg_controllen = std::mem::size_of_val(&cmsg);
                    let n = libc::recvmsg(s.as_raw_fd(), &mut msg, 0);
                    if n < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    let mut hops = None;
                    let mut dst = None;
                    let mut c = libc::CMSG_FIRSTHDR(&msg);
                    while !c.is_null() {
                        let h = &*c;
                        if h.cmsg_level == libc::IPPROTO_IPV6 && h.cmsg_type == libc::IPV6_HOPLIMIT
                        {
                            let v: i32 = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                            hops = u8::try_from(v).ok();
                        }
                        if h.cmsg_level == libc::IPPROTO_IPV6 && h.cmsg_type == libc::IPV6_PKTINFO {
                            let v: libc::in6_pktinfo =
                                std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                            dst = Some(Ipv6Addr::from(v.ipi6_addr.s6_addr));
                        }
                        c = libc::CMSG_NXTHDR(&msg, c);
                    }
                    Ok((
                        n as usize,
                        Ipv6Addr::from(from.sin6_addr.s6_addr),
                        hops,
                        dst,
                    ))
                }
            })
            .await?;
        // Without hop limit or destination the packet cannot be verified: drop it.
        let (Some(ttl), Some(dst)) = (hops, dst) else {
            return Ok(None);
        };
        let (src, dst) = (IpAddr::V6(src), IpAddr::V6(dst));
        Ok(Some(Received {
            src,
            dst,
            ttl,
            advert: Advert::decode(src, dst, &buf[..n]),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_address_of_loopback() {
        assert_eq!(
            primary_address("lo", true).unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        // Loopback has ::1 but no link-local address: VRRP over IPv6 needs one.
        assert!(primary_address("lo", false).is_err());
        assert!(primary_address("no-such-if0", true).is_err());
    }
}
