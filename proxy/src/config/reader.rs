//! Files to located word lists: `-f DIR` expansion, lexing, and the `.if` block stack.
//!
//! Lines are lexed one at a time, on demand, because `setenv` & co. in `global` change the
//! environment seen by the lines that follow (haproxy changes its own environment while it
//! parses). The parser calls [`Reader::next_line`] and mutates [`Reader::env`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cond::eval_condition_env;
use super::diag::{Diag, Loc, Severity};
use super::lexer::{split_line, EnvOverlay};

/// Expands `-f` arguments: a directory stands for its `*.cfg` regular files in lexical
/// order (as haproxy), anything else is kept as is (and fails when read if missing).
pub fn expand_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diag>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for p in paths {
        if p.is_dir() {
            match std::fs::read_dir(p) {
                Ok(rd) => {
                    let mut files: Vec<PathBuf> = rd
                        .filter_map(|e| e.ok())
                        .map(|e| e.path())
                        .filter(|f| {
                            f.is_file()
                                && f.file_name()
                                    .and_then(|n| n.to_str())
                                    .is_some_and(|n| n.ends_with(".cfg") && n.len() > 4)
                        })
                        .collect();
                    files.sort();
                    out.extend(files);
                }
                Err(e) => diags.push(whole(format!(
                    "cannot open configuration directory {}: {}",
                    p.display(),
                    e
                ))),
            }
        } else {
            out.push(p.clone());
        }
    }
    (out, diags)
}

fn whole(message: String) -> Diag {
    Diag {
        loc: None,
        severity: Severity::Alert,
        message,
    }
}

/// One `.if` level.
struct Frame {
    /// Where the `.if` was.
    loc: Loc,
    /// Whether the enclosing level is active at all.
    parent_active: bool,
    /// Whether one branch of this block was already taken.
    taken: bool,
    /// Whether lines are currently kept.
    active: bool,
    /// `.else` was seen.
    seen_else: bool,
}

/// Configuration source text, by file, yielding located word lists.
pub struct Reader<'a> {
    files: Vec<(Arc<PathBuf>, Vec<String>)>,
    file: usize,
    line: usize,
    stack: Vec<Frame>,
    features: Vec<String>,
    /// The environment as changed so far by `setenv` & co.
    pub env: EnvOverlay<'a>,
}

impl<'a> Reader<'a> {
    /// A reader over `(name, text)` sources, in order.
    pub fn new(sources: Vec<(PathBuf, String)>, env: EnvOverlay<'a>, features: &[&str]) -> Self {
        let files = sources
            .into_iter()
            .map(|(n, t)| (Arc::new(n), t.lines().map(str::to_string).collect()))
            .collect();
        Reader {
            files,
            file: 0,
            line: 0,
            stack: Vec::new(),
            features: features.iter().map(|s| s.to_string()).collect(),
            env,
        }
    }

    /// Reads `paths` (already expanded) from disk; unreadable files become errors.
    pub fn from_paths(
        paths: &[PathBuf],
        env: EnvOverlay<'a>,
        features: &[&str],
        diags: &mut Vec<Diag>,
    ) -> Self {
        let mut sources = Vec::new();
        for p in paths {
            match std::fs::read(p) {
                Ok(bytes) => {
                    sources.push((p.clone(), String::from_utf8_lossy(&bytes).into_owned()))
                }
                Err(e) => diags.push(whole(format!(
                    "could not open configuration file {}: {}",
                    p.display(),
                    e
                ))),
            }
        }
        Reader::new(sources, env, features)
    }

    fn active(&self) -> bool {
        self.stack.last().is_none_or(|f| f.active)
    }

