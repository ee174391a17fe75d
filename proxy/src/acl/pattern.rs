//! Patterns and match methods (`-m str|beg|end|sub|reg|dom|dir|len|int|ip|bin|found|bool`),
//! compiled into lookup structures so matching a sample never allocates.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};

use regex::bytes::{Regex, RegexBuilder};

use crate::sample::value::{v6_to_v4, Method, Sample, SmpType};

/// A match method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// The sample exists.
    Found,
    /// The sample, as an integer, is not zero.
    Bool,
    /// Integer equality / ranges.
    Int,
    /// Address in a network.
    Ip,
    /// Exact binary content (hex patterns).
    Bin,
    /// String length in a range.
    Len,
    /// Exact string.
    Str,
    /// Prefix.
    Beg,
    /// Substring.
    Sub,
    /// Slash-delimited path component.
    Dir,
    /// Dot/slash-delimited domain component.
    Dom,
    /// Suffix.
    End,
    /// Regular expression.
    Reg,
    /// HTTP method.
    Meth,
}

impl MatchKind {
    /// Parses the name after `-m`.
    pub fn parse(s: &str) -> Option<MatchKind> {
        Some(match s {
            "found" => MatchKind::Found,
            "bool" => MatchKind::Bool,
            "int" => MatchKind::Int,
            "ip" => MatchKind::Ip,
            "bin" => MatchKind::Bin,
            "len" => MatchKind::Len,
            "str" => MatchKind::Str,
            "beg" => MatchKind::Beg,
            "sub" => MatchKind::Sub,
            "dir" => MatchKind::Dir,
            "dom" => MatchKind::Dom,
            "end" => MatchKind::End,
            "reg" => MatchKind::Reg,
            // "meth" is only the implicit method of `method`: haproxy 2.6 rejects `-m meth`.
            _ => return None,
        })
    }

    /// The sample type this method needs (the sample is cast to it before matching).
    pub fn input_type(self) -> SmpType {
        match self {
            MatchKind::Found => SmpType::Any,
            MatchKind::Bool | MatchKind::Int => SmpType::Sint,
            MatchKind::Ip => SmpType::Addr,
            MatchKind::Bin => SmpType::Bin,
            MatchKind::Meth => SmpType::Meth,
            _ => SmpType::Str,
        }
    }

    /// The default method for a sample expression's output type (when no `-m` is given
    /// and the keyword is not a derived ACL keyword).
    pub fn default_for(t: SmpType) -> Option<MatchKind> {
        Some(match t {
            SmpType::Bool => MatchKind::Bool,
            SmpType::Sint => MatchKind::Int,
            SmpType::Addr | SmpType::Ipv4 | SmpType::Ipv6 => MatchKind::Ip,
            SmpType::Str => MatchKind::Str,
            SmpType::Bin => MatchKind::Bin,
            SmpType::Meth => MatchKind::Meth,
            SmpType::Any => return None,
        })
    }
}

/// A hashed set of byte strings, optionally case-insensitive; lookups hash the sample in
/// place (lower-casing on the fly) so they never allocate.
#[derive(Clone, Debug, Default)]
pub struct StrSet {
    icase: bool,
    keys: Vec<Box<[u8]>>,
    buckets: HashMap<u64, Vec<u32>>,
    hasher: std::collections::hash_map::RandomState,
}

impl StrSet {
    /// An empty set.
    pub fn new(icase: bool) -> Self {
        StrSet {
            icase,
            ..Default::default()
        }
    }

    fn hash(&self, b: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        if self.icase {
            let mut buf = [0u8; 64];
            for chunk in b.chunks(64) {
                for (d, s) in buf.iter_mut().zip(chunk) {
                    *d = s.to_ascii_lowercase();
                }
                h.write(&buf[..chunk.len()]);
            }
        } else {
            h.write(b);
        }
        h.write_usize(b.len());
        h.finish()
    }

    /// Adds a key; its index is the number of keys added before it.
    pub fn insert(&mut self, k: &[u8]) {
        let idx = self.keys.len() as u32;
        let h = self.hash(k);
        self.keys.push(k.into());
        self.buckets.entry(h).or_default().push(idx);
    }

