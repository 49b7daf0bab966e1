//! `livecut review` against the real server: the JSON API with a real HTTP client (every
//! endpoint, stale writes, bad bodies, unknown names, traversal), 200 concurrent requests,
//! kill -9 during saves, the token on a non-loopback bind, and the workspace in headless
//! Chromium (approve, reject with a reason, drag an out point, fix a subtitle) followed by
//! `livecut cut --approved`.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::browser::*;
use common::*;
use serde_json::{json, Value};

/// The demo analysed once (no clips); each test copies it.
fn analysed() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = scratch("review_base");
        let demo = demo();
        let o = run(livecut()
            .arg("analyze")
            .arg(&demo.mp4)
            .arg("--comments")
            .arg(&demo.comments)
            .arg("--orders")
            .arg(&demo.orders)
            .arg("--out")
            .arg(&out));
        assert_eq!(o.status.code(), Some(0));
        out
    })
}

/// A copy of the analysed demo in `name`, with a transcript of two sentences inside
/// highlight #1 (away from its edges); returns the output folder and highlight #1's span.
fn workspace(name: &str) -> (PathBuf, (f64, f64)) {
    let out = scratch(name);
    let dst = out.join("demo");
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(analysed().join("demo"))
        .unwrap()
        .flatten()
    {
        if e.path().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    let h = read_json(&dst.join("highlights.json"));
    let first = &h["highlights"][0];
    let (a, b) = (
        first["start_s"].as_f64().unwrap(),
        first["end_s"].as_f64().unwrap(),
    );
    let seg = |s: f64, e: f64, text: &str| json!({"start_s": s, "end_s": e, "text": text, "lang": "zh", "confidence": 0.9});
    let t = json!({
        "model": "whisper_base", "language": "zh", "transcribed": [[a, b]],
        "segments": [seg(a + 2.0, a + 6.0, "第一句字幕"), seg(a + 8.0, a + 11.0, "第二句字幕")],
    });
    std::fs::write(
        dst.join("transcript.json"),
        serde_json::to_vec_pretty(&t).unwrap(),
    )
    .unwrap();
    (out, (a, b))
}

/// A running `livecut review`; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    token: Option<String>,
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut child = livecut()
            .arg("review")
            .arg(dir)
            .args(["--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first
            .strip_prefix("review: http://")
            .unwrap_or_else(|| panic!("{first}"));
        let (hostport, rest) = url.split_once('/').unwrap();
        let port: u16 = hostport.rsplit_once(':').unwrap().1.parse().unwrap();
        let token = rest.strip_prefix("?token=").map(str::to_string);
        Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw HTTP/1.1 request (the path is sent exactly as given); status, body.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let status = String::from_utf8_lossy(&raw[..split])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut payload = raw[(split + 4).min(raw.len())..].to_vec();
    // Chunked bodies (axum's JSON): join the chunks.
    if String::from_utf8_lossy(&raw[..split])
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = Vec::new();
        let mut rest = &payload[..];
        while let Some(p) = rest.windows(2).position(|w| w == b"\r\n") {
            let n =
                usize::from_str_radix(String::from_utf8_lossy(&rest[..p]).trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[p + 2..p + 2 + n]);
            rest = &rest[p + 2 + n + 2..];
        }
        payload = out;
    }
    (status, payload)
}

fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (s, b) = request(addr, "GET", path, &[], b"");
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn post(addr: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let (s, b) = request(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

#[test]
fn the_api_records_decisions_refuses_stale_bad_and_outside_requests_and_renders() {
    let (out, (a, b)) = workspace("review_api");
    let dir = out.join("demo");
    let srv = Server::start(&out, &["--platforms", "source"]);
    let addr = srv.addr;

    let (s, v) = get(addr, "/api/recordings");
    assert_eq!(s, 200);
    assert_eq!(v["recordings"][0]["key"], "demo");
    assert_eq!(v["recordings"][0]["highlights"], 3);
    let (s, v) = get(addr, "/api/recordings/demo");
    assert_eq!(s, 200);
    assert_eq!(v["highlights"].as_array().unwrap().len(), 3);
    assert_eq!(v["review"]["version"], 0);
    assert_eq!(v["transcript"][1]["text"], "第二句字幕");
    assert!(!v["highlights"][0]["titles"].as_array().unwrap().is_empty());
    assert_eq!(get(addr, "/api/recordings/nope").0, 404);

    // Decisions, a stale write, unknown ranks, bad bodies.
    let (s, v) = post(
        addr,
        "/api/recordings/demo/highlights/1",
        &json!({"version": 0, "decision": "approve", "end_s": b + 2.0, "editor": "小王"}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["review"]["version"], 1);
    let (s, v) = post(
        addr,
        "/api/recordings/demo/highlights/2",
        &json!({"version": 0, "decision": "reject"}),
    );
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["review"]["version"], 1);
    let (s, _) = post(
        addr,
        "/api/recordings/demo/highlights/2",
        &json!({"version": 1, "decision": "reject", "reason": "太短"}),
    );
    assert_eq!(s, 200);
    assert_eq!(
        post(
            addr,
            "/api/recordings/demo/highlights/99",
            &json!({"decision": "approve"})
        )
        .0,
        404
    );
    assert_eq!(
        post(
            addr,
            "/api/recordings/demo/highlights/x",
            &json!({"decision": "approve"})
        )
        .0,
        404
    );
    assert_eq!(
        post(
            addr,
            "/api/recordings/nope/highlights/1",
            &json!({"decision": "approve"})
        )
        .0,
        404
    );
    let (s, body) = request(
        addr,
        "POST",
        "/api/recordings/demo/highlights/1",
        &[],
        b"{\"decision\": ",
    );
    assert_eq!(s, 400);
    assert!(String::from_utf8_lossy(&body).contains("malformed JSON"));
    assert_eq!(
        post(
            addr,
            "/api/recordings/demo/highlights/1",
            &json!({"decision": "maybe"})
        )
        .0,
        400
    );
    assert_eq!(
        post(
            addr,
            "/api/recordings/demo/highlights/1",
            &json!({"end_s": 1e9})
        )
        .0,
        400
    );
    let big = vec![b'a'; 100 * 1024];
    assert_eq!(
        request(addr, "POST", "/api/recordings/demo/moments", &[], &big).0,
        413
    );

    // An added moment and a corrected subtitle (written to transcript.json too).
    let (s, v) = post(
        addr,
        "/api/recordings/demo/moments",
        &json!({"version": 2, "start_s": 5.0, "end_s": 25.0, "title": "开场"}),
    );
    assert_eq!((s, v["id"].clone()), (200, json!(1)), "{v}");
    let (s, v) = post(
        addr,
        "/api/recordings/demo/subtitles/0",
        &json!({"version": 3, "text": "改过的字幕"}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        post(
            addr,
            "/api/recordings/demo/subtitles/9",
            &json!({"text": "x"})
        )
        .0,
        404
    );
    let t = read_json(&dir.join("transcript.json"));
    assert_eq!(
        (
            t["segments"][0]["text"].clone(),
            t["segments"][0]["edited"].clone()
        ),
        (json!("改过的字幕"), json!(true))
    );
    let review = read_json(&dir.join("review.json"));
    assert_eq!(review["version"], 4);
    assert_eq!(review["subtitles"][0]["was"], "第一句字幕");
    assert_eq!(review["highlights"][1]["reason"], "太短");
    assert_eq!(review["highlights"][0]["editor"], "小王");
    let errors = validate_json(&review, &root().join("schema/review.schema.json"));
    assert!(errors.is_empty(), "{errors:?}");

    // Files: inside the folder only; the recording itself by its own endpoint.
    let (s, body) = request(addr, "GET", "/files/demo/highlights.json", &[], b"");
    assert_eq!(s, 200);
    assert!(serde_json::from_slice::<Value>(&body).is_ok());
    let (s, _) = request(
        addr,
        "GET",
        "/api/recordings/demo/source",
        &[("Range", "bytes=0-99")],
        b"",
    );
    assert_eq!(s, 206);
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", dir.join("escape.txt")).unwrap();
    std::fs::write(out.join("outside.txt"), "secret").unwrap();
    for path in [
        "/files/demo/../../../../etc/passwd",
        "/files/demo/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/files/demo/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/files/demo/%252e%252e/%252e%252e/etc/passwd",
        "/files/demo/..%5c..%5coutside.txt",
        "/files/demo/%2fetc%2fpasswd",
        "/files/demo//etc/passwd",
        "/files/demo/../outside.txt",
        "/files/demo/..%2foutside.txt",
        "/files/demo/escape.txt",
        "/files/..%2fdemo/highlights.json",
    ] {
        let (s, body) = request(addr, "GET", path, &[], b"");
        let text = String::from_utf8_lossy(&body);
        assert_ne!(s, 200, "{path}");
        assert!(
            !text.contains("root:") && !text.contains("secret"),
            "{path}: {text}"
        );
    }
    // Only loopback Host names (no DNS rebinding).
    assert_eq!(
        request(
            addr,
            "GET",
            "/api/recordings",
            &[("Host", "evil.example:80")],
            b""
        )
        .0,
        403
    );

    // A hand-broken review.json: the page still loads (the error names file and line);
    // changes are refused until it is fixed.
    let good = std::fs::read(dir.join("review.json")).unwrap();
    std::fs::write(dir.join("review.json"), "{\n  \"version\": 4,\n  oops\n}").unwrap();
    let (s, v) = get(addr, "/api/recordings/demo");
    assert_eq!(s, 200);
    let e = v["review_error"].as_str().unwrap();
    assert!(e.contains("review.json:3:"), "{e}");
    let (s, v) = post(
        addr,
        "/api/recordings/demo/highlights/3",
        &json!({"decision": "approve"}),
    );
    assert_eq!(s, 500);
    assert!(v["error"].as_str().unwrap().contains("review.json:3"));
    std::fs::write(dir.join("review.json"), good).unwrap();

    // Render the approved (and added) ones in the background.
    let (s, v) = post(addr, "/api/recordings/demo/render", &json!({}));
    assert_eq!(s, 202, "{v}");
    let id = v["job"]["id"].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let job = loop {
        let (s, v) = get(addr, &format!("/api/jobs/{id}"));
        assert_eq!(s, 200);
        if v["job"]["state"] == "done" || v["job"]["state"] == "failed" {
            break v["job"].clone();
        }
        assert!(Instant::now() < deadline, "render did not finish: {v}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(
        get(addr, "/api/jobs").1["jobs"].as_array().unwrap().len(),
        1
    );
    assert_eq!(get(addr, "/api/jobs/77").0, 404);
    let m = validate_manifest(&dir.join("manifest.json"));
    let clips: Vec<(u64, bool)> = m["clips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["rank"].as_u64().unwrap(),
                c["approved"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(clips, [(1, true), (4, true)]);
    let first = &m["clips"][0];
    assert!(first["requested"]["end_s"].as_f64().unwrap() - (b + 2.0) < 1e-6);
    assert!(first["requested"]["start_s"].as_f64().unwrap() - a < 1e-6);
}

#[test]
fn two_hundred_concurrent_requests_are_answered_and_kill_9_never_tears_a_save() {
    let (out, _) = workspace("review_load");
    let dir = out.join("demo");
    let srv = Server::start(&out, &[]);
    let addr = srv.addr;
    let threads: Vec<_> = (0..20)
        .map(|t| {
            std::thread::spawn(move || {
                (0..10)
                    .map(|i| {
                        if i % 2 == 0 {
                            get(addr, "/api/recordings/demo").0
                        } else {
                            let d = if (t + i) % 4 == 1 {
                                "approve"
                            } else {
                                "reject"
                            };
                            post(
                                addr,
                                &format!("/api/recordings/demo/highlights/{}", 1 + t % 3),
                                &json!({"decision": d}),
                            )
                            .0
                        }
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    let statuses: Vec<u16> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(statuses.len(), 200);
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    // Every write was counted: 100 changes, serialised by the recording's lock.
    assert_eq!(read_json(&dir.join("review.json"))["version"], 100);
    drop(srv);

    // kill -9 in the middle of a stream of saves: review.json is whole, old or new.
    for round in 0..3 {
        let srv = Server::start(&out, &[]);
        let addr = srv.addr;
        let writer = std::thread::spawn(move || {
            let mut n = 0;
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                let s = std::panic::catch_unwind(|| {
                    post(
                        addr,
                        "/api/recordings/demo/moments",
                        &json!({"start_s": 1.0, "end_s": 2.0, "reason": "x".repeat(900)}),
                    )
                    .0
                });
                match s {
                    Ok(200) => n += 1,
                    _ => break,
                }
            }
            n
        });
        std::thread::sleep(Duration::from_millis(300 + 150 * round));
        drop(srv); // SIGKILL
        let saved = writer.join().unwrap_or(0);
        let review = read_json(&dir.join("review.json"));
        assert!(
            review["version"].as_u64().unwrap() >= 100,
            "round {round}: {review}"
        );
        assert!(
            saved > 0,
            "round {round}: no save went through before the kill"
        );
        let leftovers: Vec<String> = files_under(&dir)
            .into_iter()
            .filter(|f| f.contains(".tmp") || f.contains(".part"))
            .collect();
        assert!(leftovers.len() <= 1, "{leftovers:?}");
    }
}

#[test]
fn a_non_loopback_bind_requires_the_token() {
    let (out, _) = workspace("review_token");
    let srv = Server::start(&out, &["--bind", "0.0.0.0"]);
    let token = srv.token.clone().expect("a token is printed");
    assert_eq!(token.len(), 32);
    let addr = srv.addr;
    assert_eq!(request(addr, "GET", "/api/recordings", &[], b"").0, 401);
    assert_eq!(
        request(
            addr,
            "GET",
            "/api/recordings",
            &[("Authorization", "Bearer 0123456789abcdef0123456789abcdef")],
            b""
        )
        .0,
        401
    );
    assert_eq!(request(addr, "GET", "/", &[], b"").0, 401);
    let bearer = format!("Bearer {token}");
    assert_eq!(
        request(
            addr,
            "GET",
            "/api/recordings",
            &[("Authorization", &bearer)],
            b""
        )
        .0,
        200
    );
    assert_eq!(
        request(
            addr,
            "GET",
            &format!("/api/recordings?token={token}"),
            &[],
            b""
        )
        .0,
        200
    );
}

#[test]
fn an_editor_approves_rejects_trims_and_fixes_a_subtitle_in_the_browser_and_cut_renders_it() {
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let (out, (a, b)) = workspace("review_browser");
    let dir = out.join("demo");
    let srv = Server::start(&out, &[]);
    let browser = Browser::start(&out);
    browser.goto(&srv.url("/r/demo"));
    browser.wait_for(
        "return document.querySelectorAll('article.highlight').length",
        "the highlights",
        30,
    );

    // The product lane (the demo's orders name SKUs: products.json from the orders): one
    // block per stretch, and each highlight names the product on air at its peak.
    let products = read_json(&dir.join("products.json"));
    let stretches = products["stretches"].as_array().unwrap();
    let lane = browser.exec(
        "return document.querySelector('#products').hidden ? null : \
         [...document.querySelectorAll('#product-lane .stretch')].map(s => s.dataset.sku)",
    );
    let want: Vec<Value> = stretches
        .iter()
        .map(|s| json!(s["sku"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(lane, Value::Array(want));
    let highlights = read_json(&dir.join("highlights.json"));
    let peak = highlights["highlights"][0]["peak_s"].as_f64().unwrap();
    let on_air = stretches
        .iter()
        .find(|s| s["start_s"].as_f64().unwrap() <= peak && peak < s["end_s"].as_f64().unwrap());
    let shown = browser.exec("return document.querySelector('#h-1 .product').textContent");
    match on_air.and_then(|s| s["sku"].as_str()) {
        Some(sku) => assert!(shown.as_str().unwrap().contains(sku), "{shown} vs {sku}"),
        None => assert_eq!(shown, json!("")),
    }

    // Why each highlight is there: its signals' shares with the weights the analysis used.
    let why = browser.exec("return document.querySelector('#h-1 .why').textContent");
    assert!(why.as_str().unwrap().contains("(weight 0."), "{why}");
    browser.click("#h-1 .approve");
    browser.wait_for(
        "return document.querySelector('#h-1 .decision').textContent.startsWith('approve')",
        "#1 approved",
        15,
    );
    browser.type_into("#h-2 .reason", "画面太暗");
    browser.click("#h-2 .reject");
    browser.wait_for(
        "return document.querySelector('#h-2 .decision').textContent.startsWith('reject')",
        "#2 rejected",
        15,
    );

    // Drag #1's out point 3 s later: pixels per second from the bar's own scale.
    let px_per_s = browser
        .exec("const b = document.querySelector('#h-1 .timeline'); return b.getBoundingClientRect().width / (b.dataset.hi - b.dataset.lo);")
        .as_f64()
        .unwrap();
    browser.drag_by("#h-1 .handle.out", (3.0 * px_per_s).round() as i64);
    browser.wait_for(
        "return /out point/.test(document.querySelector('#status').textContent)",
        "the new out point saved",
        15,
    );

    browser.type_into("#h-1 li.seg[data-index='0'] input", "改过的字幕 到手价99元");
    browser.click("#h-1 li.seg[data-index='0'] button.save");
    browser.wait_for(
        "return /subtitle .* saved/.test(document.querySelector('#status').textContent)",
        "the subtitle saved",
        15,
    );
    let shot = out.join("review.png");
    browser.screenshot(&shot);

    let review = read_json(&dir.join("review.json"));
    let h = review["highlights"].as_array().unwrap();
    assert_eq!(h[0]["decision"], "approve", "{review}");
    assert_eq!(
        (h[1]["decision"].clone(), h[1]["reason"].clone()),
        (json!("reject"), json!("画面太暗"))
    );
    // 3 s later, or the sentence edge, pause or shot cut within 0.75 s it snapped to.
    let end = h[0]["end_s"].as_f64().unwrap();
    let snaps = get(srv.addr, "/api/recordings/demo").1["snaps"].clone();
    let snapped = snaps
        .as_array()
        .unwrap()
        .iter()
        .any(|t| (t.as_f64().unwrap() - end).abs() < 1e-6);
    assert!(
        (end - (b + 3.0)).abs() < 0.25 || (snapped && (end - (b + 3.0)).abs() <= 0.8),
        "end {end} vs {}",
        b + 3.0
    );
    assert_eq!(review["subtitles"][0]["text"], "改过的字幕 到手价99元");
    assert_eq!(review["version"], 4);

    // The approved clip, as edited.
    let o = run(livecut().arg("cut").arg(dir.join("highlights.json")).args([
        "--approved",
        "--platforms",
        "douyin",
    ]));
    assert_eq!(o.status.code(), Some(0));
    let m = validate_manifest(&dir.join("manifest.json"));
    let clips = m["clips"].as_array().unwrap();
    assert_eq!(clips.len(), 1);
    assert_eq!(
        (clips[0]["rank"].clone(), clips[0]["approved"].clone()),
        (json!(1), json!(true))
    );
    let d = probe_duration(&ffprobe(&dir.join(clips[0]["path"].as_str().unwrap())));
    assert!((d - (end - a)).abs() < 0.1, "clip {d} s vs {} s", end - a);
    assert_eq!(clips[0]["subtitles"]["burned"], true);
    let srt = std::fs::read_to_string(dir.join("clips/1_douyin.srt")).unwrap();
    assert!(srt.contains("改过的字幕 到手价99元"), "{srt}");
}
