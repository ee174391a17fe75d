//! Arithmetic converters' arguments and operations (`add sub mul div mod and or xor`).

use super::ctx::SampleCtx;
use super::varstore::VarName;

/// An integer argument that may name a variable (`add(var)` style arithmetic).
#[derive(Clone, Debug, PartialEq)]
pub enum IntArg {
    /// A constant.
    Const(i64),
    /// A variable read at evaluation time.
    Var(VarName),
}

impl IntArg {
    /// Parses an integer or a variable name.
    pub fn parse(kw: &str, s: &str) -> Result<IntArg, String> {
        if let Ok(v) = s.trim().parse::<i64>() {
            return Ok(IntArg::Const(v));
        }
        VarName::parse(s).map(IntArg::Var).map_err(|_| {
            format!("invalid args in converter '{kw}' : expects an integer or a variable name, got '{s}'")
        })
    }

    /// The value, reading the variable when needed.
    pub fn get(&self, ctx: &dyn SampleCtx) -> Option<i64> {
        match self {
            IntArg::Const(v) => Some(*v),
            IntArg::Var(v) => ctx.var(v.scope, &v.name)?.to_int(),
        }
    }
}

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    /// add
    Add,
    /// sub
    Sub,
    /// mul
    Mul,
    /// div
    Div,
    /// mod
    Mod,
    /// and
    And,
    /// or
    Or,
    /// xor
    Xor,
}

/// Applies an operator with haproxy's overflow rules.
pub fn arith(op: ArithOp, a: i64, b: i64) -> i64 {
    // haproxy saturates instead of wrapping, and defines division by zero.
    match op {
        ArithOp::Add => a.saturating_add(b),
        ArithOp::Sub => a.saturating_sub(b),
        ArithOp::Mul => a.saturating_mul(b),
        ArithOp::Div => {
            if b == 0 {
                i64::MAX
            } else {
                a.checked_div(b).unwrap_or(i64::MAX)
            }
        }
        ArithOp::Mod => a.checked_rem(b).unwrap_or(0),
        ArithOp::And => a & b,
        ArithOp::Or => a | b,
        ArithOp::Xor => a ^ b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Saturation and division by zero as haproxy 2.6 prints them (see sample/tests.rs).
    #[test]
    fn edges() {
        assert_eq!(arith(ArithOp::Add, i64::MAX, 1), i64::MAX);
        assert_eq!(arith(ArithOp::Sub, i64::MIN + 1, 5), i64::MIN);
        assert_eq!(arith(ArithOp::Mul, 1 << 62, -4), i64::MIN);
        assert_eq!(arith(ArithOp::Div, 5, 0), i64::MAX);
        assert_eq!(arith(ArithOp::Div, i64::MIN, -1), i64::MAX);
        assert_eq!(arith(ArithOp::Mod, 5, 0), 0);
        assert_eq!(arith(ArithOp::Mod, -7, 2), -1);
        assert_eq!(
            IntArg::parse("add", "txn.x").unwrap(),
            IntArg::Var(VarName::parse("txn.x").unwrap())
        );
        assert_eq!(IntArg::parse("add", " 3").unwrap(), IntArg::Const(3));
        assert!(IntArg::parse("add", "x").is_err());
    }
}
