//! Health probe of the local proxy: HTTP GET of its `monitor-uri` or stats page every
//! interval, with rise/fall hysteresis like HAProxy's own checks.

use std::time::Duration;
use tokio::sync::mpsc;

/// Rise/fall counter: `rise` consecutive successes make it healthy, `fall` consecutive
/// failures unhealthy. Starts unhealthy so a node never claims the address before its
/// proxy has answered.
#[derive(Debug, Clone)]
pub struct RiseFall {
    rise: u32,
    fall: u32,
    healthy: bool,
    run: u32,
}

impl RiseFall {
    /// A counter starting unhealthy.
    pub fn new(rise: u32, fall: u32) -> RiseFall {
        RiseFall {
            rise: rise.max(1),
            fall: fall.max(1),
            healthy: false,
            run: 0,
        }
    }

    /// Current verdict.
    pub fn healthy(&self) -> bool {
        self.healthy
    }

    /// Records one probe result; returns the new verdict if it changed.
    pub fn record(&mut self, ok: bool) -> Option<bool> {
        if ok == self.healthy {
            self.run = 0;
            return None;
        }
        self.run += 1;
        let need = if ok { self.rise } else { self.fall };
        if self.run >= need {
            self.healthy = ok;
            self.run = 0;
            return Some(ok);
        }
        None
    }
}

/// The HTTP prober.
#[derive(Debug, Clone)]
pub struct Probe {
    url: String,
    interval: Duration,
    client: reqwest::Client,
    counter: RiseFall,
}

impl Probe {
    /// GET `url` every `interval`, a probe failing after `timeout`.
    pub fn new(url: &str, interval: Duration, timeout: Duration, rise: u32, fall: u32) -> Probe {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            // The proxy is local: an HTTP(S)_PROXY in the environment must not apply.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Probe {
            url: url.to_string(),
            interval,
            client,
            counter: RiseFall::new(rise, fall),
        }
    }

    /// One probe: true on a 2xx or 3xx answer in time.
    pub async fn check(&self) -> bool {
        match self.client.get(&self.url).send().await {
            Ok(r) => r.status().is_success() || r.status().is_redirection(),
            Err(_) => false,
        }
    }

    /// Probes forever, sending each change of verdict (true = healthy) on `tx`; ends when
    /// the receiver is gone.
    pub async fn run(mut self, tx: mpsc::Sender<bool>) {
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let ok = self.check().await;
            if let Some(v) = self.counter.record(ok) {
                if tx.send(v).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn rise_and_fall() {
        let mut c = RiseFall::new(2, 3);
        assert!(!c.healthy());
        assert_eq!(c.record(true), None);
        assert_eq!(c.record(false), None); // run broken
        assert_eq!(c.record(true), None);
        assert_eq!(c.record(true), Some(true));
        assert_eq!(c.record(false), None);
        assert_eq!(c.record(false), None);
        assert_eq!(c.record(true), None);
        assert_eq!(c.record(false), None);
        assert_eq!(c.record(false), None);
        assert_eq!(c.record(false), Some(false));
        assert_eq!(c.record(false), None);
    }

    /// A loopback HTTP server answering 200 or 503 depending on a flag.
    async fn server(up: Arc<AtomicBool>) -> String {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let up = up.clone();
                tokio::spawn(async move {
                    let mut b = [0u8; 1024];
                    let _ = s.read(&mut b).await;
                    let st = if up.load(Ordering::SeqCst) {
                        "200 OK"
                    } else {
                        "503 Service Unavailable"
                    };
                    let _ = s
                        .write_all(
                            format!(
                                "HTTP/1.1 {st}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            )
                            .as_bytes(),
                        )
                        .await;
                });
            }
        });
        format!("http://{addr}/healthz")
    }

    #[tokio::test]
    async fn probe_reports_transitions() {
        let up = Arc::new(AtomicBool::new(true));
        let url = server(up.clone()).await;
        let p = Probe::new(
            &url,
            Duration::from_millis(20),
            Duration::from_millis(500),
            2,
            2,
        );
        assert!(p.check().await);
        let (tx, mut rx) = mpsc::channel(4);
        tokio::spawn(p.run(tx));
        assert_eq!(rx.recv().await, Some(true));
        up.store(false, Ordering::SeqCst);
        assert_eq!(rx.recv().await, Some(false));
        up.store(true, Ordering::SeqCst);
        assert_eq!(rx.recv().await, Some(true));
    }

    #[tokio::test]
    async fn refused_and_silent_servers_fail() {
        // Nothing listens on a just-closed port.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let p = Probe::new(
            &format!("http://127.0.0.1:{port}/"),
            Duration::from_secs(1),
            Duration::from_millis(300),
            1,
            1,
        );
        assert!(!p.check().await);
        // Accepts but never answers: the timeout fails it.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let mut keep = Vec::new();
            while let Ok((s, _)) = l.accept().await {
                keep.push(s);
            }
        });
        let p = Probe::new(
            &format!("http://{addr}/"),
            Duration::from_secs(1),
            Duration::from_millis(300),
            1,
            1,
        );
        let t = std::time::Instant::now();
        assert!(!p.check().await);
        assert!(t.elapsed() < Duration::from_secs(2));
    }
}
