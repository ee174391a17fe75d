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

/// Appends `s` escaped with `#XX`, never letting `out` grow past `limit`
/// bytes. Mirrors haproxy's `encode_string()`: stops at the first NUL (C
/// string), a plain byte needs 1 free byte, and an escape needs 4 (its
/// `start + 3 >= stop` test), otherwise encoding stops there while the rest
/// of the line (closing quote, brace) may still fit.
pub(crate) fn push_escaped(out: &mut Vec<u8>, s: &[u8], map: EscapeMap, limit: usize) {
    for &b in s {
        if b == 0 {
            break;
        }
        let avail = limit.saturating_sub(out.len());
        if must_escape(map, b) {
            if avail <= 3 {
                break;
            }
            out.extend_from_slice(&[b'#', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        } else {
            if avail == 0 {
                break;
            }
            out.push(b);
        }
    }
}

/// The end offset a line started at `start` may reach: haproxy's line
/// buffer is `max_len` bytes including the terminating NUL.
pub(crate) fn line_limit(start: usize, max_len: usize) -> usize {
    start + max_len.saturating_sub(1)
}

/// Cuts a finished line to what haproxy's line buffer holds: at most
/// `max_len - 1` bytes (the buffer is `max_syslog_len` including the NUL).
pub(crate) fn finish(out: &mut Vec<u8>, start: usize, max_len: usize) {
    let limit = line_limit(start, max_len);
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
        push_escaped(&mut v, b"h\"x|{y}#\xe9", EscapeMap::Header, 100);
        assert_eq!(v, b"h#22x#7C#7By#7D#23#E9");
        v.clear();
        push_escaped(&mut v, b"/a\"b{c}|d%20\xe9\x7f\x01", EscapeMap::Url, 100);
        assert_eq!(v, b"/a#22b{c}|d%20#E9#7F#01");
        v.clear();
        push_escaped(&mut v, b"ab\0cd", EscapeMap::Url, 100);
        assert_eq!(v, b"ab");
        // Bounded: plain bytes fill up to the limit, an escape needs 4.
        v.clear();
        push_escaped(&mut v, b"abcdef", EscapeMap::Url, 4);
        assert_eq!(v, b"abcd");
        v.clear();
        push_escaped(&mut v, b"a\"b", EscapeMap::Url, 4);
        assert_eq!(v, b"a");
        v.clear();
        push_escaped(&mut v, b"a\"b", EscapeMap::Url, 5);
        assert_eq!(v, b"a#22b");
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
