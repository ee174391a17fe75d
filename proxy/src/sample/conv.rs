//! Converters: parsed once into a typed [`Conv`] with typed arguments, applied to samples.

use std::sync::Arc;

use base64::Engine;
use regex::bytes::{Regex, RegexBuilder};

use super::args::suggest;
use super::conv_hash::{self as hh, Alg};
pub use super::conv_num::{arith, ArithOp, IntArg};
use super::conv_str::{self as cs, JsonMode};
use super::conv_time;
use super::ctx::SampleCtx;
use super::fetch::int_arg;
use super::map::{self, Map};
use super::value::{Sample, SmpType};
use super::varstore::VarName;
use crate::acl::pattern::MatchKind;

/// Which hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKind {
    /// crc32
    Crc32,
    /// djb2
    Djb2,
    /// sdbm
    Sdbm,
    /// wt6
    Wt6,
}

/// A string or a variable (hmac keys, concat parts).
#[derive(Clone, Debug, PartialEq)]
pub enum StrArg {
    /// A constant.
    Const(Vec<u8>),
    /// A variable.
    Var(VarName),
}

/// A parsed converter.
#[derive(Clone, Debug)]
pub enum Conv {
    /// lower
    Lower,
    /// upper
    Upper,
    /// length
    Length,
    /// `bytes(offset[,length])`
    Bytes(usize, Option<usize>),
    /// `field(index,delims[,count])`
    Field(i64, Vec<u8>, i64),
    /// `word(index,delims[,count])`
    Word(i64, Vec<u8>, i64),
    /// `regsub(regex,subst[,flags])`
    Regsub(Regex, Vec<u8>, bool),
    /// `concat([start][,var][,end])`
    Concat(Vec<u8>, Option<VarName>, Vec<u8>),
    /// strcmp(var)
    Strcmp(VarName),
    /// secure_memcmp(var)
    SecureMemcmp(VarName),
    /// add sub mul div mod and or xor
    Arith(ArithOp, IntArg),
    /// neg
    Neg,
    /// not
    Not,
    /// bool
    Bool,
    /// odd
    Odd,
    /// even
    Even,
    /// `ipmask(mask4[,mask6])`
    Ipmask(u32, Option<u128>),
    /// base64
    Base64,
    /// b64dec
    B64dec,
    /// hex
    Hex,
    /// hex2i
    Hex2i,
    /// `url_dec([in_form])`
    UrlDec(bool),
    /// `url_enc([query])`
    UrlEnc,
    /// `json([mode])`
    Json(JsonMode),
    /// `json_query(path[,int])`
    JsonQuery(String, bool),
    /// `be2dec(sep,chunk[,truncate])`
    Be2dec(Vec<u8>, usize, bool),
    /// `be2hex([sep[,chunk[,truncate]]])`
    Be2hex(Vec<u8>, usize, bool),
    /// `crc32 djb2 sdbm wt6 ([avalanche])`
    Hash(HashKind, bool),
    /// `xxh3([seed])`
    Xxh3(u64),
    /// `xxh32([seed])`
    Xxh32(u32),
    /// `xxh64([seed])`
    Xxh64(u64),
    /// `digest(alg), sha1, sha2([bits])`
    Digest(Alg),
    /// hmac(alg,key)
    Hmac(Alg, StrArg),
    /// `map_<match>_<out>(file[,default])`; `map_regm` when the flag is set
    Map(Arc<Map>, SmpType, Option<Sample>, bool),
    /// `ltime(format[,offset]) / utime: (format, offset, local)`
    Time(String, i64, bool),
    /// `http_date([offset[,unit]]): (offset, unit divisor)`
    HttpDate(i64, i64),
    /// iif(true,false)
    Iif(Vec<u8>, Vec<u8>),
    /// set-var(name)
    SetVar(VarName),
    /// ltrim(chars)
    Ltrim(Vec<u8>),
    /// rtrim(chars)
    Rtrim(Vec<u8>),
    /// cut_crlf
    CutCrlf,
    /// ub64enc (base64url, no padding)
    Ub64enc,
    /// ub64dec
    Ub64dec,
    /// host_only
    HostOnly,
    /// port_only
    PortOnly,
    /// nbsrv: usable servers of the backend named by the input
    Nbsrv,
    /// debug: passes the sample through
    Debug,
    /// unset-var(name)
    UnsetVar(VarName),
}

