//! The entry points: files or text in, typed [`Config`] and every diagnostic out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::diag::{Diag, Loc};
use super::global::global_keyword;
use super::keywords::{did_you_mean, GLOBAL, PROXY, SECTIONS_UNSUPPORTED};
use super::lexer::{Env, EnvOverlay};
use super::model::Config;
use super::proxy::{proxy_keyword, Kind, Section};
use super::reader::{expand_paths, Reader};
use super::validate::validate;

/// Loads the `-f` paths (directories expand to their `*.cfg` files in lexical order).
/// `env` provides `${VAR}` values, `features` what `feature()` knows. The config is `None`
/// when any error was found; the diagnostics hold every error and warning, in file order.
pub fn load(paths: &[PathBuf], env: &dyn Env, features: &[&str]) -> (Option<Config>, Vec<Diag>) {
    let (files, mut diags) = expand_paths(paths);
    let reader = Reader::from_paths(&files, EnvOverlay::new(env), features, &mut diags);
    parse_reader(reader, diags)
}

/// Parses `text` as if it were the file `name` (tests, `-f -` style use).
pub fn parse_str(
    name: &str,
    text: &str,
    env: &dyn Env,
    features: &[&str],
) -> (Option<Config>, Vec<Diag>) {
    let reader = Reader::new(
        vec![(PathBuf::from(name), text.to_string())],
        EnvOverlay::new(env),
        features,
    );
    parse_reader(reader, Vec::new())
}

/// What the parser is in.
enum Current {
    None,
    Global,
    Proxy(Box<Section>),
    /// A section kind Fulcrum does not support: its lines are skipped (one error was given).
    Skipped,
}

/// Characters haproxy permits in proxy names.
fn invalid_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
}

struct State {
    config: Config,
    sections: Vec<Section>,
    /// Named defaults sections, with how many share the name (haproxy permits duplicates
    /// as long as nobody references them with `from`).
    named_defaults: HashMap<String, (Section, Vec<Loc>)>,
    last_defaults: Option<Section>,
    current: Current,
}

impl State {
    fn close(&mut self) {
        match std::mem::replace(&mut self.current, Current::None) {
            Current::Proxy(sec) if sec.kind == Kind::Defaults => {
                if !sec.proxy.name.is_empty() {
                    let mut locs = self
                        .named_defaults
                        .remove(&sec.proxy.name)
                        .map(|(_, l)| l)
                        .unwrap_or_default();
                    locs.push(sec.proxy.loc.clone());
                    self.named_defaults
                        .insert(sec.proxy.name.clone(), ((*sec).clone(), locs));
                }
                // Any defaults section, named or not, is the implicit one for what follows.
                self.last_defaults = Some(*sec);
            }
            Current::Proxy(sec) => self.sections.push(*sec),
            _ => {}
        }
    }

