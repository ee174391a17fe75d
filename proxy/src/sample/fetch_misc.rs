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
