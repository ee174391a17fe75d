//! Sample fetches: the registry by name, parsed once into a typed [`Fetch`], and evaluation.

use std::net::{IpAddr, SocketAddr};

use super::args::suggest;
use super::ctx::SampleCtx;
use super::fetch_http as h;
use super::fetch_misc;
use super::value::{parse_ipv6, Method, Sample, SmpType};
use super::varstore::VarName;

/// Which side's headers/cookies a fetch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The request.
    Req,
    /// The response.
    Res,
}

/// Unit for `date()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds.
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds.
    Us,
}

/// A parsed sample fetch with its arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Fetch {
    /// `src`, `fc_src`
    Src,
    /// `src_port`
    SrcPort,
    /// `dst`, `fc_dst`
    Dst,
    /// `dst_port`
    DstPort,
    /// `fe_name`
    FeName,
    /// `fe_id`
    FeId,
    /// `be_name`
    BeName,
    /// `be_id`
    BeId,
    /// `srv_name`
    SrvName,
    /// `srv_id`
    SrvId,
    /// `nbsrv([be])`
    Nbsrv(Option<String>),
    /// `be_conn([be])`
    BeConn(Option<String>),
    /// `fe_conn([fe])`
    FeConn(Option<String>),
    /// `srv_conn`
    SrvConn,
    /// `srv_is_up(be/srv)`
    SrvIsUp(String, String),
    /// `connslots([be])`
    Connslots(Option<String>),
    /// `queue([be])`
    Queue(Option<String>),
    /// `avg_queue([be])`
    AvgQueue(Option<String>),
    /// `method`
    Method,
    /// `path`
    Path,
    /// `url`
    Url,
    /// `query`
    Query,
    /// `base`
    Base,
    /// `url_param(name[,delim[,i]])`
    UrlParam {
        /// parameter name ("" = any)
        name: Vec<u8>,
        /// separator
        delim: u8,
        /// case-insensitive name
        icase: bool,
        /// `urlp_val`: the value as an integer
        int: bool,
    },
    /// `req.hdr`, `req.fhdr`, `res.hdr`, `res.fhdr` (`full` = not split on commas)
    Hdr {
        /// side
        side: Side,
        /// header name, lower case; None = every header
        name: Option<String>,
        /// occurrence (None: last one, every one in ACLs)
        occ: Option<i64>,
        /// whole line (fhdr)
        full: bool,
    },
    /// `hdr_cnt`/`fhdr_cnt`
    HdrCnt {
        /// side
        side: Side,
        /// header name
        name: Option<String>,
        /// whole lines
        full: bool,
    },
    /// `hdr_ip(name[,occ])`
    HdrIp {
        /// side
        side: Side,
        /// header name
        name: Option<String>,
        /// occurrence
        occ: Option<i64>,
    },
    /// `hdr_val(name[,occ])`
    HdrVal {
        /// side
        side: Side,
        /// header name
        name: Option<String>,
        /// occurrence
        occ: Option<i64>,
    },
    /// `req.cook(name)` / `res.cook(name)`
    Cook(Side, Option<Vec<u8>>),
    /// `cook_cnt`
    CookCnt(Side, Option<Vec<u8>>),
    /// `cook_val`
    CookVal(Side, Option<Vec<u8>>),
    /// `req.body`
    ReqBody,
    /// `req.body_len`
    ReqBodyLen,
    /// `req.len`
    ReqLen,
    /// `req.ver`
    ReqVer,
    /// `req.proto_http`
    ProtoHttp,
    /// `http_first_req`
    FirstReq,
    /// `status`
    Status,
    /// `var(name[,default])`
    Var(VarName, Option<Sample>),
    /// `env(name)`
    Env(String),
    /// `str() int() bool() ipv4() ipv6() meth() bin() always_true always_false nbproc thread`
    Const(Sample),
    /// `date([offset[,unit]])`
    Date(i64, TimeUnit),
    /// `rand([range])`
    Rand(Option<i64>),
    /// `uuid([4])`
    Uuid,
    /// `hostname`
    Hostname,
    /// `payload(offset,length)`
    Payload(usize, usize),
    /// `req.rdp_cookie_cnt`
    RdpCookieCnt,
    /// `req.ssl_sni`: SNI parsed from a buffered TLS ClientHello
    ReqSslSni,
    /// `req.ssl_hello_type`
    ReqSslHelloType,
    /// `ssl_fc`
    SslFc,
    /// `base32`: avalanched SDBM hash of `base`
    Base32,
    /// `base32+src`: `base32` (4 bytes) followed by the client address
    Base32Src,
    /// `req.hdr_names([delim])`
    HdrNames(Vec<u8>),
    /// `capture.req.method`
    CaptureMethod,
    /// `capture.req.uri`
    CaptureUri,
    /// `capture.req.ver`
    CaptureVer,
    /// `ssl_fc_sni`
    SslFcSni,
    /// `wait_end`: data is complete when rules run here.
    WaitEnd,
}

