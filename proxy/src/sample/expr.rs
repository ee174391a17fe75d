//! Sample expressions: `fetch(args),conv1(args),conv2`, parsed once, evaluated per request.

use super::args::split_calls;
use super::conv::{parse_conv, Conv};
use super::ctx::SampleCtx;
use super::fetch::{parse_fetch, Fetch};
use super::value::{Sample, SmpType};

/// A parsed sample expression.
#[derive(Clone, Debug)]
pub struct SampleExpr {
    /// The fetch.
    pub fetch: Fetch,
    /// Converters with the type each needs its input cast to.
    pub convs: Vec<(Conv, SmpType)>,
    /// Output type of the whole expression (`Any` when it depends on data, e.g. `var()`).
    pub out_type: SmpType,
    /// The text it was parsed from (for messages).
    pub text: String,
}

fn type_name(t: SmpType) -> &'static str {
    match t {
        SmpType::Any => "any",
        SmpType::Bool => "bool",
        SmpType::Sint => "sint",
        SmpType::Addr => "addr",
        SmpType::Ipv4 => "ipv4",
        SmpType::Ipv6 => "ipv6",
        SmpType::Str => "str",
        SmpType::Bin => "bin",
        SmpType::Meth => "meth",
    }
}

impl SampleExpr {
    /// Parses an expression; errors are worded like haproxy's (the caller adds `file:line: `).
    pub fn parse(text: &str) -> Result<SampleExpr, String> {
        Self::from_calls(text, split_calls(text)?)
    }

    /// Builds an expression from already split calls (ACL keywords rename the first one).
    pub fn from_calls(text: &str, calls: Vec<super::args::Call>) -> Result<SampleExpr, String> {
        let mut it = calls.into_iter();
        let first = it
            .next()
            .ok_or_else(|| format!("missing fetch method in sample expression '{text}'"))?;
        let (fetch, mut t) = parse_fetch(&first.name, first.args.as_deref())?;
        let mut convs = Vec::new();
        for c in it {
            let (conv, tin, tout) = parse_conv(&c.name, c.args.as_deref())?;
            if t != SmpType::Any && !Sample::can_cast(t, tin) {
                return Err(format!(
                    "converter '{}' cannot be applied since it expects an input of type '{}' while the previous element returns '{}'",
                    c.name,
                    type_name(tin),
                    type_name(t)
                ));
            }
            convs.push((conv, tin));
            // Converters that pass their input through keep the previous type.
            if tout != SmpType::Any || matches!(convs.last(), Some((Conv::JsonQuery(..), _))) {
                t = tout;
            }
        }
        Ok(SampleExpr {
            fetch,
            convs,
            out_type: t,
            text: text.to_string(),
        })
    }

    /// What the expression's fetch reads (see [`Needs`](super::fetch::Needs)); the config
    /// parser compares it with what the rule's hook provides.
    pub fn needs(&self) -> super::fetch::Needs {
        self.fetch.needs()
    }

    /// Proxies and servers named in the fetch's arguments (`nbsrv(be)`, `srv_is_up(be/srv)`,
    /// `fe_conn(fe)`...), as (proxy, server): the config parser checks they exist, as
    /// haproxy does when it resolves these arguments.
    pub fn proxy_refs(&self) -> Vec<(&str, Option<&str>)> {
        use super::fetch::Fetch as F;
        match &self.fetch {
            F::Nbsrv(Some(p))
            | F::BeConn(Some(p))
            | F::FeConn(Some(p))
            | F::Connslots(Some(p))
            | F::Queue(Some(p))
            | F::AvgQueue(Some(p)) => vec![(p.as_str(), None)],
            F::SrvIsUp(b, s) => vec![(b.as_str(), Some(s.as_str()))],
            _ => Vec::new(),
        }
    }

    /// Applies the converters to one fetched sample.
    pub fn convert(&self, mut s: Sample, ctx: &dyn SampleCtx) -> Option<Sample> {
        for (c, tin) in &self.convs {
            s = c.apply(s.cast(*tin)?, ctx)?;
        }
        Some(s)
    }

    /// Evaluates to one sample (what `%[expr]` and actions use); `None` when the fetch or a
    /// converter fails.
    pub fn eval(&self, ctx: &dyn SampleCtx) -> Option<Sample> {
        self.convert(self.fetch.eval(ctx)?, ctx)
    }

    /// Evaluates for ACLs: every occurrence of multi-valued fetches (headers, cookies...)
    /// goes through the converters to `out`, which returns true to stop.
    pub fn eval_each(&self, ctx: &dyn SampleCtx, out: &mut dyn FnMut(Sample) -> bool) {
        self.fetch
            .eval_each(ctx, true, &mut |s| match self.convert(s, ctx) {
                Some(v) => out(v),
                None => false,
            });
    }

    /// The text form of the result, as a log-format `%[...]` prints it (empty for none).
    pub fn eval_text(&self, ctx: &dyn SampleCtx) -> Vec<u8> {
        self.eval(ctx)
            .map(|s| s.to_text().into_owned())
            .unwrap_or_default()
    }
}
