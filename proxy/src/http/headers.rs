//! Header rules of a proxy: hop-by-hop headers (RFC 9110 §7.6.1) stay on their hop, and
//! `option forwardfor` tells the server who the client is.

use std::net::IpAddr;

use http::header::{
    HeaderMap, HeaderName, HeaderValue, CONNECTION, TE, TRANSFER_ENCODING, UPGRADE,
};

use crate::config::model::ForwardFor;

static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Removes the headers that only concern the previous hop: `Connection` and every header it
/// names, `Keep-Alive`, `Proxy-Connection`, `TE`, `Transfer-Encoding` (the next hop frames the
/// body itself), and `Upgrade` unless the exchange is an upgrade being forwarded.
pub fn strip_hop_by_hop(h: &mut HeaderMap, keep_upgrade: bool) {
    // Most messages carry none of them: one pass of cheap name comparisons instead of a
    // hashed removal per name.
    if !h.keys().any(is_hop_by_hop) {
        return;
    }
    if h.contains_key(CONNECTION) {
        // Collect the names first: removing while iterating the values is not possible.
        let named: Vec<HeaderName> = h
            .get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
            .filter(|n| !(keep_upgrade && n == UPGRADE))
            .collect();
        for n in named {
            h.remove(n);
        }
        h.remove(CONNECTION);
    }
    h.remove(&KEEP_ALIVE);
    h.remove(&PROXY_CONNECTION);
    h.remove(TE);
    h.remove(TRANSFER_ENCODING);
    if !keep_upgrade {
        h.remove(UPGRADE);
    }
}

fn is_hop_by_hop(n: &HeaderName) -> bool {
    n == CONNECTION
        || n == TE
        || n == TRANSFER_ENCODING
        || n == UPGRADE
        || n == KEEP_ALIVE
        || n == PROXY_CONNECTION
}

/// Whether a `Connection` header lists `token` (case-insensitive).
pub fn connection_has(h: &HeaderMap, token: &str) -> bool {
    h.get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Adds the `X-Forwarded-For` header (or the configured name) as haproxy does: always a new
/// header line at the end, unless the client is in `except` or `if-none` finds one already.
pub fn add_forwardfor(h: &mut HeaderMap, ff: &ForwardFor, client: Option<IpAddr>) {
    let Some(ip) = client else { return };
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    if ff.except.is_some_and(|net| net.contains(ip)) {
        return;
    }
    let Ok(name) = HeaderName::from_bytes(ff.header.as_bytes()) else {
        return;
    };
    if ff.if_none && h.contains_key(&name) {
        return;
    }
    // An IP's text form is always a valid header value.
    if let Ok(v) = HeaderValue::from_str(&ip.to_string()) {
        h.append(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::IpNet;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn connection_named_headers_are_removed() {
        let mut h = map(&[
            ("connection", "keep-alive, X-Secret"),
            ("x-secret", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("host", "a"),
            ("upgrade", "websocket"),
        ]);
        strip_hop_by_hop(&mut h, false);
        let names: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["host"]);
    }

    #[test]
    fn upgrade_survives_when_forwarding_an_upgrade() {
        let mut h = map(&[("connection", "Upgrade"), ("upgrade", "websocket")]);
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h["upgrade"], "websocket");
        assert!(!h.contains_key("connection"));
    }

    #[test]
    fn forwardfor_appends_and_respects_except_and_if_none() {
        let ff = ForwardFor {
            header: "X-Forwarded-For".into(),
            except: None,
            if_none: false,
        };
        let mut h = map(&[("x-forwarded-for", "10.0.0.1")]);
        add_forwardfor(&mut h, &ff, Some("192.0.2.7".parse().unwrap()));
        let all: Vec<_> = h.get_all("x-forwarded-for").iter().collect();
        assert_eq!(all, ["10.0.0.1", "192.0.2.7"]);

        let except = ForwardFor {
            except: Some(IpNet {
                addr: "127.0.0.0".parse().unwrap(),
                prefix: 8,
            }),
            ..ff.clone()
        };
        let mut h = HeaderMap::new();
        add_forwardfor(&mut h, &except, Some("127.0.0.1".parse().unwrap()));
        assert!(h.is_empty());

        let if_none = ForwardFor {
            if_none: true,
            ..ff
        };
        let mut h = map(&[("x-forwarded-for", "10.0.0.1")]);
        add_forwardfor(&mut h, &if_none, Some("192.0.2.7".parse().unwrap()));
        assert_eq!(h.get_all("x-forwarded-for").iter().count(), 1);
    }
}