/// Every fetch keyword, for suggestions and documentation.
pub const FETCH_NAMES: &[&str] = &[
    "src",
    "src_port",
    "dst",
    "dst_port",
    "fc_src",
    "fc_src_port",
    "fc_dst",
    "fc_dst_port",
    "fe_name",
    "fe_id",
    "be_name",
    "be_id",
    "srv_name",
    "srv_id",
    "nbsrv",
    "be_conn",
    "fe_conn",
    "srv_conn",
    "srv_is_up",
    "connslots",
    "queue",
    "avg_queue",
    "method",
    "path",
    "url",
    "query",
    "base",
    "url_param",
    "urlp",
    "urlp_val",
    "req.hdr",
    "hdr",
    "req.fhdr",
    "fhdr",
    "req.hdr_cnt",
    "hdr_cnt",
    "req.fhdr_cnt",
    "fhdr_cnt",
    "req.hdr_ip",
    "hdr_ip",
    "req.hdr_val",
    "hdr_val",
    "req.cook",
    "cook",
    "req.cook_cnt",
    "cook_cnt",
    "req.cook_val",
    "cook_val",
    "req.body",
    "req.body_len",
    "req.len",
    "req_len",
    "req.ver",
    "req_ver",
    "req.proto_http",
    "http_first_req",
    "status",
    "res.hdr",
    "shdr",
    "res.fhdr",
    "res.hdr_cnt",
    "shdr_cnt",
    "res.fhdr_cnt",
    "res.hdr_ip",
    "shdr_ip",
    "res.hdr_val",
    "shdr_val",
    "res.cook",
    "scook",
    "res.cook_cnt",
    "scook_cnt",
    "res.cook_val",
    "scook_val",
    "var",
    "env",
    "str",
    "int",
    "bool",
    "ipv4",
    "ipv6",
    "meth",
    "bin",
    "always_true",
    "always_false",
    "date",
    "rand",
    "uuid",
    "hostname",
    "nbproc",
    "thread",
    "payload",
    "req.payload",
    "req.rdp_cookie_cnt",
    "req.ssl_sni",
    "req_ssl_sni",
    "req.ssl_hello_type",
    "req_ssl_hello_type",
    "ssl_fc",
    "ssl_fc_sni",
    "base32",
    "base32+src",
    "req.hdr_names",
    "capture.req.method",
    "capture.req.uri",
    "capture.req.ver",
    "rdp_cookie_cnt",
    "wait_end",
];

fn arity(name: &str, args: &[String], min: usize, max: usize) -> Result<(), String> {
    if args.len() < min {
        return Err(format!(
            "fetch method '{name}' : missing arguments (got {}/{min})",
            args.len()
        ));
    }
    if args.len() > max {
        return Err(format!(
            "fetch method '{name}' : expects at most {max} arguments (got {})",
            args.len()
        ));
    }
    Ok(())
}

/// Parses an integer argument with haproxy's strictness (whole text must be a number).
pub fn int_arg(kw: &str, a: &str) -> Result<i64, String> {
    a.trim()
        .parse::<i64>()
        .map_err(|_| format!("'{kw}' : failed to parse '{a}' as type 'integer'"))
}

fn opt_name(args: &[String], i: usize) -> Option<String> {
    args.get(i).filter(|s| !s.is_empty()).cloned()
}

