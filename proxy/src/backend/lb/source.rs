//! `balance source` (haproxy's `get_server_sh`): the client address folded into 32 bits.

use std::net::IpAddr;

/// XOR of the address's big-endian 32-bit words: the IPv4 address itself, or the four words
/// of an IPv6 address. No hash function is applied (haproxy ignores `hash-type`'s function
/// here); consistent hashing spreads it with `full_hash` afterwards.
pub fn hash(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => v6
            .octets()
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .fold(0, |h, w| h ^ w),
    }
}