/// Every converter keyword, for suggestions.
pub const CONV_NAMES: &[&str] = &[
    "lower",
    "upper",
    "length",
    "bytes",
    "field",
    "word",
    "regsub",
    "concat",
    "strcmp",
    "secure_memcmp",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "and",
    "or",
    "xor",
    "neg",
    "not",
    "bool",
    "odd",
    "even",
    "ipmask",
    "base64",
    "b64dec",
    "hex",
    "hex2i",
    "url_dec",
    "url_enc",
    "json",
    "json_query",
    "be2dec",
    "be2hex",
    "crc32",
    "djb2",
    "sdbm",
    "wt6",
    "xxh3",
    "xxh32",
    "xxh64",
    "digest",
    "sha1",
    "sha2",
    "hmac",
    "map",
    "map_str",
    "map_beg",
    "map_sub",
    "map_end",
    "map_reg",
    "map_regm",
    "map_int",
    "map_ip",
    "map_dom",
    "map_dir",
    "ltime",
    "utime",
    "http_date",
    "iif",
    "set-var",
    "unset-var",
    "ltrim",
    "rtrim",
    "cut_crlf",
    "ub64enc",
    "ub64dec",
    "host_only",
    "port_only",
    "nbsrv",
    "debug",
];

fn arity(name: &str, a: &[String], min: usize, max: usize) -> Result<(), String> {
    if a.len() < min {
        return Err(format!(
            "converter '{name}' : missing arguments (got {}/{min})",
            a.len()
        ));
    }
    if a.len() > max {
        return Err(format!(
            "converter '{name}' : expects at most {max} arguments (got {})",
            a.len()
        ));
    }
    Ok(())
}

fn var_arg(name: &str, s: &str) -> Result<VarName, String> {
    VarName::parse(s).map_err(|e| format!("converter '{name}' : {e}"))
}

fn opt_int(name: &str, a: &[String], i: usize, dflt: i64) -> Result<i64, String> {
    match a.get(i) {
        Some(s) if !s.is_empty() => int_arg(name, s),
        _ => Ok(dflt),
    }
}

fn parse_mask4(s: &str) -> Result<u32, String> {
    if let Ok(l) = s.parse::<u8>() {
        if l <= 32 {
            return Ok(if l == 0 {
                0
            } else {
                u32::MAX << (32 - l as u32)
            });
        }
    }
    s.parse::<std::net::Ipv4Addr>()
        .map(u32::from)
        .map_err(|_| format!("converter 'ipmask' : invalid IPv4 mask '{s}'"))
}