/// Parses fetch `name` with its arguments into a typed fetch and its output type.
pub fn parse_fetch(name: &str, args: Option<&[String]>) -> Result<(Fetch, SmpType), String> {
    use SmpType as T;
    let a: &[String] = args.unwrap_or(&[]);
    let hname = |i: usize| {
        a.get(i)
            .filter(|s| !s.is_empty())
            .map(|s| s.to_ascii_lowercase())
    };
    let occ = |i: usize| -> Result<Option<i64>, String> {
        a.get(i).map(|s| int_arg(name, s)).transpose()
    };
    let side = if name.starts_with("res.") || name.starts_with('s') {
        Side::Res
    } else {
        Side::Req
    };
    let (max, f, t) = match name {
        "src" | "fc_src" => (0, Fetch::Src, T::Addr),
        "src_port" | "fc_src_port" => (0, Fetch::SrcPort, T::Sint),
        "dst" | "fc_dst" => (0, Fetch::Dst, T::Addr),
        "dst_port" | "fc_dst_port" => (0, Fetch::DstPort, T::Sint),
        "fe_name" => (0, Fetch::FeName, T::Str),
        "fe_id" => (0, Fetch::FeId, T::Sint),
        "be_name" => (0, Fetch::BeName, T::Str),
        "be_id" => (0, Fetch::BeId, T::Sint),
        "srv_name" => (0, Fetch::SrvName, T::Str),
        "srv_id" => (0, Fetch::SrvId, T::Sint),
        "nbsrv" => (1, Fetch::Nbsrv(opt_name(a, 0)), T::Sint),
        "be_conn" => (1, Fetch::BeConn(opt_name(a, 0)), T::Sint),
        "fe_conn" => (1, Fetch::FeConn(opt_name(a, 0)), T::Sint),
        "srv_conn" => (0, Fetch::SrvConn, T::Sint),
        "srv_is_up" => {
            arity(name, a, 1, 1)?;
            let (be, srv) = a[0].split_once('/').ok_or_else(|| {
                format!(
                    "fetch method 'srv_is_up' : expects <backend>/<server>, got '{}'",
                    a[0]
                )
            })?;
            (1, Fetch::SrvIsUp(be.to_string(), srv.to_string()), T::Bool)
        }
        "connslots" => (1, Fetch::Connslots(opt_name(a, 0)), T::Sint),
        "queue" => (1, Fetch::Queue(opt_name(a, 0)), T::Sint),
        "avg_queue" => (1, Fetch::AvgQueue(opt_name(a, 0)), T::Sint),
        "method" => (0, Fetch::Method, T::Meth),
        "path" => (0, Fetch::Path, T::Str),
        "url" => (0, Fetch::Url, T::Str),
        "query" => (0, Fetch::Query, T::Str),
        "base" => (0, Fetch::Base, T::Str),
        "url_param" | "urlp" | "urlp_val" => {
            let delim = match a.get(1) {
                Some(d) if !d.is_empty() => d.as_bytes()[0],
                _ => b'&',
            };
            // haproxy 2.6 takes (name[,delim]) only; names compare case-sensitively.
            let icase = false;
            let name_b = a.first().map(|s| s.as_bytes().to_vec()).unwrap_or_default();
            let int = name == "urlp_val";
            (
                2,
                Fetch::UrlParam {
                    name: name_b,
                    delim,
                    icase,
                    int,
                },
                if int { T::Sint } else { T::Str },
            )
        }
        "req.hdr" | "hdr" | "res.hdr" | "shdr" => (
            2,
            Fetch::Hdr {
                side,
                name: hname(0),
                occ: occ(1)?,
                full: false,
            },
            T::Str,
        ),
        "req.fhdr" | "fhdr" | "res.fhdr" => (
            2,
            Fetch::Hdr {
                side,
                name: hname(0),
                occ: occ(1)?,
                full: true,
            },
            T::Str,
        ),
        "req.hdr_cnt" | "hdr_cnt" | "res.hdr_cnt" | "shdr_cnt" => (
            1,
            Fetch::HdrCnt {
                side,
                name: hname(0),
                full: false,
            },
            T::Sint,
        ),
        "req.fhdr_cnt" | "fhdr_cnt" | "res.fhdr_cnt" => (
            1,
            Fetch::HdrCnt {
                side,
                name: hname(0),
                full: true,
            },
            T::Sint,
        ),
        "req.hdr_ip" | "hdr_ip" | "res.hdr_ip" | "shdr_ip" => (
            2,
            Fetch::HdrIp {
                side,
                name: hname(0),
                occ: occ(1)?,
            },
            T::Addr,
        ),
        "req.hdr_val" | "hdr_val" | "res.hdr_val" | "shdr_val" => (
            2,
            Fetch::HdrVal {
                side,
                name: hname(0),
                occ: occ(1)?,
            },
            T::Sint,
        ),
        "req.cook" | "cook" | "res.cook" | "scook" => (
            1,
            Fetch::Cook(side, opt_name(a, 0).map(String::into_bytes)),
            T::Str,
        ),
        "req.cook_cnt" | "cook_cnt" | "res.cook_cnt" | "scook_cnt" => (
            1,
            Fetch::CookCnt(side, opt_name(a, 0).map(String::into_bytes)),
            T::Sint,
        ),
        "req.cook_val" | "cook_val" | "res.cook_val" | "scook_val" => (
            1,
            Fetch::CookVal(side, opt_name(a, 0).map(String::into_bytes)),
            T::Sint,
        ),
        "req.body" => (0, Fetch::ReqBody, T::Bin),
        "req.body_len" => (0, Fetch::ReqBodyLen, T::Sint),
        "req.len" | "req_len" => (0, Fetch::ReqLen, T::Sint),
        "req.ver" | "req_ver" => (0, Fetch::ReqVer, T::Str),
        "req.proto_http" => (0, Fetch::ProtoHttp, T::Bool),
        "http_first_req" => (0, Fetch::FirstReq, T::Bool),
        "status" => (0, Fetch::Status, T::Sint),
        "var" => {
            arity(name, a, 1, 2)?;
            let v = VarName::parse(&a[0])
                .map_err(|e| format!("invalid args in fetch method 'var' : {e}"))?;
            (2, Fetch::Var(v, a.get(1).map(Sample::str)), T::Any)
        }
        "env" => {
            arity(name, a, 1, 1)?;
            (1, Fetch::Env(a[0].clone()), T::Str)
        }
        // `str()` is accepted by haproxy as the empty string.
        "str" => (
            1,
            Fetch::Const(Sample::str(a.first().map(String::as_str).unwrap_or(""))),
            T::Str,
        ),
        "int" => {
            arity(name, a, 1, 1)?;
            (
                1,
                Fetch::Const(Sample::Sint(int_arg(name, &a[0])?)),
                T::Sint,
            )
        }
        "bool" => {
            arity(name, a, 1, 1)?;
            let b = match a[0].as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                o => return Err(format!("fetch method 'bool' : invalid boolean '{o}'")),
            };
            (1, Fetch::Const(Sample::Bool(b)), T::Bool)
        }
        "ipv4" => {
            arity(name, a, 1, 1)?;
            let ip = a[0]
                .parse()
                .map_err(|_| format!("fetch method 'ipv4' : invalid IPv4 address '{}'", a[0]))?;
            (1, Fetch::Const(Sample::Ipv4(ip)), T::Ipv4)
        }
        "ipv6" => {
            arity(name, a, 1, 1)?;
            let ip = parse_ipv6(a[0].as_bytes())
                .ok_or_else(|| format!("fetch method 'ipv6' : invalid IPv6 address '{}'", a[0]))?;
            (1, Fetch::Const(Sample::Ipv6(ip)), T::Ipv6)
        }
        "meth" => {
            arity(name, a, 1, 1)?;
            (
                1,
                Fetch::Const(Sample::Meth(Method::from_bytes(a[0].as_bytes()))),
                T::Meth,
            )
        }
        "bin" => {
            arity(name, a, 1, 1)?;
            let b = fetch_misc::parse_hex(&a[0])
                .ok_or_else(|| format!("fetch method 'bin' : invalid hex string '{}'", a[0]))?;
            (1, Fetch::Const(Sample::Bin(b)), T::Bin)
        }
        "always_true" => (0, Fetch::Const(Sample::Bool(true)), T::Bool),
        "always_false" => (0, Fetch::Const(Sample::Bool(false)), T::Bool),
        "nbproc" => (0, Fetch::Const(Sample::Sint(1)), T::Sint),
        "thread" => (0, Fetch::Const(Sample::Sint(0)), T::Sint),
        "date" => {
            let off = a
                .first()
                .filter(|s| !s.is_empty())
                .map(|s| int_arg(name, s))
                .transpose()?
                .unwrap_or(0);
            let unit = match a.get(1).map(|s| s.as_str()) {
                None | Some("") | Some("s") => TimeUnit::S,
                Some("ms") => TimeUnit::Ms,
                Some("us") => TimeUnit::Us,
                Some(o) => {
                    return Err(format!(
                        "fetch method 'date' : unknown unit '{o}', expects 's', 'ms' or 'us'"
                    ))
                }
            };
            (2, Fetch::Date(off, unit), T::Sint)
        }
        "rand" => (
            1,
            Fetch::Rand(a.first().map(|s| int_arg(name, s)).transpose()?),
            T::Sint,
        ),
        "uuid" => {
            if let Some(v) = a.first() {
                if v != "4" {
                    return Err(format!(
                        "fetch method 'uuid' : unsupported UUID version '{v}'"
                    ));
                }
            }
            (1, Fetch::Uuid, T::Str)
        }
        "hostname" => (0, Fetch::Hostname, T::Str),
        "payload" | "req.payload" => {
            arity(name, a, 2, 2)?;
            let off = int_arg(name, &a[0])?;
            let len = int_arg(name, &a[1])?;
            if off < 0 || len < 0 {
                return Err(format!("fetch method '{name}' : negative offset or length"));
            }
            (2, Fetch::Payload(off as usize, len as usize), T::Bin)
        }
        "req.rdp_cookie_cnt" | "rdp_cookie_cnt" => (1, Fetch::RdpCookieCnt, T::Sint),
        "wait_end" => (0, Fetch::WaitEnd, T::Bool),
        "req.ssl_sni" | "req_ssl_sni" => (0, Fetch::ReqSslSni, T::Str),
        "req.ssl_hello_type" | "req_ssl_hello_type" => (0, Fetch::ReqSslHelloType, T::Sint),
        "ssl_fc" => (0, Fetch::SslFc, T::Bool),
        "base32" => (0, Fetch::Base32, T::Sint),
        "base32+src" => (0, Fetch::Base32Src, T::Bin),
        "req.hdr_names" => (
            1,
            Fetch::HdrNames(
                a.first()
                    .map(|d| d.as_bytes().to_vec())
                    .unwrap_or_else(|| b",".to_vec()),
            ),
            T::Str,
        ),
        "capture.req.method" => (0, Fetch::CaptureMethod, T::Str),
        "capture.req.uri" => (0, Fetch::CaptureUri, T::Str),
        "capture.req.ver" => (0, Fetch::CaptureVer, T::Str),
        "ssl_fc_sni" => (0, Fetch::SslFcSni, T::Str),
        _ => {
            let hint = suggest(name, FETCH_NAMES.iter().copied())
                .map(|s| format!(" (did you mean '{s}' maybe ?)"))
                .unwrap_or_default();
            return Err(format!("unknown fetch method '{name}'{hint}"));
        }
    };
    arity(name, a, 0, max)?;
    Ok((f, t))
}

