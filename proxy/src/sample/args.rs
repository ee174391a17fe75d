//! haproxy's keyword-call syntax: `name(arg1,arg2)` chained with commas. Arguments may be
//! quoted ('...' or "..."), backslash-escaped, and contain balanced parentheses (regexes).

/// One `name(args)` element of a sample expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Keyword name.
    pub name: String,
    /// Arguments, unquoted; `None` when there were no parentheses.
    pub args: Option<Vec<String>>,
}

fn is_kw_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')
}

/// Splits `fetch(args),conv(args),...` into calls.
pub fn split_calls(s: &str) -> Result<Vec<Call>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        let start = i;
        while i < chars.len() && is_kw_char(chars[i]) {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        if name.is_empty() {
            return Err(if out.is_empty() {
                format!("missing fetch method in sample expression '{s}'")
            } else {
                format!("missing converter name after ',' in sample expression '{s}'")
            });
        }
        let mut args = None;
        if i < chars.len() && chars[i] == '(' {
            let (a, next) = parse_args(&chars, i + 1)
                .map_err(|e| format!("{e} in argument list of '{name}' in '{s}'"))?;
            args = Some(a);
            i = next;
        }
        out.push(Call { name, args });
        if i == chars.len() {
            return Ok(out);
        }
        if chars[i] != ',' {
            let rest: String = chars[i..].iter().collect();
            return Err(format!(
                "syntax error: missing comma after '{}' near '{rest}' in '{s}'",
                out.last().map(|c| c.name.as_str()).unwrap_or("")
            ));
        }
        i += 1;
    }
}

fn is_escapable(c: char) -> bool {
    matches!(c, '\\' | '\'' | '"' | ',' | '(' | ')' | ' ')
}

/// Parses arguments from just after '(' up to the matching ')'; returns them and the
/// position after ')'.
fn parse_args(chars: &[char], mut i: usize) -> Result<(Vec<String>, usize), String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut any = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            // Only quotes, backslash, comma, parentheses and space are escapable: other
            // sequences such as regsub's `\1` reach the keyword untouched, as in haproxy.
            '\\' if i + 1 < chars.len() && is_escapable(chars[i + 1]) => {
                cur.push(chars[i + 1]);
                i += 2;
                any = true;
                continue;
            }
            '\'' | '"' => {
                let q = c;
                i += 1;
                loop {
                    if i >= chars.len() {
                        return Err("unterminated quote".into());
                    }
                    let d = chars[i];
                    if d == q {
                        break;
                    }
                    // Inside double quotes a backslash escapes the next char, as in haproxy.
                    if d == '\\' && q == '"' && i + 1 < chars.len() && is_escapable(chars[i + 1]) {
                        cur.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    cur.push(d);
                    i += 1;
                }
                any = true;
            }
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' if depth > 0 => {
                depth -= 1;
                cur.push(c);
            }
            ')' => {
                if any || !args.is_empty() {
                    args.push(std::mem::take(&mut cur));
                }
                return Ok((args, i + 1));
            }
            ',' if depth == 0 => {
                args.push(std::mem::take(&mut cur));
                any = true;
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
        i += 1;
    }
    Err("missing closing ')'".into())
}

/// Levenshtein distance, for "did you mean" suggestions.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest name among `names`, if close enough to be a plausible typo.
pub fn suggest<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    names
        .map(|n| (distance(name, n), n))
        .filter(|(d, n)| *d <= (n.len().max(name.len()) / 2).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        let c = split_calls("req.hdr(host,1),lower,regsub(\"(a|b),c\",x\\,y,g)").unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].args.as_ref().unwrap(), &["host", "1"]);
        assert_eq!(c[1].args, None);
        assert_eq!(c[2].args.as_ref().unwrap(), &["(a|b),c", "x,y", "g"]);
        let c = split_calls("regsub((a|b),X)").unwrap();
        assert_eq!(c[0].args.as_ref().unwrap(), &["(a|b)", "X"]);
        let c = split_calls("str()").unwrap();
        assert_eq!(c[0].args.as_ref().unwrap().len(), 0);
        let c = split_calls("concat(,txn.x,)").unwrap();
        assert_eq!(c[0].args.as_ref().unwrap(), &["", "txn.x", ""]);
        assert!(split_calls("path(").is_err());
        assert!(split_calls("path lower").is_err());
        assert!(split_calls("path,").is_err());
        assert_eq!(suggest("pth", ["path", "url"].into_iter()), Some("path"));
    }
}
