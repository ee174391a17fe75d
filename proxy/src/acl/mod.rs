//! ACLs (haproxy configuration manual 7.1, 7.2, 7.4): named sets of sample tests, ORed
//! when several `acl` lines share a name, and the predefined ACLs.
//!
//! ```text
//! // config parser, per proxy section:
//! let mut acls = AclSet::new();                       // predefined ACLs included
//! if let Some(warning) = acls.add("is_api", &words_after_name)? { /* print warning */ }
//! let mut cond = parse_condition(&words_from_if_or_unless, &acls)?;
//! // at the end of the section (later `acl` lines with the same name count, as in haproxy):
//! cond.relink(&acls);
//! // data path:
//! if cond.eval(&ctx) { /* apply the rule */ }
//! ```
//!
//! A sample that cannot be fetched makes its ACL false (so `!acl` true), unless
//! `SampleCtx::more_data_expected` says more data may come: then the result is
//! [`AclResult::Miss`] and `Condition::eval_result` lets the caller wait.

pub mod cond;
pub mod pattern;

use std::collections::HashMap;

use crate::sample::args::{split_calls, suggest};
use crate::sample::ctx::SampleCtx;
use crate::sample::expr::SampleExpr;
use crate::sample::fetch::FETCH_NAMES;

pub use cond::{parse_condition, Condition};
pub use pattern::{IntOp, MatchKind, PatternSet};

/// Three-valued test result, as haproxy's ACL_TEST_{PASS,FAIL,MISS}.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AclResult {
    /// Matched.
    Pass,
    /// Did not match.
    Fail,
    /// Could not tell yet: a sample is missing and more data may come.
    Miss,
}

impl AclResult {
    /// Negation: a missing result stays missing.
    pub fn negate(self) -> AclResult {
        match self {
            AclResult::Pass => AclResult::Fail,
            AclResult::Fail => AclResult::Pass,
            AclResult::Miss => AclResult::Miss,
        }
    }

    /// `self || other`.
    pub fn or(self, o: AclResult) -> AclResult {
        match (self, o) {
            (AclResult::Pass, _) | (_, AclResult::Pass) => AclResult::Pass,
            (AclResult::Miss, _) | (_, AclResult::Miss) => AclResult::Miss,
            _ => AclResult::Fail,
        }
    }

    /// `self && other`.
    pub fn and(self, o: AclResult) -> AclResult {
        match (self, o) {
            (AclResult::Fail, _) | (_, AclResult::Fail) => AclResult::Fail,
            (AclResult::Miss, _) | (_, AclResult::Miss) => AclResult::Miss,
            _ => AclResult::Pass,
        }
    }
}

/// One ACL line's test: a sample expression, a match method and patterns.
#[derive(Clone, Debug)]
pub struct AclExpr {
    /// The sample expression.
    pub expr: SampleExpr,
    /// The patterns and their match method.
    pub pats: PatternSet,
    /// Set when the line had no pattern although its method needs one: it never matches
    /// (haproxy warns about it; the config parser may print this).
    pub warning: Option<String>,
}

const DERIVED: &[(&str, MatchKind)] = &[
    ("_beg", MatchKind::Beg),
    ("_end", MatchKind::End),
    ("_sub", MatchKind::Sub),
    ("_reg", MatchKind::Reg),
    ("_dir", MatchKind::Dir),
    ("_dom", MatchKind::Dom),
    ("_len", MatchKind::Len),
];

/// Derived ACL keywords: `path_beg`, `hdr_sub(host)`, `cook_reg(x)`... map to a fetch and a
/// match method. ACL-only aliases (`urlp`, `shdr`, `scook`...) are fetch aliases already.
fn derived(name: &str) -> Option<(&'static str, MatchKind)> {
    for (suffix, kind) in DERIVED {
        if let Some(base) = name.strip_suffix(suffix) {
            let fetch = FETCH_NAMES.iter().find(|f| **f == base)?;
            return Some((fetch, *kind));
        }
    }
    None
}