    /// Index of the first key equal to `k`.
    pub fn lookup(&self, k: &[u8]) -> Option<usize> {
        let b = self.buckets.get(&self.hash(k))?;
        b.iter().map(|&i| i as usize).find(|&i| {
            if self.icase {
                self.keys[i].eq_ignore_ascii_case(k)
            } else {
                &*self.keys[i] == k
            }
        })
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// An integer range, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    /// Lower bound (None: unbounded).
    pub min: Option<i64>,
    /// Upper bound.
    pub max: Option<i64>,
}

impl IntRange {
    fn contains(&self, v: i64) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

/// Integer comparison operator that precedes integer patterns (`gt 5`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOp {
    /// eq
    Eq,
    /// ge
    Ge,
    /// gt
    Gt,
    /// le
    Le,
    /// lt
    Lt,
}

impl IntOp {
    /// Parses an operator word.
    pub fn parse(s: &str) -> Option<IntOp> {
        Some(match s {
            "eq" => IntOp::Eq,
            "ge" => IntOp::Ge,
            "gt" => IntOp::Gt,
            "le" => IntOp::Le,
            "lt" => IntOp::Lt,
            _ => return None,
        })
    }
}

fn parse_i64(s: &str) -> Result<i64, String> {
    // haproxy: optional '-' then decimal digits only ("+5", "0x10" are refused).
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("'{s}' is not a number."));
    }
    s.parse::<i64>()
        .map_err(|_| format!("'{s}' is not a number."))
}

/// Parses `10`, `10:20`, `:5`, `5:` with an optional preceding operator. As in haproxy
/// 2.6, range bounds are unsigned and ordered, and `:` alone is refused.
pub fn parse_int_range(s: &str, op: IntOp) -> Result<IntRange, String> {
    if let Some((a, b)) = s.split_once(':') {
        let bad = || format!("'{s}' is not a valid number range.");
        let bound = |x: &str| -> Result<Option<i64>, String> {
            if x.is_empty() {
                return Ok(None);
            }
            if !x.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            x.parse::<i64>().map(Some).map_err(|_| bad())
        };
        let (min, max) = (bound(a)?, bound(b)?);
        if (min.is_none() && max.is_none()) || matches!((min, max), (Some(x), Some(y)) if x > y) {
            return Err(bad());
        }
        return Ok(IntRange { min, max });
    }
    let v = parse_i64(s)?;
    Ok(match op {
        IntOp::Eq => IntRange {
            min: Some(v),
            max: Some(v),
        },
        IntOp::Ge => IntRange {
            min: Some(v),
            max: None,
        },
        IntOp::Gt => IntRange {
            min: Some(v.saturating_add(1)),
            max: None,
        },
        IntOp::Le => IntRange {
            min: None,
            max: Some(v),
        },
        IntOp::Lt => IntRange {
            min: None,
            max: Some(v.saturating_sub(1)),
        },
    })
}

/// Networks by prefix length, looked up longest prefix first.
#[derive(Clone, Debug, Default)]
pub struct IpSet {
    v4: Vec<(u8, HashMap<u32, u32>)>,
    v6: Vec<(u8, HashMap<u128, u32>)>,
    v4_masks: Vec<(u32, u32, u32)>,
}

fn mask4(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    }
}

fn mask6(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - len as u32)
    }
}

impl IpSet {
    /// Adds a network with the pattern index `idx` (first added wins on duplicates).
    pub fn insert(&mut self, net: IpNet, idx: u32) {
        match net {
            IpNet::V4Mask(a, m) => self.v4_masks.push((u32::from(a) & m, m, idx)),
            IpNet::V4(a, l) => {
                let pos = match self.v4.iter().position(|(x, _)| *x == l) {
                    Some(p) => p,
                    None => {
                        self.v4.push((l, HashMap::new()));
                        self.v4.sort_by_key(|e| std::cmp::Reverse(e.0));
                        self.v4.iter().position(|(x, _)| *x == l).unwrap_or(0)
                    }
                };
                self.v4[pos].1.entry(u32::from(a) & mask4(l)).or_insert(idx);
            }
            IpNet::V6(a, l) => {
                let pos = match self.v6.iter().position(|(x, _)| *x == l) {
                    Some(p) => p,
                    None => {
                        self.v6.push((l, HashMap::new()));
                        self.v6.sort_by_key(|e| std::cmp::Reverse(e.0));
                        self.v6.iter().position(|(x, _)| *x == l).unwrap_or(0)
                    }
                };
                self.v6[pos]
                    .1
                    .entry(u128::from(a) & mask6(l))
                    .or_insert(idx);
            }
        }
    }

