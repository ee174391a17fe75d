//! Keywords of `defaults`, `frontend`, `backend` and `listen` sections.

use std::net::IpAddr;

use super::bind::parse_bind;
use super::diag::{Diag, Loc};
use super::global::too_many;
use super::keywords::{
    did_you_mean, GLOBAL, GLOBAL_UNSUPPORTED, OPTIONS, OPTIONS_UNSUPPORTED, PROXY,
    PROXY_UNSUPPORTED,
};
use super::model::{
    Balance, Capabilities, ForwardFor, Global, HashFunction, HashMethod, HashType, HttpConnMode,
    HttpReuse, IpNet, LogFormatKind, LogLine, Mode, Proxy, Server, Timeouts, UseBackend,
};
use super::server::{apply_server_params, blank_server, parse_server_addr};
use super::timeouts::{parse_time, timeout_sides, timeout_slot};

/// The kind of a proxy section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `defaults`.
    Defaults,
    /// `frontend`.
    Frontend,
    /// `backend`.
    Backend,
    /// `listen`.
    Listen,
}

impl Kind {
    /// The section keyword.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Defaults => "defaults",
            Kind::Frontend => "frontend",
            Kind::Backend => "backend",
            Kind::Listen => "listen",
        }
    }

    /// How haproxy names such a proxy in messages (`listen` is "proxy").
    pub fn type_str(self) -> &'static str {
        match self {
            Kind::Defaults => "defaults",
            Kind::Frontend => "frontend",
            Kind::Backend => "backend",
            Kind::Listen => "proxy",
        }
    }

    /// Capabilities of the section kind.
    pub fn cap(self) -> Capabilities {
        match self {
            Kind::Defaults => Capabilities {
                frontend: true,
                backend: true,
            },
            Kind::Frontend => Capabilities {
                frontend: true,
                backend: false,
            },
            Kind::Backend => Capabilities {
                frontend: false,
                backend: true,
            },
            Kind::Listen => Capabilities {
                frontend: true,
                backend: true,
            },
        }
    }
}

/// A proxy section being parsed, with what validation needs beyond the model.
#[derive(Debug, Clone)]
pub struct Section {
    /// Section kind.
    pub kind: Kind,
    /// The proxy (for `defaults`: the values it hands down).
    pub proxy: Proxy,
    /// `default-server` values.
    pub default_server: Server,
    /// Where `id` was set, if it was.
    pub custom_id: Option<Loc>,
    /// Where `default_backend` was set.
    pub default_backend_loc: Option<Loc>,
    /// For each server: whether its id was given with `id`.
    pub server_custom_id: Vec<bool>,
    /// Where `option httplog` was set (here or in the defaults section), for the warning
    /// when the proxy is not in HTTP mode.
    pub httplog_loc: Option<Loc>,
    /// The `acl` lines seen so far (with haproxy's predefined ACLs); conditions refer to them.
    pub acls: crate::acl::AclSet,
}

/// A fresh proxy with haproxy's built-in defaults.
pub fn blank_proxy(name: &str, loc: &Loc, cap: Capabilities) -> Proxy {
    Proxy {
        name: name.to_string(),
        loc: loc.clone(),
        cap,
        id: 0,
        mode: Mode::Tcp,
        disabled: false,
        maxconn: None,
        binds: Vec::new(),
        timeouts: Timeouts::default(),
        logs: Vec::new(),
        log_format: LogFormatKind::Default,
        dontlognull: false,
        forwardfor: None,
        http_conn_mode: HttpConnMode::KeepAlive,
        http_reuse: HttpReuse::Safe,
        monitor_uri: None,
        monitor_fail: Vec::new(),
        errorfiles: Default::default(),
        default_backend: None,
        use_backends: Vec::new(),
        balance: Balance::RoundRobin,
        hash_type: HashType::default(),
        retries: 3,
        redispatch: None,
        allbackups: false,
        persist: false,
        fullconn: None,
        servers: Vec::new(),
    }
}