    /// The next active, non-empty line; `None` at the end of the last file. Lexing errors
    /// and `.if` problems are pushed to `diags` and the line is skipped.
    pub fn next_line(&mut self, diags: &mut Vec<Diag>) -> Option<(Loc, Vec<String>)> {
        loop {
            let (name, lines) = self.files.get(self.file)?;
            let Some(text) = lines.get(self.line) else {
                // The `.if` stack does not span files, as in haproxy.
                if let Some(f) = self.stack.first() {
                    let innermost = self.stack.last().map(|l| &l.loc).unwrap_or(&f.loc);
                    diags.push(Diag::error(innermost, "non-terminated '.if' block."));
                }
                self.stack.clear();
                self.file += 1;
                self.line = 0;
                continue;
            };
            self.line += 1;
            let loc = Loc {
                file: name.clone(),
                line: self.line,
            };
            self.env.set_pseudo(".FILE", &name.display().to_string());
            self.env.set_pseudo(".LINE", &self.line.to_string());
            let words = match split_line(text, &self.env) {
                Ok(w) => w,
                Err(e) => {
                    // Lines of a skipped block are not looked at, unless they are directives.
                    if self.active() || text.trim_start().starts_with('.') {
                        diags.push(Diag::error(&loc, e));
                    }
                    continue;
                }
            };
            let Some(first) = words.first() else { continue };
            if first.starts_with('.') && self.directive(&loc, &words, diags) {
                continue;
            }
            if self.active() {
                return Some((loc, words));
            }
        }
    }

    /// Handles a `.xxx` directive; false when the word is not one (then it is a keyword).
    fn directive(&mut self, loc: &Loc, words: &[String], diags: &mut Vec<Diag>) -> bool {
        let args = &words[1..];
        if matches!(words[0].as_str(), ".else" | ".endif") {
            if let Some(extra) = args.first() {
                // Reported, but the directive still applies so the rest of the file keeps
                // its structure.
                diags.push(Diag::error(
                    loc,
                    format!("Unexpected argument '{}' for '{}'.", extra, words[0]),
                ));
            }
        }
        match words[0].as_str() {
            ".if" => {
                let parent_active = self.active();
                let active = parent_active && self.eval(loc, ".if", args, diags);
                self.stack.push(Frame {
                    loc: loc.clone(),
                    parent_active,
                    taken: active,
                    active,
                    seen_else: false,
                });
            }
            ".elif" => {
                let Some(top) = self.stack.last() else {
                    diags.push(Diag::error(loc, "lone '.elif' with no matching '.if'."));
                    return true;
                };
                if top.seen_else {
                    diags.push(Diag::error(loc, "'.elif' after '.else' is not permitted."));
                    return true;
                }
                let need = top.parent_active && !top.taken;
                let v = need && self.eval(loc, ".elif", args, diags);
                if let Some(top) = self.stack.last_mut() {
                    top.active = v;
                    top.taken |= v;
                }
            }
            ".else" => {
                let Some(top) = self.stack.last_mut() else {
                    diags.push(Diag::error(loc, "lone '.else' with no matching '.if'."));
                    return true;
                };
                if top.seen_else {
                    diags.push(Diag::error(loc, "'.else' after '.else' is not permitted."));
                    return true;
                }
                top.seen_else = true;
                top.active = top.parent_active && !top.taken;
                top.taken = true;
            }
            ".endif" => {
                if self.stack.pop().is_none() {
                    diags.push(Diag::error(loc, "lone '.endif' with no matching '.if'."));
                }
            }
            ".diag" | ".notice" | ".warning" | ".alert" => {
                if !self.active() {
                    return true;
                }
                if let Some(extra) = args.get(1) {
                    diags.push(Diag::error(
                        loc,
                        format!(
                            "Unexpected argument '{}' for '{}'. Use quotes if the message should contain spaces.",
                            extra, words[0]
                        ),
                    ));
                    return true;
                }
                let severity = match words[0].as_str() {
                    ".diag" => Severity::Diag,
                    ".notice" => Severity::Notice,
                    ".warning" => Severity::Warning,
                    _ => Severity::Alert,
                };
                let message = args.first().cloned().unwrap_or_default();
                diags.push(Diag {
                    loc: Some(loc.clone()),
                    severity,
                    message,
                });
            }
            _ => {
                if self.active() {
                    diags.push(Diag::error(
                        loc,
                        format!("unknown directive '{}'", words[0]),
                    ));
                }
            }
        }
        true
    }

