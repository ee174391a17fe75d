//! The VRRPv3 state machine of RFC 5798 §6.4, plus keepalived's FAULT state.
//!
//! Pure: no I/O, no clock of its own. The runtime feeds events with the current time and
//! carries out the returned actions; tests drive it with a fake time.

use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The router's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not started, or shut down.
    Initialize,
    /// Watching the master's adverts; does not hold the address.
    Backup,
    /// Holds the address and sends adverts.
    Master,
    /// The local proxy is unhealthy: holds nothing, sends nothing (keepalived's FAULT).
    Fault,
}

impl State {
    /// Lower-case name used in logs, status and metrics.
    pub fn name(self) -> &'static str {
        match self {
            State::Initialize => "init",
            State::Backup => "backup",
            State::Master => "master",
            State::Fault => "fault",
        }
    }
}

/// What the runtime tells the state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Start the router (RFC "Startup").
    Startup,
    /// Stop the router (RFC "Shutdown"): a master resigns with priority 0.
    Shutdown,
    /// A valid advert for our VRID arrived.
    Advert {
        /// Sender's primary address (IP source).
        from: IpAddr,
        /// Priority in the advert.
        priority: u8,
        /// Max Adver Int in the advert, centiseconds.
        max_adver_int: u16,
    },
    /// Time passed; fire whichever timers are due.
    Tick,
    /// The local proxy failed its health probe (fall reached).
    ProbeDown,
    /// The local proxy passes its health probe again (rise reached).
    ProbeUp,
}

/// What the runtime must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an advert with this priority (0 = resign).
    SendAdvert {
        /// Priority to put in the advert.
        priority: u8,
    },
    /// Re-announce the address (gratuitous ARP / NA) while staying master: a partition
    /// healed and neighbours may still point at the other node.
    Reannounce,
    /// The state changed; the runtime acquires the address on entering Master and
    /// releases it on leaving Master.
    Transition(Transition),
}

/// One state change and why it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Previous state.
    pub from: State,
    /// New state.
    pub to: State,
    /// Human-readable cause, for logs and `fulcrum-ha status`.
    pub reason: String,
}

/// What to do when the probe fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnProbeFail {
    /// Enter FAULT: give the address up and stop advertising.
    Fault,
    /// Lower the priority by this much and, if master, resign so the peer takes over.
    Lower(u8),
}

/// Static parameters of one virtual router.
#[derive(Debug, Clone)]
pub struct Params {
    /// Configured priority, 1..=255 (255 = address owner).
    pub priority: u8,
    /// Advertisement_Interval, centiseconds.
    pub advert_interval: u16,
    /// Preempt_Mode.
    pub preempt: bool,
    /// Time after startup during which a higher-priority backup does not preempt.
    pub preempt_delay: Duration,
    /// Our primary address on the interface (the tie-breaker of equal priorities).
    pub primary: IpAddr,
    /// Reaction to a failed probe.
    pub on_probe_fail: OnProbeFail,
}

fn cs(centis: u32) -> Duration {
    Duration::from_millis(u64::from(centis) * 10)
}

/// Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256 (RFC 5798 §6.1), in
/// centiseconds, kept as a Duration with microsecond precision so the fraction is not lost.
pub fn skew_time(priority: u8, master_adver_int: u16) -> Duration {
    let us = (256 - u64::from(priority)) * u64::from(master_adver_int) * 10_000 / 256;
    Duration::from_micros(us)
}

/// Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time (RFC 5798 §6.1).
pub fn master_down_interval(priority: u8, master_adver_int: u16) -> Duration {
    cs(3 * u32::from(master_adver_int)) + skew_time(priority, master_adver_int)
}

/// One VRRP virtual router.
#[derive(Debug, Clone)]
pub struct Router {
    p: Params,
    state: State,
    probe_ok: bool,
    master_adver_int: u16,
    adver_timer: Option<Instant>,
    master_down_timer: Option<Instant>,
    started: Option<Instant>,
    master: Option<IpAddr>,
    last: Option<(Instant, Transition)>,
}

