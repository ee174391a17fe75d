//! `digitalocean` mover: assigns a reserved (formerly "floating") IP to this droplet
//! through the public API.
//!
//! Flow: read the IP's current droplet; skip if it is us; `POST .../actions
//! {"type":"assign","droplet_id":N}`; poll the returned action until `completed` (done)
//! or `errored` (assign again). 429 waits for `retry-after`; 5xx, network errors and 422
//! (the IP is locked by another action in progress) back off and retry until the overall
//! deadline; 401/403/404 fail at once. The API never offers "unassign to nobody" as part of
//! this flow, so a failed or released run leaves the IP where it was, never unassigned.

use super::{Mover, MoverError, Role};
use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::Value;
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::time::Instant;

const NAME: &str = "digitalocean";

/// Timing knobs; the defaults suit the real API, tests shrink them.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// First backoff after a retryable error; doubles up to `max_backoff`.
    pub backoff: Duration,
    /// Backoff ceiling.
    pub max_backoff: Duration,
    /// Interval between polls of an in-progress action.
    pub poll: Duration,
    /// Overall deadline of one `assign`.
    pub deadline: Duration,
    /// Longest `retry-after` honoured (a bigger one is clamped).
    pub max_retry_after: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            poll: Duration::from_secs(1),
            deadline: Duration::from_secs(120),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// The API token. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token string (trimmed).
    pub fn new(s: &str) -> Token {
        Token(s.trim().to_string())
    }

    /// Reads the first line of `path`, or else the environment variable `env`.
    pub fn load(path: Option<&std::path::Path>, env: &str) -> Result<Token, MoverError> {
        let raw = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|e| {
                MoverError::permanent(NAME, format!("cannot read token file {}: {e}", p.display()))
            })?,
            None => std::env::var(env).map_err(|_| {
                MoverError::permanent(NAME, format!("no token: set token_file or ${env}"))
            })?,
        };
        let t = Token::new(raw.lines().next().unwrap_or(""));
        if t.0.is_empty() {
            return Err(MoverError::permanent(NAME, "the API token is empty"));
        }
        Ok(t)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Where the droplet id comes from.
#[derive(Debug, Clone)]
pub enum DropletId {
    /// Known from the configuration.
    Fixed(u64),
    /// Asked from `{metadata_url}/metadata/v1/id` on first use.
    Metadata(String),
}

/// The DigitalOcean mover.
#[derive(Debug)]
pub struct DigitalOcean {
    api: String,
    path: String,
    ip: Ipv4Addr,
    token: Token,
    droplet: DropletId,
    cached_id: tokio::sync::OnceCell<u64>,
    timing: Timing,
    http: reqwest::Client,
}

enum Outcome {
    Done,
    Retry(Duration, String),
}