impl Section {
    /// A section of `kind` named `name` inheriting from `defaults` (a `defaults` section
    /// itself, or `None` for haproxy's built-in values).
    pub fn new(kind: Kind, name: &str, loc: &Loc, defaults: Option<&Section>) -> Section {
        let (mut proxy, default_server, httplog_loc, default_backend_loc) = match defaults {
            Some(d) => (
                d.proxy.clone(),
                d.default_server.clone(),
                d.httplog_loc.clone(),
                d.default_backend_loc.clone(),
            ),
            None => (
                blank_proxy(name, loc, kind.cap()),
                blank_server(loc, ""),
                None,
                None,
            ),
        };
        proxy.name = name.to_string();
        proxy.loc = loc.clone();
        proxy.cap = kind.cap();
        proxy.id = 0;
        // A defaults section may not hold these, but be explicit: nothing here is inherited.
        proxy.binds.clear();
        proxy.servers.clear();
        proxy.use_backends.clear();
        proxy.monitor_fail.clear();
        Section {
            kind,
            proxy,
            default_server,
            custom_id: None,
            default_backend_loc,
            server_custom_id: Vec::new(),
            httplog_loc,
            acls: crate::acl::AclSet::new(),
        }
    }

    fn who(&self) -> String {
        format!("{} '{}'", self.kind.type_str(), self.proxy.name)
    }

    /// Checks that `kw` may be used here. `d`, `f`, `b`: allowed in defaults, with frontend,
    /// with backend capability. `strict`: haproxy refuses it in a proxy lacking the
    /// capability (otherwise it warns and ignores it). Returns whether to apply it.
    #[allow(clippy::too_many_arguments)]
    fn allowed(
        &self,
        loc: &Loc,
        kw: &str,
        d: bool,
        f: bool,
        b: bool,
        strict: bool,
        hint: &str,
        diags: &mut Vec<Diag>,
    ) -> bool {
        let mut where_: Vec<&str> = Vec::new();
        if d {
            where_.push("defaults");
        }
        if f {
            where_.push("frontend");
        }
        if b {
            where_.push("backend");
        }
        if f || b {
            where_.push("listen");
        }
        if self.kind == Kind::Defaults {
            if !d {
                diags.push(Diag::error(
                    loc,
                    format!(
                        "'{kw}' not allowed in 'defaults' section (allowed in: {}).",
                        where_.join(", ")
                    ),
                ));
            }
            return d;
        }
        let cap = self.proxy.cap;
        if (f && cap.frontend) || (b && cap.backend) {
            return true;
        }
        let missing = if f { "frontend" } else { "backend" };
        if strict {
            diags.push(Diag::error(
                loc,
                format!(
                    "'{kw}' not allowed because {} has no {missing} capability (allowed in: {}).",
                    self.who(),
                    where_.join(", ")
                ),
            ));
        } else {
            diags.push(Diag::warning(
                loc,
                format!(
                    "'{kw}' ignored because {} has no {missing} capability.{hint}",
                    self.who()
                ),
            ));
        }
        false
    }
}

