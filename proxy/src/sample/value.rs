//! Typed sample values and haproxy's automatic casts (sample.c `sample_casts`).

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The type of a sample, as haproxy's `SMP_T_*` (ADDR is "IPv4 or IPv6").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SmpType {
    /// Any type: used by `-m found` and converters that take anything.
    Any,
    /// Boolean.
    Bool,
    /// Signed 64-bit integer.
    Sint,
    /// IPv4 or IPv6 address.
    Addr,
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
    /// Text.
    Str,
    /// Raw bytes.
    Bin,
    /// HTTP method.
    Meth,
}

/// An HTTP method: the eight well-known ones are matched by identity, others by text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// OPTIONS
    Options,
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// TRACE
    Trace,
    /// CONNECT
    Connect,
    /// Any other method, as written (case kept).
    Other(Vec<u8>),
}

impl Method {
    /// Recognises a method name the way haproxy's `find_http_meth` does (case-sensitive).
    pub fn from_bytes(b: &[u8]) -> Method {
        match b {
            b"OPTIONS" => Method::Options,
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"TRACE" => Method::Trace,
            b"CONNECT" => Method::Connect,
            other => Method::Other(other.to_vec()),
        }
    }

    /// The method's text.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Method::Options => b"OPTIONS",
            Method::Get => b"GET",
            Method::Head => b"HEAD",
            Method::Post => b"POST",
            Method::Put => b"PUT",
            Method::Delete => b"DELETE",
            Method::Trace => b"TRACE",
            Method::Connect => b"CONNECT",
            Method::Other(v) => v,
        }
    }
}

/// One sample value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sample {
    /// Boolean.
    Bool(bool),
    /// Signed integer.
    Sint(i64),
    /// IPv4 address.
    Ipv4(Ipv4Addr),
    /// IPv6 address.
    Ipv6(Ipv6Addr),
    /// Text (bytes: haproxy strings need not be UTF-8).
    Str(Vec<u8>),
    /// Binary.
    Bin(Vec<u8>),
    /// HTTP method.
    Meth(Method),
}

impl Sample {
    /// A string sample from text.
    pub fn str(s: impl AsRef<[u8]>) -> Sample {
        Sample::Str(s.as_ref().to_vec())
    }

    /// This sample's type.
    pub fn smp_type(&self) -> SmpType {
        match self {
            Sample::Bool(_) => SmpType::Bool,
            Sample::Sint(_) => SmpType::Sint,
            Sample::Ipv4(_) => SmpType::Ipv4,
            Sample::Ipv6(_) => SmpType::Ipv6,
            Sample::Str(_) => SmpType::Str,
            Sample::Bin(_) => SmpType::Bin,
            Sample::Meth(_) => SmpType::Meth,
        }
    }

    /// Whether haproxy has a cast from this sample's type to `to` (the `sample_casts` table).
    pub fn can_cast(from: SmpType, to: SmpType) -> bool {
        use SmpType::*;
        match (from, to) {
            (_, Any) | (Any, _) => true,
            (a, b) if a == b => true,
            // An address fetch (src, dst) yields IPv4 or IPv6: accepted when either casts.
            (Addr, t) => Sample::can_cast(Ipv4, t) || Sample::can_cast(Ipv6, t),
            (Bool, Sint) | (Bool, Str) => true,
            (Sint, Bool | Addr | Ipv4 | Ipv6 | Str | Bin) => true,
            (Ipv4, Sint | Addr | Ipv6 | Str | Bin) => true,
            (Ipv6, Addr | Ipv4 | Str | Bin) => true,
            (Str, Bool | Sint | Addr | Ipv4 | Ipv6 | Bin | Meth) => true,
            (Bin, Str | Meth) => true,
            (Meth, Str | Bin) => true,
            _ => false,
        }
    }

