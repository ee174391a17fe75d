//! Small writers shared by the traffic log line builders: numbers,
//! addresses and haproxy's `#XX` escaping, all appending to a `Vec<u8>`.

use std::io::Write;
use std::net::IpAddr;

use super::fields::LogAddr;

/// Appends a signed decimal number (`ltoa`).
pub(crate) fn push_i64(out: &mut Vec<u8>, v: i64) {
    let _ = write!(out, "{v}");
}

/// Appends an unsigned decimal number (`ultoa`).
pub(crate) fn push_u64(out: &mut Vec<u8>, v: u64) {
    let _ = write!(out, "{v}");
}

/// Appends the IP part of an endpoint as `inet_ntop()` renders it; `unix`
/// for unix sockets, nothing when unknown (haproxy's behaviour for `%ci`).
pub(crate) fn push_ip(out: &mut Vec<u8>, a: &LogAddr) {
    match a {
        LogAddr::Inet(sa) => match sa.ip() {
            // Display for Ipv6Addr follows RFC 5952 like glibc's inet_ntop,
            // including the `::ffff:a.b.c.d` form for mapped addresses.
            IpAddr::V4(ip) => {
                let _ = write!(out, "{ip}");
            }
            IpAddr::V6(ip) => {
                let _ = write!(out, "{ip}");
            }
        },
        LogAddr::Unix { .. } => out.extend_from_slice(b"unix"),
        LogAddr::None => {}
    }
}

/// Appends the port part of an endpoint; the listener id for unix sockets.
pub(crate) fn push_port(out: &mut Vec<u8>, a: &LogAddr) {
    match a {
        LogAddr::Inet(sa) => push_u64(out, u64::from(sa.port())),
        LogAddr::Unix { listener_id } => push_u64(out, u64::from(*listener_id)),
        LogAddr::None => {}
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Which bytes haproxy escapes as `#XX`.
#[derive(Clone, Copy)]
pub(crate) enum EscapeMap {
    /// `hdr_encode_map`: controls, >= 0x7f and `"#{|}` (captured headers).
    Header,
    /// `url_encode_map`: controls, >= 0x7f and `"#` (request line).
    Url,
}

fn must_escape(map: EscapeMap, b: u8) -> bool {
    if !(32..127).contains(&b) {
        return true;
    }
    match map {
        EscapeMap::Header => matches!(b, b'"' | b'#' | b'{' | b'|' | b'}'),
        EscapeMap::Url => matches!(b, b'"' | b'#'),
    }
}

/// Appends `s` escaped with `#XX`. Stops at the first NUL because haproxy
/// handles these values as C strings.
pub(crate) fn push_escaped(out: &mut Vec<u8>, s: &[u8], map: EscapeMap) {
    for &b in s {
        if b == 0 {
            break;
        }
        if must_escape(map, b) {
            out.extend_from_slice(&[b'#', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        } else {
            out.push(b);
        }
    }
}

/// Cuts a finished line to what haproxy's line buffer holds: at most
/// `max_len - 1` bytes (the buffer is `max_syslog_len` including the NUL).
pub(crate) fn finish(out: &mut Vec<u8>, start: usize, max_len: usize) {
    let limit = start + max_len.saturating_sub(1);
    if out.len() > limit {
        out.truncate(limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_line_escape_maps() {
        let mut v = Vec::new();
        push_escaped(&mut v, b"h\"x|{y}#\xe9", EscapeMap::Header);
        assert_eq!(v, b"h#22x#7C#7By#7D#23#E9");
        v.clear();
        push_escaped(&mut v, b"/a\"b{c}|d%20\xe9\x7f\x01", EscapeMap::Url);
        assert_eq!(v, b"/a#22b{c}|d%20#E9#7F#01");
        v.clear();
        push_escaped(&mut v, b"ab\0cd", EscapeMap::Url);
        assert_eq!(v, b"ab");
    }

    #[test]
    fn log_line_addrs() {
        let mut v = Vec::new();
        let a = LogAddr::Inet("[::ffff:1.2.3.4]:80".parse().unwrap());
        push_ip(&mut v, &a);
        v.push(b':');
        push_port(&mut v, &a);
        assert_eq!(v, b"::ffff:1.2.3.4:80");
        v.clear();
        let u = LogAddr::Unix { listener_id: 3 };
        push_ip(&mut v, &u);
        v.push(b':');
        push_port(&mut v, &u);
        assert_eq!(v, b"unix:3");
    }
}
