//! The editor's preview page in a real browser: headless Chromium driven through
//! chromium-driver (WebDriver over HTTP on localhost, a tiny blocking client below).
//! 1. The demo's preview opens from disk with no console errors, lists every highlight, and
//!    "play source from here" seeks the source player to the highlight's start.
//! 2. Hostile comment texts, SKUs and file names appear as text, never as markup.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::browser::*;
use common::*;
use serde_json::{json, Value};

/// Console entries at level SEVERE (errors), printed with the rest.
fn console_errors(b: &Browser, page: &str) -> Vec<Value> {
    let log = b.console();
    eprintln!("{page}: {} console messages", log.len());
    for e in &log {
        eprintln!("  [{}] {}", e["level"], e["message"]);
    }
    log.into_iter().filter(|e| e["level"] == "SEVERE").collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn demo_preview_opens_from_disk_lists_highlights_and_seeks_the_source() {
    let started = Instant::now();
    let demo = demo();
    let out = scratch("preview_demo");
    let o = run(livecut()
        .arg("run")
        .arg(&demo.mp4)
        .arg("--comments")
        .arg(&demo.comments)
        .arg("--orders")
        .arg(&demo.orders)
        .args(["--platforms", "source", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let o = run(livecut().arg("index").arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let dir = out.join("demo");
    let h = read_json(&dir.join("highlights.json"));
    let hs = h["highlights"].as_array().unwrap().clone();
    assert!(!hs.is_empty());
    let manifest = read_json(&dir.join("manifest.json"));

    // curve.json: per-second score and each signal's contribution, adding up to it.
    let curve = read_json(&dir.join("curve.json"));
    let score = curve["score"].as_array().unwrap();
    let parts = curve["contributions"].as_array().unwrap();
    assert!(score.len() as f64 >= f(&h["analysed_until_s"]).floor());
    assert!(parts.len() >= 3, "{parts:?}");
    for i in (0..score.len()).step_by(7) {
        let sum: f64 = parts.iter().map(|p| f(&p[1][i])).sum();
        assert!(
            (sum - f(&score[i])).abs() < 1e-3,
            "bin {i}: {sum} vs {}",
            score[i]
        );
    }
    assert_eq!(curve["lags"], h["lags"]);

    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let b = Browser::start(&out);

    // The index lists the recording and links to its preview.
    b.goto(&file_url(&out.join("index.html")));
    let rows = b.exec("return document.querySelectorAll('tr.recording').length");
    assert_eq!(rows, json!(1));
    assert!(console_errors(&b, "index.html").is_empty());
    b.click("a.preview");
    b.wait_for(
        "return document.body && document.body.dataset.ready",
        "preview charts",
        20,
    );
    let url = b.cmd("GET", "/url", None);
    assert!(
        url.as_str().unwrap().ends_with("/demo/preview.html"),
        "{url}"
    );

    // Every highlight is listed, with a player per rendered clip and the curve drawn.
    let listed = b.exec(
        "return [...document.querySelectorAll('article.highlight')].map(a => Number(a.dataset.rank))",
    );
    let ranks: Vec<Value> = hs.iter().map(|x| x["rank"].clone()).collect();
    assert_eq!(listed, Value::Array(ranks));
    let players = b.exec("return document.querySelectorAll('figure.clip video').length");
    assert_eq!(
        f(&players) as usize,
        manifest["clips"].as_array().unwrap().len()
    );
    let charts =
        b.exec("return [...document.querySelectorAll('.chart .u-title')].map(t => t.textContent)");
    eprintln!("charts: {charts}");
    let titles: Vec<&str> = charts
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for want in [
        "Excitement (stacked contributions)",
        "Comments",
        "Orders and GMV",
        "Loudness",
        "Motion",
    ] {
        assert!(titles.contains(&want), "{want} in {titles:?}");
    }
    let anomalies = b.exec("return document.querySelectorAll('tr.anomaly').length");
    eprintln!("anomalies listed: {anomalies}");
    let errors = console_errors(&b, "preview.html");
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // "Play source from here" seeks the source player to the highlight's start.
    let target = &hs[hs.len() - 1];
    let (start, end) = (f(&target["start_s"]), f(&target["end_s"]));
    let rank = target["rank"].as_u64().unwrap();
    b.wait_for(
        "return document.getElementById('source').readyState >= 1",
        "source metadata",
        20,
    );
    b.click(&format!("button.play-source[data-rank='{rank}']"));
    let state = b.wait_for(
        "const v = document.getElementById('source');
         return !v.seeking && v.readyState >= 1 ? [v.currentTime, v.readyState, v.paused, v.duration] : null",
        "the seek",
        20,
    );
    let now = f(&state[0]);
    eprintln!(
        "seek check: highlight #{rank} starts at {start:.3} s, source currentTime {now:.3} s \
         (readyState {}, paused {}, duration {})",
        state[1], state[2], state[3]
    );
    assert!(
        now >= start - 0.05 && now <= start + 3.0,
        "currentTime {now} for a start of {start}"
    );
    // Played on (H.264 decodes in Debian's Chromium): it pauses at the span's end. Fast
    // forward to get there quickly.
    if state[2] == json!(false) {
        b.exec("document.getElementById('source').playbackRate = 16");
        let stopped = b.wait_for(
            "const v = document.getElementById('source');
             return v.paused ? [v.currentTime, document.getElementById('source-status').textContent] : null",
            "the pause at the end of the span",
            (end - start) as u64 / 8 + 15,
        );
        let at = f(&stopped[0]);
        eprintln!(
            "pause check: span ends at {end:.3} s, paused at {at:.3} s ({})",
            stopped[1]
        );
        assert!(
            at >= end - 0.05 && at <= end + 2.5,
            "paused at {at}, end {end}"
        );
    } else {
        eprintln!("the source did not play in this Chromium (no H.264?): seek checked only");
    }
    let errors = console_errors(&b, "preview.html after playing");
    assert!(errors.is_empty(), "console errors: {errors:?}");

    let shot = out.join("preview.png");
    b.screenshot(&shot);
    eprintln!("screenshot: {}", shot.display());
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    eprintln!("test took {:.1} s", started.elapsed().as_secs_f64());
}

const XSS_SCRIPT: &str = "<script>alert(1)</script>";
const XSS_IMG: &str = "\"><img src=x onerror=alert(2)>";

#[test]
fn hostile_comments_skus_and_file_names_show_as_text() {
    let work = scratch("preview_escape");
    // The recording's own name is hostile (a file name cannot hold '/', so the img one).
    let rec = work.join(format!("{XSS_IMG}.mp4"));
    synth_recording(&rec, 90, &[]);
    // Chatter all along, then a burst of many accounts repeating the hostile texts.
    let mut jsonl = String::new();
    for i in 0..90 {
        jsonl += &format!(
            "{}\n",
            json!({"t": i as f64 + 0.5, "user": format!("u{}", i % 7), "text": "hello"})
        );
    }
    for i in 0..60 {
        let text = if i % 2 == 0 { XSS_SCRIPT } else { XSS_IMG };
        jsonl += &format!(
            "{}\n",
            json!({"t": 45.0 + i as f64 / 6.0, "user": format!("v{i}"), "text": text})
        );
    }
    let comments = work.join("c.jsonl");
    std::fs::write(&comments, jsonl).unwrap();
    // Orders of a hostile SKU in the same moment (creation_time is 11:12:50Z).
    let mut csv = String::from("order_id,paid_at,sku,quantity,amount_cny,buyer_id\n");
    for i in 0..8 {
        csv += &format!(
            "o{i},2024-09-03T11:13:{:02}+00:00,{XSS_SCRIPT},1,99,b{i}\n",
            36 + i
        );
    }
    let orders = work.join("o.csv");
    std::fs::write(&orders, csv).unwrap();
    let out = work.join("out");
    let o = run(livecut()
        .arg("run")
        .arg(&rec)
        .arg("--comments")
        .arg(&comments)
        .arg("--orders")
        .arg(&orders)
        .args(["--no-models", "--platforms", "source", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let o = run(livecut().arg("index").arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let dir = out.join(XSS_IMG);
    let h = read_json(&dir.join("highlights.json"));
    let first = &h["highlights"][0];
    let top: Vec<&str> = first["top_comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert!(
        top.contains(&XSS_SCRIPT) && top.contains(&XSS_IMG),
        "{top:?}"
    );
    eprintln!("tags of #1: {}", first["tags"]);

    // The raw pages carry the escaped forms only.
    let page = std::fs::read_to_string(dir.join("preview.html")).unwrap();
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert!(index.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    for raw in [&page, &index] {
        assert!(!raw.contains("<script>alert") && !raw.contains("<img src=x"));
    }

    let _guard = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let b = Browser::start(&work);
    for (name, url) in [
        ("index.html", file_url(&out.join("index.html"))),
        ("preview.html", file_url(&dir.join("preview.html"))),
    ] {
        b.goto(&url);
        if name == "preview.html" {
            b.wait_for("return document.body.dataset.ready", "preview charts", 20);
        }
        assert_eq!(b.alert(), None, "{name}: an alert dialog is open");
        let live = b.exec(
            "return [document.querySelectorAll('img[src=x]').length,
                     document.querySelectorAll('script:not([type])').length,
                     [...document.scripts].filter(s => s.textContent.includes('alert(1)') && s.type !== 'application/json').length,
                     document.body.innerText]",
        );
        eprintln!(
            "{name}: img[src=x] {}, scripts {}, scripts with alert(1) {}",
            live[0], live[1], live[2]
        );
        assert_eq!(live[0], json!(0), "{name}: a live <img src=x>");
        assert_eq!(live[2], json!(0), "{name}: a live <script>alert(1)");
        let text = live[3].as_str().unwrap();
        assert!(
            text.contains(XSS_IMG),
            "{name}: the file name shows as text"
        );
        if name == "preview.html" {
            assert_eq!(live[1], json!(2), "uPlot and the page's own script only");
            assert!(text.contains(XSS_SCRIPT), "the comment shows as text");
        }
        let errors = console_errors(&b, name);
        assert!(errors.is_empty(), "{name}: console errors: {errors:?}");
    }
    // The two detectors above do detect: a console error and an alert show up.
    b.exec("console.error('livecut-probe')");
    let probe = console_errors(&b, "probe");
    assert!(
        probe.iter().any(|e| e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("livecut-probe")),
        "console errors are captured: {probe:?}"
    );
    b.exec("setTimeout(() => alert('probe'), 0)");
    let deadline = Instant::now() + Duration::from_secs(5);
    while b.alert().is_none() {
        assert!(Instant::now() < deadline, "an alert is detected");
        std::thread::sleep(Duration::from_millis(50));
    }
    b.cmd("POST", "/alert/dismiss", Some(json!({})));
    let shot = work.join("preview_escape.png");
    b.screenshot(&shot);
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn index_merges_several_output_folders() {
    // Two shards' output folders (no media needed: highlights.json files only).
    let work = scratch("preview_index");
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (shard, stems) in [("a", vec!["one", "two"]), ("b", vec!["three"])] {
        let d = work.join(shard);
        for stem in stems {
            let h = json!({
                "schema_version": 1, "generator": "test",
                "source": {"path": format!("/rec/{stem}.mp4"), "size_bytes": 1, "container": "mp4",
                           "duration_s": 3600.0, "start_time_s": 0.0, "creation_time": null,
                           "video": null, "audio": null},
                "analysed_until_s": 3600.0, "timelines": [], "warnings": [],
                "highlights": [{"rank": 1, "start_s": 10.0, "end_s": 40.0, "peak_s": 20.0,
                                "score": 0.42, "reasons": []}],
            });
            std::fs::create_dir_all(d.join(stem)).unwrap();
            std::fs::write(d.join(stem).join("highlights.json"), h.to_string()).unwrap();
        }
        dirs.push(d);
    }
    std::fs::create_dir_all(work.join("a/broken")).unwrap();
    std::fs::write(work.join("a/broken/highlights.json"), "{").unwrap();
    let page = work.join("all.html");
    let o = run(livecut().arg("index").args(&dirs).arg("--out").arg(&page));
    assert_eq!(o.status.code(), Some(0));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(
        html.matches("<tr class=\"recording\">").count(),
        4,
        "{html}"
    );
    for link in [
        "./a/one/highlights.json",
        "./a/two/highlights.json",
        "./b/three/highlights.json",
    ] {
        assert!(
            html.contains(&format!("href=\"{}\"", link.replace('/', "&#x2f;"))),
            "{link}: {html}"
        );
    }
    assert!(html.contains("0.42") && html.contains("1:00:00"));
    assert!(
        html.contains("not a livecut highlights file"),
        "the broken one is named"
    );
    // A folder that does not exist is a usage error.
    let o = run(livecut().arg("index").arg(work.join("nope")));
    assert_eq!(o.status.code(), Some(2));
}