impl AclExpr {
    /// Parses `fetch [flags] [patterns]` (the words after `acl <name>`, or inside `{ }`).
    pub fn parse(words: &[String]) -> Result<AclExpr, String> {
        let first = words.first().ok_or("missing ACL expression")?;
        let mut calls = split_calls(first)?;
        let mut kind = None;
        if let Some(c) = calls.first_mut() {
            if !FETCH_NAMES.contains(&c.name.as_str()) {
                if let Some((f, k)) = derived(&c.name) {
                    c.name = f.to_string();
                    kind = Some(k);
                } else {
                    let hint = suggest(&c.name, FETCH_NAMES.iter().copied())
                        .map(|s| format!(" (did you mean '{s}' maybe ?)"))
                        .unwrap_or_default();
                    return Err(format!(
                        "unknown fetch method '{}' in ACL expression '{first}'{hint}",
                        c.name
                    ));
                }
            }
        }
        let expr = SampleExpr::from_calls(first, calls)?;

        let mut icase = false;
        let mut files: Vec<String> = Vec::new();
        let mut map_mode = false;
        let mut dashdash = false;
        let mut no_dns = false;
        let mut i = 1;
        while i < words.len() && words[i].starts_with('-') {
            let w = words[i].as_str();
            let next = || {
                words
                    .get(i + 1)
                    .cloned()
                    .ok_or_else(|| format!("'{w}' expects an argument"))
            };
            match w {
                "-i" => icase = true,
                "-n" => no_dns = true,
                "-f" => {
                    files.push(next()?);
                    i += 1;
                }
                // -M: read the -f files as maps (their keys are the patterns).
                "-M" => map_mode = true,
                "-u" => i += 1,
                "-m" => {
                    let m = next()?;
                    kind = Some(
                        MatchKind::parse(&m)
                            .ok_or_else(|| format!("unknown matching method '{m}' when parsing ACL expression."))?,
                    );
                    i += 1;
                }
                "--" => {
                    dashdash = true;
                    i += 1;
                    break;
                }
                _ => return Err(format!("'{w}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.")),
            }
            i += 1;
        }
        let kind = match kind {
            Some(k) => k,
            None => MatchKind::default_for(expr.out_type).ok_or_else(|| {
                format!(
                    "matching method must be specified first (using '-m') when using a sample fetch of this type ('{}').",
                    expr.text.split(['(', ',']).next().unwrap_or("")
                )
            })?,
        };
        let mut pats = PatternSet::new(kind, icase);
        pats.resolve = !no_dns;
        let mut op = IntOp::Eq;
        let int_like = matches!(kind, MatchKind::Int | MatchKind::Len);
        for f in &files {
            let lines: Vec<String> = if map_mode {
                pattern::read_map_file(f)?
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect()
            } else {
                pattern::read_pattern_file(f)?
            };
            for l in lines {
                pats.add(&l, IntOp::Eq)
                    .map_err(|e| format!("file '{f}': {e}"))?;
            }
        }
        for w in &words[i..] {
            if int_like {
                if let Some(o) = IntOp::parse(w) {
                    op = o;
                    continue;
                }
            }
            pats.add(w, op)?;
        }
        let warning = (pats.is_empty() && files.is_empty() && !dashdash && !matches!(kind, MatchKind::Found | MatchKind::Bool)).then(|| {
            "no pattern to match against were provided, so this ACL will never match. If this is what you intended, please add '--' to get rid of this warning. If you intended to match only for existence, please use '-m found'. If you wanted to look for an empty string, please use '\"\"'.".to_string()
        });
        Ok(AclExpr {
            expr,
            pats,
            warning,
        })
    }

    /// Tests the expression: any sample (any occurrence) matching passes; no sample at all
    /// fails, or is "missing" when more data may come.
    pub fn eval(&self, ctx: &dyn SampleCtx) -> AclResult {
        let mut seen = false;
        let mut hit = false;
        let want = self.pats.kind.input_type();
        // Fast path: string tests on strings borrowed from the request, no copy at all.
        // `-m found` on such strings only needs to know one exists.
        let found = self.pats.kind == MatchKind::Found;
        if self.expr.convs.is_empty()
            && (want == crate::sample::SmpType::Str || found)
            && self.expr.out_type == crate::sample::SmpType::Str
            && self.expr.fetch.each_bytes(ctx, &mut |b| {
                seen = true;
                hit = found || self.pats.lookup_bytes(b).is_some();
                hit
            })
        {
            return self.result(seen, hit, ctx);
        }
        #[cfg(test)]
        SLOW_PATH.with(|n| n.set(n.get() + 1));
        self.expr.eval_each(ctx, &mut |s| {
            seen = true;
            let s = if want == crate::sample::SmpType::Any {
                Some(s)
            } else {
                s.cast(want)
            };
            hit = s.is_some_and(|s| self.pats.matches(&s));
            hit
        });
        self.result(seen, hit, ctx)
    }