    fn header(&mut self, kind: Kind, loc: &Loc, args: &[String], diags: &mut Vec<Diag>) {
        self.close();
        let word = kind.word();
        let (name, rest) = match args.first() {
            Some(n) if n != "from" => (n.as_str(), &args[1..]),
            _ if kind == Kind::Defaults => ("", args),
            _ => {
                diags.push(Diag::error(
                    loc,
                    format!("'{word}' expects <name> as an argument."),
                ));
                ("", args)
            }
        };
        // Defaults names are checked only when referenced (haproxy is permissive there).
        if let Some(c) = invalid_char(name).filter(|_| kind != Kind::Defaults) {
            diags.push(Diag::error(
                loc,
                format!("character '{c}' is not permitted in '{word}' name '{name}'."),
            ));
        }
        // A defaults section starts from the built-in values ("resets all settings"); the
        // others from the latest defaults section, named or not.
        let mut defaults = if kind == Kind::Defaults {
            None
        } else {
            self.last_defaults.as_ref()
        };
        match rest {
            [] => {}
            [f, d] if f == "from" => match self.named_defaults.get(d) {
                Some((_, locs)) if locs.len() > 1 => diags.push(Diag::error(
                    loc,
                    format!(
                        "ambiguous defaults section name '{d}' referenced by {} '{name}' exists at least at {} and {}.",
                        kind.type_str(),
                        locs[0],
                        locs[locs.len() - 1]
                    ),
                )),
                Some(_) if invalid_char(d).is_some() => diags.push(Diag::error(
                    loc,
                    format!("{} '{name}' : 'from' refers to defaults section '{d}' whose name is not a valid proxy name.", kind.type_str()),
                )),
                Some((sec, _)) => defaults = Some(sec),
                None => diags.push(Diag::error(
                    loc,
                    format!("{} '{name}' : 'from' refers to unknown defaults section '{d}'.", kind.type_str()),
                )),
            },
            [f] if f == "from" => diags.push(Diag::error(loc, format!("'{word}' : 'from' expects a defaults section name."))),
            [x, ..] => diags.push(Diag::error(loc, format!("'{word}' cannot handle unexpected argument '{x}'."))),
        }
        if kind != Kind::Defaults && !name.is_empty() {
            let cap = kind.cap();
            if let Some(o) = self.sections.iter().find(|s| {
                s.proxy.name == name
                    && ((cap.frontend && s.proxy.cap.frontend)
                        || (cap.backend && s.proxy.cap.backend))
            }) {
                diags.push(Diag::error(
                    loc,
                    format!(
                        "{} '{}' has the same name as {} '{}' declared at {}.",
                        kind.type_str(),
                        name,
                        o.kind.type_str(),
                        o.proxy.name,
                        o.proxy.loc
                    ),
                ));
            }
        }
        self.current = Current::Proxy(Box::new(Section::new(kind, name, loc, defaults)));
    }
}

fn parse_reader(mut reader: Reader<'_>, mut diags: Vec<Diag>) -> (Option<Config>, Vec<Diag>) {
    let mut st = State {
        config: Config::default(),
        sections: Vec::new(),
        named_defaults: HashMap::new(),
        last_defaults: None,
        current: Current::None,
    };
    let mut last_file: Option<std::sync::Arc<PathBuf>> = None;
    while let Some((loc, words)) = reader.next_line(&mut diags) {
        // As in haproxy, each file starts outside of any section.
        if last_file.as_ref() != Some(&loc.file) {
            st.close();
            last_file = Some(loc.file.clone());
        }
        let kw = words[0].as_str();
        let args = &words[1..];
        if ["global", "defaults", "frontend", "backend", "listen"].contains(&kw)
            || SECTIONS_UNSUPPORTED.contains(&kw)
        {
            // `.SECTION`: the section's name, or its type when it has none.
            let section = args
                .first()
                .filter(|a| *a != "from" && kw != "global")
                .unwrap_or(&words[0]);
            reader.env.set_pseudo(".SECTION", section);
        }
        match kw {
            "global" => {
                st.close();
                if let Some(x) = args.first() {
                    diags.push(Diag::error(
                        &loc,
                        format!("'global' cannot handle unexpected argument '{x}'."),
                    ));
                }
                st.current = Current::Global;
            }
            "defaults" => st.header(Kind::Defaults, &loc, args, &mut diags),
            "frontend" => st.header(Kind::Frontend, &loc, args, &mut diags),
            "backend" => st.header(Kind::Backend, &loc, args, &mut diags),
            "listen" => st.header(Kind::Listen, &loc, args, &mut diags),
            _ if SECTIONS_UNSUPPORTED.contains(&kw) => {
                st.close();
                diags.push(Diag::error(
                    &loc,
                    format!("'{kw}' sections are not supported yet"),
                ));
                st.current = Current::Skipped;
            }
            _ => match &mut st.current {
                Current::None => {
                    let msg = if GLOBAL.contains(&kw) || kw.starts_with("tune.") {
                        format!("'{kw}' found out of any section: it belongs in a 'global' section")
                    } else if PROXY.contains(&kw) {
                        format!("'{kw}' found out of any section: it belongs in a 'defaults', 'frontend', 'backend' or 'listen' section")
                    } else {
                        format!(
                            "unknown keyword '{kw}' out of section{}",
                            did_you_mean(
                                kw,
                                &[&["global", "defaults", "frontend", "backend", "listen"]]
                            )
                        )
                    };
                    diags.push(Diag::error(&loc, msg))
                }
                Current::Global => global_keyword(
                    &mut st.config.global,
                    &mut reader.env,
                    &loc,
                    &words,
                    &mut diags,
                ),
                Current::Proxy(sec) => {
                    proxy_keyword(sec, &st.config.global, &loc, &words, &mut diags)
                }
                Current::Skipped => {}
            },
        }
    }
    st.close();
    let sections = std::mem::take(&mut st.sections);
    st.config.proxies = validate(sections, &st.config.global, &mut diags);
    // Validation runs last but its findings belong to lines: show everything in file order
    // (whole-configuration messages first). The sort is stable: same-line messages keep
    // the order they were found in.
    let files = reader.file_names();
    diags.sort_by_key(|d| match &d.loc {
        None => (0, 0),
        Some(l) => (
            files
                .iter()
                .position(|f| *f == l.file)
                .map_or(usize::MAX, |i| i + 1),
            l.line,
        ),
    });
    let ok = !diags.iter().any(Diag::is_error);
    (ok.then_some(st.config), diags)
}