fn ip_of(a: SocketAddr) -> Sample {
    match a.ip() {
        IpAddr::V4(v) => Sample::Ipv4(v),
        IpAddr::V6(v) => Sample::Ipv6(v),
    }
}

fn headers(ctx: &dyn SampleCtx, side: Side) -> Option<&http::HeaderMap> {
    match side {
        Side::Req => ctx.req_headers(),
        Side::Res => ctx.res_headers(),
    }
}

/// What a fetch reads, so the config parser can refuse a fetch where its data cannot
/// exist (haproxy: "may not be reliably used here because it needs ...").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Always available (constants, addresses, proxy state, variables).
    Nothing,
    /// The layer-4 request buffer (tcp-request content).
    ReqContent,
    /// The HTTP request (headers, URI, method).
    HttpReq,
    /// The HTTP request body.
    HttpReqBody,
    /// The HTTP response.
    HttpRes,
}

impl Needs {
    /// haproxy's name for the data, as in its error message.
    pub fn label(self) -> &'static str {
        match self {
            Needs::Nothing => "nothing",
            Needs::ReqContent => "request contents",
            Needs::HttpReq => "HTTP request headers",
            Needs::HttpReqBody => "HTTP request body",
            Needs::HttpRes => "HTTP response headers",
        }
    }
}

