//! `balance hdr(NAME) [use_domain_only]` (haproxy's `get_server_hh`).

/// The part of header value `v` that is hashed: all of it, or with `use_domain_only` the label
/// before the last dot ("example" for "www.example.com" or "example.com:8080").
///
/// This reproduces haproxy's backward scan: from the end, the first dot found ends the domain
/// and the next dot (or the start) begins it; a value without a dot is hashed whole.
pub fn key(v: &[u8], use_domain_only: bool) -> &[u8] {
    if !use_domain_only {
        return v;
    }
    let n = v.len();
    let (mut p, mut end, mut dohash) = (n, n, false);
    while p > 0 {
        if dohash {
            if v[p - 1] == b'.' {
                break;
            }
        } else if p < n && v[p] == b'.' {
            end = p;
            dohash = true;
        }
        p -= 1;
    }
    &v[p..end]
}
