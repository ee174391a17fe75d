//! `balance url_param NAME` (haproxy's `get_server_ph`): the value of a query-string parameter.

/// The raw (still URL-encoded) value of parameter `name` in `uri`'s query string, when some
/// `&`-separated part starts with `name=`.
pub fn value<'a>(uri: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let q = uri.iter().position(|&c| c == b'?')?;
    let query = &uri[q + 1..];
    query.split(|&c| c == b'&').find_map(|part| {
        // haproxy requires something after the name (`uri_len > plen`) and an '=' right after.
        if part.len() > name.len() && part.starts_with(name) && part[name.len()] == b'=' {
            Some(&part[name.len() + 1..])
        } else {
            None
        }
    })
}
