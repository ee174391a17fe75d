//! Checks that span sections, run once everything is parsed: backend references and their
//! modes, duplicate server names and ids, id assignment, and haproxy's advisory warnings.

use std::collections::{BTreeSet, HashMap};

use super::diag::{Diag, Severity};
use super::model::{Balance, Global, LogFormatKind, Mode, Proxy, ServerAddr};
use super::proxy::{Kind, Section};

fn mode_str(m: Mode) -> &'static str {
    match m {
        Mode::Tcp => "tcp",
        Mode::Http => "http",
    }
}

/// Smallest id >= 1 not in `used`, which it then contains.
fn next_free(used: &mut BTreeSet<u32>) -> u32 {
    let mut n = 1;
    while used.contains(&n) {
        n += 1;
    }
    used.insert(n);
    n
}

/// Validates the parsed proxies, assigns ids, and returns the proxies of the model.
pub fn validate(sections: Vec<Section>, global: &Global, diags: &mut Vec<Diag>) -> Vec<Proxy> {
    // Proxy ids: custom ones first (duplicates refused), then the next free ones in
    // declaration order, as haproxy does.
    let mut used: BTreeSet<u32> = BTreeSet::new();
    let mut owner: HashMap<u32, usize> = HashMap::new();
    for (i, s) in sections.iter().enumerate() {
        if let Some(loc) = &s.custom_id {
            if let Some(&j) = owner.get(&s.proxy.id) {
                let o = &sections[j];
                diags.push(Diag::error(
                    loc,
                    format!(
                        "{} {} reuses same custom id as {} {} (declared at {}).",
                        s.kind.type_str(),
                        s.proxy.name,
                        o.kind.type_str(),
                        o.proxy.name,
                        o.proxy.loc
                    ),
                ));
            } else {
                owner.insert(s.proxy.id, i);
                used.insert(s.proxy.id);
            }
        }
    }
    let mut sections = sections;
    for s in sections.iter_mut() {
        if s.custom_id.is_none() {
            s.proxy.id = next_free(&mut used);
        }
        servers(s, diags);
    }

    for s in sections.iter_mut().filter(|s| !s.proxy.disabled) {
        http_only_settings(s, diags);
    }
    let proxies: Vec<&Section> = sections.iter().collect();
    let find_backend = |name: &str| {
        proxies
            .iter()
            .find(|p| p.proxy.cap.backend && p.proxy.name == name)
            .copied()
    };
    // haproxy skips every cross-section check for disabled proxies.
    for s in proxies.iter().filter(|s| !s.proxy.disabled) {
        let p = &s.proxy;
        let who = format!("{} '{}'", s.kind.type_str(), p.name);
        if p.cap.frontend {
            let mut refs: Vec<(&str, &super::diag::Loc, bool)> = Vec::new();
            if let (Some(b), Some(loc)) = (&p.default_backend, &s.default_backend_loc) {
                refs.push((b.as_str(), loc, true));
            }
            for u in &p.use_backends {
                refs.push((u.backend.as_str(), &u.loc, false));
            }
            for (name, loc, is_default) in refs {
                let what = if is_default {
                    "default_backend"
                } else {
                    "use_backend"
                };
                if name == p.name && p.cap.backend {
                    diags.push(Diag::error(
                        loc,
                        format!("Proxy '{}': loop detected for {what}: '{name}'.", p.name),
                    ));
                    continue;
                }
                match find_backend(name) {
                    None => diags.push(Diag::error(
                        loc,
                        format!("Proxy '{}': unable to find required {what}: '{name}'.", p.name),
                    )),
                    Some(b) if p.mode == Mode::Http && b.proxy.mode == Mode::Tcp => diags.push(Diag::error(
                        loc,
                        format!(
                            "{} {} '{}' ({}) tries to use incompatible {} {} '{}' ({}) {} (see 'mode').",
                            mode_str(p.mode),
                            s.kind.type_str(),
                            p.name,
                            p.loc,
                            mode_str(b.proxy.mode),
                            b.kind.type_str(),
                            b.proxy.name,
                            b.proxy.loc,
                            if is_default { "as its default backend" } else { "in a 'use_backend' rule" }
                        ),
                    )),
                    Some(_) => {}
                }
            }
            if p.binds.is_empty() && !p.disabled {
                diags.push(Diag::warning(
                    &p.loc,
                    format!("{who} has no 'bind' directive. Please declare it as a backend if this was intended."),
                ));
            }
            if p.log_format != LogFormatKind::Default && p.logs.is_empty() && !p.disabled {
                diags.push(Diag::warning(
                    &p.loc,
                    format!("log format ignored for {who} since it has no log address."),
                ));
            }
            if let (Some(pm), Some(gm)) = (p.maxconn, global.maxconn) {
                if pm > gm {
                    diags.push(Diag::warning(
                        &p.loc,
                        format!("{who} has maxconn {pm} above the global maxconn {gm}: the global limit applies first."),
                    ));
                }
            }
        }
        let t = &p.timeouts;
        if !p.disabled
            && ((p.cap.frontend && t.client.is_none())
                || (p.cap.backend && (t.connect.is_none() || t.server.is_none())))
        {
            diags.push(Diag {
                loc: Some(p.loc.clone()),
                severity: Severity::Warning,
                message: format!(
                    "missing timeouts for {who}. While not properly invalid, you will certainly encounter various problems with such a configuration. To fix this, please ensure that all following timeouts are set to a non-zero value: 'client', 'connect', 'server'."
                ),
            });
        }
    }
    debug_assert!(sections.iter().all(|s| s.kind != Kind::Defaults));
    sections.into_iter().map(|s| s.proxy).collect()
}

