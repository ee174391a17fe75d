//! Maps (`map_*` converters): a map file's keys compiled as a pattern set of the map's
//! match method, and the values parsed to the map's output type at load time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::acl::pattern::{read_map_file, IntOp, MatchKind, PatStore, PatternSet};

use super::value::{parse_ipv4, parse_ipv6, Sample, SmpType};

/// A loaded map.
#[derive(Clone, Debug)]
pub struct Map {
    /// Keys.
    pub keys: PatternSet,
    /// Values, already typed, in key order.
    pub values: Vec<Sample>,
    /// Value text (for `map_regm` substitutions).
    pub raw: Vec<Vec<u8>>,
}

/// Parses a map value to the output type (`str`, `int`, `ip`).
pub fn typed_value(v: &str, out: SmpType) -> Result<Sample, String> {
    match out {
        SmpType::Sint => v
            .trim()
            .parse::<i64>()
            .map(Sample::Sint)
            .map_err(|_| format!("'{v}' is not an integer")),
        SmpType::Addr => parse_ipv4(v.as_bytes())
            .map(Sample::Ipv4)
            .or_else(|| parse_ipv6(v.as_bytes()).map(Sample::Ipv6))
            .ok_or_else(|| format!("'{v}' is not an IP address")),
        _ => Ok(Sample::str(v)),
    }
}

impl Map {
    /// Builds a map from entries.
    pub fn from_entries(
        kind: MatchKind,
        out: SmpType,
        entries: &[(String, String)],
    ) -> Result<Map, String> {
        let mut keys = PatternSet::new(kind, false);
        let mut values = Vec::with_capacity(entries.len());
        let mut raw = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            keys.add(k, IntOp::Eq)?;
            values.push(typed_value(v, out)?);
            raw.push(v.as_bytes().to_vec());
        }
        Ok(Map { keys, values, raw })
    }

    /// Loads a map file.
    pub fn load(path: &str, kind: MatchKind, out: SmpType) -> Result<Map, String> {
        let entries = read_map_file(path)?;
        Map::from_entries(kind, out, &entries).map_err(|e| format!("map file <{path}>: {e}"))
    }

    /// Looks a sample up: exact keys by hash, prefixes and networks longest first, the
    /// others in file order.
    pub fn lookup(&self, s: &Sample) -> Option<&Sample> {
        self.values.get(self.keys.lookup(s)?)
    }

    /// `map_regm`: the value of the first matching regex with `\N` replaced by its groups.
    pub fn lookup_regm(&self, s: &[u8]) -> Option<Vec<u8>> {
        let PatStore::Reg(res) = &self.keys.store else {
            return None;
        };
        for (i, re) in res.iter().enumerate() {
            if let Some(c) = re.captures(s) {
                let v = &self.raw[i];
                let mut out = Vec::with_capacity(v.len());
                let mut j = 0;
                while j < v.len() {
                    if v[j] == b'\\' && j + 1 < v.len() && v[j + 1].is_ascii_digit() {
                        if let Some(m) = c.get((v[j + 1] - b'0') as usize) {
                            out.extend_from_slice(m.as_bytes());
                        }
                        j += 2;
                    } else {
                        out.push(v[j]);
                        j += 1;
                    }
                }
                return Some(out);
            }
        }
        None
    }
}

type Cache = Mutex<HashMap<(String, MatchKind, SmpType), Arc<Map>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Loads a map once per (file, method, output type): haproxy shares a file referenced by
/// several rules, and so does this cache until [`clear_cache`].
pub fn load_shared(path: &str, kind: MatchKind, out: SmpType) -> Result<Arc<Map>, String> {
    let key = (path.to_string(), kind, out);
    if let Some(m) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(m);
    }
    let m = Arc::new(Map::load(path, kind, out)?);
    if let Ok(mut c) = cache().lock() {
        c.insert(key, m.clone());
    }
    Ok(m)
}

/// Forgets loaded maps, so that a configuration (re)load reads the files again; maps
/// already referenced by parsed expressions stay alive through their `Arc`.
pub fn clear_cache() {
    if let Ok(mut c) = cache().lock() {
        c.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn kinds() {
        let m = Map::from_entries(
            MatchKind::Str,
            SmpType::Str,
            &e(&[("a.com", "be1"), ("b.com", "be2")]),
        )
        .unwrap();
        assert_eq!(m.lookup(&Sample::str("b.com")), Some(&Sample::str("be2")));
        assert_eq!(m.lookup(&Sample::str("c.com")), None);
        let m = Map::from_entries(
            MatchKind::Beg,
            SmpType::Str,
            &e(&[("/a", "1"), ("/a/b", "2")]),
        )
        .unwrap();
        assert_eq!(m.lookup(&Sample::str("/a/b/c")), Some(&Sample::str("2")));
        let m = Map::from_entries(
            MatchKind::Ip,
            SmpType::Sint,
            &e(&[("10.0.0.0/8", "1"), ("10.1.0.0/16", "2")]),
        )
        .unwrap();
        assert_eq!(
            m.lookup(&Sample::Ipv4("10.1.9.9".parse().unwrap())),
            Some(&Sample::Sint(2))
        );
        let m = Map::from_entries(
            MatchKind::Int,
            SmpType::Str,
            &e(&[("1:10", "low"), ("11:", "high")]),
        )
        .unwrap();
        assert_eq!(m.lookup(&Sample::Sint(50)), Some(&Sample::str("high")));
        let m =
            Map::from_entries(MatchKind::Dom, SmpType::Str, &e(&[("example.com", "x")])).unwrap();
        assert_eq!(
            m.lookup(&Sample::str("www.example.com")),
            Some(&Sample::str("x"))
        );
        let m = Map::from_entries(
            MatchKind::Sub,
            SmpType::Str,
            &e(&[("adm", "a"), ("x", "b")]),
        )
        .unwrap();
        assert_eq!(m.lookup(&Sample::str("/admin/x")), Some(&Sample::str("a")));
        let m = Map::from_entries(MatchKind::End, SmpType::Str, &e(&[(".jpg", "img")])).unwrap();
        assert_eq!(m.lookup(&Sample::str("/a.jpg")), Some(&Sample::str("img")));
        let m = Map::from_entries(
            MatchKind::Reg,
            SmpType::Str,
            &e(&[("^/u/([0-9]+)$", "user-\\1")]),
        )
        .unwrap();
        assert_eq!(
            m.lookup(&Sample::str("/u/42")),
            Some(&Sample::str("user-\\1"))
        );
        assert_eq!(m.lookup_regm(b"/u/42"), Some(b"user-42".to_vec()));
        assert!(Map::from_entries(MatchKind::Str, SmpType::Sint, &e(&[("a", "x")])).is_err());
    }

    #[test]
    fn shared_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("m.map");
        std::fs::write(&f, "a 1\n").unwrap();
        let p = f.to_str().unwrap();
        let m1 = load_shared(p, MatchKind::Str, SmpType::Str).unwrap();
        let m2 = load_shared(p, MatchKind::Str, SmpType::Str).unwrap();
        assert!(Arc::ptr_eq(&m1, &m2));
        std::fs::write(&f, "a 2\n").unwrap();
        clear_cache();
        let m3 = load_shared(p, MatchKind::Str, SmpType::Str).unwrap();
        assert_eq!(m3.lookup(&Sample::str("a")), Some(&Sample::str("2")));
        assert_eq!(m1.lookup(&Sample::str("a")), Some(&Sample::str("1")));
    }
}
