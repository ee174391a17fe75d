//! Variables (`set-var`, `var()`): names are `scope.name` with scopes proc, sess, txn, req, res.

use std::collections::HashMap;

use super::value::Sample;

/// A variable scope, as the prefix of a variable name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VarScope {
    /// Whole process.
    Proc,
    /// The client session (connection).
    Sess,
    /// One HTTP transaction.
    Txn,
    /// Request processing only.
    Req,
    /// Response processing only.
    Res,
}

/// A parsed variable reference: scope plus the name after the dot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VarName {
    /// Scope.
    pub scope: VarScope,
    /// Name without the scope prefix.
    pub name: String,
}

impl VarName {
    /// Parses `txn.foo` etc. Error text follows haproxy's ("invalid variable name ...").
    pub fn parse(s: &str) -> Result<VarName, String> {
        let (scope, rest) = match s.split_once('.') {
            Some(("proc", r)) => (VarScope::Proc, r),
            Some(("sess", r)) => (VarScope::Sess, r),
            Some(("txn", r)) => (VarScope::Txn, r),
            Some(("req", r)) => (VarScope::Req, r),
            Some(("res", r)) => (VarScope::Res, r),
            _ => {
                return Err(format!(
                    "invalid variable name '{s}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
                ))
            }
        };
        // haproxy accepts letters, digits, '.', '_' and '-' in names.
        if rest.is_empty()
            || !rest
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-')
        {
            return Err(format!("invalid variable name '{s}'"));
        }
        Ok(VarName {
            scope,
            name: rest.to_string(),
        })
    }
}

/// A small typed store: what a data path can embed per scope.
#[derive(Clone, Debug, Default)]
pub struct VarStore {
    vars: HashMap<(VarScope, String), Sample>,
}

impl VarStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a variable.
    pub fn get(&self, scope: VarScope, name: &str) -> Option<&Sample> {
        // Lookup with a borrowed key would need a custom Borrow; names are short and
        // the map small, so a linear scan over matching scope avoids allocating.
        self.vars
            .iter()
            .find(|((s, n), _)| *s == scope && n == name)
            .map(|(_, v)| v)
    }

    /// Sets a variable.
    pub fn set(&mut self, scope: VarScope, name: &str, v: Sample) {
        self.vars.insert((scope, name.to_string()), v);
    }

    /// Removes a variable.
    pub fn unset(&mut self, scope: VarScope, name: &str) {
        self.vars.remove(&(scope, name.to_string()));
    }

    /// Drops every variable of one scope (end of a transaction, of a request...).
    pub fn clear_scope(&mut self, scope: VarScope) {
        self.vars.retain(|(s, _), _| *s != scope);
    }

    /// Number of variables held.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_store() {
        let v = VarName::parse("txn.foo").unwrap();
        assert_eq!(v.scope, VarScope::Txn);
        assert_eq!(v.name, "foo");
        assert!(VarName::parse("foo").is_err());
        assert!(VarName::parse("txn.").is_err());
        let mut s = VarStore::new();
        s.set(VarScope::Txn, "a", Sample::Sint(3));
        assert_eq!(s.get(VarScope::Txn, "a"), Some(&Sample::Sint(3)));
        assert_eq!(s.get(VarScope::Req, "a"), None);
        s.clear_scope(VarScope::Txn);
        assert!(s.is_empty());
    }
}