/// Parses converter `name` with its arguments; returns it with its input and output types.
pub fn parse_conv(name: &str, args: Option<&[String]>) -> Result<(Conv, SmpType, SmpType), String> {
    use SmpType as T;
    let a: &[String] = args.unwrap_or(&[]);
    let (min, max, conv, tin, tout) = match name {
        "lower" => (0, 0, Conv::Lower, T::Str, T::Str),
        "upper" => (0, 0, Conv::Upper, T::Str, T::Str),
        "length" => (0, 0, Conv::Length, T::Str, T::Sint),
        "bytes" => {
            arity(name, a, 1, 2)?;
            let off = int_arg(name, &a[0])?;
            let len = a.get(1).map(|s| int_arg(name, s)).transpose()?;
            if off < 0 || len.is_some_and(|l| l < 0) {
                return Err(format!(
                    "converter '{name}' : offset and length must be positive"
                ));
            }
            (
                1,
                2,
                Conv::Bytes(off as usize, len.map(|l| l as usize)),
                T::Bin,
                T::Bin,
            )
        }
        "field" | "word" => {
            arity(name, a, 2, 3)?;
            let idx = int_arg(name, &a[0])?;
            if idx == 0 {
                return Err(format!(
                    "invalid args in converter '{name}' : Unexpected value 0 for index."
                ));
            }
            let count = opt_int(name, a, 2, 1)?;
            let c = if name == "field" {
                Conv::Field(idx, a[1].as_bytes().to_vec(), count)
            } else {
                Conv::Word(idx, a[1].as_bytes().to_vec(), count)
            };
            (2, 3, c, T::Str, T::Str)
        }
        "regsub" => {
            arity(name, a, 2, 3)?;
            let flags = a.get(2).map(|s| s.as_str()).unwrap_or("");
            let mut icase = false;
            let mut global = false;
            for f in flags.chars() {
                match f {
                    'i' => icase = true,
                    'g' => global = true,
                    o => return Err(format!("converter 'regsub' : invalid flag '{o}'")),
                }
            }
            let re = RegexBuilder::new(&a[0])
                .case_insensitive(icase)
                .build()
                .map_err(|e| format!("converter 'regsub' : invalid regex '{}': {e}", a[0]))?;
            (
                2,
                3,
                Conv::Regsub(re, a[1].as_bytes().to_vec(), global),
                T::Str,
                T::Str,
            )
        }
        "concat" => {
            let start = a.first().map(|s| s.as_bytes().to_vec()).unwrap_or_default();
            let var = a
                .get(1)
                .filter(|s| !s.is_empty())
                .map(|s| var_arg(name, s))
                .transpose()?;
            let end = a.get(2).map(|s| s.as_bytes().to_vec()).unwrap_or_default();
            (0, 3, Conv::Concat(start, var, end), T::Str, T::Str)
        }
        "strcmp" | "secure_memcmp" => {
            arity(name, a, 1, 1)?;
            let v = var_arg(name, &a[0])?;
            if name == "strcmp" {
                (1, 1, Conv::Strcmp(v), T::Str, T::Sint)
            } else {
                (1, 1, Conv::SecureMemcmp(v), T::Str, T::Bool)
            }
        }
        "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" => {
            arity(name, a, 1, 1)?;
            let op = match name {
                "add" => ArithOp::Add,
                "sub" => ArithOp::Sub,
                "mul" => ArithOp::Mul,
                "div" => ArithOp::Div,
                "mod" => ArithOp::Mod,
                "and" => ArithOp::And,
                "or" => ArithOp::Or,
                _ => ArithOp::Xor,
            };
            (
                1,
                1,
                Conv::Arith(op, IntArg::parse(name, &a[0])?),
                T::Sint,
                T::Sint,
            )
        }
        "neg" => (0, 0, Conv::Neg, T::Sint, T::Sint),
        "not" => (0, 0, Conv::Not, T::Sint, T::Bool),
        "bool" => (0, 0, Conv::Bool, T::Sint, T::Bool),
        "odd" => (0, 0, Conv::Odd, T::Sint, T::Bool),
        "even" => (0, 0, Conv::Even, T::Sint, T::Bool),
        "ipmask" => {
            arity(name, a, 1, 2)?;
            let m4 = parse_mask4(&a[0])?;
            let m6 = match a.get(1) {
                Some(s) => match s.parse::<u8>() {
                    Ok(l) if l <= 128 => Some(if l == 0 {
                        0
                    } else {
                        u128::MAX << (128 - l as u32)
                    }),
                    _ => return Err(format!("converter 'ipmask' : invalid IPv6 mask '{s}'")),
                },
                None => None,
            };
            (1, 2, Conv::Ipmask(m4, m6), T::Addr, T::Addr)
        }
        "base64" => (0, 0, Conv::Base64, T::Bin, T::Str),
        "b64dec" => (0, 0, Conv::B64dec, T::Str, T::Bin),
        "hex" => (0, 0, Conv::Hex, T::Bin, T::Str),
        "hex2i" => (0, 0, Conv::Hex2i, T::Str, T::Sint),
        "url_dec" => (
            0,
            1,
            Conv::UrlDec(opt_int(name, a, 0, 0)? != 0),
            T::Str,
            T::Str,
        ),
        "url_enc" => {
            if let Some(t) = a.first() {
                if t != "query" {
                    return Err(format!(
                        "converter 'url_enc' : unexpected encoding type '{t}'"
                    ));
                }
            }
            (0, 1, Conv::UrlEnc, T::Str, T::Str)
        }
        "json" => {
            let m = match a.first().map(|s| s.as_str()) {
                None | Some("") | Some("ascii") => JsonMode::Ascii,
                Some("utf8") => JsonMode::Utf8,
                Some("utf8s") => JsonMode::Utf8s,
                Some("utf8p") => JsonMode::Utf8p,
                Some("utf8ps") => JsonMode::Utf8ps,
                Some(o) => return Err(format!("converter 'json' : unexpected input code type '{o}'. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'")),
            };
            (0, 1, Conv::Json(m), T::Str, T::Str)
        }
        "json_query" => {
            arity(name, a, 1, 2)?;
            if !a[0].starts_with('$') {
                return Err(format!(
                    "converter 'json_query' : invalid json path '{}'",
                    a[0]
                ));
            }
            let int = match a.get(1).map(|s| s.as_str()) {
                None => false,
                Some("int") => true,
                Some(o) => return Err(format!("converter 'json_query' : output_type only supports \"int\" as argument, got '{o}'")),
            };
            (1, 2, Conv::JsonQuery(a[0].clone(), int), T::Str, T::Any)
        }
        "be2dec" => {
            arity(name, a, 2, 3)?;
            let chunk = int_arg(name, &a[1])?;
            if !(1..=8).contains(&chunk) {
                return Err("converter 'be2dec' : chunk size must be between 1 and 8".into());
            }
            let c = Conv::Be2dec(
                a[0].as_bytes().to_vec(),
                chunk as usize,
                opt_int(name, a, 2, 0)? != 0,
            );
            (2, 3, c, T::Bin, T::Str)
        }
        "be2hex" => {
            let sep = a.first().map(|s| s.as_bytes().to_vec()).unwrap_or_default();
            let chunk = opt_int(name, a, 1, 0)?;
            if chunk < 0 {
                return Err("converter 'be2hex' : chunk size must be positive".into());
            }
            (
                0,
                3,
                Conv::Be2hex(sep, chunk as usize, opt_int(name, a, 2, 0)? != 0),
                T::Bin,
                T::Str,
            )
        }
        "crc32" | "djb2" | "sdbm" | "wt6" => {
            let k = match name {
                "crc32" => HashKind::Crc32,
                "djb2" => HashKind::Djb2,
                "sdbm" => HashKind::Sdbm,
                _ => HashKind::Wt6,
            };
            (
                0,
                1,
                Conv::Hash(k, opt_int(name, a, 0, 0)? != 0),
                T::Bin,
                T::Sint,
            )
        }
        "xxh3" => (
            0,
            1,
            Conv::Xxh3(opt_int(name, a, 0, 0)? as u64),
            T::Bin,
            T::Sint,
        ),
        "xxh32" => (
            0,
            1,
            Conv::Xxh32(opt_int(name, a, 0, 0)? as u32),
            T::Bin,
            T::Sint,
        ),
        "xxh64" => (
            0,
            1,
            Conv::Xxh64(opt_int(name, a, 0, 0)? as u64),
            T::Bin,
            T::Sint,
        ),
        "digest" => {
            arity(name, a, 1, 1)?;
            let alg = Alg::parse(&a[0])
                .ok_or_else(|| format!("converter 'digest' : unknown digest '{}'", a[0]))?;
            (1, 1, Conv::Digest(alg), T::Bin, T::Bin)
        }
        "sha1" => (0, 0, Conv::Digest(Alg::Sha1), T::Bin, T::Bin),
        "sha2" => {
            let alg = match opt_int(name, a, 0, 256)? {
                224 => Alg::Sha224,
                256 => Alg::Sha256,
                384 => Alg::Sha384,
                512 => Alg::Sha512,
                o => {
                    return Err(format!(
                        "converter 'sha2' : unsupported number of bits: '{o}'"
                    ))
                }
            };
            (0, 1, Conv::Digest(alg), T::Bin, T::Bin)
        }
        "hmac" => {
            arity(name, a, 2, 2)?;
            let alg = Alg::parse(&a[0])
                .ok_or_else(|| format!("converter 'hmac' : unknown digest '{}'", a[0]))?;
            let key = match VarName::parse(&a[1]) {
                Ok(v) => StrArg::Var(v),
                Err(_) => StrArg::Const(
                    base64::engine::general_purpose::STANDARD
                        .decode(&a[1])
                        .map_err(|_| {
                            format!("converter 'hmac' : key '{}' is not valid base64", a[1])
                        })?,
                ),
            };
            (2, 2, Conv::Hmac(alg, key), T::Bin, T::Bin)
        }
        "ltime" | "utime" => {
            arity(name, a, 1, 2)?;
            (
                1,
                2,
                Conv::Time(a[0].clone(), opt_int(name, a, 1, 0)?, name == "ltime"),
                T::Sint,
                T::Str,
            )
        }
        "http_date" => {
            let div = match a.get(1).map(|s| s.as_str()) {
                None | Some("") | Some("s") => 1,
                Some("ms") => 1000,
                Some("us") => 1_000_000,
                Some(o) => return Err(format!("converter 'http_date' : unknown unit '{o}'")),
            };
            (
                0,
                2,
                Conv::HttpDate(opt_int(name, a, 0, 0)?, div),
                T::Sint,
                T::Str,
            )
        }
        "iif" => {
            arity(name, a, 2, 2)?;
            (
                2,
                2,
                Conv::Iif(a[0].as_bytes().to_vec(), a[1].as_bytes().to_vec()),
                T::Bool,
                T::Str,
            )
        }
        "ltrim" | "rtrim" => {
            arity(name, a, 1, 1)?;
            let set = a[0].as_bytes().to_vec();
            let c = if name == "ltrim" {
                Conv::Ltrim(set)
            } else {
                Conv::Rtrim(set)
            };
            (1, 1, c, T::Str, T::Str)
        }
        "cut_crlf" => (0, 0, Conv::CutCrlf, T::Str, T::Str),
        "ub64enc" => (0, 0, Conv::Ub64enc, T::Bin, T::Str),
        "ub64dec" => (0, 0, Conv::Ub64dec, T::Str, T::Bin),
        "host_only" => (0, 0, Conv::HostOnly, T::Str, T::Str),
        "port_only" => (0, 0, Conv::PortOnly, T::Str, T::Sint),
        "nbsrv" => (0, 0, Conv::Nbsrv, T::Str, T::Sint),
        // debug([prefix[,buffer]]) logs in haproxy; here it only passes the sample on.
        "debug" => (0, 2, Conv::Debug, T::Any, T::Any),
        "set-var" => {
            arity(name, a, 1, 1)?;
            (1, 1, Conv::SetVar(var_arg(name, &a[0])?), T::Any, T::Any)
        }
        "unset-var" => {
            arity(name, a, 1, 1)?;
            (1, 1, Conv::UnsetVar(var_arg(name, &a[0])?), T::Any, T::Any)
        }
        n if n == "map" || n.starts_with("map_") => return parse_map(n, a),
        _ => {
            let hint = suggest(name, CONV_NAMES.iter().copied())
                .map(|s| format!(" (did you mean '{s}' maybe ?)"))
                .unwrap_or_default();
            return Err(format!("unknown converter '{name}'{hint}"));
        }
    };
    arity(name, a, min, max)?;
    Ok((conv, tin, tout))
}

