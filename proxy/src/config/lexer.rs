//! Splitting one configuration line into words, the way haproxy 2.6's `parse_line()` does.
//!
//! What haproxy 2.6 does (checked against the Debian 2.6.12 binary, see the tests):
//! - blanks (space, tab) separate words; an unquoted, unescaped `#` ends the line;
//! - `"double quotes"` group blanks into one word, interpret `\` escapes and expand
//!   `$VAR`, `${VAR}`, `${VAR-default}` and `${VAR[*]}` (the latter splits the value on blanks into
//!   several words);
//! - `'single quotes'` are verbatim: no escape, no expansion;
//! - outside quotes `\` escapes work the same, but `${...}` is NOT expanded (2.6 keeps it
//!   literally; expansion outside quotes came later);
//! - known escapes: `\\ \  \# \' \" \r \n \t \xNN`; any other `\c` is kept as the two
//!   characters (`a\qb` stays `a\qb`);
//! - an unterminated quote is an error; `""` is an empty word.

use std::collections::HashMap;

/// Where `${VAR}` values come from. Tests pass a map so they never depend on the process env.
pub trait Env {
    /// The value of `name`, or `None` when it is not set.
    fn get(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables (tests, `-cc` with an explicit environment).
#[derive(Debug, Clone, Default)]
pub struct MapEnv(pub HashMap<String, String>);

impl MapEnv {
    /// An environment holding exactly `pairs`.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        MapEnv(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

impl Env for MapEnv {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A base environment plus the changes made by `setenv`/`presetenv`/`resetenv`/`unsetenv`
/// in `global`: haproxy changes its own environment while parsing, so later lines see them.
/// We keep the changes here instead of touching the process environment.
pub struct EnvOverlay<'a> {
    base: &'a dyn Env,
    /// `Some(v)`: set to v; `None`: unset. Absent: whatever `base` says.
    changes: HashMap<String, Option<String>>,
    /// `resetenv` was used: only these names survive from `base`.
    reset_keep: Option<Vec<String>>,
    /// Pseudo-variables `.FILE`, `.LINE`, `.SECTION`, kept up to date by the reader/parser.
    pseudo: HashMap<String, String>,
}

impl<'a> EnvOverlay<'a> {
    /// No change yet over `base`.
    pub fn new(base: &'a dyn Env) -> Self {
        EnvOverlay {
            base,
            changes: HashMap::new(),
            reset_keep: None,
            pseudo: HashMap::new(),
        }
    }

    /// `setenv NAME VALUE`.
    pub fn set(&mut self, name: &str, value: &str) {
        self.changes
            .insert(name.to_string(), Some(value.to_string()));
    }

    /// `presetenv NAME VALUE`: only when not already set.
    pub fn preset(&mut self, name: &str, value: &str) {
        if self.get(name).is_none() {
            self.set(name, value);
        }
    }

    /// `unsetenv NAME...`.
    pub fn unset(&mut self, name: &str) {
        self.changes.insert(name.to_string(), None);
    }

    /// `resetenv [NAME...]`: everything is removed except the names listed.
    pub fn reset(&mut self, keep: &[String]) {
        let kept: HashMap<String, Option<String>> = keep
            .iter()
            .filter_map(|k| self.get(k).map(|v| (k.clone(), Some(v))))
            .collect();
        self.changes = kept;
        self.reset_keep = Some(keep.to_vec());
    }

    /// Sets a pseudo-variable (`.FILE`, `.LINE`, `.SECTION`); `name` includes the dot.
    pub fn set_pseudo(&mut self, name: &str, value: &str) {
        self.pseudo.insert(name.to_string(), value.to_string());
    }

    /// Every variable set through the overlay (for the runtime, which must export them).
    pub fn changes(&self) -> Vec<(String, Option<String>)> {
        let mut v: Vec<_> = self
            .changes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.sort();
        v
    }
}

impl Env for EnvOverlay<'_> {
    fn get(&self, name: &str) -> Option<String> {
        if name.starts_with('.') {
            return self.pseudo.get(name).cloned();
        }
        if let Some(v) = self.changes.get(name) {
            return v.clone();
        }
        if self.reset_keep.is_some() {
            // After resetenv, names not kept (and not set since) are gone.
            return None;
        }
        self.base.get(name)
    }
}

/// Splits `line` into words. Errors carry haproxy's wording and the 1-based column.
pub fn split_line(line: &str, env: &dyn Env) -> Result<Vec<String>, String> {
    let b = line.as_bytes();
    let mut words: Vec<Vec<u8>> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    // Whether `cur` is a word even if empty (a `""` was seen).
    let mut in_word = false;
    let mut i = 0;
    let mut dquote_start: Option<usize> = None;
    while i < b.len() {
        let c = b[i];
        if dquote_start.is_none() {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    if in_word {
                        words.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                    i += 1;
                    continue;
                }
                b'#' => break,
                b'\'' => {
                    let start = i;
                    let rest = &b[i + 1..];
                    match rest.iter().position(|&x| x == b'\'') {
                        Some(end) => {
                            cur.extend_from_slice(&rest[..end]);
                            in_word = true;
                            i += end + 2;
                        }
                        None => return Err(format!("unmatched quote at position {}", start + 1)),
                    }
                    continue;
                }
                b'"' => {
                    dquote_start = Some(i);
                    in_word = true;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        } else if c == b'"' {
            dquote_start = None;
            i += 1;
            continue;
        }
        in_word = true;
        if c == b'\\' && i + 1 < b.len() {
            let n = b[i + 1];
            match n {
                b'\\' | b' ' | b'#' | b'\'' | b'"' => {
                    cur.push(n);
                    i += 2;
                }
                b'r' => {
                    cur.push(b'\r');
                    i += 2;
                }
                b'n' => {
                    cur.push(b'\n');
                    i += 2;
                }
                b't' => {
                    cur.push(b'\t');
                    i += 2;
                }
                b'x' => {
                    let hex = b
                        .get(i + 2..i + 4)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(v)
                            if hex.is_some_and(|h| h.bytes().all(|x| x.is_ascii_hexdigit())) =>
                        {
                            cur.push(v);
                            i += 4;
                        }
                        _ => {
                            return Err(format!(
                                "truncated or invalid hexadecimal sequence at position {}",
                                i + 1
                            ))
                        }
                    }
                }
                _ => {
                    // Unknown escape: haproxy keeps the backslash and the character.
                    cur.push(c);
                    i += 1;
                }
            }
            continue;
        }
        if c == b'$' && dquote_start.is_some() {
            // Inside double quotes `$` always starts a variable: `$NAME` or `${NAME...}`.
            let braced = b.get(i + 1) == Some(&b'{');
            let name_start = if braced { i + 2 } else { i + 1 };
            let first = b.get(name_start).copied().unwrap_or(0);
            // A leading '.' is for haproxy's pseudo-variables (.FILE, .LINE, .SECTION).
            if !(first.is_ascii_alphabetic() || first == b'_' || first == b'.') {
                return Err(format!(
                    "forbidden first char in environment variable name at position {}",
                    name_start + 1
                ));
            }
            let mut j = name_start + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            let name = &line[name_start..j];
            let mut split = false;
            let mut default: Option<&str> = None;
            if braced {
                if b[j..].starts_with(b"[*]") {
                    split = true;
                    j += 3;
                }
                if b.get(j) == Some(&b'-') {
                    let dstart = j + 1;
                    match b[dstart..].iter().position(|&x| x == b'}') {
                        Some(p) => {
                            default = Some(&line[dstart..dstart + p]);
                            j = dstart + p;
                        }
                        None => {
                            return Err(format!(
                                "unmatched brace in environment variable name at position {}",
                                name_start + 1
                            ))
                        }
                    }
                }
                if b.get(j) != Some(&b'}') {
                    return Err(format!(
                        "unmatched brace in environment variable name at position {}",
                        name_start + 1
                    ));
                }
                j += 1;
            }
            i = j;
            let value = env
                .get(name)
                .or_else(|| default.map(str::to_string))
                .unwrap_or_default();
            if split {
                // "${VAR[*]}": each blank-separated part of the value becomes its own word.
                let mut parts = value
                    .split([' ', '\t'])
                    .filter(|p| !p.is_empty())
                    .peekable();
                while let Some(p) = parts.next() {
                    cur.extend_from_slice(p.as_bytes());
                    if parts.peek().is_some() {
                        words.push(std::mem::take(&mut cur));
                    }
                }
            } else {
                cur.extend_from_slice(value.as_bytes());
            }
            continue;
        }
        cur.push(c);
        i += 1;
    }
    if let Some(start) = dquote_start {
        return Err(format!("unmatched quote at position {}", start + 1));
    }
    if in_word {
        words.push(cur);
    }
    Ok(words
        .into_iter()
        .map(|w| String::from_utf8_lossy(&w).into_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> Vec<String> {
        let env = MapEnv::from_pairs(&[("V", "a b"), ("E", "")]);
        split_line(line, &env).unwrap_or_else(|e| vec![format!("ERR {e}")])
    }

    #[test]
    fn words_and_comments() {
        assert_eq!(s("  bind :80   # comment"), ["bind", ":80"]);
        assert_eq!(s("a#b c"), ["a"]);
        assert_eq!(s("# all"), Vec::<String>::new());
        assert_eq!(s("\\#x"), ["#x"]);
    }

    #[test]
    fn quotes() {
        assert_eq!(s("\"a b\" 'c d'"), ["a b", "c d"]);
        assert_eq!(s("'q\\nq'"), ["q\\nq"]);
        assert_eq!(s("\"e\\\"f\""), ["e\"f"]);
        assert_eq!(s("g\\'h"), ["g'h"]);
        assert_eq!(s("\"\""), [""]);
        assert_eq!(s("x\"y z\"w"), ["xy zw"]);
        assert_eq!(s("\"open"), ["ERR unmatched quote at position 1"]);
        assert_eq!(s("a 'open"), ["ERR unmatched quote at position 3"]);
    }

    #[test]
    fn edge_cases_checked_against_haproxy() {
        assert_eq!(s("foo\\\\"), ["foo\\"]);
        assert_eq!(s("foo\\"), ["foo\\"]); // lone trailing backslash is kept
        assert_eq!(s("\"a#b\""), ["a#b"]);
        assert_eq!(s("a\"b\"c'd'"), ["abcd"]);
        assert_eq!(s("'a\\\\b'"), ["a\\\\b"]);
        assert_eq!(s("\"\" x"), ["", "x"]);
        assert_eq!(s("  \t  "), Vec::<String>::new());
        assert_eq!(s("a b\r"), ["a", "b"]);
    }

    #[test]
    fn escapes() {
        assert_eq!(s("a\\x41b\\tc"), ["aAb\tc"]);
        assert_eq!(s("a\\ b"), ["a b"]);
        assert_eq!(s("a\\qb"), ["a\\qb"]);
        assert_eq!(s("\"a\\qb\""), ["a\\qb"]);
        assert!(s("a\\xZZ")[0].starts_with("ERR truncated or invalid hexadecimal"));
        assert!(s("a\\x4")[0].starts_with("ERR truncated"));
    }

    #[test]
    fn env_expansion() {
        assert_eq!(s("${V}"), ["${V}"]); // 2.6: no expansion outside quotes
        assert_eq!(s("\"${V}\""), ["a b"]);
        assert_eq!(s("\"x${U}y\""), ["xy"]);
        assert_eq!(s("\"${U-def}\""), ["def"]);
        assert_eq!(s("\"${V-def}\""), ["a b"]);
        assert_eq!(s("\"${V[*]}\""), ["a", "b"]);
        assert_eq!(s("\"${E}\""), [""]);
        assert_eq!(s("'${V}'"), ["${V}"]);
        assert!(s("\"x${V\"")[0].starts_with("ERR unmatched brace"));
        assert!(s("\"${1ab}\"")[0].starts_with("ERR forbidden first char"));
        assert_eq!(s("\"$V-x\""), ["a b-x"]);
        assert_eq!(s("\"$Vx\""), [""]);
        assert_eq!(
            s("\"a$ b\""),
            ["ERR forbidden first char in environment variable name at position 4"]
        );
        assert_eq!(s("\"${X-}\""), [""]);
        assert_eq!(s("\"${.LINE}\""), [""]);
    }

    #[test]
    fn overlay() {
        let base = MapEnv::from_pairs(&[("A", "1"), ("B", "2")]);
        let mut o = EnvOverlay::new(&base);
        o.set("C", "3");
        o.preset("A", "x");
        o.preset("D", "4");
        assert_eq!(o.get("A").as_deref(), Some("1"));
        assert_eq!(o.get("D").as_deref(), Some("4"));
        o.unset("B");
        assert_eq!(o.get("B"), None);
        o.reset(&["A".to_string()]);
        assert_eq!(o.get("A").as_deref(), Some("1"));
        assert_eq!(o.get("C"), None);
        o.set("Z", "z");
        assert_eq!(o.get("Z").as_deref(), Some("z"));
    }
}
