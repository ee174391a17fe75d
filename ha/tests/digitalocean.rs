//! The digitalocean mover against a local (loopback) server implementing the documented
//! endpoints and their errors: 401, 404, 422 while locked, 429 with retry-after, 500, and
//! actions that stay `in-progress` for a while.

use fulcrum_ha::mover::digitalocean::{DigitalOcean, DropletId, Timing, Token};
use fulcrum_ha::mover::{Mover, Role};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TOKEN: &str = "dop_v1_secret_token_value";
const IP: &str = "203.0.113.10";
const ME: u64 = 4242;
const OTHER: u64 = 1717;

/// A scripted failure for the next POST.
#[derive(Clone, Debug)]
enum Fail {
    Status(u16, &'static str),
    RateLimited(u64),
}

#[derive(Default)]
struct World {
    /// Droplet the IP is assigned to.
    assigned: Option<u64>,
    /// Failures returned by the next POSTs, in order.
    post_failures: VecDeque<Fail>,
    /// Polls an action stays in-progress before completing.
    in_progress_polls: u32,
    /// Whether the next action errors instead of completing.
    error_next_action: bool,
    /// Pending action: (id, target droplet, polls left, errors).
    action: Option<(u64, u64, u32, bool)>,
    next_action_id: u64,
    /// Every request: (method, path, authorization header, time).
    log: Vec<(String, String, String, Instant)>,
    /// Return 500 to every request.
    always_500: bool,
    /// Answer this many action polls with 429 retry-after: 1 first.
    poll_429: u32,
    /// Paths use this collection name.
    collection: &'static str,
}

type Shared = Arc<Mutex<World>>;

fn json(status: u16, body: serde_json::Value) -> (u16, Vec<(String, String)>, String) {
    (status, vec![], body.to_string())
}

fn route(
    w: &mut World,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    if w.always_500 {
        return json(
            500,
            serde_json::json!({"id": "server_error", "message": "boom"}),
        );
    }
    if method == "GET" && path == "/metadata/v1/id" {
        return (200, vec![], format!("{ME}\n"));
    }
    let base = format!("/v2/{}/{IP}", w.collection);
    let key = w.collection.trim_end_matches('s').to_string();
    if method == "GET" && path == base {
        let droplet = match w.assigned {
            Some(id) => serde_json::json!({"id": id, "name": "d"}),
            None => serde_json::Value::Null,
        };
        let locked = w.action.is_some();
        // `links` sorts before the resource key: the mover must pick the right one.
        return json(
            200,
            serde_json::json!({ "links": {}, key: {"ip": IP, "droplet": droplet, "locked": locked} }),
        );
    }
    if method == "POST" && path == format!("{base}/actions") {
        if let Some(f) = w.post_failures.pop_front() {
            return match f {
                Fail::Status(s, id) => json(s, serde_json::json!({"id": id, "message": format!("scripted {s}")})),
                Fail::RateLimited(secs) => (
                    429,
                    vec![("retry-after".into(), secs.to_string())],
                    serde_json::json!({"id": "too_many_requests", "message": "API rate limit exceeded"}).to_string(),
                ),
            };
        }
        if w.action.is_some() {
            return json(
                422,
                serde_json::json!({"id": "unprocessable_entity", "message": "The floating IP is already being modified."}),
            );
        }
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(v["type"], "assign");
        let target = v["droplet_id"].as_u64().unwrap();
        w.next_action_id += 1;
        let id = w.next_action_id;
        let err = std::mem::take(&mut w.error_next_action);
        w.action = Some((id, target, w.in_progress_polls, err));
        return json(
            201,
            serde_json::json!({"action": {"id": id, "status": "in-progress", "type": "assign_ip"}}),
        );
    }
    if method == "GET" && path.starts_with(&format!("{base}/actions/")) && w.poll_429 > 0 {
        w.poll_429 -= 1;
        return (
            429,
            vec![("retry-after".into(), "1".into())],
            serde_json::json!({"id": "too_many_requests", "message": "slow down"}).to_string(),
        );
    }
    if method == "GET" && path.starts_with(&format!("{base}/actions/")) {
        let id: u64 = path.rsplit('/').next().unwrap().parse().unwrap();
        let Some((aid, target, left, err)) = w.action else {
            return json(
                200,
                serde_json::json!({"action": {"id": id, "status": "completed"}}),
            );
        };
        assert_eq!(aid, id);
        if left > 0 {
            w.action = Some((aid, target, left - 1, err));
            return json(
                200,
                serde_json::json!({"action": {"id": id, "status": "in-progress"}}),
            );
        }
        w.action = None;
        if err {
            return json(
                200,
                serde_json::json!({"action": {"id": id, "status": "errored"}}),
            );
        }
        w.assigned = Some(target);
        return json(
            200,
            serde_json::json!({"action": {"id": id, "status": "completed"}}),
        );
    }
    json(
        404,
        serde_json::json!({"id": "not_found", "message": "The resource you were accessing could not be found."}),
    )
}

/// Minimal HTTP/1.1 server: one request per connection, `Connection: close`.
async fn serve(world: Shared) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let world = world.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                let head_end = loop {
                    let n = s.read(&mut tmp).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut lines = head.lines();
                let mut first = lines.next().unwrap_or("").split_whitespace();
                let method = first.next().unwrap_or("").to_string();
                let path = first.next().unwrap_or("").to_string();
                let mut clen = 0usize;
                let mut auth = String::new();
                for l in lines {
                    if let Some((k, v)) = l.split_once(':') {
                        match k.trim().to_ascii_lowercase().as_str() {
                            "content-length" => clen = v.trim().parse().unwrap_or(0),
                            "authorization" => auth = v.trim().to_string(),
                            _ => {}
                        }
                    }
                }
                while buf.len() < head_end + clen {
                    let n = s.read(&mut tmp).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                let (status, headers, out) = {
                    let mut w = world.lock().unwrap();
                    w.log
                        .push((method.clone(), path.clone(), auth.clone(), Instant::now()));
                    if !path.starts_with("/metadata") && auth != format!("Bearer {TOKEN}") {
                        json(
                            401,
                            serde_json::json!({"id": "unauthorized", "message": "Unable to authenticate you."}),
                        )
                    } else {
                        route(&mut w, &method, &path, &body)
                    }
                };
                let mut resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                    out.len()
                );
                for (k, v) in headers {
                    resp.push_str(&format!("{k}: {v}\r\n"));
                }
                resp.push_str("\r\n");
                resp.push_str(&out);
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

fn fast() -> Timing {
    Timing {
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        poll: Duration::from_millis(20),
        deadline: Duration::from_secs(10),
        max_retry_after: Duration::from_secs(5),
    }
}

async fn setup(w: World, token: &str, timing: Timing) -> (Shared, DigitalOcean) {
    let collection = if w.collection.is_empty() {
        "reserved_ips"
    } else {
        w.collection
    };
    let world = Arc::new(Mutex::new(World { collection, ..w }));
    let addr = serve(world.clone()).await;
    let base = format!("http://{addr}");
    let m = DigitalOcean::new(
        &base,
        collection,
        IP.parse::<Ipv4Addr>().unwrap(),
        Token::new(token),
        DropletId::Metadata(base.clone()),
        timing,
    )
    .unwrap();
    (world, m)
}

fn count(w: &Shared, method: &str, suffix: &str) -> usize {
    w.lock()
        .unwrap()
        .log
        .iter()
        .filter(|(m, p, _, _)| m == method && p.ends_with(suffix))
        .count()
}

#[tokio::test]
async fn assigns_and_polls_in_progress_action_until_completed() {
    let (w, m) = setup(
        World {
            assigned: Some(OTHER),
            in_progress_polls: 5,
            ..Default::default()
        },
        TOKEN,
        fast(),
    )
    .await;
    m.apply(Role::Master).await.unwrap();
    assert_eq!(w.lock().unwrap().assigned, Some(ME));
    assert_eq!(count(&w, "POST", "/actions"), 1);
    assert_eq!(count(&w, "GET", "/actions/1"), 6);
    assert_eq!(count(&w, "GET", "/metadata/v1/id"), 1);
    assert_eq!(m.holds().await.unwrap(), Some(true));
    // The bearer token was sent to the API and nowhere else.
    for (_, p, auth, _) in &w.lock().unwrap().log {
        if p.starts_with("/metadata") {
            assert!(auth.is_empty());
        } else {
            assert_eq!(auth, &format!("Bearer {TOKEN}"));
        }
    }
}

#[tokio::test]
async fn already_assigned_to_us_skips_the_post() {
    let (w, m) = setup(
        World {
            assigned: Some(ME),
            ..Default::default()
        },
        TOKEN,
        fast(),
    )
    .await;
    m.apply(Role::Master).await.unwrap();
    assert_eq!(count(&w, "POST", "/actions"), 0);
}

#[tokio::test]
async fn floating_ips_path_works_too() {
    let (w, m) = setup(
        World {
            collection: "floating_ips",
            assigned: None,
            in_progress_polls: 1,
            ..Default::default()
        },
        TOKEN,
        fast(),
    )
    .await;
    m.apply(Role::Master).await.unwrap();
    assert_eq!(w.lock().unwrap().assigned, Some(ME));
    assert_eq!(
        count(&w, "POST", "/v2/floating_ips/203.0.113.10/actions"),
        1
    );
}

#[tokio::test]
async fn retries_429_honouring_retry_after() {
    let (w, m) = setup(
        World {
            assigned: Some(OTHER),
            post_failures: VecDeque::from([Fail::RateLimited(1)]),
            ..Default::default()
        },
        TOKEN,
        fast(),
    )
    .await;
    m.apply(Role::Master).await.unwrap();
    let log = w.lock().unwrap().log.clone();
    let posts: Vec<Instant> = log
        .iter()
        .filter(|(m, _, _, _)| m == "POST")
        .map(|x| x.3)
        .collect();
    assert_eq!(posts.len(), 2);
    // retry-after: 1 was honoured (the backoff alone would be 20 ms).
    assert!(
        posts[1] - posts[0] >= Duration::from_millis(950),
        "{:?}",
        posts[1] - posts[0]
    );
    assert_eq!(w.lock().unwrap().assigned, Some(ME));
}

#[tokio::test]
async fn retries_500_and_422_locked_with_backoff() {
    let (w, m) = setup(
        World {
            assigned: Some(OTHER),
            post_failures: VecDeque::from([
                Fail::Status(500, "server_error"),
                Fail::Status(503, "unavailable"),
                Fail::Status(422, "unprocessable_entity"),
            ]),
            in_progress_polls: 2,
            ..Default::default()
        },
        TOKEN,
        fast(),
    )
    .await;
    m.apply(Role::Master).await.unwrap();
    assert_eq!(count(&w, "POST", "/actions"), 4);
    assert_eq!(w.lock().unwrap().assigned, Some(ME));
    // Backoff grows: gaps between POSTs are at least 20, 40, 80 ms.
    let log = w.lock().unwrap().log.clone();
    let posts: Vec<Instant> = log
        .iter()
        .filter(|(m, _, _, _)| m == "POST")
        .map(|x| x.3)
        .collect();
    for (i, min) in [20u64, 40, 80].iter().enumerate() {
        assert!(posts[i + 1] - posts[i] >= Duration::from_millis(*min));
    }
}

#[tokio::test]
async fn locked_by_another_action_then_already_ours() {
    // Another assign to us is in progress (the IP is locked): our POST gets 422, and once
    // that action completes the next attempt sees the IP is ours and succeeds.
    let (w, m) = setup(
        World {
            assigned: Some(OTHER),
            ..Default::default()
        },
        TOKEN,
        fast(),
    )
    .await;
    {
        let mut g = w.lock().unwrap();
        g.action = Some((99, ME, 0, false));
    }
    let w2 = w.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut g = w2.lock().unwrap();
        g.action = None;
        g.assigned = Some(ME);
    });
    m.apply(Role::Master).await.unwrap();
    assert!(count(&w, "POST", "/actions") >= 1);
    assert_eq!(w.lock().unwrap().assigned, Some(ME));
}