impl Fetch {
    /// What this fetch reads.
    pub fn needs(&self) -> Needs {
        match self {
            Fetch::Method
            | Fetch::Path
            | Fetch::Url
            | Fetch::Query
            | Fetch::Base
            | Fetch::Base32
            | Fetch::Base32Src
            | Fetch::UrlParam { .. }
            | Fetch::ReqVer
            | Fetch::FirstReq
            | Fetch::HdrNames(_)
            | Fetch::CaptureMethod
            | Fetch::CaptureUri
            | Fetch::CaptureVer => Needs::HttpReq,
            Fetch::Hdr { side, .. }
            | Fetch::HdrCnt { side, .. }
            | Fetch::HdrIp { side, .. }
            | Fetch::HdrVal { side, .. }
            | Fetch::Cook(side, _)
            | Fetch::CookCnt(side, _)
            | Fetch::CookVal(side, _) => match side {
                Side::Req => Needs::HttpReq,
                Side::Res => Needs::HttpRes,
            },
            Fetch::Status => Needs::HttpRes,
            Fetch::ReqBody | Fetch::ReqBodyLen => Needs::HttpReqBody,
            Fetch::ReqLen
            | Fetch::Payload(..)
            | Fetch::RdpCookieCnt
            | Fetch::ReqSslSni
            | Fetch::ReqSslHelloType => Needs::ReqContent,
            _ => Needs::Nothing,
        }
    }

