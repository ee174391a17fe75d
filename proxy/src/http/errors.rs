//! Responses the proxy makes itself (haproxy's `http_err_msgs`, byte for byte as haproxy 2.6
//! sends them), replaced per status by `errorfile`.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use hyper::ext::ReasonPhrase;

/// The statuses haproxy can generate, with their reason and HTML message.
const BUILTIN: &[(u16, &str, &str)] = &[
    (200, "OK", "Service ready."),
    (400, "Bad request", "Your browser sent an invalid request."),
    (
        401,
        "Unauthorized",
        "You need a valid user and password to access this content.",
    ),
    (
        403,
        "Forbidden",
        "Request forbidden by administrative rules.",
    ),
    (404, "Not Found", "The resource could not be found."),
    (
        405,
        "Method Not Allowed",
        "A request was made of a resource using a request method not supported by that resource",
    ),
    (
        407,
        "Unauthorized",
        "You need a valid user and password to access this content.",
    ),
    (
        408,
        "Request Time-out",
        "Your browser didn't send a complete request in time.",
    ),
    (
        410,
        "Gone",
        "The resource is no longer available and will not be available again.",
    ),
    (
        413,
        "Payload Too Large",
        "The request entity exceeds the maximum allowed.",
    ),
    (
        421,
        "Misdirected Request",
        "Request sent to a non-authoritative server.",
    ),
    (425, "Too Early", "Your browser sent early data."),
    (
        429,
        "Too Many Requests",
        "You have sent too many requests in a given amount of time.",
    ),
    (
        500,
        "Internal Server Error",
        "An internal server error occurred.",
    ),
    (
        501,
        "Not Implemented",
        ".The server does not support the functionality required to fulfill the request.",
    ),
    (
        502,
        "Bad Gateway",
        "The server returned an invalid or incomplete response.",
    ),
    (
        503,
        "Service Unavailable",
        "No server is available to handle this request.",
    ),
    (
        504,
        "Gateway Time-out",
        "The server didn't respond in time.",
    ),
];

/// One ready-made response.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// Status code.
    pub status: StatusCode,
    /// Reason phrase as haproxy writes it (e.g. "Bad request", not "Bad Request").
    pub reason: ReasonPhrase,
    /// Headers in order, names as written.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// The error pages of a proxy: haproxy's built-in ones unless `errorfile` replaced them.
#[derive(Debug, Clone, Default)]
pub struct ErrorPages {
    custom: BTreeMap<u16, ErrorPage>,
}

impl ErrorPages {
    /// Parses the `errorfile` contents (raw HTTP responses).
    pub fn build(files: &BTreeMap<u16, Vec<u8>>) -> Result<ErrorPages, String> {
        let mut custom = BTreeMap::new();
        for (&code, raw) in files {
            custom.insert(code, parse_errorfile(code, raw)?);
        }
        Ok(ErrorPages { custom })
    }

    /// The page for `status` (built-in 500 for codes haproxy cannot generate).
    pub fn page(&self, status: u16) -> ErrorPage {
        if let Some(p) = self.custom.get(&status) {
            return p.clone();
        }
        builtin(status)
    }
}

/// haproxy's own page for `status`.
pub fn builtin(status: u16) -> ErrorPage {
    let &(code, reason, msg) = BUILTIN
        .iter()
        .find(|(c, _, _)| *c == status)
        .unwrap_or(&BUILTIN[13]);
    let body = format!("<html><body><h1>{code} {reason}</h1>\n{msg}\n</body></html>\n");
    let mut headers = HeaderMap::with_capacity(4);
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    headers.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/html"),
    );
    ErrorPage {
        status: StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        reason: ReasonPhrase::from_static(reason.as_bytes()),
        headers,
        body: Bytes::from(body),
    }
}

/// haproxy's page for `status` as raw bytes, for the places that write to the socket directly
/// (408 on a request that never completed, 400 on one that cannot be parsed). These come from
/// haproxy's HTTP/1 layer, which writes its older, capitalized form of the page and closes.
pub fn builtin_raw(status: u16) -> Bytes {
    let p = builtin(status);
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n",
        p.status.as_u16(),
        std::str::from_utf8(p.reason.as_bytes()).unwrap_or(""),
        p.body.len()
    );
    let mut b = head.into_bytes();
    b.extend_from_slice(&p.body);
    Bytes::from(b)
}

fn parse_errorfile(code: u16, raw: &[u8]) -> Result<ErrorPage, String> {
    let mut hdrs = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut hdrs);
    let head_len = match resp.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return Err(format!(
                "errorfile for {code}: incomplete HTTP response headers"
            ))
        }
        Err(e) => return Err(format!("errorfile for {code}: invalid HTTP response: {e}")),
    };
    let status = resp
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| format!("errorfile for {code}: invalid status"))?;
    let mut headers = HeaderMap::new();
    for h in resp.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| format!("errorfile for {code}: invalid header name '{}'", h.name))?;
        let value = HeaderValue::from_bytes(h.value)
            .map_err(|_| format!("errorfile for {code}: invalid value for '{}'", h.name))?;
        headers.append(name, value);
    }
    let reason = ReasonPhrase::try_from(resp.reason.unwrap_or("").as_bytes().to_vec())
        .map_err(|_| format!("errorfile for {code}: invalid reason phrase"))?;
    Ok(ErrorPage {
        status,
        reason,
        headers,
        body: Bytes::copy_from_slice(&raw[head_len..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_503_is_haproxys() {
        let p = builtin(503);
        assert_eq!(p.status, 503);
        assert_eq!(
            &p.body[..],
            b"<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"
        );
        assert_eq!(p.headers["content-length"], "107");
    }

    #[test]
    fn builtin_lengths_match_haproxy_captures() {
        // Content-Length values captured from haproxy 2.6.12 (http-request deny deny_status N).
        for (code, len) in [
            (200, 58),
            (400, 90),
            (403, 93),
            (408, 110),
            (500, 97),
            (501, 136),
            (502, 107),
            (504, 92),
        ] {
            assert_eq!(builtin(code).body.len(), len, "status {code}");
        }
    }

    #[test]
    fn raw_400_and_408_are_byte_identical_to_haproxy() {
        // Captured from haproxy 2.6.12 answering an unparsable request and a request head that
        // never completed (proxy/tests/e2e_http.rs compares the two live).
        assert_eq!(
            &builtin_raw(400)[..],
            &b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"[..]
        );
        assert_eq!(
            &builtin_raw(408)[..],
            &b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n"[..]
        );
    }

    #[test]
    fn errorfile_replaces_the_page() {
        let mut files = BTreeMap::new();
        files.insert(
            503,
            b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nContent-Type: text/plain\r\n\r\ndown for maintenance\n".to_vec(),
        );
        let pages = ErrorPages::build(&files).unwrap();
        let p = pages.page(503);
        assert_eq!(&p.body[..], b"down for maintenance\n");
        assert_eq!(p.headers["content-type"], "text/plain");
        assert_eq!(pages.page(502).body.len(), 107);
        files.insert(502, b"garbage".to_vec());
        assert!(ErrorPages::build(&files)
            .unwrap_err()
            .contains("errorfile for 502"));
    }
}
