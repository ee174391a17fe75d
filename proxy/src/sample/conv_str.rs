//! String converter helpers: field/word slicing, regsub, JSON and URL encodings, hex.

use regex::bytes::Regex;

/// `field(index,delimiters[,count])`: fields are separated by any of `delims`; empty fields
/// count; negative index counts from the end; `count` 0 means "to the end".
/// Not found gives an empty string (what haproxy prints).
pub fn field(s: &[u8], index: i64, delims: &[u8], count: i64) -> Vec<u8> {
    let parts: Vec<&[u8]> = s.split(|c| delims.contains(c)).collect();
    slice_parts(s, &parts, index, count)
}

/// `word(index,delimiters[,count])`: like `field` but runs of delimiters make one separator
/// and leading/trailing delimiters make no empty word.
pub fn word(s: &[u8], index: i64, delims: &[u8], count: i64) -> Vec<u8> {
    let parts: Vec<&[u8]> = s
        .split(|c| delims.contains(c))
        .filter(|p| !p.is_empty())
        .collect();
    slice_parts(s, &parts, index, count)
}

// Parts are sub-slices of `s`, so the span from the first to the last selected part is
// taken straight from `s`, keeping the original delimiters between them.
fn slice_parts(s: &[u8], parts: &[&[u8]], index: i64, count: i64) -> Vec<u8> {
    let n = parts.len() as i64;
    if index == 0 || index.unsigned_abs() > n as u64 {
        return Vec::new();
    }
    let (first, last) = if index > 0 {
        let f = index - 1;
        let l = if count <= 0 {
            n - 1
        } else {
            f.saturating_add(count - 1).min(n - 1)
        };
        (f, l)
    } else {
        let l = n + index;
        let f = if count <= 0 {
            0
        } else {
            l.saturating_sub(count - 1).max(0)
        };
        (f, l)
    };
    let base = s.as_ptr() as usize;
    let start = parts[first as usize].as_ptr() as usize - base;
    let lp = parts[last as usize];
    let end = lp.as_ptr() as usize - base + lp.len();
    s[start..end].to_vec()
}

/// `regsub(regex,subst[,flags])`: replaces the first (or every, with `g`) match; `\1`..`\9`
/// refer to groups. An empty match copies one character and goes on, as haproxy does.
pub fn regsub(re: &Regex, subst: &[u8], global: bool, s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut pos = 0;
    let mut locs = re.capture_locations();
    while pos <= s.len() {
        let Some(m) = re.captures_read_at(&mut locs, s, pos) else {
            break;
        };
        out.extend_from_slice(&s[pos..m.start()]);
        expand(subst, &locs, s, &mut out);
        if m.end() == m.start() {
            if m.end() < s.len() {
                out.push(s[m.end()]);
            }
            pos = m.end() + 1;
        } else {
            pos = m.end();
        }
        if !global {
            break;
        }
    }
    if pos < s.len() {
        out.extend_from_slice(&s[pos..]);
    }
    out
}

fn expand(subst: &[u8], locs: &regex::bytes::CaptureLocations, s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < subst.len() {
        let c = subst[i];
        if c == b'\\' && i + 1 < subst.len() {
            let d = subst[i + 1];
            if d.is_ascii_digit() {
                if let Some((a, b)) = locs.get((d - b'0') as usize) {
                    out.extend_from_slice(&s[a..b]);
                }
                i += 2;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
}

/// JSON escaping modes of the `json` converter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonMode {
    /// Every byte above 0x7e escaped as \u00XX (default).
    Ascii,
    /// UTF-8, fail on invalid.
    Utf8,
    /// UTF-8, skip invalid sequences.
    Utf8s,
    /// UTF-8 "partial" variant; haproxy 2.6 gives the same results as utf8 in practice.
    Utf8p,
    /// UTF-8 "partial" variant, skipping invalid sequences like utf8s.
    Utf8ps,
}

/// haproxy's `json` converter escaping.
pub fn json_escape(s: &[u8], mode: JsonMode) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let cp: u32;
        if mode == JsonMode::Ascii || c < 0x80 {
            cp = c as u32;
            i += 1;
        } else {
            let len = match c {
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                // haproxy 2.6 rejects 4-byte sequences: bin(f09f9880),json(utf8) fails.
                _ => 0,
            };
            let dec = (len > 0 && i + len <= s.len())
                .then(|| std::str::from_utf8(&s[i..i + len]).ok())
                .flatten()
                .and_then(|t| t.chars().next());
            match dec {
                Some(ch) => {
                    cp = ch as u32;
                    i += len;
                }
                None => match mode {
                    JsonMode::Utf8s | JsonMode::Utf8ps => {
                        i += 1;
                        continue;
                    }
                    _ => return None,
                },
            }
        }
        match cp {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5c => out.extend_from_slice(b"\\\\"),
            0x2f => out.extend_from_slice(b"\\/"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x09 => out.extend_from_slice(b"\\t"),
            c if !(0x20..=0x7e).contains(&c) => {
                out.extend_from_slice(format!("\\u{c:04x}").as_bytes())
            }
            c => out.push(c as u8),
        }
    }
    Some(out)
}

/// `url_dec([in_form])`: %XX decoding (an invalid escape fails); '+' becomes a space after
/// a '?' or everywhere when `in_form`.
pub fn url_dec(s: &[u8], in_form: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut form = in_form;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let h = super::fetch_misc::hexval(*s.get(i + 1)?)?;
                let l = super::fetch_misc::hexval(*s.get(i + 2)?)?;
                out.push((h << 4) | l);
                i += 3;
                continue;
            }
            b'+' if form => out.push(b' '),
            b'?' => {
                form = true;
                out.push(b'?');
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// `url_enc([query])`: percent-encodes all but letters, digits and `-._~`.
pub fn url_enc(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3);
    for &c in s {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c);
        } else {
            out.extend_from_slice(format!("%{c:02X}").as_bytes());
        }
    }
    out
}