    /// Casts to `to` as haproxy does; `None` when there is no cast or it fails
    /// (e.g. an empty string to an integer, a non-address string to an address).
    pub fn cast(self, to: SmpType) -> Option<Sample> {
        use SmpType as T;
        if to == T::Any || self.smp_type() == to {
            return Some(self);
        }
        match (self, to) {
            // Booleans are integers in haproxy; bool->str prints 0/1.
            (Sample::Bool(b), T::Sint) => Some(Sample::Sint(b as i64)),
            (Sample::Bool(b), T::Str) => Some(Sample::str(if b { "1" } else { "0" })),
            (Sample::Sint(i), T::Bool) => Some(Sample::Bool(i != 0)),
            (Sample::Sint(i), T::Addr | T::Ipv4) => Some(Sample::Ipv4(Ipv4Addr::from(i as u32))),
            (Sample::Sint(i), T::Ipv6) => {
                Some(Sample::Ipv6(Ipv4Addr::from(i as u32).to_ipv6_mapped()))
            }
            (Sample::Sint(i), T::Str) => Some(Sample::Str(i.to_string().into_bytes())),
            // c_int2bin: 8 bytes, network order.
            (Sample::Sint(i), T::Bin) => Some(Sample::Bin(i.to_be_bytes().to_vec())),
            (Sample::Ipv4(a), T::Sint) => Some(Sample::Sint(u32::from(a) as i64)),
            (Sample::Ipv4(a), T::Addr) => Some(Sample::Ipv4(a)),
            (Sample::Ipv4(a), T::Ipv6) => Some(Sample::Ipv6(a.to_ipv6_mapped())),
            (Sample::Ipv4(a), T::Str) => Some(Sample::Str(a.to_string().into_bytes())),
            (Sample::Ipv4(a), T::Bin) => Some(Sample::Bin(a.octets().to_vec())),
            (Sample::Ipv6(a), T::Addr) => Some(Sample::Ipv6(a)),
            (Sample::Ipv6(a), T::Ipv4) => v6_to_v4(&a).map(Sample::Ipv4),
            (Sample::Ipv6(a), T::Str) => Some(Sample::Str(ipv6_text(&a).into_bytes())),
            (Sample::Ipv6(a), T::Bin) => Some(Sample::Bin(a.octets().to_vec())),
            (Sample::Str(s), T::Bool | T::Sint) => str_to_int(&s).map(Sample::Sint),
            (Sample::Str(s), T::Addr) => parse_ipv4(&s)
                .map(Sample::Ipv4)
                .or_else(|| parse_ipv6(&s).map(Sample::Ipv6)),
            (Sample::Str(s), T::Ipv4) => parse_ipv4(&s).map(Sample::Ipv4),
            (Sample::Str(s), T::Ipv6) => parse_ipv6(&s).map(Sample::Ipv6),
            (Sample::Str(s), T::Bin) => Some(Sample::Bin(s)),
            (Sample::Str(s) | Sample::Bin(s), T::Meth) => {
                Some(Sample::Meth(Method::from_bytes(&s)))
            }
            // c_bin2str: a string stops at the first NUL (haproxy: bin(410042),length is 1).
            (Sample::Bin(mut b), T::Str) => {
                if let Some(z) = b.iter().position(|&c| c == 0) {
                    b.truncate(z);
                }
                Some(Sample::Str(b))
            }
            (Sample::Meth(m), T::Str) => Some(Sample::Str(m.as_bytes().to_vec())),
            (Sample::Meth(m), T::Bin) => Some(Sample::Bin(m.as_bytes().to_vec())),
            _ => None,
        }
    }

    /// Borrowing view as bytes for string-like samples (Str, Bin, Meth), no copy.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Sample::Str(s) | Sample::Bin(s) => Some(s),
            Sample::Meth(m) => Some(m.as_bytes()),
            _ => None,
        }
    }

    /// The sample's text form, as `%[...]` in a log-format prints it
    /// (integers in decimal, addresses dotted/colon, bools 0/1; binary as is).
    pub fn to_text(&self) -> Cow<'_, [u8]> {
        match self {
            Sample::Str(s) | Sample::Bin(s) => Cow::Borrowed(s),
            Sample::Meth(m) => Cow::Borrowed(m.as_bytes()),
            Sample::Bool(b) => Cow::Borrowed(if *b { b"1" } else { b"0" }),
            Sample::Sint(i) => Cow::Owned(i.to_string().into_bytes()),
            Sample::Ipv4(a) => Cow::Owned(a.to_string().into_bytes()),
            Sample::Ipv6(a) => Cow::Owned(ipv6_text(a).into_bytes()),
        }
    }

    /// The sample as an integer, with haproxy's casts (None if impossible).
    pub fn to_int(&self) -> Option<i64> {
        match self {
            Sample::Sint(i) => Some(*i),
            Sample::Bool(b) => Some(*b as i64),
            Sample::Ipv4(a) => Some(u32::from(*a) as i64),
            Sample::Str(s) => str_to_int(s),
            _ => None,
        }
    }

    /// The sample as a boolean (via an integer when needed).
    pub fn to_bool(&self) -> Option<bool> {
        match self {
            Sample::Bool(b) => Some(*b),
            _ => self.to_int().map(|i| i != 0),
        }
    }
}