/// Applies one proxy-section line (`words[0]` is the keyword).
pub fn proxy_keyword(
    sec: &mut Section,
    global: &Global,
    loc: &Loc,
    words: &[String],
    diags: &mut Vec<Diag>,
) {
    // The reader never yields empty lines; stay safe for other callers.
    let Some((kw, args)) = words.split_first() else {
        return;
    };
    let kw = kw.as_str();
    let section = sec.kind.word();
    let err = |diags: &mut Vec<Diag>, m: String| diags.push(Diag::error(loc, m));
    match kw {
        "mode" => match args.first().map(String::as_str) {
            _ if too_many(loc, kw, args, 1, diags) => {}
            Some("tcp") => sec.proxy.mode = Mode::Tcp,
            Some("http") => sec.proxy.mode = Mode::Http,
            Some("health") => err(diags, "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.".into()),
            Some(m) => err(diags, format!("unknown proxy mode '{m}'.")),
            None => err(diags, "'mode' expects 'tcp' or 'http' as an argument.".into()),
        },
        "bind" => {
            if sec.allowed(loc, kw, false, true, false, false, "", diags) {
                match parse_bind(loc, args, section) {
                    Ok(b) => sec.proxy.binds.push(b),
                    Err(e) => err(diags, e),
                }
            }
        }
        "maxconn" => {
            if let Some(n) = int(loc, kw, args, diags) {
                if sec.allowed(loc, kw, true, true, false, false, " Maybe you want 'fullconn' instead ?", diags) {
                    sec.proxy.maxconn = Some(n);
                }
            }
        }
        "fullconn" => {
            if let Some(n) = int(loc, kw, args, diags) {
                if sec.allowed(loc, kw, true, false, true, false, " Maybe you want 'maxconn' instead ?", diags) {
                    sec.proxy.fullconn = Some(n);
                }
            }
        }
        "retries" => {
            if let Some(n) = int(loc, kw, args, diags) {
                if sec.allowed(loc, kw, true, false, true, false, "", diags) {
                    sec.proxy.retries = n;
                }
            }
        }
        "id" => {
            if !sec.allowed(loc, kw, false, true, true, true, "", diags) {
                return;
            }
            match int(loc, kw, args, diags) {
                Some(0) => err(diags, "'id': custom id has to be > 0.".into()),
                Some(n) => {
                    sec.proxy.id = n;
                    sec.custom_id = Some(loc.clone());
                }
                None => {}
            }
        }
        "disabled" => {
            if !too_many(loc, kw, args, 0, diags) {
                sec.proxy.disabled = true;
            }
        }
        "enabled" => {
            if !too_many(loc, kw, args, 0, diags) {
                sec.proxy.disabled = false;
            }
        }
        "timeout" => timeout(sec, loc, args, diags),
        "contimeout" | "clitimeout" | "srvtimeout" => {
            let new = match kw {
                "contimeout" => "connect",
                "clitimeout" => "client",
                _ => "server",
            };
            err(diags, format!("the '{kw}' directive is not supported anymore since HAProxy 2.1. Use 'timeout {new}'."));
        }
        "option" => option(sec, loc, args, false, diags),
        "no" => match args.first().map(String::as_str) {
            Some("option") => option(sec, loc, &args[1..], true, diags),
            Some("log") => {
                if !too_many(loc, "no log", &args[1..], 0, diags) {
                    sec.proxy.logs.clear();
                }
            }
            _ => err(diags, "'no' expects 'option' or 'log' after it.".into()),
        },
        "http-reuse" => {
            let v = match args.first().map(String::as_str) {
                Some("never") => Some(HttpReuse::Never),
                Some("safe") => Some(HttpReuse::Safe),
                Some("aggressive") => Some(HttpReuse::Aggressive),
                Some("always") => Some(HttpReuse::Always),
                _ => {
                    err(diags, "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.".into());
                    None
                }
            };
            if let Some(v) = v {
                if !too_many(loc, kw, args, 1, diags) && sec.allowed(loc, kw, true, false, true, false, "", diags) {
                    sec.proxy.http_reuse = v;
                }
            }
        }
        "monitor-uri" => match args.first() {
            None => err(diags, "'monitor-uri' expects an URI.".into()),
            Some(u) => {
                if !too_many(loc, kw, args, 1, diags) && sec.allowed(loc, kw, true, true, false, false, "", diags) {
                    sec.proxy.monitor_uri = Some(u.clone());
                }
            }
        },
        "errorfile" => errorfile(sec, loc, args, diags),
        "default_backend" => match args.first() {
            None => err(diags, "'default_backend' expects a backend name.".into()),
            Some(b) => {
                if !too_many(loc, kw, args, 1, diags) && sec.allowed(loc, kw, true, true, false, false, "", diags) {
                    sec.proxy.default_backend = Some(b.clone());
                    sec.default_backend_loc = Some(loc.clone());
                }
            }
        },
        "use_backend" => {
            if !sec.allowed(loc, kw, false, true, false, false, "", diags) {
                return;
            }
            match args.first() {
                None => err(diags, "'use_backend' expects a backend name.".into()),
                Some(b) if b.contains("%[") => {
                    err(diags, "'use_backend' with a dynamic name (log-format) is not supported yet".into())
                }
                Some(b) => {
                    let cond = match args.get(1).map(String::as_str) {
                        None => None,
                        Some("if" | "unless") => {
                            match crate::acl::parse_condition(&args[1..], &sec.acls) {
                                Ok(c) => Some(c),
                                Err(e) => {
                                    err(diags, format!("error detected while parsing switching rule : {e}."));
                                    return;
                                }
                            }
                        }
                        Some(o) => {
                            err(
                                diags,
                                format!("unexpected keyword '{o}' after switching rule, only 'if' and 'unless' are allowed."),
                            );
                            return;
                        }
                    };
                    sec.proxy.use_backends.push(UseBackend { loc: loc.clone(), backend: b.clone(), cond });
                }
            }
        }
        "acl" => {
            if sec.kind == Kind::Defaults {
                let which = if sec.proxy.name.is_empty() { "anonymous " } else { "" };
                err(diags, format!("'acl' not allowed in {which}'defaults' section."));
                return;
            }
            match args.first() {
                None => err(diags, "'acl' expects an ACL name and a criterion.".into()),
                Some(name) => match sec.acls.add(name, &args[1..]) {
                    Ok(Some(w)) => diags.push(Diag::warning(loc, w)),
                    Ok(None) => {}
                    Err(e) => err(diags, format!("error detected while parsing ACL '{name}' : {e}.")),
                },
            }
        }
        "monitor" => {
            if !sec.allowed(loc, kw, false, true, false, false, "", diags) {
                return;
            }
            match args.first().map(String::as_str) {
                Some("fail") if matches!(args.get(1).map(String::as_str), Some("if" | "unless")) => {
                    match crate::acl::parse_condition(&args[1..], &sec.acls) {
                        Ok(c) => sec.proxy.monitor_fail.push(c),
                        Err(e) => err(diags, format!("error detected while parsing a 'monitor fail' condition : {e}.")),
                    }
                }
                Some("fail") => err(diags, "'monitor fail' requires either 'if' or 'unless' followed by a condition.".into()),
                _ => err(diags, "'monitor' only supports 'fail'.".into()),
            }
        }
        "balance" => match parse_balance(args) {
            Ok(b) => {
                if sec.allowed(loc, kw, true, false, true, false, "", diags) {
                    sec.proxy.balance = b;
                }
            }
            Err(e) => err(diags, e),
        },
        "hash-type" => match parse_hash_type(args) {
            Ok(h) => {
                if sec.allowed(loc, kw, true, false, true, false, "", diags) {
                    sec.proxy.hash_type = h;
                }
            }
            Err(e) => err(diags, e),
        },
        "log" => match args.first().map(String::as_str) {
            None => err(diags, "'log' expects either <address[:port]> and <facility> or 'global' as arguments.".into()),
            Some("global") => {
                if !too_many(loc, "log global", &args[1..], 0, diags) {
                    sec.proxy.logs.extend(global.logs.iter().cloned());
                }
            }
            Some(_) => sec.proxy.logs.push(LogLine { loc: loc.clone(), args: args.to_vec() }),
        },
        "server" => server(sec, loc, args, diags),
        "default-server" => {
            if sec.allowed(loc, kw, true, false, true, true, "", diags) {
                let (errs, _) = apply_server_params(&mut sec.default_server, args, "'default-server'", true);
                for e in errs {
                    err(diags, e);
                }
            }
        }
        // Accepted by haproxy 2.6 with no effect at all: same here.
        "bind-process" => diags.push(Diag::warning(
            loc,
            "'bind-process' has no effect, is deprecated, and will be removed in version 2.7.",
        )),
        _ if PROXY_UNSUPPORTED.contains(&kw) => err(diags, format!("'{kw}' is not supported yet")),
        _ if GLOBAL.contains(&kw) || GLOBAL_UNSUPPORTED.contains(&kw) || kw.starts_with("tune.") => {
            err(diags, format!("'{kw}' is only allowed in 'global' section"))
        }
        _ => err(
            diags,
            format!("unknown keyword '{kw}' in '{section}' section{}", did_you_mean(kw, &[PROXY, PROXY_UNSUPPORTED])),
        ),
    }
}