/// `map`, `map_<match>`, `map_<match>_<out>` with `<match>` among str beg sub end reg regm
/// int ip dom dir and `<out>` among str int ip.
fn parse_map(name: &str, a: &[String]) -> Result<(Conv, SmpType, SmpType), String> {
    use SmpType as T;
    arity(name, a, 1, 2)?;
    let mut parts = name.split('_').skip(1);
    let m = parts.next().unwrap_or("str");
    let out = match parts.next() {
        None | Some("str") => T::Str,
        Some("int") => T::Sint,
        Some("ip") => T::Addr,
        Some(o) => {
            return Err(format!(
                "unknown converter '{name}' (bad output type '{o}')"
            ))
        }
    };
    if parts.next().is_some() {
        return Err(format!("unknown converter '{name}'"));
    }
    let regm = m == "regm";
    let kind = if regm {
        MatchKind::Reg
    } else {
        MatchKind::parse(m).ok_or_else(|| format!("unknown converter '{name}'"))?
    };
    if matches!(
        kind,
        MatchKind::Found | MatchKind::Bool | MatchKind::Bin | MatchKind::Len | MatchKind::Meth
    ) {
        return Err(format!("unknown converter '{name}'"));
    }
    let map = map::load_shared(&a[0], kind, out)
        .map_err(|e| format!("invalid args in converter '{name}' : {e}"))?;
    let dflt = a
        .get(1)
        .map(|d| map::typed_value(d, out))
        .transpose()
        .map_err(|e| format!("converter '{name}' : default value {e}"))?;
    let tin = match kind {
        MatchKind::Int => T::Sint,
        MatchKind::Ip => T::Addr,
        _ => T::Str,
    };
    Ok((Conv::Map(map, out, dflt, regm), tin, out))
}

