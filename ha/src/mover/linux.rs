//! `linux` mover: adds the floating address to an interface through netlink and announces
//! it (gratuitous ARP for IPv4, unsolicited neighbour advertisement for IPv6); removes it
//! on BACKUP, FAULT and stop.

use super::{Mover, MoverError, Role};
use crate::config::Cidr;
use futures::future::BoxFuture;
use futures::{FutureExt, TryStreamExt};
use netlink_packet_route::address::{AddressAttribute, AddressFlag};
use std::ffi::CString;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

const NAME: &str = "linux";

/// The Linux mover for one interface.
#[derive(Debug, Clone)]
pub struct Linux {
    interface: String,
    addrs: Vec<Cidr>,
    garp_count: u32,
    refresh: Option<Duration>,
}

/// Interface index by name, in the caller's network namespace.
pub fn if_index(name: &str) -> io::Result<u32> {
    let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: c is a valid NUL-terminated string.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface {name}"),
        ));
    }
    Ok(idx)
}

/// Hardware (MAC) address of an interface, through SIOCGIFHWADDR.
pub fn if_mac(name: &str) -> io::Result<[u8; 6]> {
    // SAFETY: plain socket/ioctl calls on zeroed, correctly sized structures; the name is
    // bounded to IFNAMSIZ - 1 bytes.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (i, b) in name.bytes().take(libc::IFNAMSIZ - 1).enumerate() {
            ifr.ifr_name[i] = b as libc::c_char;
        }
        let r = libc::ioctl(fd, libc::SIOCGIFHWADDR, &mut ifr);
        let err = io::Error::last_os_error();
        libc::close(fd);
        if r < 0 {
            return Err(err);
        }
        let sa = ifr.ifr_ifru.ifru_hwaddr;
        let mut mac = [0u8; 6];
        for (i, m) in mac.iter_mut().enumerate() {
            *m = sa.sa_data[i] as u8;
        }
        Ok(mac)
    }
}

/// A gratuitous ARP request for `ip` from `mac` (RFC 5227 §3 "ARP Announcement").
pub fn garp_frame(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // request
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip.octets());
    // Target hardware address stays zero; target protocol address = sender's.
    f[38..42].copy_from_slice(&ip.octets());
    f
}

/// An unsolicited neighbour advertisement (RFC 4861 §7.2.6) for `target`, ICMPv6 body
/// only: the kernel fills in the checksum of raw ICMPv6 sockets.
pub fn na_message(mac: [u8; 6], target: Ipv6Addr) -> [u8; 32] {
    let mut m = [0u8; 32];
    m[0] = 136; // Neighbor Advertisement
    m[4] = 0x20; // Override flag; not Router, not Solicited
    m[8..24].copy_from_slice(&target.octets());
    m[24] = 2; // option: target link-layer address
    m[25] = 1; // length in 8-octet units
    m[26..32].copy_from_slice(&mac);
    m
}

fn send_garp(ifindex: u32, mac: [u8; 6], ip: Ipv4Addr) -> io::Result<()> {
    let frame = garp_frame(mac, ip);
    // SAFETY: socket/sendto with a zeroed sockaddr_ll filled in field by field.
    unsafe {
        let proto = (libc::ETH_P_ARP as u16).to_be();
        let fd = libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            i32::from(proto),
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut sll: libc::sockaddr_ll = std::mem::zeroed();
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = ifindex as i32;
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&[0xff; 6]);
        let r = libc::sendto(
            fd,
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        );
        let err = io::Error::last_os_error();
        libc::close(fd);
        if r < 0 {
            return Err(err);
        }
    }
    Ok(())
}

fn send_na(ifindex: u32, mac: [u8; 6], ip: Ipv6Addr) -> io::Result<()> {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    // RFC 4861 §7.1.2: receivers drop NAs whose hop limit is not 255.
    s.set_multicast_hops_v6(255)?;
    s.set_multicast_if_v6(ifindex)?;
    let dst = std::net::SocketAddrV6::new(
        "ff02::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
        0,
        0,
        ifindex,
    );
    s.send_to(&na_message(mac, ip), &SockAddr::from(dst))?;
    Ok(())
}

impl Linux {
    /// Moves `addrs` on `interface`.
    pub fn new(interface: &str, addrs: Vec<Cidr>, garp_count: u32) -> Linux {
        Linux {
            interface: interface.to_string(),
            addrs,
            garp_count,
            refresh: None,
        }
    }

    /// Re-announces every `refresh` while master.
    pub fn with_refresh(mut self, refresh: Option<Duration>) -> Linux {
        self.refresh = refresh;
        self
    }

    fn handle() -> Result<rtnetlink::Handle, MoverError> {
        let (conn, handle, _) = rtnetlink::new_connection()
            .map_err(|e| MoverError::permanent(NAME, format!("netlink: {e}")))?;
        tokio::spawn(conn);
        Ok(handle)
    }