/// Upper-case hex of bytes.
pub fn hex_upper(b: &[u8]) -> Vec<u8> {
    const H: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(b.len() * 2);
    for &c in b {
        out.push(H[(c >> 4) as usize]);
        out.push(H[(c & 15) as usize]);
    }
    out
}

/// `hex2i`: hex text to integer; any non-hex character fails.
pub fn hex2i(s: &[u8]) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in s {
        v = v.wrapping_shl(4) | super::fetch_misc::hexval(c)? as i64;
    }
    Some(v)
}

/// `be2dec(sep,chunk[,truncate])`: big-endian chunks printed in decimal.
pub fn be2dec(b: &[u8], sep: &[u8], chunk: usize, trunc: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, c) in b.chunks(chunk.max(1)).enumerate() {
        if trunc && c.len() < chunk {
            break;
        }
        if i > 0 {
            out.extend_from_slice(sep);
        }
        let v = c.iter().fold(0u64, |a, &x| (a << 8) | x as u64);
        out.extend_from_slice(v.to_string().as_bytes());
    }
    out
}

/// `be2hex([sep[,chunk[,truncate]]])`: hex with a separator every `chunk` bytes.
pub fn be2hex(b: &[u8], sep: &[u8], chunk: usize, trunc: bool) -> Vec<u8> {
    if chunk == 0 {
        return hex_upper(b);
    }
    let mut out = Vec::new();
    for (i, c) in b.chunks(chunk).enumerate() {
        if trunc && c.len() < chunk {
            break;
        }
        if i > 0 {
            out.extend_from_slice(sep);
        }
        out.extend_from_slice(&hex_upper(c));
    }
    out
}

/// A minimal JSONPath for `json_query`: `$`, `.name`, `['name']`, `[index]`.
pub fn json_query<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let p = path.strip_prefix('$')?;
    let b = p.as_bytes();
    let mut cur = v;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let st = i + 1;
                let mut e = st;
                while e < b.len() && b[e] != b'.' && b[e] != b'[' {
                    e += 1;
                }
                cur = cur.get(&p[st..e])?;
                i = e;
            }
            b'[' => {
                let e = i + p[i..].find(']')?;
                let inner = &p[i + 1..e];
                cur = if let Some(k) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                    cur.get(k)?
                } else {
                    cur.get(inner.trim().parse::<usize>().ok()?)?
                };
                i = e + 1;
            }
            _ => return None,
        }
    }
    Some(cur)
}

/// printf's `%g` of a double, as haproxy prints JSON numbers.
pub fn fmt_g(f: f64) -> Option<Vec<u8>> {
    let mut buf = [0u8; 64];
    // SAFETY: the format is a NUL-terminated literal taking one double; snprintf writes at
    // most buf.len() bytes including the NUL and returns the length it wanted.
    let n = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            c"%g".as_ptr(),
            f,
        )
    };
    let n = usize::try_from(n).ok()?.min(buf.len() - 1);
    Some(buf[..n].to_vec())
}