fn int(loc: &Loc, kw: &str, args: &[String], diags: &mut Vec<Diag>) -> Option<u32> {
    match args.first() {
        None => {
            diags.push(Diag::error(
                loc,
                format!("'{kw}' expects an integer argument."),
            ));
            None
        }
        Some(_) if too_many(loc, kw, args, 1, diags) => None,
        Some(a) => match a.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                diags.push(Diag::error(
                    loc,
                    format!("'{kw}' expects an integer argument, got '{a}'."),
                ));
                None
            }
        },
    }
}

fn timeout(sec: &mut Section, loc: &Loc, args: &[String], diags: &mut Vec<Diag>) {
    let name = args.first().map(String::as_str).unwrap_or("");
    let Some((f, b)) = timeout_sides(name) else {
        if name == "tarpit" {
            diags.push(Diag::error(loc, "'timeout tarpit' is not supported yet"));
        } else {
            diags.push(Diag::error(
                loc,
                format!(
                    "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'client-fin' and 'server-fin' (got '{name}')"
                ),
            ));
        }
        return;
    };
    let what = format!("'timeout {name}'");
    let Some(v) = args.get(1) else {
        diags.push(Diag::error(
            loc,
            format!("{what} expects an integer value (in milliseconds)"),
        ));
        return;
    };
    if too_many(loc, &format!("timeout {name}"), &args[1..], 1, diags) {
        return;
    }
    let d = match parse_time(v) {
        Ok(d) => d,
        Err(e) => {
            diags.push(Diag::error(loc, e.message(&what, v)));
            return;
        }
    };
    if sec.kind != Kind::Defaults {
        let cap = sec.proxy.cap;
        if !((f && cap.frontend) || (b && cap.backend)) {
            let missing = if f { "frontend" } else { "backend" };
            diags.push(Diag::warning(
                loc,
                format!(
                    "{what} will be ignored because {} has no {missing} capability",
                    sec.who()
                ),
            ));
            return;
        }
    }
    if let Some(slot) = timeout_slot(&mut sec.proxy.timeouts, name) {
        // 0 means "no timeout" in haproxy: keep it as unset.
        *slot = if d.is_zero() { None } else { Some(d) };
    }
}

