//! `.if` / `.elif` expressions and `-cc EXPR`.
//!
//! Grammar (haproxy 2.6, doc §2.4): `expr := and ('||' and)*`, `and := term ('&&' term)*`,
//! `term := '!' term | '(' expr ')' | func '(' args ')' | number | <empty>`.
//! A bare number is true when non-zero; an empty expression is false; any other bare word
//! is an error (haproxy: "unparsable conditional expression").

use super::lexer::{split_line, Env, ProcessEnv};

/// The haproxy version Fulcrum claims to be compatible with, for `version_atleast()` and
/// `version_before()`. Only the components given here are compared: Fulcrum stands for the
/// whole 2.6 branch, so `version_atleast(2.6.5)` is true and `version_before(2.6.5)` false.
pub const HAPROXY_COMPAT_VERSION: &str = "2.6";

/// Evaluates the words following `.if`/`.elif`, looking variables up in the process env.
pub fn eval_condition(expr_words: &[String], features: &[&str]) -> Result<bool, String> {
    eval_condition_env(expr_words, features, &ProcessEnv)
}

/// Evaluates `-cc EXPR`: one string, lexed as a configuration line first (as haproxy does).
pub fn eval_condition_str(expr: &str, features: &[&str]) -> Result<bool, String> {
    let words = split_line(expr, &ProcessEnv)?;
    eval_condition(&words, features)
}

/// Like [`eval_condition`], with `defined()` looking into `env` (the reader passes the
/// environment as changed by `setenv` & co.).
pub fn eval_condition_env(
    expr_words: &[String],
    features: &[&str],
    env: &dyn Env,
) -> Result<bool, String> {
    // haproxy evaluates the words joined by a space; functions' arguments are then split on
    // commas. Quotes were removed by the lexer already.
    let text = expr_words.join(" ");
    if text.trim().is_empty() {
        // Only a wholly empty condition is false; an empty operand is an error.
        return Ok(false);
    }
    let mut p = CondParser {
        s: text.as_bytes(),
        pos: 0,
        features,
        env,
        text: &text,
    };
    let v = p.expr()?;
    p.skip_blanks();
    if p.pos < p.s.len() {
        return Err(format!(
            "unexpected character '{}' at the end of conditional expression '{}' at position {}",
            p.s[p.pos] as char,
            text,
            p.pos + 1
        ));
    }
    Ok(v)
}

struct CondParser<'a> {
    s: &'a [u8],
    pos: usize,
    features: &'a [&'a str],
    env: &'a dyn Env,
    text: &'a str,
}

impl CondParser<'_> {
    fn skip_blanks(&mut self) {
        while self.pos < self.s.len() && (self.s[self.pos] == b' ' || self.s[self.pos] == b'\t') {
            self.pos += 1;
        }
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.skip_blanks();
        if self.s[self.pos..].starts_with(tok.as_bytes()) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<bool, String> {
        let mut v = self.and()?;
        while self.eat("||") {
            let r = self.and()?;
            v = v || r;
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut v = self.term()?;
        while self.eat("&&") {
            let r = self.term()?;
            v = v && r;
        }
        Ok(v)
    }

    fn term(&mut self) -> Result<bool, String> {
        self.skip_blanks();
        if self.eat("!") {
            return Ok(!self.term()?);
        }
        if self.eat("(") {
            let v = self.expr()?;
            if !self.eat(")") {
                return Err(format!(
                    "expected ')' in conditional expression '{}' at position {}",
                    self.text,
                    self.pos + 1
                ));
            }
            return Ok(v);
        }
        let start = self.pos;
        while self.pos < self.s.len()
            && !matches!(
                self.s[self.pos],
                b' ' | b'\t' | b'(' | b')' | b'&' | b'|' | b'!'
            )
        {
            self.pos += 1;
        }
        let word = &self.text[start..self.pos];
        if word.is_empty() {
            return Err(format!(
                "unparsable conditional sub-expression '{}' at position {}",
                &self.text[start..],
                start + 1
            ));
        }
        if self.s.get(self.pos) == Some(&b'(') {
            self.pos += 1;
            let args = self.args()?;
            return self.call(word, &args, start);
        }
        if let Ok(n) = word.parse::<i64>() {
            return Ok(n != 0);
        }
        Err(format!(
            "unparsable conditional expression '{}' at position {}",
            word,
            start + 1
        ))
    }

    /// Arguments up to the closing parenthesis, split on commas.
    fn args(&mut self) -> Result<Vec<String>, String> {
        let start = self.pos;
        match self.s[self.pos..].iter().position(|&c| c == b')') {
            Some(p) => {
                let inner = &self.text[start..start + p];
                self.pos = start + p + 1;
                if inner.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(inner.split(',').map(|a| a.to_string()).collect())
            }
            None => Err(format!(
                "missing closing ')' in conditional expression '{}' at position {}",
                self.text,
                start + 1
            )),
        }
    }

    fn call(&self, name: &str, args: &[String], at: usize) -> Result<bool, String> {
        let want = |n: usize| -> Result<(), String> {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "'{}' expects {} argument(s), {} given at position {}",
                    name,
                    n,
                    args.len(),
                    at + 1
                ))
            }
        };
        match name {
            "defined" => {
                want(1)?;
                Ok(self.env.get(&args[0]).is_some())
            }
            "feature" => {
                want(1)?;
                Ok(self.features.contains(&args[0].as_str()))
            }
            "streq" => {
                want(2)?;
                Ok(args[0] == args[1])
            }
            "strneq" => {
                want(2)?;
                Ok(args[0] != args[1])
            }
            "version_atleast" => {
                want(1)?;
                Ok(compare_version(&args[0])
                    .map_err(|e| e + &format!(" at position {}", at + 1))?
                    != std::cmp::Ordering::Less)
            }
            "version_before" => {
                want(1)?;
                Ok(compare_version(&args[0])
                    .map_err(|e| e + &format!(" at position {}", at + 1))?
                    == std::cmp::Ordering::Less)
            }
            _ => Err(format!(
                "unknown conditional predicate '{}' in conditional expression '{}' at position {} \
                 (known: defined, feature, streq, strneq, version_atleast, version_before)",
                name,
                self.text,
                at + 1
            )),
        }
    }
}

