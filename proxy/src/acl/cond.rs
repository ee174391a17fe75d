//! Conditions: `if|unless` followed by ACL names, `!name`, anonymous `{ ... }` ACLs,
//! implicit AND between terms and `||`/`or` between groups.

use std::sync::Arc;

use super::{Acl, AclExpr, AclResult, AclSet};
use crate::sample::args::suggest;
use crate::sample::ctx::SampleCtx;

/// One term: a (possibly negated) named or anonymous ACL.
#[derive(Clone, Debug)]
pub struct Term {
    /// Negated with `!`.
    pub neg: bool,
    /// The ACL's name (None for an anonymous one).
    pub name: Option<String>,
    /// The ACL as known when the condition was parsed (see [`Condition::relink`]).
    pub acl: Arc<Acl>,
}

/// A parsed `if`/`unless` condition.
#[derive(Clone, Debug)]
pub struct Condition {
    /// `unless` instead of `if`.
    pub unless: bool,
    /// Groups ORed together, each a list of terms ANDed together.
    pub groups: Vec<Vec<Term>>,
}

/// Parses `if|unless <terms>`. `words` starts with `if` or `unless`; names refer to `acls`.
pub fn parse_condition(words: &[String], acls: &AclSet) -> Result<Condition, String> {
    let (unless, rest) = match words.first().map(String::as_str) {
        Some("if") => (false, &words[1..]),
        Some("unless") => (true, &words[1..]),
        Some(o) => {
            return Err(format!(
                "expects 'if' or 'unless' followed by a condition, got '{o}'"
            ))
        }
        None => return Err("expects 'if' or 'unless' followed by a condition".into()),
    };
    if rest.is_empty() {
        return Err(format!(
            "missing condition after '{}'",
            if unless { "unless" } else { "if" }
        ));
    }
    let mut groups: Vec<Vec<Term>> = vec![Vec::new()];
    let mut neg = false;
    let mut i = 0;
    while i < rest.len() {
        let mut w = rest[i].as_str();
        if w == "||" || w == "or" {
            if groups.last().is_some_and(|g| g.is_empty()) || neg {
                return Err(format!("missing ACL before '{w}' in condition"));
            }
            groups.push(Vec::new());
            i += 1;
            continue;
        }
        while let Some(r) = w.strip_prefix('!') {
            neg = !neg;
            w = r;
        }
        if w.is_empty() {
            i += 1;
            continue;
        }
        let term = if w == "{" {
            let start = i + 1;
            let end = rest[start..]
                .iter()
                .position(|x| x == "}")
                .map(|p| start + p)
                .ok_or("missing closing '}' in condition")?;
            if end == start {
                return Err("empty anonymous ACL '{ }' in condition".into());
            }
            let e =
                AclExpr::parse(&rest[start..end]).map_err(|e| format!("in anonymous ACL: {e}"))?;
            i = end;
            Term {
                neg,
                name: None,
                acl: Arc::new(Acl {
                    name: "anonymous".into(),
                    exprs: vec![e],
                }),
            }
        } else {
            let acl = acls.get(w).ok_or_else(|| {
                let hint = suggest(w, acls.names())
                    .map(|s| format!(" (did you mean '{s}' ?)"))
                    .unwrap_or_default();
                format!("no such ACL : '{w}'{hint}")
            })?;
            Term {
                neg,
                name: Some(w.to_string()),
                acl: Arc::new(acl.clone()),
            }
        };
        neg = false;
        if let Some(g) = groups.last_mut() {
            g.push(term);
        }
        i += 1;
    }
    if neg || groups.last().is_some_and(|g| g.is_empty()) {
        return Err("missing ACL after '!' or '||' at the end of the condition".into());
    }
    Ok(Condition { unless, groups })
}

impl Condition {
    /// Re-reads named ACLs from `acls`: haproxy rules see `acl` lines with the same name
    /// declared after them, so the config parser calls this at the end of a section.
    pub fn relink(&mut self, acls: &AclSet) {
        for t in self.groups.iter_mut().flatten() {
            if let Some(a) = t.name.as_deref().and_then(|n| acls.get(n)) {
                t.acl = Arc::new(a.clone());
            }
        }
    }

    /// What the condition's fetches read (each kind once), so the config parser can
    /// refuse e.g. a response header test in an `http-request` rule.
    pub fn needs(&self) -> Vec<crate::sample::fetch::Needs> {
        let mut out = Vec::new();
        for t in self.groups.iter().flatten() {
            for e in &t.acl.exprs {
                let n = e.expr.needs();
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }

    /// Three-valued evaluation (Miss only when the context expects more data).
    pub fn eval_result(&self, ctx: &dyn SampleCtx) -> AclResult {
        let mut r = AclResult::Fail;
        for g in &self.groups {
            let mut gr = AclResult::Pass;
            for t in g {
                let v = t.acl.eval(ctx);
                gr = gr.and(if t.neg { v.negate() } else { v });
                if gr == AclResult::Fail {
                    break;
                }
            }
            r = r.or(gr);
            if r == AclResult::Pass {
                break;
            }
        }
        if self.unless {
            r.negate()
        } else {
            r
        }
    }

    /// Whether the rule applies: a missing result counts as "no".
    pub fn eval(&self, ctx: &dyn SampleCtx) -> bool {
        self.eval_result(ctx) == AclResult::Pass
    }
}
