//! `balance uri [len N] [depth N] [whole] [path-only]` (haproxy's `get_server_uh`): which part
//! of the request target is hashed.

/// The bytes of `uri` haproxy hashes: the target (or its path with `path_only`), cut at the
/// first `len` characters, at the `depth`-th directory's slash and, unless `whole`, at `?`.
pub fn key(uri: &[u8], len: u32, depth: u32, whole: bool, path_only: bool) -> &[u8] {
    let mut u = uri;
    if path_only {
        u = path_of(u);
    }
    if len > 0 && u.len() > len as usize {
        u = &u[..len as usize];
    }
    let mut slashes = 0u32;
    let mut end = 0;
    while end < u.len() {
        match u[end] {
            b'/' => {
                slashes += 1;
                // haproxy stores depth + 1 and stops on that slash, so `depth 2` keeps
                // "/a/b" out of "/a/b/c".
                if depth > 0 && slashes == depth + 1 {
                    break;
                }
            }
            b'?' if !whole => break,
            _ => {}
        }
        end += 1;
    }
    &u[..end]
}

/// The path (and query) of a request target: absolute-form `scheme://authority/path` loses
/// its scheme and authority, as haproxy's `http_parse_path` does; `*` and authority-form give
/// an empty path.
pub fn path_of(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') {
        return uri;
    }
    if let Some(p) = uri.windows(3).position(|w| w == b"://") {
        let rest = &uri[p + 3..];
        return match rest.iter().position(|&c| c == b'/' || c == b'?') {
            Some(q) => &rest[q..],
            None => &[],
        };
    }
    &[]
}