/// Lines of `diags` as printed (`file:line: message`), for tests and `-c`.
pub fn render(diags: &[Diag]) -> Vec<String> {
    diags.iter().map(|d| d.to_string()).collect()
}

/// Whether `path` exists as a file or directory (used by callers before `load`).
pub fn path_exists(path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lexer::MapEnv;

    fn run(text: &str) -> (Option<Config>, Vec<String>) {
        let (c, d) = parse_str("p.cfg", text, &MapEnv::default(), &[]);
        (c, render(&d))
    }

    #[test]
    fn sections_and_defaults() {
        let (c, d) = run(
            "global\n maxconn 5\ndefaults d1\n mode http\n timeout client 1s\n timeout connect 1s\n timeout server 1s\n\
             defaults d2 from d1\n retries 7\nlisten l\n bind :80\n server s 127.0.0.1:1\nglobal\n daemon\n",
        );
        let c = c.unwrap_or_else(|| panic!("{d:?}"));
        assert!(
            c.global.daemon && c.global.maxconn == Some(5),
            "global sections merge"
        );
        let l = &c.proxies[0];
        assert_eq!((l.mode, l.retries), (crate::config::model::Mode::Http, 7));
    }

    #[test]
    fn errors_keep_going_and_are_in_file_order() {
        let (c, d) =
            run("frontend f\n bind :80\n default_backend nope\n balanse x\n timeout client 1s\n");
        assert!(c.is_none());
        assert_eq!(
            d,
            [
                "p.cfg:3: Proxy 'f': unable to find required default_backend: 'nope'.",
                "p.cfg:4: unknown keyword 'balanse' in 'frontend' section; did you mean 'balance'?",
            ]
        );
    }

    #[test]
    fn each_file_starts_out_of_section() {
        let env = MapEnv::default();
        let reader = Reader::new(
            vec![
                (PathBuf::from("a.cfg"), "listen l\n bind :80\n".into()),
                (PathBuf::from("b.cfg"), " server s 1.1.1.1:80\n".into()),
            ],
            EnvOverlay::new(&env),
            &[],
        );
        let (c, d) = parse_reader(reader, Vec::new());
        assert!(c.is_none());
        assert!(render(&d)
            .iter()
            .any(|l| l.starts_with("b.cfg:1: 'server' found out of any section")));
    }

    #[test]
    fn unsupported_sections_are_skipped_whole() {
        let (_, d) = run("cache c\n total-max-size 4\n max-age 60\n");
        assert_eq!(d, ["p.cfg:1: 'cache' sections are not supported yet"]);
    }
}