fn option(sec: &mut Section, loc: &Loc, args: &[String], negate: bool, diags: &mut Vec<Diag>) {
    let Some(name) = args.first().map(String::as_str) else {
        diags.push(Diag::error(loc, "'option' expects an option name."));
        return;
    };
    let rest = &args[1..];
    let full = format!("option {name}");
    let no_args = |diags: &mut Vec<Diag>| !too_many(loc, &full, rest, 0, diags);
    let gone = match name {
        "forceclose" => Some("is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed."),
        "http-tunnel" => Some("is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed."),
        _ => None,
    };
    if let Some(why) = gone {
        diags.push(Diag::error(loc, format!("option '{name}' {why}")));
        return;
    }
    if !OPTIONS.contains(&name) {
        if OPTIONS_UNSUPPORTED.contains(&name) {
            diags.push(Diag::error(
                loc,
                format!("'option {name}' is not supported yet"),
            ));
        } else {
            diags.push(Diag::error(
                loc,
                format!(
                    "unknown option '{name}'{}",
                    did_you_mean(name, &[OPTIONS, OPTIONS_UNSUPPORTED])
                ),
            ));
        }
        return;
    }
    if negate && matches!(name, "tcplog" | "httplog" | "forwardfor") {
        diags.push(Diag::error(
            loc,
            format!("negation/default is not supported for option '{name}'."),
        ));
        return;
    }
    match name {
        "tcplog" | "httplog" => {
            let fmt = if name == "tcplog" {
                if !no_args(diags) {
                    return;
                }
                LogFormatKind::Tcp
            } else {
                match rest.first().map(String::as_str) {
                    None => LogFormatKind::Http,
                    Some("clf") if rest.len() == 1 => LogFormatKind::HttpClf,
                    Some(_) => {
                        diags.push(Diag::error(
                            loc,
                            "'option httplog' only supports 'clf' as an argument.",
                        ));
                        return;
                    }
                }
            };
            if sec.kind == Kind::Backend {
                diags.push(Diag::warning(
                    loc,
                    format!(
                        "{} : 'option {name}' directive is ignored in backends.",
                        sec.who()
                    ),
                ));
                return;
            }
            sec.proxy.log_format = fmt;
            sec.httplog_loc = (fmt != LogFormatKind::Tcp).then(|| loc.clone());
        }
        // Guards push their own diagnostics; a failed one falls through to `_ => {}`.
        "dontlognull"
            if no_args(diags) && sec.allowed(loc, name, true, true, false, false, "", diags) =>
        {
            sec.proxy.dontlognull = !negate;
        }
        "forwardfor" => {
            let mut ff = ForwardFor {
                header: "X-Forwarded-For".into(),
                except: None,
                if_none: false,
            };
            let mut i = 0;
            while i < rest.len() {
                match rest[i].as_str() {
                    "except" => {
                        match rest.get(i + 1).map(|n| parse_ipnet(n)) {
                            Some(Ok(net)) => {
                                ff.except = Some(net);
                                i += 1;
                            }
                            _ => {
                                diags.push(Diag::error(loc, "'option forwardfor' 'except' requires a network or IP address."));
                                return;
                            }
                        }
                    }
                    "header" => match rest.get(i + 1) {
                        Some(h) if !h.is_empty() => {
                            ff.header = h.clone();
                            i += 1;
                        }
                        _ => {
                            diags.push(Diag::error(
                                loc,
                                "'option forwardfor' 'header' requires a header name.",
                            ));
                            return;
                        }
                    },
                    "if-none" => ff.if_none = true,
                    _ => {
                        diags.push(Diag::error(
                            loc,
                            "'option forwardfor' only supports optional values 'except', 'header' and 'if-none'.",
                        ));
                        return;
                    }
                }
                i += 1;
            }
            sec.proxy.forwardfor = Some(ff);
        }
        "http-keep-alive" | "httpclose" | "http-server-close" => {
            if !no_args(diags) {
                return;
            }
            let mode = match name {
                "http-keep-alive" => HttpConnMode::KeepAlive,
                "httpclose" => HttpConnMode::Close,
                _ => HttpConnMode::ServerClose,
            };
            if !negate {
                sec.proxy.http_conn_mode = mode;
            } else if sec.proxy.http_conn_mode == mode {
                // Cancelling the current mode falls back to haproxy's default.
                sec.proxy.http_conn_mode = HttpConnMode::KeepAlive;
            }
        }
        "redispatch" => {
            // Plain `option redispatch` is haproxy's -1: redispatch on the last retry.
            let interval = match rest.first() {
                None => -1,
                Some(_) if !no_args_max(loc, &full, rest, 1, diags) => return,
                Some(n) => match n.parse::<i32>() {
                    Ok(v) => v,
                    Err(_) => {
                        diags.push(Diag::error(
                            loc,
                            format!("'option redispatch' expects an integer interval, got '{n}'."),
                        ));
                        return;
                    }
                },
            };
            if sec.allowed(loc, name, true, false, true, false, "", diags) {
                sec.proxy.redispatch = if negate || interval == 0 {
                    None
                } else {
                    Some(interval)
                };
            }
        }
        "allbackups" | "persist"
            if no_args(diags) && sec.allowed(loc, name, true, false, true, false, "", diags) =>
        {
            if name == "allbackups" {
                sec.proxy.allbackups = !negate;
            } else {
                sec.proxy.persist = !negate;
            }
        }
        _ => {}
    }
}

