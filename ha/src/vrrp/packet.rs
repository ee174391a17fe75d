//! VRRP version 3 advertisement encoding and decoding (RFC 5798 §5).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |(rsvd) |     Max Adver Int     |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       IPvX Address(es)                        |
//! ```
//!
//! The checksum covers a pseudo-header (source, destination, protocol 112, length) for
//! both IPv4 and IPv6 in version 3, so it depends on the destination: a unicast advert is
//! checksummed once per peer.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: u8 = 112;
/// IPv4 multicast group of VRRP.
pub const MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// IPv6 multicast group of VRRP.
pub const MCAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TTL / hop limit every VRRP packet must carry (RFC 5798 §5.1.1.3, §5.1.2.3).
pub const TTL: u8 = 255;
const VERSION: u8 = 3;
const TYPE_ADVERTISEMENT: u8 = 1;
const HEADER_LEN: usize = 8;

/// A decoded (or to-be-encoded) VRRPv3 advertisement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// Virtual router id, 1..=255.
    pub vrid: u8,
    /// Sender's priority; 0 = master is resigning, 255 = address owner.
    pub priority: u8,
    /// Advertisement interval of the sender, in centiseconds (12 bits).
    pub max_adver_int: u16,
    /// Virtual addresses; all of one family, the family of the IP packet.
    pub addrs: Vec<IpAddr>,
}

/// Why a received packet was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than the header or than the addresses it announces.
    Truncated,
    /// Version field is not 3.
    Version(u8),
    /// Type field is not ADVERTISEMENT.
    Type(u8),
    /// The checksum over pseudo-header and message is wrong.
    Checksum,
    /// Source and destination addresses are not of the same family.
    Family,
    /// No addresses announced (RFC 5798 requires at least one).
    NoAddresses,
    /// Max Adver Int of 0: would make Master_Down_Interval 0 and a backup flap.
    ZeroInterval,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "truncated VRRP packet"),
            DecodeError::Version(v) => write!(f, "VRRP version {v} (expected 3)"),
            DecodeError::Type(t) => write!(f, "VRRP type {t} (expected 1, advertisement)"),
            DecodeError::Checksum => write!(f, "bad VRRP checksum"),
            DecodeError::Family => write!(f, "source and destination of different families"),
            DecodeError::NoAddresses => write!(f, "advertisement without addresses"),
            DecodeError::ZeroInterval => write!(f, "advertisement interval of 0"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Internet checksum accumulation (RFC 1071): 16-bit big-endian words, carries folded.
fn sum_words(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Sum of the pseudo-header: RFC 768-style for IPv4, RFC 2460 §8.1 for IPv6.
fn pseudo_header_sum(src: IpAddr, dst: IpAddr, len: usize) -> Option<u32> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut acc = sum_words(0, &s.octets());
            acc = sum_words(acc, &d.octets());
            acc += u32::from(IPPROTO_VRRP);
            acc += len as u32;
            Some(acc)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut acc = sum_words(0, &s.octets());
            acc = sum_words(acc, &d.octets());
            acc += len as u32; // 32-bit upper-layer length; VRRP messages are < 64 KiB
            acc += u32::from(IPPROTO_VRRP);
            Some(acc)
        }
        _ => None,
    }
}

/// Checksum of `msg` (with its checksum field as it is) under the pseudo-header.
/// Returns 0 for a message whose checksum field is already correct.
pub fn checksum(src: IpAddr, dst: IpAddr, msg: &[u8]) -> Option<u16> {
    let acc = pseudo_header_sum(src, dst, msg.len())?;
    Some(fold(sum_words(acc, msg)))
}

