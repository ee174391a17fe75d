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

/// A small typed store: what a data path can embed per scope. Lookups borrow the name
/// (no allocation); only setting a new variable allocates its name.
#[derive(Clone, Debug, Default)]
pub struct VarStore {
    scopes: [HashMap<String, Sample>; 5],
}

fn idx(scope: VarScope) -> usize {
    match scope {
        VarScope::Proc => 0,
        VarScope::Sess => 1,
        VarScope::Txn => 2,
        VarScope::Req => 3,
        VarScope::Res => 4,
    }
}

impl VarStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a variable.
    pub fn get(&self, scope: VarScope, name: &str) -> Option<&Sample> {
        self.scopes[idx(scope)].get(name)
    }

    /// Sets a variable.
    pub fn set(&mut self, scope: VarScope, name: &str, v: Sample) {
        let m = &mut self.scopes[idx(scope)];
        match m.get_mut(name) {
            Some(slot) => *slot = v,
            None => {
                m.insert(name.to_string(), v);
            }
        }
    }

    /// Removes a variable.
    pub fn unset(&mut self, scope: VarScope, name: &str) {
        self.scopes[idx(scope)].remove(name);
    }

    /// Drops every variable of one scope (end of a transaction, of a request...).
    pub fn clear_scope(&mut self, scope: VarScope) {
        self.scopes[idx(scope)].clear();
    }

    /// Number of variables held.
    pub fn len(&self) -> usize {
        self.scopes.iter().map(HashMap::len).sum()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        s.set(VarScope::Txn, "a", Sample::Sint(4));
        assert_eq!(s.get(VarScope::Txn, "a"), Some(&Sample::Sint(4)));
        s.set(VarScope::Req, "b", Sample::Bool(true));
        assert_eq!(s.len(), 2);
        s.unset(VarScope::Req, "b");
        s.clear_scope(VarScope::Txn);
        assert!(s.is_empty());
    }
}