impl Router {
    /// A router in Initialize with a healthy probe assumed until told otherwise.
    pub fn new(p: Params) -> Router {
        let mai = p.advert_interval;
        Router {
            p,
            state: State::Initialize,
            probe_ok: true,
            master_adver_int: mai,
            adver_timer: None,
            master_down_timer: None,
            started: None,
            master: None,
            last: None,
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Priority currently advertised (configured, or lowered by a failed probe).
    pub fn priority(&self) -> u8 {
        match (self.probe_ok, self.p.on_probe_fail) {
            (false, OnProbeFail::Lower(by)) => self.p.priority.saturating_sub(by).max(1),
            _ => self.p.priority,
        }
    }

    /// Address of the current master as far as we know (ourselves when master).
    pub fn master(&self) -> Option<IpAddr> {
        if self.state == State::Master {
            Some(self.p.primary)
        } else {
            self.master
        }
    }

    /// Learned Master_Adver_Interval, centiseconds.
    pub fn master_adver_int(&self) -> u16 {
        self.master_adver_int
    }

    /// Max Adver Int to put in our own adverts: our configured Advertisement_Interval.
    pub fn master_adver_int_for_send(&self) -> u16 {
        self.p.advert_interval
    }

    /// Last transition and when it happened.
    pub fn last_transition(&self) -> Option<&(Instant, Transition)> {
        self.last.as_ref()
    }

    /// Earliest pending timer: the runtime calls `handle(now, Tick)` then.
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.adver_timer, self.master_down_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn mdi(&self) -> Duration {
        master_down_interval(self.priority(), self.master_adver_int)
    }

    fn go(&mut self, now: Instant, to: State, reason: String, out: &mut Vec<Action>) {
        let t = Transition {
            from: self.state,
            to,
            reason,
        };
        self.state = to;
        self.last = Some((now, t.clone()));
        out.push(Action::Transition(t));
    }

    fn become_master(&mut self, now: Instant, reason: String, out: &mut Vec<Action>) {
        out.push(Action::SendAdvert {
            priority: self.priority(),
        });
        self.adver_timer = Some(now + cs(u32::from(self.p.advert_interval)));
        self.master_down_timer = None;
        self.master = Some(self.p.primary);
        self.go(now, State::Master, reason, out);
    }

    fn become_backup(&mut self, now: Instant, reason: String, out: &mut Vec<Action>) {
        self.adver_timer = None;
        self.master_down_timer = Some(now + self.mdi());
        self.go(now, State::Backup, reason, out);
    }

    /// Leaves Master by sending a priority-0 advert, so a backup takes over after its
    /// Skew_Time instead of Master_Down_Interval (RFC 5798 §6.4.3 "Shutdown").
    fn resign(&mut self, out: &mut Vec<Action>) {
        if self.state == State::Master {
            out.push(Action::SendAdvert { priority: 0 });
        }
        self.adver_timer = None;
        self.master_down_timer = None;
    }

    /// RFC 5798 §6.4.1.
    fn startup(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.master_adver_int = self.p.advert_interval;
        if self.priority() == 255 {
            self.become_master(now, "startup as address owner (priority 255)".into(), out);
        } else {
            self.master = None;
            self.become_backup(now, "startup".into(), out);
        }
    }

    fn preempt_allowed(&self, now: Instant) -> bool {
        if !self.p.preempt {
            return false;
        }
        match self.started {
            Some(s) => now >= s + self.p.preempt_delay,
            None => true,
        }
    }

    /// Handles one event at time `now` and returns what to do, in order.
    pub fn handle(&mut self, now: Instant, ev: Event) -> Vec<Action> {
        let mut out = Vec::new();
        match ev {
            Event::Startup => {
                if self.state == State::Initialize {
                    self.started = Some(now);
                    if self.probe_ok || self.p.on_probe_fail != OnProbeFail::Fault {
                        self.startup(now, &mut out);
                    } else {
                        self.go(
                            now,
                            State::Fault,
                            "startup with failing probe".into(),
                            &mut out,
                        );
                    }
                }
            }
            Event::Shutdown => {
                if self.state != State::Initialize {
                    self.resign(&mut out);
                    self.go(now, State::Initialize, "shutdown".into(), &mut out);
                }
            }
            Event::Tick => self.tick(now, &mut out),
            Event::Advert {
                from,
                priority,
                max_adver_int,
            } => self.advert(now, from, priority, max_adver_int, &mut out),
            Event::ProbeDown => {
                if !self.probe_ok {
                    return out;
                }
                self.probe_ok = false;
                match self.p.on_probe_fail {
                    OnProbeFail::Fault => {
                        if matches!(self.state, State::Master | State::Backup) {
                            self.resign(&mut out);
                            self.go(
                                now,
                                State::Fault,
                                "local proxy failed its probe".into(),
                                &mut out,
                            );
                        }
                    }
                    OnProbeFail::Lower(_) => {
                        if self.state == State::Master {
                            // Give the address up at once; the peer (now of higher
                            // priority) takes over after its Skew_Time.
                            self.resign(&mut out);
                            self.become_backup(
                                now,
                                format!(
                                    "local proxy failed its probe, priority lowered to {}",
                                    self.priority()
                                ),
                                &mut out,
                            );
                        }
                    }
                }
            }
            Event::ProbeUp => {
                if self.probe_ok {
                    return out;
                }
                self.probe_ok = true;
                if self.state == State::Fault {
                    self.master_adver_int = self.p.advert_interval;
                    self.master = None;
                    if self.priority() == 255 {
                        self.become_master(
                            now,
                            "local proxy healthy again (owner)".into(),
                            &mut out,
                        );
                    } else {
                        self.become_backup(now, "local proxy healthy again".into(), &mut out);
                    }
                }
            }
        }
        out
    }

    fn tick(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.state {
            State::Backup => {
                if self.master_down_timer.is_some_and(|t| now >= t) {
                    let reason = match self.master {
                        Some(m) => format!("no advert from master {m} for Master_Down_Interval"),
                        None => "no advert from any master for Master_Down_Interval".into(),
                    };
                    self.become_master(now, reason, out);
                }
            }
            State::Master => {
                if self.adver_timer.is_some_and(|t| now >= t) {
                    out.push(Action::SendAdvert {
                        priority: self.priority(),
                    });
                    self.adver_timer = Some(now + cs(u32::from(self.p.advert_interval)));
                }
            }
            State::Initialize | State::Fault => {}
        }
    }

    fn advert(&mut self, now: Instant, from: IpAddr, prio: u8, mai: u16, out: &mut Vec<Action>) {
        // RFC 5798 §7.1: the address owner discards adverts for its own VRID.
        if self.priority() == 255 && self.state == State::Master {
            return;
        }
        match self.state {
            State::Backup => {
                if prio == 0 {
                    // The master resigned: take over after Skew_Time only.
                    self.master_down_timer =
                        Some(now + skew_time(self.priority(), self.master_adver_int));
                    self.master = None;
                } else if !self.preempt_allowed(now) || prio >= self.priority() {
                    self.master_adver_int = mai;
                    self.master_down_timer = Some(now + self.mdi());
                    self.master = Some(from);
                }
                // else: preempting, discard the lower-priority advert so our
                // Master_Down_Timer fires.
            }
            State::Master => {
                if prio == 0 {
                    // Another master resigned; re-assert ourselves at once.
                    out.push(Action::SendAdvert {
                        priority: self.priority(),
                    });
                    self.adver_timer = Some(now + cs(u32::from(self.p.advert_interval)));
                } else if prio > self.priority()
                    || (prio == self.priority() && addr_greater(from, self.p.primary))
                {
                    self.master_adver_int = mai;
                    self.adver_timer = None;
                    self.master = Some(from);
                    self.master_down_timer = Some(now + self.mdi());
                    self.go(
                        now,
                        State::Backup,
                        format!(
                            "advert from {from} with priority {prio} (ours {})",
                            self.priority()
                        ),
                        out,
                    );
                } else {
                    // Another master with lower precedence (a healed partition): RFC 5798
                    // says discard, and the other side yields when it hears our next
                    // advert. Like keepalived, answer at once and re-announce so the
                    // switch and neighbours that learned the other node's MAC come back
                    // to us without waiting for their caches to expire.
                    out.push(Action::SendAdvert {
                        priority: self.priority(),
                    });
                    out.push(Action::Reannounce);
                    self.adver_timer = Some(now + cs(u32::from(self.p.advert_interval)));
                }
            }
            State::Initialize | State::Fault => {}
        }
    }
}

/// Compares primary addresses as unsigned integers (RFC 5798 §6.4.3).
fn addr_greater(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets() > b.octets(),
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets() > b.octets(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(prio: u8, primary: &str) -> Params {
        Params {
            priority: prio,
            advert_interval: 100,
            preempt: true,
            preempt_delay: Duration::ZERO,
            primary: primary.parse().unwrap(),
            on_probe_fail: OnProbeFail::Fault,
        }
    }

    fn sends(actions: &[Action]) -> Vec<u8> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::SendAdvert { priority } => Some(*priority),
                _ => None,
            })
            .collect()
    }