impl Advert {
    /// Encodes the advert as sent from `src` to `dst`, checksum included.
    ///
    /// Addresses not of the family of `src` are skipped, and at most 255 are sent, because
    /// the count field is one byte and one packet carries one family.
    pub fn encode(&self, src: IpAddr, dst: IpAddr) -> Vec<u8> {
        let addrs: Vec<&IpAddr> = self
            .addrs
            .iter()
            .filter(|a| a.is_ipv4() == src.is_ipv4())
            .take(255)
            .collect();
        let mut out = Vec::with_capacity(HEADER_LEN + addrs.len() * 16);
        out.push((VERSION << 4) | TYPE_ADVERTISEMENT);
        out.push(self.vrid);
        out.push(self.priority);
        out.push(addrs.len() as u8);
        let mai = self.max_adver_int & 0x0fff;
        out.extend_from_slice(&mai.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        for a in addrs {
            match a {
                IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
                IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
            }
        }
        let ck = checksum(src, dst, &out).unwrap_or(0);
        out[6..8].copy_from_slice(&ck.to_be_bytes());
        out
    }

    /// Decodes a VRRP message (the IP payload) received from `src` at `dst`, verifying
    /// version, type, length and checksum. The TTL/hop-limit check belongs to the socket
    /// layer, which sees the IP header.
    pub fn decode(src: IpAddr, dst: IpAddr, msg: &[u8]) -> Result<Advert, DecodeError> {
        if src.is_ipv4() != dst.is_ipv4() {
            return Err(DecodeError::Family);
        }
        if msg.len() < HEADER_LEN {
            return Err(DecodeError::Truncated);
        }
        let version = msg[0] >> 4;
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let ty = msg[0] & 0x0f;
        if ty != TYPE_ADVERTISEMENT {
            return Err(DecodeError::Type(ty));
        }
        let count = usize::from(msg[3]);
        if count == 0 {
            return Err(DecodeError::NoAddresses);
        }
        let alen = if src.is_ipv4() { 4 } else { 16 };
        let need = HEADER_LEN + count * alen;
        if msg.len() < need {
            return Err(DecodeError::Truncated);
        }
        // The checksum covers the whole VRRP message as received (the pseudo-header
        // length is the IP payload length), so trailing bytes are included, as the sender
        // computed them.
        if checksum(src, dst, msg) != Some(0) {
            return Err(DecodeError::Checksum);
        }
        let max_adver_int = u16::from_be_bytes([msg[4], msg[5]]) & 0x0fff;
        if max_adver_int == 0 {
            return Err(DecodeError::ZeroInterval);
        }
        let mut addrs = Vec::with_capacity(count);
        for chunk in msg[HEADER_LEN..need].chunks_exact(alen) {
            if alen == 4 {
                addrs.push(IpAddr::V4(Ipv4Addr::new(
                    chunk[0], chunk[1], chunk[2], chunk[3],
                )));
            } else {
                let mut o = [0u8; 16];
                o.copy_from_slice(chunk);
                addrs.push(IpAddr::V6(Ipv6Addr::from(o)));
            }
        }
        Ok(Advert {
            vrid: msg[1],
            priority: msg[2],
            max_adver_int,
            addrs,
        })
    }
}

/// The fields of an IPv4 header that VRRP checks: what a raw IPv4 socket hands over is the
/// whole datagram, header included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Meta {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live; must be 255 for VRRP.
    pub ttl: u8,
    /// IP protocol number.
    pub proto: u8,
}

