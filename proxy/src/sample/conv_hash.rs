//! Hash converters: haproxy's own non-cryptographic hashes and the digest family.

use hmac::{Hmac, Mac};
use sha2::Digest;

/// Thomas Wang's 32-bit mix, haproxy's `full_hash()` (the "avalanche" option).
pub fn avalanche(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed55d16).wrapping_add(a << 12);
    a = (a ^ 0xc761c23c) ^ (a >> 19);
    a = a.wrapping_add(0x165667b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2646c) ^ (a << 9);
    a = a.wrapping_add(0xfd7046c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a4f09) ^ (a >> 16);
    // haproxy then spreads values over the tree by a large prime close to 3/4 of 2^32.
    a.wrapping_mul(3221225473)
}

/// DJB2 hash.
pub fn djb2(b: &[u8]) -> u32 {
    b.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(c as u32)
    })
}

/// SDBM hash.
pub fn sdbm(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |h, &c| {
        (c as u32)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// haproxy's WT6 hash.
pub fn wt6(b: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c965au32, 0x5ca6953au32);
    let (mut s0, mut s1) = (6u32, 18u32);
    for &c in b {
        let t = c as u32;
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        // Rotations: a shift count of 0 behaves like x86's masked shifts in the C code.
        let t = h1.rotate_left(s0);
        h1 = h0.rotate_left(s1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        s0 = t & 0x1f;
        s1 = t >> 11;
    }
    h0 ^ h1
}

/// CRC32 (IEEE).
pub fn crc32(b: &[u8]) -> u32 {
    crc32fast::hash(b)
}

/// Digest algorithms by OpenSSL name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    /// MD5
    Md5,
    /// SHA-1
    Sha1,
    /// SHA-224
    Sha224,
    /// SHA-256
    Sha256,
    /// SHA-384
    Sha384,
    /// SHA-512
    Sha512,
}

impl Alg {
    /// Parses an OpenSSL digest name.
    pub fn parse(s: &str) -> Option<Alg> {
        Some(match s.to_ascii_lowercase().as_str() {
            "md5" => Alg::Md5,
            "sha1" => Alg::Sha1,
            "sha224" => Alg::Sha224,
            "sha256" => Alg::Sha256,
            "sha384" => Alg::Sha384,
            "sha512" => Alg::Sha512,
            _ => return None,
        })
    }
}

/// Message digest.
pub fn digest(alg: Alg, b: &[u8]) -> Vec<u8> {
    match alg {
        Alg::Md5 => md5::Md5::digest(b).to_vec(),
        Alg::Sha1 => sha1::Sha1::digest(b).to_vec(),
        Alg::Sha224 => sha2::Sha224::digest(b).to_vec(),
        Alg::Sha256 => sha2::Sha256::digest(b).to_vec(),
        Alg::Sha384 => sha2::Sha384::digest(b).to_vec(),
        Alg::Sha512 => sha2::Sha512::digest(b).to_vec(),
    }
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], b: &[u8]) -> Vec<u8> {
    match <M as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(b);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// HMAC.
pub fn hmac(alg: Alg, key: &[u8], b: &[u8]) -> Vec<u8> {
    match alg {
        Alg::Md5 => mac::<Hmac<md5::Md5>>(key, b),
        Alg::Sha1 => mac::<Hmac<sha1::Sha1>>(key, b),
        Alg::Sha224 => mac::<Hmac<sha2::Sha224>>(key, b),
        Alg::Sha256 => mac::<Hmac<sha2::Sha256>>(key, b),
        Alg::Sha384 => mac::<Hmac<sha2::Sha384>>(key, b),
        Alg::Sha512 => mac::<Hmac<sha2::Sha512>>(key, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values captured from haproxy 2.6.12 on "hello".
    #[test]
    fn haproxy_values() {
        let h = b"hello";
        assert_eq!(crc32(h), 907060870);
        assert_eq!(avalanche(crc32(h)), 3902247103);
        assert_eq!(djb2(h), 261238937);
        assert_eq!(avalanche(djb2(h)), 1119739105);
        assert_eq!(sdbm(h), 684824882);
        assert_eq!(avalanche(sdbm(h)), 2061535398);
        assert_eq!(wt6(h), 3538347703);
        assert_eq!(avalanche(wt6(h)), 140457739);
    }
}
