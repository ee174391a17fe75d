//! Prometheus metrics: state, transitions, adverts, mover latency and errors.

use crate::vrrp::state::State;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

const STATES: [State; 4] = [
    State::Initialize,
    State::Backup,
    State::Master,
    State::Fault,
];

/// Per-mover counters (a handful of movers, updated once per transition: a mutex is fine).
#[derive(Debug, Default, Clone, Copy)]
struct MoverStats {
    runs: u64,
    errors: u64,
    seconds: f64,
    last: f64,
}

/// One per-mover metric family: name, type, help, value.
type MoverFamily = (
    &'static str,
    &'static str,
    &'static str,
    fn(&MoverStats) -> String,
);

/// Counters shared by the runtime tasks; all atomics, read by the metrics endpoint.
#[derive(Debug, Default)]
pub struct Metrics {
    state: AtomicU64,
    priority: AtomicU64,
    transitions: [AtomicU64; 4],
    adverts_sent: AtomicU64,
    adverts_received: AtomicU64,
    adverts_invalid: AtomicU64,
    movers: std::sync::Mutex<std::collections::BTreeMap<&'static str, MoverStats>>,
    probe_healthy: AtomicU64,
}

fn idx(s: State) -> usize {
    STATES.iter().position(|x| *x == s).unwrap_or(0)
}

impl Metrics {
    /// Records the current state and a transition into it.
    pub fn transition(&self, to: State) {
        self.state.store(idx(to) as u64, Ordering::Relaxed);
        self.transitions[idx(to)].fetch_add(1, Ordering::Relaxed);
    }

    /// Records the advertised priority.
    pub fn set_priority(&self, p: u8) {
        self.priority.store(u64::from(p), Ordering::Relaxed);
    }

    /// One advert sent.
    pub fn advert_sent(&self) {
        self.adverts_sent.fetch_add(1, Ordering::Relaxed);
    }

    /// One advert received; `valid` false if it was dropped.
    pub fn advert_received(&self, valid: bool) {
        if valid {
            self.adverts_received.fetch_add(1, Ordering::Relaxed);
        } else {
            self.adverts_invalid.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One run of mover `name` and how long it took.
    pub fn mover_run(&self, name: &'static str, secs: f64, ok: bool) {
        let mut m = self.movers.lock().unwrap_or_else(|p| p.into_inner());
        let st = m.entry(name).or_default();
        st.runs += 1;
        st.seconds += secs;
        st.last = secs;
        if !ok {
            st.errors += 1;
        }
    }

    /// Probe verdict.
    pub fn set_probe(&self, healthy: bool) {
        self.probe_healthy
            .store(u64::from(healthy), Ordering::Relaxed);
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let cur = self.state.load(Ordering::Relaxed) as usize;
        let _ = writeln!(
            o,
            "# HELP fulcrum_ha_state Current VRRP state (1 for the current one)."
        );
        let _ = writeln!(o, "# TYPE fulcrum_ha_state gauge");
        for (i, s) in STATES.iter().enumerate() {
            let _ = writeln!(
                o,
                "fulcrum_ha_state{{state=\"{}\"}} {}",
                s.name(),
                u8::from(i == cur)
            );
        }
        let _ = writeln!(
            o,
            "# HELP fulcrum_ha_transitions_total Transitions into each state."
        );
        let _ = writeln!(o, "# TYPE fulcrum_ha_transitions_total counter");
        for (i, s) in STATES.iter().enumerate() {
            let _ = writeln!(
                o,
                "fulcrum_ha_transitions_total{{to=\"{}\"}} {}",
                s.name(),
                self.transitions[i].load(Ordering::Relaxed)
            );
        }
        let simple = [
            (
                "fulcrum_ha_priority",
                "gauge",
                "Advertised priority.",
                self.priority.load(Ordering::Relaxed),
            ),
            (
                "fulcrum_ha_adverts_sent_total",
                "counter",
                "Adverts sent.",
                self.adverts_sent.load(Ordering::Relaxed),
            ),
            (
                "fulcrum_ha_adverts_received_total",
                "counter",
                "Valid adverts received.",
                self.adverts_received.load(Ordering::Relaxed),
            ),
            (
                "fulcrum_ha_adverts_invalid_total",
                "counter",
                "Packets dropped (TTL, checksum, VRID...).",
                self.adverts_invalid.load(Ordering::Relaxed),
            ),
            (
                "fulcrum_ha_probe_healthy",
                "gauge",
                "1 if the local proxy passes its probe.",
                self.probe_healthy.load(Ordering::Relaxed),
            ),
        ];
        for (name, ty, help, v) in simple {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {ty}\n{name} {v}");
        }
        let movers = self
            .movers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let families: [MoverFamily; 4] = [
            (
                "fulcrum_ha_mover_runs_total",
                "counter",
                "Mover runs.",
                |m| m.runs.to_string(),
            ),
            (
                "fulcrum_ha_mover_errors_total",
                "counter",
                "Failed mover runs.",
                |m| m.errors.to_string(),
            ),
            (
                "fulcrum_ha_mover_seconds_total",
                "counter",
                "Time spent in the mover.",
                |m| m.seconds.to_string(),
            ),
            (
                "fulcrum_ha_mover_last_seconds",
                "gauge",
                "Latency of the mover's last run.",
                |m| m.last.to_string(),
            ),
        ];
        for (name, ty, help, value) in families {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {ty}");
            for (mover, st) in &movers {
                let _ = writeln!(o, "{name}{{mover=\"{mover}\"}} {}", value(st));
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_state_and_counters() {
        let m = Metrics::default();
        m.transition(State::Backup);
        m.transition(State::Master);
        m.advert_sent();
        m.mover_run("linux", 0.25, true);
        m.mover_run("linux", 0.5, false);
        m.mover_run("exec", 0.125, true);
        let t = m.render();
        assert!(t.contains("fulcrum_ha_state{state=\"master\"} 1\n"), "{t}");
        assert!(t.contains("fulcrum_ha_state{state=\"backup\"} 0\n"));
        assert!(t.contains("fulcrum_ha_transitions_total{to=\"backup\"} 1\n"));
        assert!(t.contains("fulcrum_ha_adverts_sent_total 1\n"));
        assert!(
            t.contains("fulcrum_ha_mover_errors_total{mover=\"linux\"} 1\n"),
            "{t}"
        );
        assert!(t.contains("fulcrum_ha_mover_errors_total{mover=\"exec\"} 0\n"));
        assert!(t.contains("fulcrum_ha_mover_runs_total{mover=\"linux\"} 2\n"));
        assert!(t.contains("fulcrum_ha_mover_seconds_total{mover=\"linux\"} 0.75\n"));
        assert!(t.contains("fulcrum_ha_mover_last_seconds{mover=\"linux\"} 0.5\n"));
        assert!(t.contains("fulcrum_ha_mover_last_seconds{mover=\"exec\"} 0.125\n"));
    }
}