/// Splits a raw IPv4 datagram into header fields and payload. `None` if it is not a
/// well-formed IPv4 datagram (never panics on network input).
pub fn split_ipv4(pkt: &[u8]) -> Option<(Ipv4Meta, &[u8])> {
    if pkt.len() < 20 || pkt[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(pkt[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([pkt[2], pkt[3]]));
    if ihl < 20 || pkt.len() < ihl || total < ihl {
        return None;
    }
    // Linux hands raw sockets the datagram as received; trust the shorter of the two.
    let end = total.min(pkt.len());
    let meta = Ipv4Meta {
        src: Ipv4Addr::new(pkt[12], pkt[13], pkt[14], pkt[15]),
        dst: Ipv4Addr::new(pkt[16], pkt[17], pkt[18], pkt[19]),
        ttl: pkt[8],
        proto: pkt[9],
    };
    Some((meta, &pkt[ihl..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // Byte vector laid out by hand from RFC 5798 §5.1: version 3 / type 1, VRID 51,
    // priority 100, one address, max adver int 100 cs (1 s), checksum over the IPv4
    // pseudo-header 10.0.0.1 -> 224.0.0.18, proto 112, length 12. The checksum value
    // 0x7573 was computed independently (Python, RFC 1071 algorithm), not by this code.
    const V4_MCAST: [u8; 12] = [
        0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x75, 0x73, 10, 0, 0, 100,
    ];

    // Captured with tcpdump from Debian's keepalived 2.2.7 (vrrp_version 3, VRID 51,
    // priority 100, advert_int 1, VIP 10.9.0.100) in a network namespace: whole IPv4
    // datagrams, multicast and unicast_peer forms.
    const KEEPALIVED_MCAST: [u8; 32] = [
        0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0xd0, 0x90, 0x0a, 0x09, 0x00,
        0x01, 0xe0, 0x00, 0x00, 0x12, 0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x75, 0x61, 0x0a, 0x09,
        0x00, 0x64,
    ];
    const KEEPALIVED_UNICAST: [u8; 32] = [
        0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0xa6, 0x98, 0x0a, 0x09, 0x00,
        0x01, 0x0a, 0x09, 0x00, 0x02, 0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x4b, 0x69, 0x0a, 0x09,
        0x00, 0x64,
    ];

    #[test]
    fn decodes_keepalived_captures() {
        for (cap, dst) in [
            (&KEEPALIVED_MCAST, "224.0.0.18"),
            (&KEEPALIVED_UNICAST, "10.9.0.2"),
        ] {
            let (meta, payload) = split_ipv4(cap).unwrap();
            assert_eq!(meta.ttl, 255);
            assert_eq!(meta.proto, IPPROTO_VRRP);
            assert_eq!(meta.src, "10.9.0.1".parse::<Ipv4Addr>().unwrap());
            assert_eq!(IpAddr::V4(meta.dst), v4(dst));
            let a = Advert::decode(IpAddr::V4(meta.src), IpAddr::V4(meta.dst), payload).unwrap();
            assert_eq!(
                a,
                Advert {
                    vrid: 51,
                    priority: 100,
                    max_adver_int: 100,
                    addrs: vec![v4("10.9.0.100")]
                }
            );
            // And we produce byte-identical VRRP payloads for the same parameters.
            assert_eq!(
                a.encode(IpAddr::V4(meta.src), IpAddr::V4(meta.dst)),
                payload
            );
        }
    }

    #[test]
    fn decodes_keepalived_ipv6_capture() {
        // Debian keepalived 2.2.7, vrrp_version 3, VRID 52, priority 100, VIP
        // 2001:db8:9::100, from fe80::9c5e:2cff:fe0e:bd80 to ff02::12 (hop limit 255 in the
        // captured IPv6 header). VRRP payload as captured:
        let payload: [u8; 24] = [
            0x31, 0x34, 0x64, 0x01, 0x00, 0x64, 0xb8, 0x98, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
        ];
        let src: IpAddr = "fe80::9c5e:2cff:fe0e:bd80".parse().unwrap();
        let dst = IpAddr::V6(MCAST_V6);
        let a = Advert::decode(src, dst, &payload).unwrap();
        assert_eq!(
            a,
            Advert {
                vrid: 52,
                priority: 100,
                max_adver_int: 100,
                addrs: vec!["2001:db8:9::100".parse().unwrap()]
            }
        );
        assert_eq!(a.encode(src, dst), payload);
    }

    #[test]
    fn split_ipv4_rejects_malformed() {
        assert!(split_ipv4(&[]).is_none());
        assert!(split_ipv4(&KEEPALIVED_MCAST[..19]).is_none());
        let mut p = KEEPALIVED_MCAST;
        p[0] = 0x4f; // IHL 60 > length
        assert!(split_ipv4(&p).is_none());
        let mut p = KEEPALIVED_MCAST;
        p[0] = 0x65;
        assert!(split_ipv4(&p).is_none());
    }

    #[test]
    fn encode_ipv4_matches_rfc_layout() {
        let a = Advert {
            vrid: 51,
            priority: 100,
            max_adver_int: 100,
            addrs: vec![v4("10.0.0.100")],
        };
        assert_eq!(a.encode(v4("10.0.0.1"), v4("224.0.0.18")), V4_MCAST);
    }

    #[test]
    fn decode_ipv4_vector() {
        let a = Advert::decode(v4("10.0.0.1"), v4("224.0.0.18"), &V4_MCAST).unwrap();
        assert_eq!(a.vrid, 51);
        assert_eq!(a.priority, 100);
        assert_eq!(a.max_adver_int, 100);
        assert_eq!(a.addrs, vec![v4("10.0.0.100")]);
    }

    #[test]
    fn checksum_depends_on_pseudo_header() {
        // Same bytes, other destination (unicast peer): the pseudo-header changes the sum.
        assert_eq!(
            Advert::decode(v4("10.0.0.1"), v4("10.0.0.2"), &V4_MCAST),
            Err(DecodeError::Checksum)
        );
        assert_eq!(
            Advert::decode(v4("10.0.0.9"), v4("224.0.0.18"), &V4_MCAST),
            Err(DecodeError::Checksum)
        );
    }

    #[test]
    fn rejects_bad_fields() {
        let src = v4("10.0.0.1");
        let dst = v4("224.0.0.18");
        let mut p = V4_MCAST;
        p[0] = 0x21; // VRRPv2
        assert_eq!(Advert::decode(src, dst, &p), Err(DecodeError::Version(2)));
        let mut p = V4_MCAST;
        p[0] = 0x32;
        assert_eq!(Advert::decode(src, dst, &p), Err(DecodeError::Type(2)));
        let mut p = V4_MCAST;
        p[11] ^= 1;
        assert_eq!(Advert::decode(src, dst, &p), Err(DecodeError::Checksum));
        assert_eq!(
            Advert::decode(src, dst, &V4_MCAST[..7]),
            Err(DecodeError::Truncated)
        );
        let mut p = V4_MCAST;
        p[3] = 2; // announces two addresses, carries one
        assert_eq!(Advert::decode(src, dst, &p), Err(DecodeError::Truncated));
        let mut p = V4_MCAST;
        p[3] = 0;
        assert_eq!(Advert::decode(src, dst, &p), Err(DecodeError::NoAddresses));
        // Interval 0, with a checksum made valid for it.
        let a = Advert {
            vrid: 51,
            priority: 100,
            max_adver_int: 0,
            addrs: vec![v4("10.0.0.100")],
        };
        assert_eq!(
            Advert::decode(src, dst, &a.encode(src, dst)),
            Err(DecodeError::ZeroInterval)
        );
        assert_eq!(
            Advert::decode(src, "::1".parse().unwrap(), &V4_MCAST),
            Err(DecodeError::Family)
        );
    }

    #[test]
    fn ipv6_roundtrip_and_vector() {
        let src: IpAddr = "fe80::1".parse().unwrap();
        let dst = IpAddr::V6(MCAST_V6);
        let a = Advert {
            vrid: 7,
            priority: 0,
            max_adver_int: 4095,
            addrs: vec!["2001:db8::100".parse().unwrap()],
        };
        let bytes = a.encode(src, dst);
        // Layout per RFC 5798 §5.1 with IPv6 pseudo-header (RFC 2460 §8.1); checksum
        // 0x9220 computed independently (Python).
        let expect: [u8; 24] = [
            0x31, 0x07, 0x00, 0x01, 0x0f, 0xff, 0x92, 0x20, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0x01, 0x00,
        ];
        assert_eq!(bytes, expect);
        assert_eq!(Advert::decode(src, dst, &bytes).unwrap(), a);
    }

    #[test]
    fn encode_masks_interval_and_filters_family() {
        let a = Advert {
            vrid: 1,
            priority: 255,
            max_adver_int: 0xffff,
            addrs: vec![
                v4("192.0.2.1"),
                "2001:db8::1".parse().unwrap(),
                v4("192.0.2.2"),
            ],
        };
        let b = a.encode(v4("192.0.2.10"), v4("224.0.0.18"));
        assert_eq!(b.len(), 16);
        assert_eq!(b[3], 2);
        assert_eq!(u16::from_be_bytes([b[4], b[5]]), 0x0fff);
        let d = Advert::decode(v4("192.0.2.10"), v4("224.0.0.18"), &b).unwrap();
        assert_eq!(d.addrs, vec![v4("192.0.2.1"), v4("192.0.2.2")]);
    }

    #[test]
    fn decode_never_panics_on_garbage() {
        // Every prefix and a byte-flip of each position of a valid packet.
        let src = v4("10.0.0.1");
        let dst = v4("224.0.0.18");
        for n in 0..V4_MCAST.len() {
            let _ = Advert::decode(src, dst, &V4_MCAST[..n]);
        }
        for i in 0..V4_MCAST.len() {
            for b in [0u8, 0xff, 0x30, 0x31] {
                let mut p = V4_MCAST;
                p[i] = b;
                let _ = Advert::decode(src, dst, &p);
            }
        }
    }
}