    fn find4(&self, a: Ipv4Addr) -> Option<u32> {
        let v = u32::from(a);
        self.v4
            .iter()
            .find_map(|(l, m)| m.get(&(v & mask4(*l))).copied())
            .or_else(|| {
                self.v4_masks
                    .iter()
                    .find(|(net, m, _)| v & m == *net)
                    .map(|e| e.2)
            })
    }

    fn find6(&self, a: Ipv6Addr) -> Option<u32> {
        let v = u128::from(a);
        self.v6
            .iter()
            .find_map(|(l, m)| m.get(&(v & mask6(*l))).copied())
    }

    /// Longest-prefix match; IPv4 samples also try IPv4-mapped IPv6 networks and IPv6
    /// samples carrying an IPv4 address try IPv4 networks, as haproxy's `pat_match_ip`.
    pub fn lookup(&self, s: &Sample) -> Option<usize> {
        match s {
            Sample::Ipv4(a) => self.find4(*a).or_else(|| self.find6(a.to_ipv6_mapped())),
            Sample::Ipv6(a) => self.find6(*a).or_else(|| self.find4(v6_to_v4(a)?)),
            _ => None,
        }
        .map(|i| i as usize)
    }
}

/// A network pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpNet {
    /// IPv4 network and prefix length.
    V4(Ipv4Addr, u8),
    /// IPv6 network and prefix length.
    V6(Ipv6Addr, u8),
    /// IPv4 network with a non-contiguous mask.
    V4Mask(Ipv4Addr, u32),
}

/// Parses `1.2.3.4`, `1.2.3.0/24`, `1.2.3.0/255.255.255.0`, `::1`, `2001:db8::/32`.
pub fn parse_ipnet(s: &str) -> Result<IpNet, String> {
    parse_ipnet_opt(s, false)
}

/// haproxy's abbreviated IPv4 forms (inet_aton rules, decimal only): `a`, `a.b`, `a.b.c`,
/// `a.b.c.d`, the last part filling the remaining bytes ("127.1" is 127.0.0.1).
pub fn parse_ipv4_loose(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        if p.is_empty() || p.len() > 10 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        nums.push(p.parse::<u64>().ok()?);
    }
    let last = *nums.last()?;
    let head = &nums[..nums.len() - 1];
    if head.iter().any(|&n| n > 255) {
        return None;
    }
    let rest_bits = 8 * (4 - head.len() as u32);
    if rest_bits < 64 && last >= (1u64 << rest_bits) {
        return None;
    }
    let mut v: u32 = 0;
    for (i, &n) in head.iter().enumerate() {
        v |= (n as u32) << (24 - 8 * i as u32);
    }
    Some(Ipv4Addr::from(v | last as u32))
}