/// IPv6 text as glibc's inet_ntop writes it: like Rust's, except IPv4-compatible
/// addresses (`::a.b.c.d`, other than `::` and `::1`) keep the dotted form.
pub fn ipv6_text(a: &Ipv6Addr) -> String {
    let s = a.segments();
    if s[..6] == [0; 6] && s[6] != 0 {
        let o = a.octets();
        return format!("::{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
    }
    a.to_string()
}

/// haproxy's `c_str2int`: optional sign then digits, stopping at the first non-digit;
/// an empty string fails, "abc" gives 0. Overflow wraps like the C code's multiply/add.
pub fn str_to_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add((c - b'0') as i64);
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Strict dotted-quad IPv4 parse (as inet_pton).
pub fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// IPv6 parse (as inet_pton).
pub fn parse_ipv6(s: &[u8]) -> Option<Ipv6Addr> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// haproxy's `v6tov4`: IPv4-mapped (::ffff:a.b.c.d) and 6to4 (2002:AABB:CCDD::) addresses.
pub fn v6_to_v4(a: &Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = a.to_ipv4_mapped() {
        return Some(v4);
    }
    let o = a.octets();
    if o[0] == 0x20 && o[1] == 0x02 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts() {
        assert_eq!(
            Sample::str("12abc").cast(SmpType::Sint),
            Some(Sample::Sint(12))
        );
        assert_eq!(
            Sample::str("abc").cast(SmpType::Sint),
            Some(Sample::Sint(0))
        );
        assert_eq!(
            Sample::str("-7").cast(SmpType::Sint),
            Some(Sample::Sint(-7))
        );
        assert_eq!(Sample::str("").cast(SmpType::Sint), None);
        assert_eq!(
            Sample::Sint(0x7f000001).cast(SmpType::Str),
            Some(Sample::str("2130706433"))
        );
        assert_eq!(
            Sample::Sint(0x7f000001).cast(SmpType::Ipv4),
            Some(Sample::Ipv4(Ipv4Addr::new(127, 0, 0, 1)))
        );
        assert_eq!(
            Sample::Ipv4(Ipv4Addr::new(10, 0, 0, 1))
                .cast(SmpType::Ipv6)
                .unwrap()
                .to_text()
                .as_ref(),
            b"::ffff:10.0.0.1"
        );
        assert_eq!(
            Sample::Sint(1).cast(SmpType::Bin),
            Some(Sample::Bin(vec![0, 0, 0, 0, 0, 0, 0, 1]))
        );
        assert_eq!(
            Sample::Bool(true).cast(SmpType::Str),
            Some(Sample::str("1"))
        );
        assert_eq!(
            Sample::str("GET").cast(SmpType::Meth),
            Some(Sample::Meth(Method::Get))
        );
        assert_eq!(
            Sample::str("1.2.3.4").cast(SmpType::Addr),
            Some(Sample::Ipv4(Ipv4Addr::new(1, 2, 3, 4)))
        );
        assert_eq!(Sample::str("1.2.3").cast(SmpType::Ipv4), None);
        assert_eq!(
            Sample::Ipv6("2002:102:304::1".parse().unwrap()).cast(SmpType::Ipv4),
            Some(Sample::Ipv4(Ipv4Addr::new(1, 2, 3, 4)))
        );
        assert_eq!(
            Sample::Ipv6("2001::1".parse().unwrap()).cast(SmpType::Ipv4),
            None
        );
        assert!(!Sample::can_cast(SmpType::Bin, SmpType::Sint));
        // Captured from haproxy 2.6.12.
        for (a, want) in [
            ("::1.2.3.4", "::1.2.3.4"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::1", "::1"),
            ("::", "::"),
            ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
            ("::0.0.0.2", "::2"),
            ("2001:db8::ffff:1.2.3.4", "2001:db8::ffff:102:304"),
        ] {
            let s = Sample::Ipv6(a.parse().unwrap());
            assert_eq!(s.to_text().as_ref(), want.as_bytes(), "{a}");
        }
        assert!(Sample::can_cast(SmpType::Addr, SmpType::Str));
        assert_eq!(Sample::Bin(vec![1]).cast(SmpType::Sint), None);
        assert_eq!(
            Sample::Bin(vec![0x41, 0, 0x42]).cast(SmpType::Str),
            Some(Sample::str("A"))
        );
    }
}