    /// Whether in ACLs this fetch yields every occurrence (headers, cookies, parameters).
    pub fn multi(&self) -> bool {
        matches!(
            self,
            Fetch::Hdr { occ: None, .. } | Fetch::Cook(..) | Fetch::UrlParam { .. }
        )
    }

    /// Evaluates to one sample (the one `%[...]` and converters see).
    pub fn eval(&self, ctx: &dyn SampleCtx) -> Option<Sample> {
        let mut out = None;
        self.eval_each(ctx, false, &mut |s| {
            out = Some(s);
            true
        });
        out
    }

    /// Evaluates, giving every occurrence to `out` when `all` (ACL iteration) or the
    /// single selected value otherwise. `out` returns true to stop.
    pub fn eval_each(&self, ctx: &dyn SampleCtx, all: bool, out: &mut dyn FnMut(Sample) -> bool) {
        match self {
            // In ACLs haproxy tests every occurrence of hdr_ip/hdr_val too.
            Fetch::HdrIp {
                side,
                name,
                occ: None,
            }
            | Fetch::HdrVal {
                side,
                name,
                occ: None,
            } if all => {
                let Some(map) = headers(ctx, *side) else {
                    return;
                };
                let ip = matches!(self, Fetch::HdrIp { .. });
                h::each_value(map, name.as_deref(), false, &mut |v| {
                    let s = if ip {
                        h::ipv4_prefix(v)
                            .map(Sample::Ipv4)
                            .or_else(|| parse_ipv6(v).map(Sample::Ipv6))
                    } else {
                        Sample::str(v).cast(SmpType::Sint)
                    };
                    s.is_some_and(&mut *out)
                });
            }
            Fetch::Hdr {
                side,
                name,
                occ,
                full,
            } => {
                // haproxy 2.6: hdr() without a name yields nothing (hdr_cnt counts all).
                let (Some(map), Some(_)) = (headers(ctx, *side), name) else {
                    return;
                };
                if all && occ.is_none() {
                    h::each_value(map, name.as_deref(), *full, &mut |v| out(Sample::str(v)));
                } else if let Some(v) = h::pick_occ(map, name.as_deref(), *full, occ.unwrap_or(-1))
                {
                    out(Sample::Str(v));
                }
            }
            Fetch::Cook(side, name) => {
                let Some(map) = headers(ctx, *side) else {
                    return;
                };
                let each = match side {
                    Side::Req => h::each_req_cookie,
                    Side::Res => h::each_res_cookie,
                };
                if all {
                    each(map, name.as_deref(), &mut |v| out(Sample::str(v)));
                } else if name.is_none() {
                    // Without a name haproxy returns the first cookie...
                    each(map, None, &mut |v| out(Sample::str(v)));
                } else {
                    // ...and with one, the last occurrence.
                    let mut last = None;
                    each(map, name.as_deref(), &mut |v| {
                        last = Some(v.to_vec());
                        false
                    });
                    if let Some(v) = last {
                        out(Sample::Str(v));
                    }
                }
            }
            Fetch::UrlParam {
                name,
                delim,
                icase,
                int,
            } => {
                let Some(q) = ctx.uri().and_then(h::uri_query) else {
                    return;
                };
                h::each_url_param(q, name, *delim, *icase, &mut |v| {
                    let s = Sample::str(v);
                    let s = if *int { s.cast(SmpType::Sint) } else { Some(s) };
                    s.is_some_and(&mut *out) || !all
                });
            }
            _ => {
                if let Some(s) = self.eval_one(ctx) {
                    out(s);
                }
            }
        }
    }