/// Like [`parse_ipnet`]; with `resolve`, a host name is looked up once (as haproxy does
/// at configuration time unless `-n` is given) and its first IPv4 address is used.
pub fn parse_ipnet_opt(s: &str, resolve: bool) -> Result<IpNet, String> {
    let bad = || format!("'{s}' is not a valid IPv4 or IPv6 address.");
    let (a, m) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let v4 = parse_ipv4_loose(a).or_else(|| {
        if !resolve || a.parse::<Ipv6Addr>().is_ok() || a.is_empty() {
            return None;
        }
        use std::net::ToSocketAddrs;
        (a, 0u16)
            .to_socket_addrs()
            .ok()?
            .find_map(|sa| match sa.ip() {
                std::net::IpAddr::V4(v) => Some(v),
                _ => None,
            })
    });
    if let Some(v4) = v4 {
        return match m {
            None => Ok(IpNet::V4(v4, 32)),
            Some(m) => match m.parse::<u8>() {
                Ok(l) if l <= 32 => Ok(IpNet::V4(v4, l)),
                Ok(_) => Err(bad()),
                Err(_) => {
                    let v = u32::from(m.parse::<Ipv4Addr>().map_err(|_| bad())?);
                    if v.leading_ones() + v.trailing_zeros() == 32 {
                        Ok(IpNet::V4(v4, v.leading_ones() as u8))
                    } else {
                        // haproxy accepts non-contiguous masks (matched by scanning).
                        Ok(IpNet::V4Mask(v4, v))
                    }
                }
            },
        };
    }
    if let Ok(v6) = a.parse::<Ipv6Addr>() {
        let len = match m {
            None => 128,
            Some(m) => match m.parse::<u8>() {
                Ok(l) if l <= 128 => l,
                _ => return Err(bad()),
            },
        };
        return Ok(IpNet::V6(v6, len));
    }
    Err(bad())
}

/// Compiled patterns of one match method.
#[derive(Clone, Debug)]
pub enum PatStore {
    /// found/bool: no pattern.
    Nothing,
    /// Exact strings (str) or bytes (bin).
    Exact(StrSet),
    /// Prefixes: the set plus the distinct lengths, longest first.
    Prefix(StrSet, Vec<usize>),
    /// Patterns scanned in order (sub, end, dir, dom).
    List(Vec<Box<[u8]>>),
    /// Regexes, in order.
    Reg(Vec<Regex>),
    /// Integer ranges (int, len), in order.
    Int(Vec<IntRange>),
    /// Networks.
    Ip(IpSet),
    /// Methods.
    Meth(Vec<Method>),
}

/// The patterns of one ACL line or one map, with their match method.
#[derive(Clone, Debug)]
pub struct PatternSet {
    /// Match method.
    pub kind: MatchKind,
    /// Case-insensitive (`-i`).
    pub icase: bool,
    /// Compiled patterns.
    pub store: PatStore,
    /// Resolve host names in IP patterns (cleared by `-n`).
    pub resolve: bool,
    count: usize,
}

