//! HTTP helpers behind the fetches: URI pieces, header values split on commas, cookies.

/// The path part of a request URI: origin form up to '?', or the path of an absolute URI.
pub fn uri_path(uri: &[u8]) -> Option<&[u8]> {
    let p = if uri.first() == Some(&b'/') {
        uri
    } else if let Some(pos) = find(uri, b"://") {
        let after = &uri[pos + 3..];
        &after[after.iter().position(|&c| c == b'/')?..]
    } else {
        return None;
    };
    Some(match p.iter().position(|&c| c == b'?') {
        Some(q) => &p[..q],
        None => p,
    })
}

/// The query string after the first '?', if any.
pub fn uri_query(uri: &[u8]) -> Option<&[u8]> {
    uri.iter().position(|&c| c == b'?').map(|q| &uri[q + 1..])
}

/// Finds a sub-slice.
pub fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    if n.is_empty() {
        return Some(0);
    }
    h.windows(n.len()).position(|w| w == n)
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Splits one header line value on commas that are not inside double quotes, trimmed,
/// as haproxy's `http_find_header` does for `hdr()`.
pub fn split_commas(v: &[u8], out: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let mut start = 0;
    let mut quoted = false;
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'"' => quoted = !quoted,
            b'\\' if quoted => i += 1,
            b',' if !quoted => {
                if out(trim(&v[start..i])) {
                    return true;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out(trim(&v[start.min(v.len())..]))
}

/// Visits header values named `name` (all headers when `None`): split on commas unless
/// `full`. Stops early when `out` returns true; returns whether it stopped.
pub fn each_value(
    map: &http::HeaderMap,
    name: Option<&str>,
    full: bool,
    out: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    let mut visit = |v: &http::HeaderValue| {
        if full {
            out(trim(v.as_bytes()))
        } else {
            split_commas(v.as_bytes(), out)
        }
    };
    match name {
        Some(n) => {
            for v in map.get_all(n) {
                if visit(v) {
                    return true;
                }
            }
        }
        None => {
            for (_, v) in map.iter() {
                if visit(v) {
                    return true;
                }
            }
        }
    }
    false
}

/// Picks occurrence `occ` (1 = first, -1 = last, 0 = last) of the values.
pub fn pick_occ(
    map: &http::HeaderMap,
    name: Option<&str>,
    full: bool,
    occ: i64,
) -> Option<Vec<u8>> {
    if occ > 0 {
        let mut n = 0;
        let mut found = None;
        each_value(map, name, full, &mut |v| {
            n += 1;
            if n == occ {
                found = Some(v.to_vec());
                true
            } else {
                false
            }
        });
        found
    } else {
        // Negative: count first, then pick from the front (no copy of every value).
        let total = count_values(map, name, full);
        let back = if occ == 0 {
            1
        } else {
            occ.unsigned_abs() as i64
        };
        if back > total {
            return None;
        }
        pick_occ(map, name, full, total - back + 1)
    }
}

/// Counts values (`hdr_cnt`).
pub fn count_values(map: &http::HeaderMap, name: Option<&str>, full: bool) -> i64 {
    let mut n = 0;
    each_value(map, name, full, &mut |_| {
        n += 1;
        false
    });
    n
}

/// Visits `name=value` cookies of Cookie header values (`;`-separated; `,` too as
/// haproxy accepts it in old-style cookies). Name `None` visits every cookie.
pub fn each_req_cookie(
    map: &http::HeaderMap,
    name: Option<&[u8]>,
    out: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    for v in map.get_all("cookie") {
        for part in v.as_bytes().split(|&c| c == b';') {
            let part = trim(part);
            let (n, val) = match part.iter().position(|&c| c == b'=') {
                Some(e) => (trim(&part[..e]), trim(&part[e + 1..])),
                None => continue,
            };
            // haproxy 2.6 skips empty values when looking a name up ("c=" is not
            // found by req.cook(c)) but counts them when listing every cookie.
            let hit = match name {
                Some(want) => want == n && !val.is_empty(),
                None => true,
            };
            if hit && out(val) {
                return true;
            }
        }
    }
    false
}

/// Visits response cookies: each comma-separated Set-Cookie value sets one cookie, its
/// first `name=value`. Named lookups see only those (empty values included); listing
/// every cookie (no name) also visits attributes such as `Path=/`, as haproxy 2.6 counts
/// them (`res.cook_cnt` of "a=1; Path=/; Max-Age=3" is 3).
pub fn each_res_cookie(
    map: &http::HeaderMap,
    name: Option<&[u8]>,
    out: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    for v in map.get_all("set-cookie") {
        let stop = split_commas(v.as_bytes(), &mut |line| {
            for (i, pair) in line.split(|&c| c == b';').enumerate() {
                if name.is_some() && i > 0 {
                    break;
                }
                let Some(e) = pair.iter().position(|&c| c == b'=') else {
                    continue;
                };
                let (n, val) = (trim(&pair[..e]), trim(&pair[e + 1..]));
                if name.is_none_or(|want| want == n) && out(val) {
                    return true;
                }
            }
            false
        });
        if stop {
            return true;
        }
    }
    false
}

/// Visits values of query parameter `name` (every parameter when empty) in `query`,
/// parameters separated by `delim` ('&' by default). Only `name=value` forms count.
pub fn each_url_param(
    query: &[u8],
    name: &[u8],
    delim: u8,
    icase: bool,
    out: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    for part in query.split(|&c| c == delim) {
        let Some(e) = part.iter().position(|&c| c == b'=') else {
            continue;
        };
        let n = &part[..e];
        let ok = name.is_empty()
            || if icase {
                n.eq_ignore_ascii_case(name)
            } else {
                n == name
            };
        if ok && out(&part[e + 1..]) {
            return true;
        }
    }
    false
}

/// Parses the dotted-quad at the start of `s` (haproxy's `url2ipv4`): trailing text
/// such as a port is ignored.
pub fn ipv4_prefix(s: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut o = [0u8; 4];
    let mut i = 0;
    for (k, octet) in o.iter_mut().enumerate() {
        let st = i;
        let mut v: u32 = 0;
        while i < s.len() && s[i].is_ascii_digit() && i - st < 3 {
            v = v * 10 + (s[i] - b'0') as u32;
            i += 1;
        }
        if i == st || v > 255 {
            return None;
        }
        *octet = v as u8;
        if k < 3 {
            if s.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    Some(o.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parts() {
        assert_eq!(uri_path(b"/a/b?x=1"), Some(&b"/a/b"[..]));
        assert_eq!(uri_path(b"http://h:80/p?q"), Some(&b"/p"[..]));
        assert_eq!(uri_path(b"http://h"), None);
        assert_eq!(uri_query(b"/a?x=1&y"), Some(&b"x=1&y"[..]));
        assert_eq!(uri_query(b"/a"), None);
    }

    #[test]
    fn commas_and_params() {
        let mut v = vec![];
        split_commas(b"a, \"b,c\" ,d", &mut |x| {
            v.push(x.to_vec());
            false
        });
        assert_eq!(v, vec![b"a".to_vec(), b"\"b,c\"".to_vec(), b"d".to_vec()]);
        let mut got = None;
        each_url_param(b"a=1&b=2&b=3", b"b", b'&', false, &mut |x| {
            got = Some(x.to_vec());
            true
        });
        assert_eq!(got, Some(b"2".to_vec()));
        assert_eq!(ipv4_prefix(b"1.2.3.4:80"), Some([1, 2, 3, 4].into()));
        assert_eq!(ipv4_prefix(b"1.2.3"), None);
    }
}