    fn result(&self, seen: bool, hit: bool, ctx: &dyn SampleCtx) -> AclResult {
        if hit {
            AclResult::Pass
        } else if !seen && ctx.more_data_expected() {
            AclResult::Miss
        } else {
            AclResult::Fail
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Counts evaluations that had to build owned samples (tests check the hot path).
    static SLOW_PATH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// A named ACL: the lines declared under the same name, ORed.
#[derive(Clone, Debug)]
pub struct Acl {
    /// Name.
    pub name: String,
    /// Lines, in declaration order.
    pub exprs: Vec<AclExpr>,
}

impl Acl {
    /// OR of its lines.
    pub fn eval(&self, ctx: &dyn SampleCtx) -> AclResult {
        let mut r = AclResult::Fail;
        for e in &self.exprs {
            r = r.or(e.eval(ctx));
            if r == AclResult::Pass {
                break;
            }
        }
        r
    }
}

/// haproxy's predefined ACLs (manual 7.4).
pub const PREDEFINED: &[(&str, &str)] = &[
    ("FALSE", "always_false"),
    ("HTTP", "req.proto_http"),
    ("HTTP_1.0", "req.ver 1.0"),
    ("HTTP_1.1", "req.ver 1.1"),
    ("HTTP_2.0", "req.ver 2.0"),
    ("HTTP_CONTENT", "req.hdr_val(content-length) gt 0"),
    ("HTTP_URL_ABS", "url_reg ^[^/:]*://"),
    ("HTTP_URL_SLASH", "url_beg /"),
    ("HTTP_URL_STAR", "url *"),
    ("LOCALHOST", "src 127.0.0.1/8 ::1"),
    ("METH_CONNECT", "method CONNECT"),
    ("METH_DELETE", "method DELETE"),
    ("METH_GET", "method GET HEAD"),
    ("METH_HEAD", "method HEAD"),
    ("METH_OPTIONS", "method OPTIONS"),
    ("METH_POST", "method POST"),
    ("METH_PUT", "method PUT"),
    ("METH_TRACE", "method TRACE"),
    ("RDP_COOKIE", "req.rdp_cookie_cnt gt 0"),
    ("REQ_CONTENT", "req.len gt 0"),
    ("TRUE", "always_true"),
    ("WAIT_END", "wait_end"),
];

/// The ACLs visible in one proxy section: its own plus the predefined ones.
#[derive(Clone, Debug)]
pub struct AclSet {
    acls: HashMap<String, Acl>,
    predefined: HashMap<&'static str, Acl>,
}

impl Default for AclSet {
    fn default() -> Self {
        Self::new()
    }
}

/// Checks an ACL name the way haproxy does (letters, digits, '-', '_', '.', ':').
pub fn check_acl_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("missing ACL name".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        return Err(format!(
            "ACL name '{name}' contains an invalid character ('{c}')"
        ));
    }
    Ok(())
}

impl AclSet {
    /// A set with only the predefined ACLs.
    pub fn new() -> Self {
        let mut predefined = HashMap::new();
        for (name, def) in PREDEFINED {
            let words: Vec<String> = def.split(' ').map(str::to_string).collect();
            // The definitions are constants known to parse; a failure would be a bug here,
            // so it is skipped rather than panicking at run time.
            if let Ok(e) = AclExpr::parse(&words) {
                predefined.insert(
                    *name,
                    Acl {
                        name: name.to_string(),
                        exprs: vec![e],
                    },
                );
            }
        }
        AclSet {
            acls: HashMap::new(),
            predefined,
        }
    }

    /// Adds an `acl <name> <words...>` line (ORed with earlier lines of the same name).
    pub fn add(&mut self, name: &str, words: &[String]) -> Result<Option<String>, String> {
        check_acl_name(name)?;
        let e = AclExpr::parse(words)?;
        let warn = e.warning.clone();
        self.acls
            .entry(name.to_string())
            .or_insert_with(|| Acl {
                name: name.to_string(),
                exprs: Vec::new(),
            })
            .exprs
            .push(e);
        Ok(warn)
    }

    /// Finds a declared or predefined ACL.
    pub fn get(&self, name: &str) -> Option<&Acl> {
        self.acls.get(name).or_else(|| self.predefined.get(name))
    }

    /// Names known, for suggestions.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.acls
            .keys()
            .map(String::as_str)
            .chain(self.predefined.keys().copied())
    }
}

#[cfg(test)]
mod tests;