    /// Gives string values to `out` as borrowed bytes when this fetch produces strings
    /// straight from the request (headers, cookies, URI parts, names): ACLs without
    /// converters match them without copying. Returns false when the fetch has no such
    /// path (the caller then uses [`Fetch::eval_each`]).
    pub fn each_bytes(&self, ctx: &dyn SampleCtx, out: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        match self {
            Fetch::Hdr {
                side,
                name,
                occ: None,
                full,
            } => {
                if let (Some(map), Some(n)) = (headers(ctx, *side), name) {
                    h::each_value(map, Some(n), *full, out);
                }
            }
            Fetch::Cook(side, name) => {
                if let Some(map) = headers(ctx, *side) {
                    match side {
                        Side::Req => h::each_req_cookie(map, name.as_deref(), out),
                        Side::Res => h::each_res_cookie(map, name.as_deref(), out),
                    };
                }
            }
            Fetch::UrlParam {
                name,
                delim,
                icase,
                int: false,
            } => {
                if let Some(q) = ctx.uri().and_then(h::uri_query) {
                    h::each_url_param(q, name, *delim, *icase, out);
                }
            }
            Fetch::Path => {
                if let Some(p) = ctx.uri().and_then(h::uri_path) {
                    out(p);
                }
            }
            Fetch::Url => {
                if let Some(u) = ctx.uri() {
                    out(u);
                }
            }
            Fetch::Query => {
                if let Some(q) = ctx.uri().and_then(h::uri_query) {
                    out(q);
                }
            }
            Fetch::ReqVer => {
                if let Some(v) = ctx.version() {
                    out(v);
                }
            }
            Fetch::FeName => {
                if let Some(v) = ctx.frontend_name() {
                    out(v.as_bytes());
                }
            }
            Fetch::BeName => {
                if let Some(v) = ctx.backend_name() {
                    out(v.as_bytes());
                }
            }
            Fetch::SrvName => {
                if let Some(v) = ctx.server_name() {
                    out(v.as_bytes());
                }
            }
            Fetch::Const(Sample::Str(v)) => {
                out(v);
            }
            _ => return false,
        }
        true
    }

