//! Helpers for the miscellaneous fetches: randomness, UUIDs, host name, RDP cookie.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static RNG: Cell<u64> = Cell::new({
        // Seeded from the process's random hasher keys and the clock: no extra crate.
        let mut h = RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
        h.finish() | 1
    });
}

/// A fast non-cryptographic random number (xorshift64*), as haproxy's statistical rand.
pub fn random_u64() -> u64 {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// 32 random bits.
pub fn random_u32() -> u32 {
    (random_u64() >> 32) as u32
}

/// A random version-4 UUID in haproxy's lower-case text form.
pub fn uuid_v4() -> String {
    let a = random_u64();
    let b = random_u64();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        ((a as u16) & 0x0fff) | 0x4000,
        (((b >> 48) as u16) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// The machine's host name.
pub fn hostname() -> Option<Vec<u8>> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it
    // when the name fits, and we stop at the first NUL anyway.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len() - 1) };
    if r != 0 {
        return None;
    }
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    Some(buf[..end].to_vec())
}

/// Parses a hex string (even length) into bytes.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| Some((hexval(p[0])? << 4) | hexval(p[1])?))
        .collect()
}

/// Value of one hex digit.
pub fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The `mstshash` value of an RDP connection request's "Cookie: mstshash=" line.
pub fn rdp_cookie(p: &[u8]) -> Option<&[u8]> {
    let key = b"Cookie: mstshash=";
    let pos = p
        .windows(key.len())
        .position(|w| w.eq_ignore_ascii_case(key))?;
    let v = &p[pos + key.len()..];
    let end = v.iter().position(|&c| c == b'\r' || c == b'\n')?;
    Some(&v[..end])
}

/// The server name of a TLS ClientHello at the start of `p` (what `req.ssl_sni` reads
/// during `tcp-request inspect-delay`). Any truncation or malformation gives `None`.
pub fn tls_sni(p: &[u8]) -> Option<&[u8]> {
    fn u16_at(p: &[u8], i: usize) -> Option<usize> {
        Some(((*p.get(i)? as usize) << 8) | *p.get(i + 1)? as usize)
    }
    // Record header: handshake (0x16), version, length; then a ClientHello (1).
    if *p.first()? != 0x16 || *p.get(5)? != 0x01 {
        return None;
    }
    let rec_end = (5 + u16_at(p, 3)?).min(p.len());
    let p = &p[..rec_end];
    // Skip handshake header (4), client version (2), random (32).
    let mut i = 5 + 4 + 2 + 32;
    i += 1 + *p.get(i)? as usize; // session id
    i += 2 + u16_at(p, i)?; // cipher suites
    i += 1 + *p.get(i)? as usize; // compression methods
    let ext_end = (i + 2 + u16_at(p, i)?).min(p.len());
    i += 2;
    while i + 4 <= ext_end {
        let ty = u16_at(p, i)?;
        let len = u16_at(p, i + 2)?;
        let data = p.get(i + 4..i + 4 + len)?;
        if ty == 0 {
            // server_name: list length (2), then entries of type (1), length (2), name.
            let mut j = 2;
            while j + 3 <= data.len() {
                let nlen = u16_at(data, j + 1)?;
                let name = data.get(j + 3..j + 3 + nlen)?;
                if data[j] == 0 {
                    return Some(name);
                }
                j += 3 + nlen;
            }
            return None;
        }
        i += 4 + len;
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal ClientHello carrying SNI `name`.
    pub fn client_hello(name: &str) -> Vec<u8> {
        let n = name.as_bytes();
        let mut sni = vec![0, 0];
        let list_len = 3 + n.len();
        sni.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
        sni.extend_from_slice(&(list_len as u16).to_be_bytes());
        sni.push(0);
        sni.extend_from_slice(&(n.len() as u16).to_be_bytes());
        sni.extend_from_slice(n);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0u8; 32]);
        body.push(0); // session id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher suite
        body.extend_from_slice(&[1, 0]); // null compression
        let mut ext = vec![0, 0x17, 0, 0]; // an empty extension first
        ext.extend_from_slice(&sni);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1, 0, (body.len() >> 8) as u8, body.len() as u8];
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn sni() {
        let ch = client_hello("www.example.com");
        assert_eq!(tls_sni(&ch), Some(&b"www.example.com"[..]));
        for cut in 0..ch.len() {
            assert_eq!(tls_sni(&ch[..cut]), None, "truncated at {cut}");
        }
        assert_eq!(tls_sni(b"GET / HTTP/1.1\r\n"), None);
        assert_eq!(parse_hex("4a"), Some(vec![0x4a]));
        assert_eq!(
            rdp_cookie(b"xx\r\nCookie: mstshash=bob\r\n"),
            Some(&b"bob"[..])
        );
    }
}