#[tokio::test]
async fn errored_action_is_retried() {
    let (w, m) = setup(
        World {
            assigned: Some(OTHER),
            error_next_action: true,
            in_progress_polls: 1,
            ..Default::default()
        },
        TOKEN,
        fast(),
    )
    .await;
    m.apply(Role::Master).await.unwrap();
    assert_eq!(count(&w, "POST", "/actions"), 2);
    assert_eq!(w.lock().unwrap().assigned, Some(ME));
}

#[tokio::test]
async fn unauthorized_fails_at_once_without_leaking_the_token() {
    let wrong = "dop_v1_wrong_token";
    let (w, m) = setup(
        World {
            assigned: Some(OTHER),
            ..Default::default()
        },
        wrong,
        fast(),
    )
    .await;
    let t = Instant::now();
    let e = m.apply(Role::Master).await.unwrap_err();
    assert!(!e.retryable);
    assert!(e.message.contains("401"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(count(&w, "POST", "/actions"), 0);
    assert!(!format!("{e} {e:?} {m:?}").contains(wrong));
    assert_eq!(
        w.lock().unwrap().assigned,
        Some(OTHER),
        "IP never unassigned"
    );
}

#[tokio::test]
async fn not_found_fails_at_once() {
    let (w, m) = setup(
        World {
            assigned: Some(OTHER),
            ..Default::default()
        },
        TOKEN,
        fast(),
    )
    .await;
    w.lock().unwrap().collection = "nope";
    let e = m.apply(Role::Master).await.unwrap_err();
    assert!(!e.retryable);
    assert!(e.message.contains("404"), "{e}");
}

#[tokio::test]
async fn persistent_500_gives_up_at_deadline_and_leaves_ip_assigned() {
    let mut t = fast();
    t.deadline = Duration::from_millis(800);
    let (w, m) = setup(
        World {
            assigned: Some(OTHER),
            ..Default::default()
        },
        TOKEN,
        t,
    )
    .await;
    // Resolve the droplet id first, then break the API.
    assert_eq!(m.holds().await.unwrap(), Some(false));
    w.lock().unwrap().always_500 = true;
    let start = Instant::now();
    let e = m.apply(Role::Master).await.unwrap_err();
    assert!(e.retryable);
    assert!(start.elapsed() >= Duration::from_millis(700));
    assert!(start.elapsed() < Duration::from_secs(3));
    assert!(w.lock().unwrap().log.len() > 3, "retried");
    assert_eq!(
        w.lock().unwrap().assigned,
        Some(OTHER),
        "IP never unassigned"
    );
}

#[tokio::test]
async fn release_does_not_unassign() {
    let (w, m) = setup(
        World {
            assigned: Some(ME),
            ..Default::default()
        },
        TOKEN,
        fast(),
    )
    .await;
    m.apply(Role::Backup).await.unwrap();
    m.apply(Role::Stop).await.unwrap();
    assert_eq!(w.lock().unwrap().assigned, Some(ME));
    assert_eq!(count(&w, "POST", "/actions"), 0);
}

#[test]
fn token_loading() {
    let dir = std::env::temp_dir().join(format!("fulcrum-ha-tok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("tok");
    std::fs::write(&f, format!("{TOKEN}\n")).unwrap();
    let t = Token::load(Some(&f), "UNUSED_ENV_FULCRUM").unwrap();
    assert_eq!(format!("{t:?}"), "Token(<redacted>)");
    std::fs::write(&f, "\n").unwrap();
    assert!(Token::load(Some(&f), "X").is_err());
    assert!(Token::load(None, "FULCRUM_HA_SURELY_UNSET_VAR").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The Pacemaker path: `fulcrum-ha assign` returns only once the action completed, and
/// `fulcrum-ha status` answers 7 before and 0 after (what the OCF monitor reports).
#[tokio::test]
async fn one_shot_assign_and_status_through_the_binary() {
    let world = Arc::new(Mutex::new(World {
        collection: "reserved_ips",
        assigned: Some(OTHER),
        in_progress_polls: 2,
        post_failures: VecDeque::from([Fail::Status(500, "server_error")]),
        ..Default::default()
    }));
    let addr = serve(world.clone()).await;
    let dir = std::env::temp_dir().join(format!("fulcrum-ha-do-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("ha.toml");
    std::fs::write(
        &cfg,
        format!(
            "[vrrp]\ninterface = \"lo\"\nvirtual_router_id = 1\nvirtual_ips = [\"{IP}/32\"]\n\n\
             [[mover]]\ntype = \"digitalocean\"\napi_url = \"http://{addr}\"\nmetadata_url = \"http://{addr}\"\n\
             token_env = \"FULCRUM_HA_TEST_DO_TOKEN\"\ntimeout_s = 30\n\n[status]\nfile = \"{}/status.json\"\n",
            dir.display()
        ),
    )
    .unwrap();
    let run = |cmd: &'static str| {
        let cfg = cfg.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_fulcrum-ha"))
                .arg("-c")
                .arg(&cfg)
                .arg(cmd)
                .env("FULCRUM_HA_TEST_DO_TOKEN", TOKEN)
                .output()
                .await
                .unwrap()
        }
    };
    assert_eq!(run("status").await.status.code(), Some(7));
    let out = run("assign").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Returned only after completion: the mock shows the IP on our droplet already.
    assert_eq!(world.lock().unwrap().assigned, Some(ME));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("server error 500"), "{stderr}");
    assert!(!stderr.contains(TOKEN), "token leaked into logs");
    assert_eq!(run("status").await.status.code(), Some(0));
    // release leaves the IP assigned (never unassigned).
    assert!(run("release").await.status.success());
    assert_eq!(world.lock().unwrap().assigned, Some(ME));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn rate_limited_while_polling_honours_retry_after() {
    let (w, m) = setup(
        World {
            assigned: Some(OTHER),
            poll_429: 1,
            ..Default::default()
        },
        TOKEN,
        fast(),
    )
    .await;
    m.apply(Role::Master).await.unwrap();
    let log = w.lock().unwrap().log.clone();
    let polls: Vec<Instant> = log
        .iter()
        .filter(|(m, p, _, _)| m == "GET" && p.contains("/actions/"))
        .map(|x| x.3)
        .collect();
    assert_eq!(polls.len(), 2);
    assert!(
        polls[1] - polls[0] >= Duration::from_millis(950),
        "{:?}",
        polls[1] - polls[0]
    );
    assert_eq!(w.lock().unwrap().assigned, Some(ME));
}