    fn eval(&self, loc: &Loc, what: &str, args: &[String], diags: &mut Vec<Diag>) -> bool {
        let features: Vec<&str> = self.features.iter().map(String::as_str).collect();
        match eval_condition_env(args, &features, &self.env) {
            Ok(v) => v,
            Err(e) => {
                diags.push(Diag::error(loc, format!("{e} in '{what}'")));
                false
            }
        }
    }

    /// The files being read, in reading order.
    pub fn file_names(&self) -> Vec<Arc<PathBuf>> {
        self.files.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The directory of the file currently being read (for messages; haproxy resolves
    /// relative paths against the current directory, not this one).
    pub fn current_dir(&self) -> Option<&Path> {
        self.files.get(self.file).and_then(|(n, _)| n.parent())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lexer::MapEnv;

    fn run(text: &str) -> (Vec<String>, Vec<String>) {
        let env = MapEnv::from_pairs(&[("X", "1")]);
        let mut r = Reader::new(
            vec![(PathBuf::from("t.cfg"), text.to_string())],
            EnvOverlay::new(&env),
            &["LUA"],
        );
        let mut diags = Vec::new();
        let mut out = Vec::new();
        while let Some((loc, w)) = r.next_line(&mut diags) {
            out.push(format!("{}:{}", loc.line, w.join(" ")));
        }
        (out, diags.iter().map(|d| d.to_string()).collect())
    }

    #[test]
    fn if_blocks() {
        let (l, d) = run(
            ".if defined(X)\na\n.elif 1\nb\n.else\nc\n.endif\n.if 0\nd\n.if 1\ne\n.endif\n.else\nf\n.endif\n",
        );
        assert_eq!(l, ["2:a", "14:f"]);
        assert!(d.is_empty(), "{d:?}");
        let (l, _) = run(".if 0\na\n.elif feature(LUA)\nb\n.else\nc\n.endif\n");
        assert_eq!(l, ["4:b"]);
    }

    #[test]
    fn unbalanced() {
        let (_, d) = run(".if 1\n.else x\n.endif y\n");
        assert_eq!(
            d,
            [
                "t.cfg:2: Unexpected argument 'x' for '.else'.",
                "t.cfg:3: Unexpected argument 'y' for '.endif'.",
            ]
        );
        let (_, d) = run(".else\n.endif\n.elif 1\n.if 1\n.else\n.else\n.endif\n.if 1\n");
        assert_eq!(
            d,
            [
                "t.cfg:1: lone '.else' with no matching '.if'.",
                "t.cfg:2: lone '.endif' with no matching '.if'.",
                "t.cfg:3: lone '.elif' with no matching '.if'.",
                "t.cfg:6: '.else' after '.else' is not permitted.",
                "t.cfg:8: non-terminated '.if' block.",
            ]
        );
    }

    #[test]
    fn messages() {
        let (_, d) =
            run(".notice hi\n.warning \"w w\"\n.alert x y\n.diag d\n.if 0\n.alert no\n.endif\n");
        assert_eq!(
            d,
            [
                "t.cfg:1: notice: hi",
                "t.cfg:2: warning: w w",
                "t.cfg:3: Unexpected argument 'y' for '.alert'. Use quotes if the message should contain spaces.",
                "t.cfg:4: diag: d",
            ]
        );
    }

    #[test]
    fn skipped_lines_not_lexed() {
        let (l, d) = run(".if 0\n\"bad\n.endif\nok\n");
        assert_eq!(l, ["4:ok"]);
        assert!(d.is_empty());
    }
}
