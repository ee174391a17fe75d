//! haproxy's hash functions (src/hash.c) and the `full_hash` avalanche (include/haproxy/tools.h),
//! bit for bit: map-based and consistent lookups only give the same server as haproxy when the
//! hash of a key is the same number.

use crate::config::model::{HashFunction, HashMethod, HashType};

/// `hash_sdbm`: haproxy's default.
pub fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &c| {
        u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// `hash_djb2`.
pub fn djb2(key: &[u8]) -> u32 {
    key.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(u32::from(c))
    })
}

/// `hash_wt6`: Willy Tarreau's 6-step hash.
pub fn wt6(key: &[u8]) -> u32 {
    let mut h0: u32 = 0xa53c_965a;
    let mut h1: u32 = 0x5ca6_953a;
    let mut step0: u32 = 6;
    let mut step1: u32 = 18;
    for &c in key {
        let t = u32::from(c);
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

/// `hash_crc32`: the IEEE (zlib) CRC32, computed bitwise as haproxy does.
pub fn crc32(key: &[u8]) -> u32 {
    let mut h: u32 = !0;
    for &c in key {
        h ^= u32::from(c);
        for _ in 0..8 {
            h = (h >> 1) ^ if h & 1 != 0 { 0xedb8_8320 } else { 0 };
        }
    }
    !h
}

/// `full_hash`: Bob Jenkins' integer avalanche, then a multiplication by a large prime so
/// that values spread around the whole 32-bit ring.
pub fn full_hash(a: u32) -> u32 {
    let mut a = a;
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

/// `gen_hash` followed by the `avalanche` modifier: what haproxy computes for a key string
/// (URI, parameter value, header value) under `hash-type`.
///
/// With consistent hashing the avalanche is always applied exactly once (the ring lookup does
/// it), whether or not `avalanche` is written: that is what haproxy 2.6 was observed to do
/// (see lb/tests.rs, `URICONS` and `URICONSDJB2AVAL`), so it is left out here.
pub fn key_hash(ht: &HashType, key: &[u8]) -> u32 {
    let h = match ht.function {
        HashFunction::Sdbm => sdbm(key),
        HashFunction::Djb2 => djb2(key),
        HashFunction::Wt6 => wt6(key),
        HashFunction::Crc32 => crc32(key),
    };
    if ht.avalanche && ht.method == HashMethod::MapBased {
        full_hash(h)
    } else {
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_hash_crc32_matches_the_ieee_check_value() {
        // The standard CRC-32 check value: proves the polynomial and the final inversion.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn backend_hash_reference_values() {
        // Values computed by hand from the C definitions for short keys.
        assert_eq!(sdbm(b""), 0);
        assert_eq!(sdbm(b"a"), 97);
        // 'b' + ('a'<<6) + ('a'<<16) - 'a'
        assert_eq!(sdbm(b"ab"), 98 + 97u32 * 64 + 97 * 65536 - 97);
        assert_eq!(djb2(b""), 5381);
        assert_eq!(djb2(b"a"), 5381 * 33 + 97);
        assert_eq!(full_hash(0), {
            // Spelled out once more independently of the function's code path.
            let mut a: u32 = 0x7ed5_5d16;
            a = (a ^ 0xc761_c23c) ^ (a >> 19);
            a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
            a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
            a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
            a = (a ^ 0xb55a_4f09) ^ (a >> 16);
            a.wrapping_mul(3_221_225_473)
        });
        assert_ne!(wt6(b"a"), wt6(b"b"));
    }
}