fn no_args_max(loc: &Loc, kw: &str, args: &[String], max: usize, diags: &mut Vec<Diag>) -> bool {
    !too_many(loc, kw, args, max, diags)
}

/// Parses `ADDR[/LEN]` or `a.b.c.d/a.b.c.d` (dotted mask, IPv4 only).
pub fn parse_ipnet(s: &str) -> Result<IpNet, String> {
    let bad = || format!("invalid network '{s}'");
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = a.parse().map_err(|_| bad())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match p {
        None => max,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max => n,
            Ok(_) => return Err(bad()),
            Err(_) => {
                let m: std::net::Ipv4Addr = p.parse().map_err(|_| bad())?;
                let m = u32::from(m);
                if !addr.is_ipv4() || m.leading_ones() + m.trailing_zeros() != 32 {
                    return Err(bad());
                }
                m.leading_ones() as u8
            }
        },
    };
    Ok(IpNet { addr, prefix })
}

const ERRORFILE_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

fn errorfile(sec: &mut Section, loc: &Loc, args: &[String], diags: &mut Vec<Diag>) {
    if args.len() != 2 {
        diags.push(Diag::error(
            loc,
            "'errorfile' expects <status_code> and <file> as arguments.",
        ));
        return;
    }
    let code = match args[0].parse::<u16>() {
        Ok(c) if ERRORFILE_CODES.contains(&c) => c,
        _ => {
            diags.push(Diag::error(
                loc,
                format!("errorfile : status code '{}' not handled.", args[0]),
            ));
            return;
        }
    };
    // haproxy opens the file relative to its current directory, not the config file's.
    match std::fs::read(&args[1]) {
        // haproxy parses the file as an HTTP response at startup; an empty file is
        // allowed (the documented `errorfile 408 /dev/null` trick: close silently).
        Ok(body) if !body.is_empty() && !looks_like_http_response(&body) => {
            diags.push(Diag::error(
                loc,
                format!(
                    "errorfile : '{}': unable to parse headers (error offset: 0)",
                    args[1]
                ),
            ))
        }
        Ok(body) => {
            sec.proxy.errorfiles.insert(code, body);
        }
        Err(_) => diags.push(Diag::error(
            loc,
            format!("errorfile : error opening file '{}'.", args[1]),
        )),
    }
}

/// A status line `HTTP/1.x NNN ...` and an end of headers.
fn looks_like_http_response(body: &[u8]) -> bool {
    let status_ok = body.len() > 12
        && (body.starts_with(b"HTTP/1.0 ") || body.starts_with(b"HTTP/1.1 "))
        && body[9..12].iter().all(u8::is_ascii_digit);
    let has_end =
        body.windows(4).any(|w| w == b"\r\n\r\n") || body.windows(2).any(|w| w == b"\n\n");
    status_ok && has_end
}