    fn transitions(actions: &[Action]) -> Vec<State> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Transition(t) => Some(t.to),
                _ => None,
            })
            .collect()
    }

    fn adv(from: &str, priority: u8) -> Event {
        Event::Advert {
            from: from.parse().unwrap(),
            priority,
            max_adver_int: 100,
        }
    }

    #[test]
    fn rfc_timer_formulas() {
        // Priority 100, 1 s interval: skew = 156 * 100 / 256 cs = 60.9375 cs.
        assert_eq!(skew_time(100, 100), Duration::from_micros(609_375));
        assert_eq!(
            master_down_interval(100, 100),
            Duration::from_micros(3_609_375)
        );
        assert_eq!(skew_time(255, 100), Duration::from_micros(3_906));
        assert_eq!(skew_time(1, 100), Duration::from_micros(996_093));
    }

    #[test]
    fn backup_becomes_master_after_master_down_interval() {
        let t0 = Instant::now();
        let mut r = Router::new(params(100, "10.0.0.1"));
        let a = r.handle(t0, Event::Startup);
        assert_eq!(transitions(&a), vec![State::Backup]);
        assert!(sends(&a).is_empty());
        let mdi = master_down_interval(100, 100);
        assert_eq!(r.next_deadline(), Some(t0 + mdi));
        assert!(r
            .handle(t0 + mdi - Duration::from_millis(1), Event::Tick)
            .is_empty());
        let a = r.handle(t0 + mdi, Event::Tick);
        assert_eq!(sends(&a), vec![100]);
        assert_eq!(transitions(&a), vec![State::Master]);
        // Then adverts every Advertisement_Interval.
        assert_eq!(r.next_deadline(), Some(t0 + mdi + Duration::from_secs(1)));
        let a = r.handle(t0 + mdi + Duration::from_secs(1), Event::Tick);
        assert_eq!(sends(&a), vec![100]);
    }

    #[test]
    fn owner_starts_as_master() {
        let t0 = Instant::now();
        let mut r = Router::new(params(255, "10.0.0.1"));
        let a = r.handle(t0, Event::Startup);
        assert_eq!(sends(&a), vec![255]);
        assert_eq!(transitions(&a), vec![State::Master]);
        // Owner ignores other adverts, even higher addresses with 255.
        assert!(r.handle(t0, adv("10.0.0.9", 255)).is_empty());
        assert_eq!(r.state(), State::Master);
    }

    #[test]
    fn adverts_keep_backup_down() {
        let t0 = Instant::now();
        let mut r = Router::new(params(100, "10.0.0.1"));
        r.handle(t0, Event::Startup);
        for i in 1..20 {
            let a = r.handle(t0 + Duration::from_secs(i), adv("10.0.0.2", 150));
            assert!(a.is_empty());
            assert!(r
                .handle(t0 + Duration::from_secs(i), Event::Tick)
                .is_empty());
        }
        assert_eq!(r.state(), State::Backup);
        assert_eq!(r.master(), "10.0.0.2".parse().ok());
    }

    #[test]
    fn priority_zero_means_takeover_after_skew_time() {
        let t0 = Instant::now();
        let mut r = Router::new(params(100, "10.0.0.1"));
        r.handle(t0, Event::Startup);
        r.handle(t0, adv("10.0.0.2", 150));
        let t1 = t0 + Duration::from_millis(500);
        r.handle(t1, adv("10.0.0.2", 0));
        assert_eq!(r.next_deadline(), Some(t1 + skew_time(100, 100)));
        assert!(r
            .handle(
                t1 + skew_time(100, 100) - Duration::from_micros(1),
                Event::Tick
            )
            .is_empty());
        let a = r.handle(t1 + skew_time(100, 100), Event::Tick);
        assert_eq!(transitions(&a), vec![State::Master]);
    }

    #[test]
    fn master_learns_interval_from_advert() {
        let t0 = Instant::now();
        let mut r = Router::new(params(100, "10.0.0.1"));
        r.handle(t0, Event::Startup);
        r.handle(
            t0,
            Event::Advert {
                from: "10.0.0.2".parse().unwrap(),
                priority: 200,
                max_adver_int: 300,
            },
        );
        assert_eq!(r.master_adver_int(), 300);
        assert_eq!(r.next_deadline(), Some(t0 + master_down_interval(100, 300)));
    }

    #[test]
    fn master_yields_to_higher_priority_and_to_higher_address_on_tie() {
        let t0 = Instant::now();
        let mut r = Router::new(params(100, "10.0.0.5"));
        r.handle(t0, Event::Startup);
        r.handle(t0 + Duration::from_secs(5), Event::Tick);
        assert_eq!(r.state(), State::Master);
        // Lower priority: stay master. Equal priority, lower address: stay master.
        let t = t0 + Duration::from_secs(5);
        // (We answer them with our own advert; see the reannounce test.)
        assert!(transitions(&r.handle(t, adv("10.0.0.9", 99))).is_empty());
        assert!(transitions(&r.handle(t, adv("10.0.0.4", 100))).is_empty());
        assert_eq!(r.state(), State::Master);
        // Equal priority, higher address: back off, without a priority-0 advert.
        let a = r.handle(t, adv("10.0.0.6", 100));
        assert_eq!(transitions(&a), vec![State::Backup]);
        assert!(sends(&a).is_empty());

        let mut r = Router::new(params(100, "10.0.0.5"));
        r.handle(t0, Event::Startup);
        r.handle(t0 + Duration::from_secs(5), Event::Tick);
        let a = r.handle(t, adv("10.0.0.1", 101));
        assert_eq!(transitions(&a), vec![State::Backup]);
    }

    #[test]
    fn master_hearing_lower_master_reasserts_and_reannounces() {
        let t0 = Instant::now();
        let mut r = Router::new(params(150, "10.0.0.5"));
        r.handle(t0, Event::Startup);
        r.handle(t0 + Duration::from_secs(5), Event::Tick);
        let t = t0 + Duration::from_secs(5) + Duration::from_millis(300);
        let a = r.handle(t, adv("10.0.0.9", 100));
        assert_eq!(
            a,
            vec![Action::SendAdvert { priority: 150 }, Action::Reannounce]
        );
        assert_eq!(r.state(), State::Master);
        assert_eq!(r.next_deadline(), Some(t + Duration::from_secs(1)));
    }

    #[test]
    fn master_answers_priority_zero_with_advert() {
        let t0 = Instant::now();
        let mut r = Router::new(params(100, "10.0.0.5"));
        r.handle(t0, Event::Startup);
        r.handle(t0 + Duration::from_secs(5), Event::Tick);
        let a = r.handle(t0 + Duration::from_secs(5), adv("10.0.0.9", 0));
        assert_eq!(sends(&a), vec![100]);
        assert_eq!(r.state(), State::Master);
    }

    #[test]
    fn preempt_discards_lower_priority_adverts() {
        let t0 = Instant::now();
        let mut r = Router::new(params(200, "10.0.0.1"));
        r.handle(t0, Event::Startup);
        // A lower-priority master keeps advertising; we preempt at Master_Down_Interval.
        let mdi = master_down_interval(200, 100);
        let mut t = t0;
        while t < t0 + mdi {
            r.handle(t, adv("10.0.0.2", 100));
            r.handle(t, Event::Tick);
            t += Duration::from_millis(100);
        }
        r.handle(t0 + mdi, Event::Tick);
        assert_eq!(r.state(), State::Master);
    }

    #[test]
    fn nopreempt_accepts_lower_priority_master() {
        let t0 = Instant::now();
        let mut p = params(200, "10.0.0.1");
        p.preempt = false;
        let mut r = Router::new(p);
        r.handle(t0, Event::Startup);
        for i in 0..30 {
            let t = t0 + Duration::from_secs(i);
            r.handle(t, adv("10.0.0.2", 100));
            r.handle(t, Event::Tick);
        }
        assert_eq!(r.state(), State::Backup);
    }

    #[test]
    fn preempt_delay_holds_back_preemption() {
        let t0 = Instant::now();
        let mut p = params(200, "10.0.0.1");
        p.preempt_delay = Duration::from_secs(10);
        let mut r = Router::new(p);
        r.handle(t0, Event::Startup);
        let mut t = t0;
        let mut became = None;
        while t < t0 + Duration::from_secs(20) {
            if r.state() == State::Backup {
                r.handle(t, adv("10.0.0.2", 100));
            }
            let a = r.handle(t, Event::Tick);
            if transitions(&a) == vec![State::Master] {
                became = Some(t);
            }
            t += Duration::from_secs(1);
        }
        let became = became.expect("never preempted");
        assert!(became >= t0 + Duration::from_secs(10));
        assert!(
            became
                <= t0
                    + Duration::from_secs(10)
                    + master_down_interval(200, 100)
                    + Duration::from_secs(1)
        );
    }

    #[test]
    fn shutdown_of_master_sends_priority_zero() {
        let t0 = Instant::now();
        let mut r = Router::new(params(100, "10.0.0.5"));
        r.handle(t0, Event::Startup);
        r.handle(t0 + Duration::from_secs(5), Event::Tick);
        let a = r.handle(t0 + Duration::from_secs(6), Event::Shutdown);
        assert_eq!(sends(&a), vec![0]);
        assert_eq!(transitions(&a), vec![State::Initialize]);
        assert_eq!(r.next_deadline(), None);
        // A backup shutting down sends nothing.
        let mut b = Router::new(params(100, "10.0.0.6"));
        b.handle(t0, Event::Startup);
        let a = b.handle(t0, Event::Shutdown);
        assert!(sends(&a).is_empty());
    }

    #[test]
    fn probe_failure_faults_master_with_priority_zero_and_recovers_as_backup() {
        let t0 = Instant::now();
        let mut r = Router::new(params(100, "10.0.0.5"));
        r.handle(t0, Event::Startup);
        r.handle(t0 + Duration::from_secs(5), Event::Tick);
        let a = r.handle(t0 + Duration::from_secs(6), Event::ProbeDown);
        assert_eq!(sends(&a), vec![0]);
        assert_eq!(transitions(&a), vec![State::Fault]);
        assert_eq!(r.next_deadline(), None);
        // Adverts and ticks do nothing in FAULT.
        assert!(r
            .handle(t0 + Duration::from_secs(60), Event::Tick)
            .is_empty());
        assert!(r
            .handle(t0 + Duration::from_secs(60), adv("10.0.0.1", 0))
            .is_empty());
        let a = r.handle(t0 + Duration::from_secs(61), Event::ProbeUp);
        assert_eq!(transitions(&a), vec![State::Backup]);
        let (_, last) = r.last_transition().unwrap();
        assert_eq!(last.reason, "local proxy healthy again");
    }

    #[test]
    fn probe_failure_in_lower_mode_resigns_and_advertises_lower_priority() {
        let t0 = Instant::now();
        let mut p = params(150, "10.0.0.5");
        p.on_probe_fail = OnProbeFail::Lower(100);
        let mut r = Router::new(p);
        r.handle(t0, Event::Startup);
        r.handle(t0 + Duration::from_secs(5), Event::Tick);
        assert_eq!(r.state(), State::Master);
        let a = r.handle(t0 + Duration::from_secs(6), Event::ProbeDown);
        assert_eq!(sends(&a), vec![0]);
        assert_eq!(transitions(&a), vec![State::Backup]);
        assert_eq!(r.priority(), 50);
        // With the peer at 100 advertising, we stay backup.
        for i in 7..30 {
            let t = t0 + Duration::from_secs(i);
            r.handle(t, adv("10.0.0.1", 100));
            r.handle(t, Event::Tick);
        }
        assert_eq!(r.state(), State::Backup);
        r.handle(t0 + Duration::from_secs(30), Event::ProbeUp);
        assert_eq!(r.priority(), 150);
    }

    #[test]
    fn startup_with_failing_probe_enters_fault() {
        let t0 = Instant::now();
        let mut r = Router::new(params(100, "10.0.0.5"));
        r.handle(t0, Event::ProbeDown);
        let a = r.handle(t0, Event::Startup);
        assert_eq!(transitions(&a), vec![State::Fault]);
    }

    /// Two routers on a simulated wire (lossless, zero delay), on a fake clock stepped by
    /// 10 ms: checks the election end to end without I/O.
    struct Wire {
        routers: Vec<Router>,
        up: Vec<bool>,
        now: Instant,
    }

    impl Wire {
        fn new(ps: Vec<Params>) -> Wire {
            let now = Instant::now();
            let mut routers: Vec<Router> = ps.into_iter().map(Router::new).collect();
            let mut w = Wire {
                up: vec![true; routers.len()],
                routers: Vec::new(),
                now,
            };
            for r in &mut routers {
                r.handle(now, Event::Startup);
            }
            w.routers = routers;
            w
        }

        fn deliver(&mut self, from: usize, actions: Vec<Action>) {
            for a in actions {
                if let Action::SendAdvert { priority } = a {
                    let src = self.routers[from].p.primary;
                    for to in 0..self.routers.len() {
                        if to != from && self.up[to] && self.up[from] {
                            let out = self.routers[to].handle(
                                self.now,
                                Event::Advert {
                                    from: src,
                                    priority,
                                    max_adver_int: 100,
                                },
                            );
                            self.deliver(to, out);
                        }
                    }
                }
            }
        }

        fn event(&mut self, i: usize, ev: Event) {
            let out = self.routers[i].handle(self.now, ev);
            self.deliver(i, out);
        }

        fn run_for(&mut self, d: Duration) {
            let end = self.now + d;
            while self.now < end {
                self.now += Duration::from_millis(10);
                for i in 0..self.routers.len() {
                    if self.up[i] {
                        self.event(i, Event::Tick);
                    }
                }
            }
        }

        fn masters(&self) -> Vec<usize> {
            (0..self.routers.len())
                .filter(|&i| self.up[i] && self.routers[i].state() == State::Master)
                .collect()
        }
    }

    #[test]
    fn simulated_pair_elects_one_master_and_fails_over_fast_on_shutdown() {
        let mut w = Wire::new(vec![params(150, "10.0.0.1"), params(100, "10.0.0.2")]);
        w.run_for(Duration::from_secs(10));
        assert_eq!(w.masters(), vec![0]);
        // Clean shutdown of the master: backup takes over within its Skew_Time
        // (0.61 s), far below Master_Down_Interval (3.6 s).
        w.event(0, Event::Shutdown);
        w.up[0] = false;
        let t = w.now;
        while w.masters() != vec![1] {
            w.run_for(Duration::from_millis(10));
            assert!(w.now - t <= skew_time(100, 100) + Duration::from_millis(10));
        }
    }

    #[test]
    fn simulated_pair_fails_over_on_crash_and_on_probe_failure() {
        let mut w = Wire::new(vec![params(150, "10.0.0.1"), params(100, "10.0.0.2")]);
        w.run_for(Duration::from_secs(10));
        // Crash (no priority 0): takeover after Master_Down_Interval, not before.
        w.up[0] = false;
        let t = w.now;
        while w.masters() != vec![1] {
            w.run_for(Duration::from_millis(10));
            assert!(w.now - t < Duration::from_secs(10), "no takeover");
        }
        let took = w.now - t;
        assert!(
            took >= Duration::from_secs(3) - Duration::from_millis(10),
            "{took:?}"
        );
        assert!(
            took <= master_down_interval(100, 100) + Duration::from_millis(20),
            "{took:?}"
        );
        // Node 0 comes back, preempts (higher priority), then its proxy fails: the peer
        // takes over within Skew_Time.
        w.up[0] = true;
        w.routers[0] = Router::new(params(150, "10.0.0.1"));
        w.event(0, Event::Startup);
        w.run_for(Duration::from_secs(10));
        assert_eq!(w.masters(), vec![0]);
        w.event(0, Event::ProbeDown);
        let t = w.now;
        while w.masters() != vec![1] {
            w.run_for(Duration::from_millis(10));
            assert!(w.now - t <= skew_time(100, 100) + Duration::from_millis(10));
        }
        // Healed proxy: node 0 preempts back and there is exactly one master.
        w.event(0, Event::ProbeUp);
        w.run_for(Duration::from_secs(10));
        assert_eq!(w.masters(), vec![0]);
    }

    #[test]
    fn simulated_partition_heals_without_flapping() {
        let mut w = Wire::new(vec![params(150, "10.0.0.1"), params(100, "10.0.0.2")]);
        w.run_for(Duration::from_secs(10));
        // Partition: deliver nothing between them (both "up" locally).
        let saved = w.up.clone();
        w.up = vec![false, false];
        for _ in 0..1000 {
            w.now += Duration::from_millis(10);
            for i in 0..2 {
                let _ = w.routers[i].handle(w.now, Event::Tick);
            }
        }
        assert_eq!(w.routers[0].state(), State::Master);
        assert_eq!(w.routers[1].state(), State::Master); // split brain while isolated, as VRRP does
        w.up = saved;
        // On heal, the lower-priority master yields at the first advert it receives and
        // nobody changes state again.
        w.run_for(Duration::from_secs(2));
        assert_eq!(w.masters(), vec![0]);
        let before: Vec<_> = w
            .routers
            .iter()
            .map(|r| r.last_transition().cloned())
            .collect();
        w.run_for(Duration::from_secs(30));
        let after: Vec<_> = w
            .routers
            .iter()
            .map(|r| r.last_transition().cloned())
            .collect();
        assert_eq!(before, after);
    }
}