impl DigitalOcean {
    /// `api` is the base URL (`https://api.digitalocean.com`), `path` is `reserved_ips`
    /// or `floating_ips`.
    pub fn new(
        api: &str,
        path: &str,
        ip: Ipv4Addr,
        token: Token,
        droplet: DropletId,
        timing: Timing,
    ) -> Result<DigitalOcean, MoverError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .user_agent("fulcrum-ha")
            .build()
            .map_err(|e| MoverError::permanent(NAME, format!("HTTP client: {e}")))?;
        Ok(DigitalOcean {
            api: api.trim_end_matches('/').to_string(),
            path: path.to_string(),
            ip,
            token,
            droplet,
            cached_id: tokio::sync::OnceCell::new(),
            timing,
            http,
        })
    }

    async fn droplet_id(&self) -> Result<u64, MoverError> {
        self.cached_id
            .get_or_try_init(|| async {
                match &self.droplet {
                    DropletId::Fixed(id) => Ok(*id),
                    DropletId::Metadata(base) => {
                        let url = format!("{}/metadata/v1/id", base.trim_end_matches('/'));
                        let r = self.http.get(&url).send().await.map_err(|e| {
                            MoverError::transient(NAME, format!("metadata {url}: {e}"))
                        })?;
                        if !r.status().is_success() {
                            return Err(MoverError::transient(
                                NAME,
                                format!("metadata {url}: HTTP {}", r.status()),
                            ));
                        }
                        let body = r.text().await.map_err(|e| {
                            MoverError::transient(NAME, format!("metadata {url}: {e}"))
                        })?;
                        body.trim().parse::<u64>().map_err(|_| {
                            MoverError::permanent(NAME, format!("metadata {url}: not a droplet id"))
                        })
                    }
                }
            })
            .await
            .copied()
    }

    fn ip_url(&self) -> String {
        format!("{}/v2/{}/{}", self.api, self.path, self.ip)
    }

    /// Droplet currently holding the IP (`None` = unassigned).
    pub async fn current_droplet(&self) -> Result<Option<u64>, MoverError> {
        let r = self
            .http
            .get(self.ip_url())
            .bearer_auth(&self.token.0)
            .send()
            .await
            .map_err(|e| MoverError::transient(NAME, format!("GET {}: {e}", self.ip_url())))?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(api_error("GET", status, &body));
        }
        // `{"reserved_ip": {...}}` or `{"floating_ip": {...}}`, by name: other top-level
        // keys (`links`, `meta`) must not be mistaken for it.
        let obj = body
            .get("reserved_ip")
            .or_else(|| body.get("floating_ip"))
            .filter(|o| o.is_object())
            .ok_or_else(|| MoverError::transient(NAME, "GET: unexpected body"))?;
        Ok(obj
            .get("droplet")
            .and_then(|d| d.get("id"))
            .and_then(Value::as_u64))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let b = self.timing.backoff.saturating_mul(1 << attempt.min(16));
        b.min(self.timing.max_backoff)
    }

    async fn try_assign(&self, me: u64, attempt: u32) -> Result<Outcome, MoverError> {
        match self.current_droplet().await {
            Ok(Some(id)) if id == me => return Ok(Outcome::Done),
            Ok(_) => {}
            Err(e) if e.retryable => {
                return Ok(Outcome::Retry(self.backoff(attempt), e.message));
            }
            Err(e) => return Err(e),
        }
        let url = format!("{}/actions", self.ip_url());
        let r = match self
            .http
            .post(&url)
            .bearer_auth(&self.token.0)
            .json(&serde_json::json!({"type": "assign", "droplet_id": me}))
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Ok(Outcome::Retry(self.backoff(attempt), format!("POST: {e}"))),
        };
        let status = r.status();
        let retry_after = retry_after(&r);
        let body: Value = r.json().await.unwrap_or(Value::Null);
        match status.as_u16() {
            200..=299 => {}
            429 => {
                let wait = retry_after
                    .unwrap_or_else(|| self.backoff(attempt))
                    .min(self.timing.max_retry_after);
                return Ok(Outcome::Retry(wait, "rate limited (429)".into()));
            }
            422 => {
                // Locked by another action in progress, or already ours: re-read the IP
                // at the next attempt, which also recognises "already assigned to me".
                return Ok(Outcome::Retry(
                    self.backoff(attempt),
                    format!("422: {}", message(&body)),
                ));
            }
            500..=599 => {
                return Ok(Outcome::Retry(
                    self.backoff(attempt),
                    format!("server error {status}"),
                ))
            }
            _ => return Err(api_error("POST", status, &body)),
        }
        let Some(action) = body
            .get("action")
            .and_then(|a| a.get("id"))
            .and_then(Value::as_u64)
        else {
            return Ok(Outcome::Retry(
                self.backoff(attempt),
                "POST: no action id".into(),
            ));
        };
        self.poll(action).await
    }

    async fn poll(&self, action: u64) -> Result<Outcome, MoverError> {
        let url = format!("{}/actions/{action}", self.ip_url());
        let mut errors = 0u32;
        loop {
            let r = self.http.get(&url).bearer_auth(&self.token.0).send().await;
            let mut wait = None;
            match r {
                Ok(r) if r.status().is_success() => {
                    errors = 0;
                    let body: Value = r.json().await.unwrap_or(Value::Null);
                    let st = body
                        .get("action")
                        .and_then(|a| a.get("status"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    match st {
                        "completed" => return Ok(Outcome::Done),
                        "errored" => {
                            return Ok(Outcome::Retry(
                                self.timing.backoff,
                                format!("action {action} errored"),
                            ))
                        }
                        _ => {}
                    }
                }
                Ok(r) if r.status().as_u16() == 429 => {
                    errors += 1;
                    wait = retry_after(&r).map(|d| d.min(self.timing.max_retry_after));
                }
                Ok(r) if r.status().is_server_error() => {
                    errors += 1;
                }
                Ok(r) => {
                    let status = r.status();
                    let body: Value = r.json().await.unwrap_or(Value::Null);
                    return Err(api_error("GET action", status, &body));
                }
                Err(_) => errors += 1,
            }
            tokio::time::sleep(wait.unwrap_or(if errors > 0 {
                self.backoff(errors)
            } else {
                self.timing.poll
            }))
            .await;
        }
    }

    /// Assigns the IP to this droplet, retrying until done or the deadline.
    pub async fn assign(&self) -> Result<(), MoverError> {
        let deadline = Instant::now() + self.timing.deadline;
        let me = self.droplet_id().await?;
        let mut attempt = 0u32;
        let mut last = String::new();
        loop {
            let step = tokio::time::timeout_at(deadline, self.try_assign(me, attempt)).await;
            match step {
                Err(_) => break,
                Ok(Err(e)) => return Err(e),
                Ok(Ok(Outcome::Done)) => return Ok(()),
                Ok(Ok(Outcome::Retry(wait, why))) => {
                    eprintln!(
                        "fulcrum-ha: digitalocean: assign {} to droplet {me}: {why}; retrying in {wait:?}",
                        self.ip
                    );
                    last = why;
                    if Instant::now() + wait >= deadline {
                        break;
                    }
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
        Err(MoverError::transient(
            NAME,
            format!(
                "assign {} not completed within {:?} (last: {last})",
                self.ip, self.timing.deadline
            ),
        ))
    }
}

/// `retry-after` in seconds (the form the API sends).
fn retry_after(r: &reqwest::Response) -> Option<Duration> {
    r.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn message(body: &Value) -> String {
    body.get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

fn api_error(what: &str, status: reqwest::StatusCode, body: &Value) -> MoverError {
    let msg = format!("{what}: HTTP {status}: {}", message(body));
    match status.as_u16() {
        429 | 500..=599 => MoverError::transient(NAME, msg),
        _ => MoverError::permanent(NAME, msg),
    }
}

impl Mover for DigitalOcean {
    fn name(&self) -> &'static str {
        NAME
    }

    fn apply(&self, role: Role) -> BoxFuture<'_, Result<(), MoverError>> {
        async move {
            match role {
                Role::Master => self.assign().await,
                // Unassigning would leave the IP nowhere; the new master's assign moves
                // it away from us.
                _ => Ok(()),
            }
        }
        .boxed()
    }

    fn holds(&self) -> BoxFuture<'_, Result<Option<bool>, MoverError>> {
        async move {
            let me = self.droplet_id().await?;
            Ok(Some(self.current_droplet().await? == Some(me)))
        }
        .boxed()
    }
}