    fn eval_one(&self, ctx: &dyn SampleCtx) -> Option<Sample> {
        let int = Sample::Sint;
        Some(match self {
            Fetch::Src => ip_of(ctx.src()?),
            Fetch::SrcPort => int(ctx.src()?.port() as i64),
            Fetch::Dst => ip_of(ctx.dst()?),
            Fetch::DstPort => int(ctx.dst()?.port() as i64),
            Fetch::FeName => Sample::str(ctx.frontend_name()?),
            Fetch::FeId => int(ctx.frontend_id()?),
            Fetch::BeName => Sample::str(ctx.backend_name()?),
            Fetch::BeId => int(ctx.backend_id()?),
            Fetch::SrvName => Sample::str(ctx.server_name()?),
            Fetch::SrvId => int(ctx.server_id()?),
            Fetch::Nbsrv(b) => int(ctx.nbsrv(b.as_deref())?),
            Fetch::BeConn(b) => int(ctx.be_conn(b.as_deref())?),
            Fetch::FeConn(f) => int(ctx.fe_conn(f.as_deref())?),
            Fetch::SrvConn => int(ctx.srv_conn()?),
            Fetch::SrvIsUp(b, s) => Sample::Bool(ctx.srv_is_up(b, s)?),
            Fetch::Connslots(b) => int(ctx.connslots(b.as_deref())?),
            Fetch::Queue(b) => int(ctx.queue(b.as_deref())?),
            Fetch::AvgQueue(b) => int(ctx.avg_queue(b.as_deref())?),
            Fetch::Method => Sample::Meth(Method::from_bytes(ctx.method()?)),
            Fetch::Path => Sample::str(h::uri_path(ctx.uri()?)?),
            Fetch::Url => Sample::str(ctx.uri()?),
            Fetch::Query => Sample::str(h::uri_query(ctx.uri()?)?),
            Fetch::Base => {
                let path = h::uri_path(ctx.uri()?)?;
                let host = ctx
                    .req_headers()
                    .and_then(|m| m.get("host"))
                    .map(|v| v.as_bytes());
                match host {
                    Some(hv) if !hv.is_empty() => {
                        let mut v = hv.to_vec();
                        v.extend_from_slice(path);
                        Sample::Str(v)
                    }
                    _ => Sample::str(path),
                }
            }
            Fetch::HdrCnt { side, name, full } => int(headers(ctx, *side)
                .map(|m| h::count_values(m, name.as_deref(), *full))
                .unwrap_or(0)),
            Fetch::HdrIp { side, name, occ } => {
                let v = h::pick_occ(
                    headers(ctx, *side)?,
                    name.as_deref(),
                    false,
                    occ.unwrap_or(-1),
                )?;
                match h::ipv4_prefix(&v) {
                    Some(ip) => Sample::Ipv4(ip),
                    None => Sample::Ipv6(parse_ipv6(&v)?),
                }
            }
            Fetch::HdrVal { side, name, occ } => {
                let v = h::pick_occ(
                    headers(ctx, *side)?,
                    name.as_deref(),
                    false,
                    occ.unwrap_or(-1),
                )?;
                Sample::Str(v).cast(SmpType::Sint)?
            }
            Fetch::CookCnt(side, name) => {
                let mut n = 0;
                if let Some(m) = headers(ctx, *side) {
                    let each = if *side == Side::Req {
                        h::each_req_cookie
                    } else {
                        h::each_res_cookie
                    };
                    each(m, name.as_deref(), &mut |_| {
                        n += 1;
                        false
                    });
                }
                int(n)
            }
            Fetch::CookVal(side, name) => Fetch::Cook(*side, name.clone())
                .eval(ctx)?
                .cast(SmpType::Sint)?,
            Fetch::ReqBody => Sample::Bin(ctx.req_body()?.to_vec()),
            Fetch::ReqBodyLen => int(ctx.req_body()?.len() as i64),
            Fetch::ReqLen => int(ctx.payload()?.len() as i64),
            Fetch::ReqVer => Sample::str(ctx.version()?),
            Fetch::ProtoHttp => Sample::Bool(ctx.is_http()),
            Fetch::FirstReq => Sample::Bool(ctx.http_first_req()?),
            Fetch::Status => int(ctx.res_status()? as i64),
            Fetch::Var(v, dflt) => match ctx.var(v.scope, &v.name) {
                Some(s) => s,
                None => dflt.clone()?,
            },
            Fetch::Env(n) => {
                use std::os::unix::ffi::OsStrExt;
                Sample::str(std::env::var_os(n)?.as_bytes())
            }
            Fetch::Const(s) => s.clone(),
            Fetch::Date(off, unit) => {
                // The offset is in the unit asked for (haproxy: date(1000,ms) is one
                // second ahead of date(0,ms)), and ms/us keep the sub-second part.
                let us = ctx.now_us();
                int(match unit {
                    TimeUnit::S => us.div_euclid(1_000_000),
                    TimeUnit::Ms => us.div_euclid(1000),
                    TimeUnit::Us => us,
                }
                .saturating_add(*off))
            }
            Fetch::Rand(range) => {
                let r = fetch_misc::random_u32() as i64;
                int(match range {
                    Some(n) => ((r as i128 * *n as i128) >> 32) as i64,
                    None => r,
                })
            }
            Fetch::Uuid => Sample::Str(fetch_misc::uuid_v4().into_bytes()),
            Fetch::Hostname => Sample::Str(fetch_misc::hostname()?),
            Fetch::Payload(off, len) => {
                let p = ctx.payload()?;
                let end = if *len == 0 {
                    p.len()
                } else {
                    off.checked_add(*len)?
                };
                Sample::Bin(p.get(*off..end)?.to_vec())
            }
            Fetch::RdpCookieCnt => int(fetch_misc::rdp_cookie(ctx.payload()?).is_some() as i64),
            Fetch::WaitEnd => Sample::Bool(true),
            Fetch::ReqSslSni => Sample::str(fetch_misc::tls_sni(ctx.payload()?)?),
            Fetch::ReqSslHelloType => {
                let p = ctx.payload()?;
                // A handshake record (0x16) whose first message type is at byte 5.
                if p.len() < 6 || p[0] != 0x16 {
                    return None;
                }
                int(p[5] as i64)
            }
            Fetch::SslFc => Sample::Bool(ctx.ssl_fc().unwrap_or(false)),
            Fetch::Base32 => {
                let b = Fetch::Base.eval(ctx)?;
                int(super::conv_hash::avalanche(super::conv_hash::sdbm(b.as_bytes()?)) as i64)
            }
            Fetch::Base32Src => {
                let b = Fetch::Base.eval(ctx)?;
                let h = super::conv_hash::avalanche(super::conv_hash::sdbm(b.as_bytes()?));
                let mut v = h.to_be_bytes().to_vec();
                match ctx.src()?.ip() {
                    IpAddr::V4(a) => v.extend_from_slice(&a.octets()),
                    IpAddr::V6(a) => v.extend_from_slice(&a.octets()),
                }
                Sample::Bin(v)
            }
            Fetch::HdrNames(delim) => {
                let mut v = Vec::new();
                for (i, name) in ctx.req_headers()?.iter().map(|(n, _)| n).enumerate() {
                    if i > 0 {
                        v.extend_from_slice(delim);
                    }
                    v.extend_from_slice(name.as_str().as_bytes());
                }
                Sample::Str(v)
            }
            Fetch::CaptureMethod => Sample::str(ctx.method()?),
            Fetch::CaptureUri => Sample::str(ctx.uri()?),
            Fetch::CaptureVer => {
                let mut v = b"HTTP/".to_vec();
                v.extend_from_slice(ctx.version()?);
                Sample::Str(v)
            }
            Fetch::SslFcSni => Sample::str(ctx.ssl_fc_sni()?),
            Fetch::Hdr { .. } | Fetch::Cook(..) | Fetch::UrlParam { .. } => return self.eval(ctx),
        })
    }
}