/// Compares [`HAPROXY_COMPAT_VERSION`] with `other` on the components the former has.
fn compare_version(other: &str) -> Result<std::cmp::Ordering, String> {
    // "2.6-dev3", "2.6.12-1+deb12u4": only the leading dotted numbers matter here.
    let numeric: String = other
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect::<String>();
    let theirs: Vec<u64> = numeric
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("invalid version '{other}'"))?;
    if theirs.is_empty() {
        return Err(format!("invalid version '{other}'"));
    }
    let ours: Vec<u64> = HAPROXY_COMPAT_VERSION
        .split('.')
        .filter_map(|s| s.parse::<u64>().ok())
        .collect();
    for (i, o) in ours.iter().enumerate() {
        let t = theirs.get(i).copied().unwrap_or(0);
        match o.cmp(&t) {
            std::cmp::Ordering::Equal => continue,
            other => return Ok(other),
        }
    }
    Ok(std::cmp::Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lexer::MapEnv;

    fn ev(s: &str) -> Result<bool, String> {
        let env = MapEnv::from_pairs(&[("HOME", "/root"), ("EMPTY", "")]);
        let words = split_line(s, &env)?;
        eval_condition_env(&words, &["OPENSSL", "LUA"], &env)
    }

    #[test]
    fn numbers_and_empty() {
        assert_eq!(ev(""), Ok(false));
        assert_eq!(ev("0"), Ok(false));
        assert_eq!(ev("00"), Ok(false));
        assert_eq!(ev("1"), Ok(true));
        assert_eq!(ev("-1"), Ok(true));
        assert_eq!(ev("2"), Ok(true));
        assert!(ev("abc")
            .unwrap_err()
            .starts_with("unparsable conditional expression 'abc'"));
        assert!(ev("1 2")
            .unwrap_err()
            .starts_with("unexpected character '2'"));
    }

    #[test]
    fn operators() {
        assert_eq!(ev("!0"), Ok(true));
        assert_eq!(ev("!0 && 0"), Ok(false));
        assert_eq!(ev("0 || 1"), Ok(true));
        assert_eq!(ev("1 || 0 && 0"), Ok(true));
        assert_eq!(ev("(1 || 0) && 0"), Ok(false));
        assert_eq!(ev("!(0 || 0)"), Ok(true));
        assert!(ev("(1").is_err());
        assert!(ev("1 ||").is_err());
        assert!(ev("&& 1").is_err());
        assert_eq!(ev("defined(HOME)&&1"), Ok(true));
        assert_eq!(ev("! 0"), Ok(true));
        assert_eq!(ev("!!1"), Ok(true));
    }

    #[test]
    fn predicates() {
        assert_eq!(ev("defined(HOME)"), Ok(true));
        assert_eq!(ev("defined(EMPTY)"), Ok(true));
        assert_eq!(ev("defined(NOPE)"), Ok(false));
        assert_eq!(ev("feature(LUA)"), Ok(true));
        assert_eq!(ev("feature(QUIC)"), Ok(false));
        assert_eq!(ev("streq(a,a)"), Ok(true));
        assert_eq!(ev("streq(\"${HOME}\",/root)"), Ok(true));
        assert_eq!(ev("strneq(a,b)"), Ok(true));
        assert_eq!(ev("version_atleast(2.6)"), Ok(true));
        assert_eq!(ev("version_atleast(2.6.5)"), Ok(true));
        assert_eq!(ev("version_atleast(2.6-dev3)"), Ok(true));
        assert_eq!(ev("version_atleast(2.7)"), Ok(false));
        assert_eq!(ev("version_atleast(1.8)"), Ok(true));
        assert_eq!(ev("version_before(2.7)"), Ok(true));
        assert_eq!(ev("version_before(2.6)"), Ok(false));
        assert_eq!(ev("version_before(3)"), Ok(true));
        assert!(ev("nosuch(a)").is_err());
        assert!(ev("streq(a)").is_err());
    }

    #[test]
    fn cc_strings() {
        assert_eq!(
            eval_condition_str("streq(a,a) && !feature(X)", &[]),
            Ok(true)
        );
        assert_eq!(
            eval_condition_str("version_before(2.5) || 0", &[]),
            Ok(false)
        );
        assert_eq!(eval_condition_str("feature(LUA)", &["LUA"]), Ok(true));
        assert!(eval_condition_str("\"unterminated", &[]).is_err());
    }
}