/// Splits `host[:port]`, `[v6]:port`: the host keeps its brackets, as haproxy's
/// `host_only` prints them.
fn split_host_port(b: &[u8]) -> (&[u8], Option<&[u8]>) {
    if b.first() == Some(&b'[') {
        if let Some(e) = b.iter().position(|&c| c == b']') {
            let rest = &b[e + 1..];
            return (&b[..=e], rest.strip_prefix(b":"));
        }
    }
    match b.iter().rposition(|&c| c == b':') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    }
}

fn bytes_of(s: Sample) -> Vec<u8> {
    match s {
        Sample::Str(v) | Sample::Bin(v) => v,
        other => other.to_text().into_owned(),
    }
}

impl Conv {
    /// Applies the converter to a sample already cast to its input type.
    pub fn apply(&self, s: Sample, ctx: &dyn SampleCtx) -> Option<Sample> {
        use Sample as S;
        Some(match self {
            Conv::Lower => {
                let mut v = bytes_of(s);
                v.make_ascii_lowercase();
                S::Str(v)
            }
            Conv::Upper => {
                let mut v = bytes_of(s);
                v.make_ascii_uppercase();
                S::Str(v)
            }
            Conv::Length => S::Sint(s.as_bytes()?.len() as i64),
            Conv::Bytes(off, len) => {
                let v = s.as_bytes()?;
                if *off >= v.len() {
                    return Some(S::Bin(Vec::new()));
                }
                let end = match len {
                    Some(l) => off.saturating_add(*l).min(v.len()),
                    None => v.len(),
                };
                S::Bin(v[*off..end].to_vec())
            }
            Conv::Field(i, d, c) => S::Str(cs::field(s.as_bytes()?, *i, d, *c)),
            Conv::Word(i, d, c) => S::Str(cs::word(s.as_bytes()?, *i, d, *c)),
            Conv::Regsub(re, sub, g) => S::Str(cs::regsub(re, sub, *g, s.as_bytes()?)),
            Conv::Concat(start, var, end) => {
                let mut v = bytes_of(s);
                v.extend_from_slice(start);
                if let Some(var) = var {
                    if let Some(x) = ctx.var(var.scope, &var.name) {
                        v.extend_from_slice(&x.to_text());
                    }
                }
                v.extend_from_slice(end);
                S::Str(v)
            }
            Conv::Strcmp(var) => {
                let other = ctx.var(var.scope, &var.name)?.cast(SmpType::Str)?;
                let (a, b) = (s.as_bytes()?, other.as_bytes()?);
                S::Sint(match a.cmp(b) {
                    std::cmp::Ordering::Less => -1,
                    std::cmp::Ordering::Equal => 0,
                    std::cmp::Ordering::Greater => 1,
                })
            }
            Conv::SecureMemcmp(var) => {
                let other = ctx.var(var.scope, &var.name)?.cast(SmpType::Str)?;
                let (a, b) = (s.as_bytes()?, other.as_bytes()?);
                // Constant-time over the length: no early exit on the first difference.
                let same = a.len() == b.len()
                    && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
                S::Bool(same)
            }
            Conv::Arith(op, arg) => S::Sint(arith(*op, s.to_int()?, arg.get(ctx)?)),
            Conv::Neg => S::Sint(s.to_int()?.wrapping_neg()),
            Conv::Not => S::Bool(s.to_int()? == 0),
            Conv::Bool => S::Bool(s.to_int()? != 0),
            Conv::Odd => S::Bool(s.to_int()? & 1 == 1),
            Conv::Even => S::Bool(s.to_int()? & 1 == 0),
            Conv::Ipmask(m4, m6) => match s {
                S::Ipv4(a) => S::Ipv4((u32::from(a) & m4).into()),
                S::Ipv6(a) => match m6 {
                    Some(m) => S::Ipv6((u128::from(a) & m).into()),
                    None => S::Ipv4((u32::from(super::value::v6_to_v4(&a)?) & m4).into()),
                },
                _ => return None,
            },
            Conv::Base64 => S::Str(
                base64::engine::general_purpose::STANDARD
                    .encode(s.as_bytes()?)
                    .into_bytes(),
            ),
            Conv::B64dec => S::Bin(
                base64::engine::general_purpose::STANDARD
                    .decode(s.as_bytes()?)
                    .ok()?,
            ),
            Conv::Hex => S::Str(cs::hex_upper(s.as_bytes()?)),
            Conv::Hex2i => S::Sint(cs::hex2i(s.as_bytes()?)?),
            Conv::UrlDec(form) => S::Str(cs::url_dec(s.as_bytes()?, *form)?),
            Conv::UrlEnc => S::Str(cs::url_enc(s.as_bytes()?)),
            Conv::Json(m) => S::Str(cs::json_escape(s.as_bytes()?, *m)?),
            Conv::JsonQuery(path, int) => {
                let v: serde_json::Value = serde_json::from_slice(s.as_bytes()?).ok()?;
                match cs::json_query(&v, path)? {
                    serde_json::Value::String(t) => S::Str(cs::json_latin1(t)),
                    serde_json::Value::Bool(b) => S::Bool(*b),
                    // haproxy reads numbers as doubles: 'int' truncates (and fails out of
                    // range), otherwise the text is printf's "%g" (1e3 -> 1000).
                    serde_json::Value::Number(n) if *int => match n.as_i64() {
                        Some(i) => S::Sint(i),
                        None => {
                            let f = n.as_f64()?;
                            if !(-9.2e18..=9.2e18).contains(&f) {
                                return None;
                            }
                            S::Sint(f as i64)
                        }
                    },
                    serde_json::Value::Number(n) => S::Str(cs::fmt_g(n.as_f64()?)?),
                    _ => return None,
                }
            }
            Conv::Be2dec(sep, c, t) => S::Str(cs::be2dec(s.as_bytes()?, sep, *c, *t)),
            Conv::Be2hex(sep, c, t) => S::Str(cs::be2hex(s.as_bytes()?, sep, *c, *t)),
            Conv::Hash(k, aval) => {
                let b = s.as_bytes()?;
                let h = match k {
                    HashKind::Crc32 => hh::crc32(b),
                    HashKind::Djb2 => hh::djb2(b),
                    HashKind::Sdbm => hh::sdbm(b),
                    HashKind::Wt6 => hh::wt6(b),
                };
                S::Sint(if *aval { hh::avalanche(h) } else { h } as i64)
            }
            Conv::Xxh3(seed) => {
                S::Sint(xxhash_rust::xxh3::xxh3_64_with_seed(s.as_bytes()?, *seed) as i64)
            }
            Conv::Xxh32(seed) => S::Sint(xxhash_rust::xxh32::xxh32(s.as_bytes()?, *seed) as i64),
            Conv::Xxh64(seed) => S::Sint(xxhash_rust::xxh64::xxh64(s.as_bytes()?, *seed) as i64),
            Conv::Digest(alg) => S::Bin(hh::digest(*alg, s.as_bytes()?)),
            Conv::Hmac(alg, key) => {
                let k = match key {
                    StrArg::Const(k) => k.clone(),
                    StrArg::Var(v) => {
                        let t = ctx.var(v.scope, &v.name)?;
                        base64::engine::general_purpose::STANDARD
                            .decode(t.as_bytes()?)
                            .ok()?
                    }
                };
                S::Bin(hh::hmac(*alg, &k, s.as_bytes()?))
            }
            Conv::Map(m, _, dflt, regm) => {
                if *regm {
                    match m.lookup_regm(s.as_bytes()?) {
                        Some(v) => S::Str(v),
                        None => dflt.clone()?,
                    }
                } else {
                    match m.lookup(&s) {
                        Some(v) => v.clone(),
                        None => dflt.clone()?,
                    }
                }
            }
            Conv::Time(fmt, off, local) => S::Str(conv_time::strftime(
                s.to_int()?.checked_add(*off)?,
                fmt,
                *local,
            )?),
            Conv::HttpDate(off, div) => S::Str(conv_time::http_date(s.to_int()?, *off, *div)?),
            Conv::Iif(t, f) => S::Str(if s.to_bool()? { t.clone() } else { f.clone() }),
            Conv::Ltrim(set) => {
                let b = s.as_bytes()?;
                let st = b.iter().position(|c| !set.contains(c)).unwrap_or(b.len());
                S::Str(b[st..].to_vec())
            }
            Conv::Rtrim(set) => {
                let b = s.as_bytes()?;
                let end = b
                    .iter()
                    .rposition(|c| !set.contains(c))
                    .map_or(0, |p| p + 1);
                S::Str(b[..end].to_vec())
            }
            Conv::CutCrlf => {
                let b = s.as_bytes()?;
                let end = b
                    .iter()
                    .position(|&c| c == b'\r' || c == b'\n')
                    .unwrap_or(b.len());
                S::Str(b[..end].to_vec())
            }
            Conv::Ub64enc => S::Str(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(s.as_bytes()?)
                    .into_bytes(),
            ),
            Conv::Ub64dec => {
                let b = s.as_bytes()?;
                let trimmed = b
                    .strip_suffix(b"==")
                    .or_else(|| b.strip_suffix(b"="))
                    .unwrap_or(b);
                S::Bin(
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(trimmed)
                        .ok()?,
                )
            }
            Conv::HostOnly => S::Str(split_host_port(s.as_bytes()?).0.to_vec()),
            Conv::PortOnly => {
                let p = split_host_port(s.as_bytes()?).1;
                S::Sint(
                    p.and_then(|p| std::str::from_utf8(p).ok()?.parse::<u16>().ok())
                        .unwrap_or(0) as i64,
                )
            }
            Conv::Nbsrv => S::Sint(ctx.nbsrv(Some(std::str::from_utf8(s.as_bytes()?).ok()?))?),
            Conv::Debug => s,
            Conv::SetVar(v) => {
                ctx.set_var(v.scope, &v.name, s.clone());
                s
            }
            Conv::UnsetVar(v) => {
                ctx.unset_var(v.scope, &v.name);
                s
            }
        })
    }
}