/// A JSON string as haproxy's mjson unescapes it: characters up to U+00FF become one
/// byte (`\u00e9` gives 0xE9, not UTF-8), others stay UTF-8.
pub fn json_latin1(t: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.len());
    for ch in t.chars() {
        let c = ch as u32;
        if c < 0x100 {
            out.push(c as u8);
        } else {
            let mut b = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values captured from haproxy 2.6.12.
    #[test]
    fn fields_and_words() {
        assert_eq!(field(b"a|b|c", 2, b"|", 1), b"b");
        assert_eq!(field(b"a|b|c", -1, b"|", 1), b"c");
        assert_eq!(field(b"a|b|c", 5, b"|", 1), b"");
        assert_eq!(field(b"a|b|c|d", 2, b"|", 2), b"b|c");
        assert_eq!(field(b"a|b|c|d", 2, b"|", 0), b"b|c|d");
        assert_eq!(field(b"a|b|c|d", -2, b"|", 2), b"b|c");
        assert_eq!(field(b"a||c", 2, b"|", 1), b"");
        assert_eq!(word(b"/a//b/c", 2, b"/", 1), b"b");
        assert_eq!(word(b"/a//b/c", -1, b"/", 1), b"c");
        assert_eq!(word(b"/a//b/c", 5, b"/", 1), b"");
        assert_eq!(word(b"/a//b/c/d", 1, b"/", 2), b"a//b");
        assert_eq!(word(b"/a//b/c/d", 2, b"/", 0), b"b/c/d");
    }

    #[test]
    fn regsubs() {
        let x = Regex::new("X").unwrap();
        assert_eq!(regsub(&x, b"-", false, b"aXbXc"), b"a-bXc");
        assert_eq!(regsub(&x, b"-", true, b"aXbXc"), b"a-b-c");
        assert_eq!(
            regsub(&Regex::new("(b)").unwrap(), b"[\\1]", true, b"abcb"),
            b"a[b]c[b]"
        );
        assert_eq!(
            regsub(&Regex::new("x*").unwrap(), b"-", true, b"abc"),
            b"-a-b-c-"
        );
        assert_eq!(
            regsub(&Regex::new("(?i)b").unwrap(), b"-", true, b"ABC"),
            b"A-C"
        );
    }

    #[test]
    fn encodings() {
        let s = b"a\"b\\\x01c\xc3\xa9/";
        assert_eq!(
            json_escape(s, JsonMode::Ascii).unwrap(),
            b"a\\\"b\\\\\\u0001c\\u00c3\\u00a9\\/"
        );
        assert_eq!(
            json_escape(s, JsonMode::Utf8s).unwrap(),
            b"a\\\"b\\\\\\u0001c\\u00e9\\/"
        );
        assert_eq!(json_escape(b"a\xffb", JsonMode::Utf8), None);
        assert_eq!(json_escape(b"a\xffb", JsonMode::Utf8s).unwrap(), b"ab");
        // Captured from haproxy 2.6.12.
        assert_eq!(
            json_escape(b"a\xf0\x9f\x98\x80b", JsonMode::Utf8s).unwrap(),
            b"ab"
        );
        assert_eq!(
            json_escape(b"\xe2\x82\xac", JsonMode::Utf8).unwrap(),
            b"\\u20ac"
        );
        assert_eq!(json_escape(b"a\xf0\x9f\x98\x80b", JsonMode::Utf8p), None);
        assert_eq!(json_escape(b"a\xe2\x82", JsonMode::Utf8p), None);
        assert_eq!(json_escape(b"a\xe2\x82", JsonMode::Utf8ps).unwrap(), b"a");
        assert_eq!(json_escape(b"a\xe2\x82", JsonMode::Utf8), None);
        assert_eq!(json_escape(b"\xc0\xaf", JsonMode::Utf8s).unwrap(), b"");
        assert_eq!(url_dec(b"a%20b+c%2", false), None);
        assert_eq!(url_dec(b"a%41%zz", false), None);
        assert_eq!(url_dec(b"/p?a=b+c", false).unwrap(), b"/p?a=b c");
        assert_eq!(url_dec(b"a+b%41", true).unwrap(), b"a bA");
        assert_eq!(
            url_enc("a b&c=d/é~_.-*".as_bytes()),
            b"a%20b%26c%3Dd%2F%C3%A9~_.-%2A"
        );
        assert_eq!(hex2i(b"ff"), Some(255));
        assert_eq!(hex2i(b"-1a"), None);
        assert_eq!(be2dec(&[1, 2, 3, 4], b"-", 2, false), b"258-772");
        assert_eq!(be2dec(&[1, 2, 3, 4, 5], b"-", 2, false), b"258-772-5");
        assert_eq!(be2dec(&[1, 2, 3, 4, 5], b"-", 2, true), b"258-772");
        assert_eq!(be2dec(&[1, 2, 3, 4], b"", 1, false), b"1234");
        assert_eq!(be2hex(&[1, 2, 3, 4, 5], b":", 2, false), b"0102:0304:05");
        assert_eq!(be2hex(&[1, 2, 3, 4, 5], b"", 0, false), b"0102030405");
        assert_eq!(be2hex(&[1, 2, 3, 4, 5], b":", 2, true), b"0102:0304");
    }
}
