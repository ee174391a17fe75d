//! Located diagnostics: every config problem carries `file:line` and all of them are collected
//! before the process gives up, so one run shows the operator everything to fix.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A place in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    /// The file as it was named on the command line (or found in a `-f DIR`).
    pub file: Arc<PathBuf>,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// `.diag`: shown only with `-dD`/`-d`.
    Diag,
    /// `.notice` and informative messages.
    Notice,
    /// Accepted, but the operator should know (`tune.*` knobs that mean nothing here, ...).
    Warning,
    /// The configuration is refused.
    Alert,
}

/// One located message about the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    /// Where it was found; `None` for problems of the whole configuration.
    pub loc: Option<Loc>,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong, and where possible what to write instead.
    pub message: String,
}

impl Diag {
    /// An error at `loc`.
    pub fn error(loc: &Loc, message: impl Into<String>) -> Self {
        Diag {
            loc: Some(loc.clone()),
            severity: Severity::Alert,
            message: message.into(),
        }
    }

    /// A warning at `loc`.
    pub fn warning(loc: &Loc, message: impl Into<String>) -> Self {
        Diag {
            loc: Some(loc.clone()),
            severity: Severity::Warning,
            message: message.into(),
        }
    }

    /// Whether this diagnostic refuses the configuration.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Alert
    }
}

impl fmt::Display for Diag {
    /// `file:line: message` for errors, `file:line: warning: message` for the rest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.loc {
            write!(f, "{loc}: ")?;
        }
        match self.severity {
            Severity::Alert => {}
            Severity::Warning => f.write_str("warning: ")?,
            Severity::Notice => f.write_str("notice: ")?,
            Severity::Diag => f.write_str("diag: ")?,
        }
        f.write_str(&self.message)
    }
}