fn num_after(args: &[String], i: usize, what: &str) -> Result<u32, String> {
    args.get(i + 1)
        .and_then(|v| v.parse::<u32>().ok())
        .ok_or_else(|| {
            format!(
                "'balance uri {what}' expects a positive integer (got '{}').",
                args.get(i + 1).map(String::as_str).unwrap_or("")
            )
        })
}

/// Parses the words after `balance`.
pub fn parse_balance(args: &[String]) -> Result<Balance, String> {
    const USAGE: &str = "'balance' only supports 'roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'uri', 'url_param', 'hdr(name)', 'random' and 'rdp-cookie(name)' options.";
    let Some(algo) = args.first().map(String::as_str) else {
        return Err(USAGE.into());
    };
    let rest = &args[1..];
    let none = |b: Balance| -> Result<Balance, String> {
        match rest.first() {
            Some(x) => Err(format!(
                "'balance {algo}' cannot handle unexpected argument '{x}'."
            )),
            None => Ok(b),
        }
    };
    match algo {
        "roundrobin" => none(Balance::RoundRobin),
        "static-rr" => none(Balance::StaticRr),
        "leastconn" => none(Balance::LeastConn),
        "first" => none(Balance::First),
        "source" => none(Balance::Source),
        "uri" => {
            let (mut len, mut depth, mut whole, mut path_only) = (0, 0, false, false);
            let mut i = 0;
            while i < rest.len() {
                match rest[i].as_str() {
                    "len" => {
                        len = num_after(rest, i, "len")?;
                        i += 1;
                    }
                    "depth" => {
                        depth = num_after(rest, i, "depth")?;
                        i += 1;
                    }
                    "whole" => whole = true,
                    "path-only" => path_only = true,
                    o => {
                        return Err(format!(
                            "'balance uri' only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '{o}')."
                        ))
                    }
                }
                i += 1;
            }
            Ok(Balance::Uri {
                len,
                depth,
                whole,
                path_only,
            })
        }
        "url_param" => match rest {
            [name] => Ok(Balance::UrlParam { name: name.clone() }),
            [_, opt, ..] if opt == "check_post" => {
                Err("'balance url_param ... check_post' is not supported yet".into())
            }
            [] => Err("'balance url_param' requires an URL parameter name.".into()),
            [_, x, ..] => Err(format!(
                "'balance url_param' cannot handle unexpected argument '{x}'."
            )),
        },
        _ if algo.starts_with("hdr(") => {
            let Some(name) = algo
                .strip_prefix("hdr(")
                .and_then(|s| s.strip_suffix(')'))
                .filter(|n| !n.is_empty())
            else {
                return Err("'balance hdr(name)' requires an HTTP header field name.".into());
            };
            match rest.first().map(String::as_str) {
                None => Ok(Balance::Hdr {
                    name: name.to_string(),
                    use_domain_only: false,
                }),
                Some("use_domain_only") if rest.len() == 1 => Ok(Balance::Hdr {
                    name: name.to_string(),
                    use_domain_only: true,
                }),
                Some(x) => Err(format!(
                    "'balance hdr(name)' only accepts 'use_domain_only' modifier (got '{x}')."
                )),
            }
        }
        "random" => none(Balance::Random { draws: 2 }),
        _ if algo.starts_with("random(") => {
            let draws = algo
                .strip_prefix("random(")
                .and_then(|s| s.strip_suffix(')'))
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    "balance random : number of draws must be at least 1.".to_string()
                })?;
            none(Balance::Random { draws })
        }
        _ if algo == "rdp-cookie" || algo.starts_with("rdp-cookie(") || algo == "hash" => {
            Err(format!("'balance {algo}' is not supported yet"))
        }
        _ => Err(USAGE.into()),
    }
}

