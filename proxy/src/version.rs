//! Version and build features, as `-v`/`-vv` print them and `.if feature(...)` sees them.

/// Fulcrum's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The haproxy version whose behaviour Fulcrum implements (`version_atleast()` compares
/// against it).
pub const HAPROXY_COMPAT: &str = "2.6";

/// Features this build really has (`+NAME` in `-vv`, true in `.if feature(NAME)`).
pub const FEATURES: &[&str] = &["EPOLL", "GETADDRINFO", "REUSEPORT", "THREAD"];

/// Features haproxy builds may have and this one has not yet (`-NAME` in `-vv`).
pub const MISSING: &[&str] = &["LUA", "OPENSSL", "PCRE2", "PROMEX", "QUIC", "ZLIB"];

/// The features that `.if feature()` accepts as present.
pub fn features() -> Vec<&'static str> {
    FEATURES.to_vec()
}

/// `-v` output.
pub fn short() -> String {
    format!(
        "Fulcrum version {VERSION} (HAProxy {HAPROXY_COMPAT} compatible) - a Rust load balancer\n"
    )
}

/// `-vv` output: `-v` plus the feature list, in haproxy's layout.
pub fn long() -> String {
    let mut names: Vec<(bool, &str)> = features().into_iter().map(|f| (true, f)).collect();
    names.extend(MISSING.iter().map(|f| (false, *f)));
    names.sort_by(|a, b| a.1.cmp(b.1));
    let list: Vec<String> = names
        .iter()
        .map(|(on, n)| format!("{}{n}", if *on { '+' } else { '-' }))
        .collect();
    format!(
        "{}\nFeature list : {}\n\nBuilt with multi-threading support (default={}).\n",
        short(),
        list.join(" "),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn feature_list_names_what_is_there_and_what_is_not() {
        let l = super::long();
        assert!(l.contains("Feature list : "));
        assert!(l.contains("+THREAD"));
        assert!(l.contains("-LUA"));
        assert!(!l.contains("_NO"));
    }
}