    async fn present(
        &self,
        h: &rtnetlink::Handle,
        idx: u32,
        c: &Cidr,
    ) -> Result<Vec<netlink_packet_route::address::AddressMessage>, MoverError> {
        h.address()
            .get()
            .set_link_index_filter(idx)
            .set_address_filter(c.addr)
            .execute()
            .try_collect()
            .await
            .map_err(|e| MoverError::transient(NAME, format!("list addresses: {e}")))
    }

    async fn add(&self) -> Result<(), MoverError> {
        let idx =
            if_index(&self.interface).map_err(|e| MoverError::permanent(NAME, e.to_string()))?;
        let h = Self::handle()?;
        for c in &self.addrs {
            if !self.present(&h, idx, c).await?.is_empty() {
                continue;
            }
            let mut req = h.address().add(idx, c.addr, c.prefix);
            if c.addr.is_ipv6() {
                // No duplicate address detection: the address is moving here on purpose,
                // and DAD would keep it tentative (unusable) for a second or more, or
                // fail it outright while the old master still answers (keepalived does
                // the same).
                req.message_mut()
                    .attributes
                    .push(AddressAttribute::Flags(vec![AddressFlag::Nodad]));
            }
            req.execute().await.map_err(|e| {
                MoverError::transient(NAME, format!("add {c} on {}: {e}", self.interface))
            })?;
        }
        self.announce(idx).await;
        Ok(())
    }

    /// Gratuitous ARP / unsolicited NA, `garp_count` times 100 ms apart so a lost frame
    /// does not leave switches and neighbours pointing at the old master.
    async fn announce(&self, idx: u32) {
        let mac = match if_mac(&self.interface) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("fulcrum-ha: linux: no MAC for {}: {e}", self.interface);
                return;
            }
        };
        for n in 0..self.garp_count {
            if n > 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            for c in &self.addrs {
                let r = match c.addr {
                    IpAddr::V4(a) => send_garp(idx, mac, a),
                    IpAddr::V6(a) => send_na(idx, mac, a),
                };
                if let Err(e) = r {
                    eprintln!(
                        "fulcrum-ha: linux: announce {} on {}: {e}",
                        c.addr, self.interface
                    );
                }
            }
        }
    }

    async fn remove(&self) -> Result<(), MoverError> {
        let idx = match if_index(&self.interface) {
            Ok(i) => i,
            // No interface, no address on it.
            Err(_) => return Ok(()),
        };
        let h = Self::handle()?;
        for c in &self.addrs {
            for m in self.present(&h, idx, c).await? {
                h.address().del(m).execute().await.map_err(|e| {
                    MoverError::transient(NAME, format!("remove {c} from {}: {e}", self.interface))
                })?;
            }
        }
        Ok(())
    }

    async fn has_all(&self) -> Result<bool, MoverError> {
        let Ok(idx) = if_index(&self.interface) else {
            return Ok(false);
        };
        let h = Self::handle()?;
        for c in &self.addrs {
            if self.present(&h, idx, c).await?.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl Mover for Linux {
    fn name(&self) -> &'static str {
        NAME
    }

    fn apply(&self, role: Role) -> BoxFuture<'_, Result<(), MoverError>> {
        async move {
            match role {
                Role::Master => self.add().await,
                Role::Backup | Role::Fault | Role::Stop => self.remove().await,
            }
        }
        .boxed()
    }

    fn reannounce(&self) -> BoxFuture<'_, ()> {
        async move {
            if let Ok(idx) = if_index(&self.interface) {
                self.announce(idx).await;
            }
        }
        .boxed()
    }

    fn refresh_every(&self) -> Option<Duration> {
        self.refresh
    }

    fn holds(&self) -> BoxFuture<'_, Result<Option<bool>, MoverError>> {
        async move { Ok(Some(self.has_all().await?)) }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garp_layout() {
        let mac = [2, 0, 0, 0, 0, 1];
        let f = garp_frame(mac, Ipv4Addr::new(10, 0, 0, 100));
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &mac);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&f[22..28], &mac);
        assert_eq!(&f[28..32], &[10, 0, 0, 100]);
        assert_eq!(&f[32..38], &[0; 6]);
        assert_eq!(&f[38..42], &[10, 0, 0, 100]);
    }

    #[test]
    fn na_layout() {
        let mac = [2, 0, 0, 0, 0, 1];
        let t: Ipv6Addr = "2001:db8::100".parse().unwrap();
        let m = na_message(mac, t);
        assert_eq!(m[0], 136);
        assert_eq!(m[4], 0x20);
        assert_eq!(&m[8..24], &t.octets());
        assert_eq!(&m[24..26], &[2, 1]);
        assert_eq!(&m[26..32], &mac);
    }

    #[test]
    fn loopback_index_and_missing_interface() {
        assert!(if_index("lo").unwrap() > 0);
        assert!(if_index("no-such-if0").is_err());
    }
}