/// Parses the words after `hash-type`.
pub fn parse_hash_type(args: &[String]) -> Result<HashType, String> {
    let method = match args.first().map(String::as_str) {
        Some("map-based") => HashMethod::MapBased,
        Some("consistent") => HashMethod::Consistent,
        _ => {
            return Err(
                "'hash-type' expects 'map-based' or 'consistent' as the first argument.".into(),
            )
        }
    };
    let mut h = HashType {
        method,
        ..HashType::default()
    };
    let mut rest = &args[1..];
    if let Some(f) = rest.first() {
        let func = match f.as_str() {
            "sdbm" => Some(HashFunction::Sdbm),
            "djb2" => Some(HashFunction::Djb2),
            "wt6" => Some(HashFunction::Wt6),
            "crc32" => Some(HashFunction::Crc32),
            "none" => return Err("'hash-type ... none' is not supported yet".into()),
            _ => None,
        };
        if let Some(func) = func {
            h.function = func;
            rest = &rest[1..];
        }
    }
    match rest {
        [] => {}
        [m] if m == "avalanche" => h.avalanche = true,
        [x, ..] => {
            return Err(format!(
                "'hash-type' expects an optional function among 'sdbm', 'djb2', 'wt6', 'crc32' then an optional 'avalanche' modifier (got '{x}')."
            ))
        }
    }
    Ok(h)
}

fn server(sec: &mut Section, loc: &Loc, args: &[String], diags: &mut Vec<Diag>) {
    if sec.kind == Kind::Defaults || !sec.proxy.cap.backend {
        // haproxy refuses servers where they could never be used.
        sec.allowed(loc, "server", false, false, true, true, "", diags);
        return;
    }
    let (Some(name), Some(addr)) = (args.first(), args.get(1)) else {
        diags.push(Diag::error(
            loc,
            "'server' expects <name> and <addr>[:<port>] as arguments.",
        ));
        return;
    };
    let who = format!("'server {}/{}'", sec.proxy.name, name);
    let mut srv = sec.default_server.clone();
    srv.loc = loc.clone();
    srv.name = name.clone();
    srv.id = 0;
    match parse_server_addr(addr) {
        Ok(a) => srv.addr = a,
        Err(e) => {
            diags.push(Diag::error(loc, format!("{who} : {e}")));
            return;
        }
    }
    let (errs, custom) = apply_server_params(&mut srv, &args[2..], &who, false);
    if !errs.is_empty() {
        for e in errs {
            diags.push(Diag::error(loc, e));
        }
        return;
    }
    sec.proxy.servers.push(srv);
    sec.server_custom_id.push(custom);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn balance() {
        assert_eq!(parse_balance(&w("roundrobin")), Ok(Balance::RoundRobin));
        assert_eq!(
            parse_balance(&w("random")),
            Ok(Balance::Random { draws: 2 })
        );
        assert_eq!(
            parse_balance(&w("random(3)")),
            Ok(Balance::Random { draws: 3 })
        );
        assert_eq!(
            parse_balance(&w("uri len 10 depth 2 whole path-only")),
            Ok(Balance::Uri {
                len: 10,
                depth: 2,
                whole: true,
                path_only: true
            })
        );
        assert_eq!(
            parse_balance(&w("url_param userid")),
            Ok(Balance::UrlParam {
                name: "userid".into()
            })
        );
        assert_eq!(
            parse_balance(&w("hdr(Host) use_domain_only")),
            Ok(Balance::Hdr {
                name: "Host".into(),
                use_domain_only: true
            })
        );
        assert!(parse_balance(&w("random(0)")).is_err());
        assert!(parse_balance(&w("bogus")).is_err());
        assert!(parse_balance(&w("rdp-cookie"))
            .unwrap_err()
            .contains("not supported yet"));
        assert!(parse_balance(&w("source x")).is_err());
    }

    #[test]
    fn hash_type() {
        let h = parse_hash_type(&w("consistent djb2 avalanche")).unwrap();
        assert_eq!(
            (h.method, h.function, h.avalanche),
            (HashMethod::Consistent, HashFunction::Djb2, true)
        );
        let h = parse_hash_type(&w("map-based avalanche")).unwrap();
        assert_eq!(
            (h.method, h.function, h.avalanche),
            (HashMethod::MapBased, HashFunction::Sdbm, true)
        );
        assert!(parse_hash_type(&w("ring")).is_err());
        assert!(parse_hash_type(&w("consistent md5")).is_err());
    }

    #[test]
    fn ipnet() {
        assert_eq!(parse_ipnet("10.0.0.0/8").unwrap().prefix, 8);
        assert_eq!(parse_ipnet("10.0.0.0/255.255.0.0").unwrap().prefix, 16);
        assert_eq!(parse_ipnet("127.0.0.1").unwrap().prefix, 32);
        assert_eq!(parse_ipnet("::1").unwrap().prefix, 128);
        assert!(parse_ipnet("10.0.0.0/33").is_err());
        assert!(parse_ipnet("10.0.0.0/255.0.255.0").is_err());
        assert!(parse_ipnet("nope").is_err());
    }
}