impl PatternSet {
    /// An empty set for a method.
    pub fn new(kind: MatchKind, icase: bool) -> Self {
        let store = match kind {
            MatchKind::Found | MatchKind::Bool => PatStore::Nothing,
            MatchKind::Str => PatStore::Exact(StrSet::new(icase)),
            MatchKind::Bin => PatStore::Exact(StrSet::new(false)),
            MatchKind::Beg => PatStore::Prefix(StrSet::new(icase), Vec::new()),
            MatchKind::Sub | MatchKind::End | MatchKind::Dir | MatchKind::Dom => {
                PatStore::List(Vec::new())
            }
            MatchKind::Reg => PatStore::Reg(Vec::new()),
            MatchKind::Int | MatchKind::Len => PatStore::Int(Vec::new()),
            MatchKind::Ip => PatStore::Ip(IpSet::default()),
            MatchKind::Meth => PatStore::Meth(Vec::new()),
        };
        PatternSet {
            kind,
            icase,
            store,
            resolve: true,
            count: 0,
        }
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there is no pattern.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds one pattern in text form (`op` applies to integer patterns).
    pub fn add(&mut self, pat: &str, op: IntOp) -> Result<(), String> {
        let idx = self.count as u32;
        match &mut self.store {
            // haproxy 2.6 accepts and ignores patterns after `-m found` / `-m bool`.
            PatStore::Nothing => {}
            PatStore::Exact(set) => {
                if self.kind == MatchKind::Bin {
                    let b = crate::sample::fetch_misc::parse_hex(pat)
                        .ok_or_else(|| "an even number of hex digit is expected.".to_string())?;
                    set.insert(&b);
                } else {
                    set.insert(pat.as_bytes());
                }
            }
            PatStore::Prefix(set, lens) => {
                set.insert(pat.as_bytes());
                if !lens.contains(&pat.len()) {
                    lens.push(pat.len());
                    lens.sort_unstable_by(|a, b| b.cmp(a));
                }
            }
            PatStore::List(l) => l.push(pat.as_bytes().into()),
            PatStore::Reg(l) => l.push(
                RegexBuilder::new(pat)
                    .case_insensitive(self.icase)
                    .build()
                    .map_err(|e| format!("regex '{pat}' is invalid: {e}"))?,
            ),
            PatStore::Int(l) => l.push(parse_int_range(pat, op)?),
            PatStore::Ip(set) => set.insert(parse_ipnet_opt(pat, self.resolve)?, idx),
            PatStore::Meth(l) => l.push(Method::from_bytes(pat.as_bytes())),
        }
        self.count += 1;
        Ok(())
    }

    /// Whether a sample matches any pattern.
    pub fn matches(&self, s: &Sample) -> bool {
        match self.kind {
            MatchKind::Found => true,
            MatchKind::Bool => s.to_bool().unwrap_or(false),
            _ => self.lookup(s).is_some(),
        }
    }

    /// Index of the matching pattern (the one a map returns the value of). The sample must
    /// already have the method's input type or be castable to it.
    pub fn lookup(&self, s: &Sample) -> Option<usize> {
        let icase = self.icase;
        let eq = |a: &[u8], b: &[u8]| {
            if icase {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        match &self.store {
            PatStore::Nothing => None,
            PatStore::Ip(set) => match s {
                Sample::Ipv4(_) | Sample::Ipv6(_) => set.lookup(s),
                _ => set.lookup(&s.clone().cast(SmpType::Addr)?),
            },
            PatStore::Int(l) => {
                let v = if self.kind == MatchKind::Len {
                    s.as_bytes()
                        .map(|b| b.len() as i64)
                        .or_else(|| Some(s.to_text().len() as i64))?
                } else {
                    s.to_int()?
                };
                l.iter().position(|r| r.contains(v))
            }
            PatStore::Meth(l) => {
                let m = match s {
                    Sample::Meth(m) => std::borrow::Cow::Borrowed(m),
                    _ => std::borrow::Cow::Owned(Method::from_bytes(s.as_bytes()?)),
                };
                l.iter().position(|p| match (p, m.as_ref()) {
                    (Method::Other(a), Method::Other(b)) => eq(a, b),
                    (a, b) => a == b,
                })
            }
            _ => {
                let owned;
                let b: &[u8] = match s.as_bytes() {
                    Some(b) => b,
                    None => {
                        owned = s.to_text();
                        &owned
                    }
                };
                self.lookup_bytes(b)
            }
        }
    }

    /// Index of the pattern matching a string sample given as bytes (string methods,
    /// `len` and `bin`): the allocation-free path used by ACLs on borrowed header values.
    pub fn lookup_bytes(&self, b: &[u8]) -> Option<usize> {
        let icase = self.icase;
        let eq = |a: &[u8], b: &[u8]| {
            if icase {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        match &self.store {
            PatStore::Exact(set) => set.lookup(b),
            PatStore::Prefix(set, lens) => lens
                .iter()
                .filter(|&&l| l <= b.len())
                .find_map(|&l| set.lookup(&b[..l])),
            PatStore::List(l) => l.iter().position(|p| match self.kind {
                MatchKind::End => p.len() <= b.len() && eq(&b[b.len() - p.len()..], p),
                MatchKind::Sub => find_sub(b, p, icase),
                MatchKind::Dir => match_word(b, p, icase, b"/?"),
                _ => match_word(b, p, icase, b"/?.:"),
            }),
            PatStore::Reg(l) => l.iter().position(|r| r.is_match(b)),
            PatStore::Int(l) if self.kind == MatchKind::Len => {
                l.iter().position(|r| r.contains(b.len() as i64))
            }
            _ => None,
        }
    }
}

fn find_sub(h: &[u8], n: &[u8], icase: bool) -> bool {
    if n.len() > h.len() {
        return false;
    }
    if n.is_empty() {
        return true;
    }
    h.windows(n.len()).any(|w| {
        if icase {
            w.eq_ignore_ascii_case(n)
        } else {
            w == n
        }
    })
}

/// haproxy's `match_word`: the pattern (trimmed of delimiters) appears between delimiters
/// or string ends.
pub fn match_word(s: &[u8], p: &[u8], icase: bool, delims: &[u8]) -> bool {
    let mut p = p;
    while let [c, rest @ ..] = p {
        if !delims.contains(c) {
            break;
        }
        p = rest;
    }
    while let [rest @ .., c] = p {
        if !delims.contains(c) {
            break;
        }
        p = rest;
    }
    let pl = p.len();
    if pl == 0 || pl > s.len() {
        return false;
    }
    let mut may = true;
    for i in 0..=(s.len() - pl) {
        if delims.contains(&s[i]) {
            may = true;
            continue;
        }
        if !may {
            continue;
        }
        let w = &s[i..i + pl];
        let same = if icase {
            w.eq_ignore_ascii_case(p)
        } else {
            w == p
        };
        if same && (i + pl == s.len() || delims.contains(&s[i + pl])) {
            return true;
        }
        may = false;
    }
    false
}

/// Reads a pattern file: one pattern per line, leading blanks skipped, lines starting
/// with '#' and empty lines ignored (trailing blanks are kept, as haproxy does).
pub fn read_pattern_file(path: &str) -> Result<Vec<String>, String> {
    let data = std::fs::read(path).map_err(|_| format!("failed to open pattern file <{path}>."))?;
    let mut out = Vec::new();
    for line in data.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'#') {
            continue;
        }
        let start = line
            .iter()
            .position(|&c| c != b' ' && c != b'\t')
            .unwrap_or(line.len());
        let l = &line[start..];
        if l.is_empty() {
            continue;
        }
        out.push(String::from_utf8_lossy(l).into_owned());
    }
    Ok(out)
}

/// Reads a map file: `key value` per line, blanks around both trimmed. As in haproxy
/// 2.6, only a '#' in the first column starts a comment: "  # x" is key "#", value "x",
/// and a '#' after the value is part of it.
pub fn read_map_file(path: &str) -> Result<Vec<(String, String)>, String> {
    // haproxy says "pattern file" for maps too.
    let data = std::fs::read(path).map_err(|_| format!("failed to open pattern file <{path}>."))?;
    let mut out = Vec::new();
    for line in data.split(|&c| c == b'\n') {
        let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned();
        if line.starts_with('#') {
            continue;
        }
        let t = line.trim_start_matches([' ', '\t']);
        if t.is_empty() {
            continue;
        }
        let (k, v) = match t.find([' ', '\t']) {
            Some(p) => (&t[..p], t[p..].trim_matches([' ', '\t'])),
            None => (t, ""),
        };
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(kind: MatchKind, icase: bool, pats: &[&str]) -> PatternSet {
        let mut s = PatternSet::new(kind, icase);
        for p in pats {
            s.add(p, IntOp::Eq).unwrap();
        }
        s
    }

    #[test]
    fn string_methods() {
        let s = set(MatchKind::Str, false, &["/a", "/b"]);
        assert!(s.matches(&Sample::str("/b")));
        assert!(!s.matches(&Sample::str("/B")));
        assert!(set(MatchKind::Str, true, &["/a"]).matches(&Sample::str("/A")));
        let b = set(MatchKind::Beg, false, &["/api", "/api/v2"]);
        assert_eq!(b.lookup(&Sample::str("/api/v2/x")), Some(1));
        assert_eq!(b.lookup(&Sample::str("/apix")), Some(0));
        assert!(!b.matches(&Sample::str("/ap")));
        assert!(set(MatchKind::End, false, &[".jpg"]).matches(&Sample::str("/a.jpg")));
        assert!(set(MatchKind::End, true, &[".JPG"]).matches(&Sample::str("/a.jpg")));
        assert!(set(MatchKind::Sub, false, &["adm"]).matches(&Sample::str("/x/admin")));
        assert!(!set(MatchKind::Sub, false, &["ADM"]).matches(&Sample::str("/x/admin")));
        assert!(set(MatchKind::Reg, true, &["^/A.*z$"]).matches(&Sample::str("/abcz")));
        assert!(!set(MatchKind::Reg, false, &["^/A"]).matches(&Sample::str("/abcz")));
    }

    #[test]
    fn dir_and_dom() {
        let d = set(MatchKind::Dir, false, &["img"]);
        assert!(d.matches(&Sample::str("/static/img/x.png")));
        assert!(d.matches(&Sample::str("/img?x")));
        assert!(!d.matches(&Sample::str("/images/x")));
        let d2 = set(MatchKind::Dir, false, &["/a/b/"]);
        assert!(d2.matches(&Sample::str("/x/a/b/c")));
        let m = set(MatchKind::Dom, false, &["example.com"]);
        assert!(m.matches(&Sample::str("www.example.com")));
        assert!(m.matches(&Sample::str("example.com:80")));
        assert!(!m.matches(&Sample::str("www.myexample.com")));
    }

    #[test]
    fn ints_lens() {
        let mut s = PatternSet::new(MatchKind::Int, false);
        s.add("10:20", IntOp::Eq).unwrap();
        s.add(":5", IntOp::Eq).unwrap();
        s.add("100", IntOp::Gt).unwrap();
        for (v, want) in [
            (15, true),
            (3, true),
            (7, false),
            (100, false),
            (101, true),
            (-4, true),
        ] {
            assert_eq!(s.matches(&Sample::Sint(v)), want, "{v}");
        }
        assert!(s.matches(&Sample::str("15")));
        let mut l = PatternSet::new(MatchKind::Len, false);
        l.add("3", IntOp::Ge).unwrap();
        assert!(l.matches(&Sample::str("abc")));
        assert!(!l.matches(&Sample::str("ab")));
        // Captured from haproxy 2.6.12.
        for bad in ["x", "0x10", "+5", "-5:-1", "6:4", ":"] {
            assert!(
                PatternSet::new(MatchKind::Int, false)
                    .add(bad, IntOp::Eq)
                    .is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            parse_int_range("0x10", IntOp::Eq).unwrap_err(),
            "'0x10' is not a number."
        );
        assert_eq!(
            parse_int_range("6:4", IntOp::Eq).unwrap_err(),
            "'6:4' is not a valid number range."
        );
        assert_eq!(
            parse_int_range("-3", IntOp::Eq).unwrap(),
            IntRange {
                min: Some(-3),
                max: Some(-3)
            }
        );
        assert_eq!(
            parse_int_range("05", IntOp::Eq).unwrap(),
            IntRange {
                min: Some(5),
                max: Some(5)
            }
        );
        assert_eq!(
            parse_int_range("3:3", IntOp::Eq).unwrap(),
            IntRange {
                min: Some(3),
                max: Some(3)
            }
        );
        assert_eq!(
            parse_int_range("5:", IntOp::Eq).unwrap(),
            IntRange {
                min: Some(5),
                max: None
            }
        );
        assert_eq!(
            parse_int_range("5", IntOp::Lt).unwrap(),
            IntRange {
                min: None,
                max: Some(4)
            }
        );
        assert_eq!(
            parse_int_range("5", IntOp::Le).unwrap(),
            IntRange {
                min: None,
                max: Some(5)
            }
        );
        assert_eq!(
            parse_int_range("5", IntOp::Ge).unwrap(),
            IntRange {
                min: Some(5),
                max: None
            }
        );
    }

    #[test]
    fn ips() {
        let s = set(
            MatchKind::Ip,
            false,
            &[
                "10.0.0.0/8",
                "192.168.1.0/255.255.255.0",
                "2001:db8::/32",
                "::1",
            ],
        );
        let v4 = |s: &str| Sample::Ipv4(s.parse().unwrap());
        let v6 = |s: &str| Sample::Ipv6(s.parse().unwrap());
        assert!(s.matches(&v4("10.2.3.4")));
        assert!(s.matches(&v4("192.168.1.9")));
        assert!(!s.matches(&v4("192.168.2.9")));
        assert!(s.matches(&v6("2001:db8::5")));
        assert!(s.matches(&v6("::1")));
        assert!(s.matches(&v6("::ffff:10.1.1.1")));
        assert!(!s.matches(&v6("2001:db9::5")));
        assert!(s.matches(&Sample::str("10.9.9.9")));
        let m = set(MatchKind::Ip, false, &["10.0.0.0/8", "10.1.0.0/16"]);
        assert_eq!(m.lookup(&v4("10.1.2.3")), Some(1));
        assert_eq!(m.lookup(&v4("10.2.2.3")), Some(0));
        // Captured from haproxy 2.6.12 with src 127.0.0.1: abbreviated forms follow
        // inet_aton ("127/8" is 0.0.0.127/8), non-contiguous masks are accepted.
        let lo = v4("127.0.0.1");
        for (p, want) in [
            ("127/8", false),
            ("127.1", true),
            ("0/8", false),
            ("127.0.0.0/255.0.0.255", false),
            ("127.0.0.1/255.0.0.255", true),
            ("127.0.0.2/255.0.0.255", false),
            ("localhost", true),
            ("1.2.3.4/0", true),
            ("127.0.1", true),
        ] {
            assert_eq!(set(MatchKind::Ip, false, &[p]).matches(&lo), want, "{p}");
        }
        for p in [
            "1.2.3.4/33",
            "::1/129",
            "0x7f000001",
            "1.2.3.4.5",
            "256.1.1.1",
        ] {
            assert!(parse_ipnet(p).is_err(), "{p}");
        }
        let mut nodns = PatternSet::new(MatchKind::Ip, false);
        nodns.resolve = false;
        assert!(nodns.add("localhost", IntOp::Eq).is_err());
        assert!(parse_ipnet("nope").is_err());
        let v6set = set(MatchKind::Ip, false, &["::ffff:1.2.3.0/120"]);
        assert!(v6set.matches(&v4("1.2.3.4")));
    }

    #[test]
    fn bin_bool_found_meth() {
        assert!(set(MatchKind::Bin, false, &["4142"]).matches(&Sample::str("AB")));
        assert!(PatternSet::new(MatchKind::Bin, false)
            .add("4", IntOp::Eq)
            .is_err());
        let b = PatternSet::new(MatchKind::Bool, false);
        assert!(b.matches(&Sample::Sint(3)));
        assert!(!b.matches(&Sample::Sint(0)));
        assert!(b.matches(&Sample::Bool(true)));
        assert!(PatternSet::new(MatchKind::Found, false).matches(&Sample::str("")));
        // Captured from haproxy 2.6.12: patterns after -m found are ignored.
        let mut f = PatternSet::new(MatchKind::Found, false);
        f.add("x", IntOp::Eq).unwrap();
        assert!(f.matches(&Sample::str("y")));
        let m = set(MatchKind::Meth, false, &["GET", "PURGE"]);
        assert!(m.matches(&Sample::Meth(Method::Get)));
        assert!(m.matches(&Sample::Meth(Method::from_bytes(b"PURGE"))));
        assert!(!m.matches(&Sample::Meth(Method::Post)));
        assert!(!m.matches(&Sample::Meth(Method::from_bytes(b"get"))));
    }

    #[test]
    fn files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.lst");
        std::fs::write(&p, "# comment\n  /a\n\n/b\r\n").unwrap();
        assert_eq!(
            read_pattern_file(p.to_str().unwrap()).unwrap(),
            vec!["/a", "/b"]
        );
        let m = dir.path().join("m.map");
        // Same file as fed to haproxy 2.6.12, and what its map() returned.
        std::fs::write(
            &m,
            "# c\nk1   v1  \n  k2\tv 2 # c\n   # indented comment\nk3\n",
        )
        .unwrap();
        assert_eq!(
            read_map_file(m.to_str().unwrap()).unwrap(),
            vec![
                ("k1".into(), "v1".into()),
                ("k2".into(), "v 2 # c".into()),
                ("#".into(), "indented comment".into()),
                ("k3".into(), "".into())
            ]
        );
        let p2 = dir.path().join("p2.lst");
        std::fs::write(&p2, "/a  \n  /b\n#/c\n /d # x\n").unwrap();
        assert_eq!(
            read_pattern_file(p2.to_str().unwrap()).unwrap(),
            vec!["/a  ", "/b", "/d # x"]
        );
        assert!(read_pattern_file("/nonexistent/x").is_err());
    }
}