/// Settings that need `mode http`: haproxy warns and falls back, so the model says what
/// will really happen.
fn http_only_settings(s: &mut Section, diags: &mut Vec<Diag>) {
    let p = &mut s.proxy;
    if p.mode == Mode::Http || s.kind == Kind::Defaults {
        return;
    }
    let who = format!("{} '{}'", s.kind.type_str(), p.name);
    if p.cap.frontend && matches!(p.log_format, LogFormatKind::Http | LogFormatKind::HttpClf) {
        let loc = s.httplog_loc.clone().unwrap_or_else(|| p.loc.clone());
        diags.push(Diag::warning(
            &loc,
            format!("'option httplog' not usable with {who} (needs 'mode http'). Falling back to 'option tcplog'."),
        ));
        p.log_format = LogFormatKind::Tcp;
    }
    if p.forwardfor.take().is_some() {
        diags.push(Diag::warning(
            &p.loc,
            format!("'option forwardfor' ignored for {who} as it requires HTTP mode."),
        ));
    }
    if p.cap.backend
        && matches!(
            p.balance,
            Balance::Uri { .. } | Balance::UrlParam { .. } | Balance::Hdr { .. }
        )
    {
        diags.push(Diag::warning(
            &p.loc,
            format!("Layer 7 hash not possible for {who} (needs 'mode http'). Falling back to round robin."),
        ));
        p.balance = Balance::RoundRobin;
    }
    if p.cap.frontend && p.monitor_uri.take().is_some() {
        diags.push(Diag::warning(
            &p.loc,
            format!("monitor-uri will be ignored for {who} (needs 'mode http')."),
        ));
    }
}

/// Duplicate server names, custom id collisions, then automatic server ids.
fn servers(s: &mut Section, diags: &mut Vec<Diag>) {
    let pname = s.proxy.name.clone();
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut used: BTreeSet<u32> = BTreeSet::new();
    let mut id_owner: HashMap<u32, usize> = HashMap::new();
    for (i, srv) in s.proxy.servers.iter().enumerate() {
        // Like haproxy, a disabled proxy skips the post-parse checks; custom ids are
        // checked at parse time there, so always.
        if let Some(&j) = names.get(srv.name.as_str()).filter(|_| !s.proxy.disabled) {
            diags.push(Diag::error(
                &srv.loc,
                format!(
                    "{} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                    s.kind.type_str(),
                    pname,
                    srv.name,
                    s.proxy.servers[j].loc.line
                ),
            ));
        } else {
            names.insert(&srv.name, i);
        }
        if s.server_custom_id.get(i).copied().unwrap_or(false) {
            if let Some(&j) = id_owner.get(&srv.id) {
                let o = &s.proxy.servers[j];
                diags.push(Diag::error(
                    &srv.loc,
                    format!(
                        "'server {}/{}' : 'id' : custom id {} already used at {} ('server {}').",
                        pname, srv.name, srv.id, o.loc, o.name
                    ),
                ));
            } else {
                id_owner.insert(srv.id, i);
                used.insert(srv.id);
            }
        }
    }
    for srv in &s.proxy.servers {
        // A check needs a port: the server's own or `port`.
        if !s.proxy.disabled
            && srv.check
            && srv.check_port.is_none()
            && matches!(srv.addr, ServerAddr::InetPortOffset(..))
        {
            diags.push(Diag::error(
                &srv.loc,
                format!(
                    "{} '{}': server '{}' has neither service port nor check port.",
                    s.kind.type_str(),
                    pname,
                    srv.name
                ),
            ));
        }
    }
    let custom = s.server_custom_id.clone();
    for (i, srv) in s.proxy.servers.iter_mut().enumerate() {
        if !custom.get(i).copied().unwrap_or(false) {
            srv.id = next_free(&mut used);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::lexer::MapEnv;
    use crate::config::parser::{parse_str, render};

    fn diags(text: &str) -> Vec<String> {
        render(&parse_str("v.cfg", text, &MapEnv::default(), &[]).1)
    }

    const T: &str = "defaults\n timeout client 1s\n timeout connect 1s\n timeout server 1s\n";

    #[test]
    fn ids_follow_haproxy() {
        let (c, d) = parse_str(
            "v.cfg",
            &format!("{T}backend a\n id 2\nbackend b\nbackend c\n server x 1.1.1.1:1 id 1\n server y 1.1.1.1:2\n"),
            &MapEnv::default(),
            &[],
        );
        let c = c.unwrap_or_else(|| panic!("{:?}", render(&d)));
        assert_eq!(
            c.proxies.iter().map(|p| p.id).collect::<Vec<_>>(),
            [2, 1, 3]
        );
        assert_eq!(
            c.proxies[2]
                .servers
                .iter()
                .map(|s| s.id)
                .collect::<Vec<_>>(),
            [1, 2]
        );
    }

    #[test]
    fn references_and_modes() {
        let d = diags(&format!(
            "{T}frontend f\n mode http\n bind :1\n default_backend t\n use_backend nope\n\
             backend t\n server s 1.1.1.1:1\nfrontend g\n bind :2\n default_backend f\n"
        ));
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].contains("tries to use incompatible tcp backend 't'"));
        assert!(d[1].contains("unable to find required use_backend: 'nope'"));
        assert!(d[2].contains("unable to find required default_backend: 'f'"));
    }

    #[test]
    fn warnings_only() {
        let (c, d) = parse_str(
            "v.cfg",
            "global\n maxconn 10\nfrontend f\n maxconn 20\n",
            &MapEnv::default(),
            &[],
        );
        assert!(c.is_some());
        let d = render(&d);
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d.iter().all(|l| l.contains("warning:")));
    }
}
