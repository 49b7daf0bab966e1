//! Split sessions: a recorder's parts of one livestream analysed as one (`livecut run
//! part1 part2 part3`), with the gaps between them left out of the timeline.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// The demo cut into three parts at `CUTS`, the recorder losing `GAP_S` seconds before
/// the second and the third (so on the wall clock the third part starts 80 s later than
/// in the demo).
const CUTS: [f64; 4] = [0.0, 50.0, 100.0, 150.0];
const GAP_S: f64 = 40.0;

struct Parts {
    recordings: Vec<PathBuf>,
    comments: Vec<PathBuf>,
    orders: PathBuf,
}

fn split_demo(dir: &Path) -> Parts {
    let demo = demo();
    let start: jiff::Timestamp = demo.truth["creation_time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let xml = std::fs::read_to_string(&demo.comments).unwrap();
    let mut recordings = Vec::new();
    let mut comments = Vec::new();
    for k in 0..3 {
        let (a, b) = (CUTS[k], CUTS[k + 1]);
        // Each part's recording starts GAP_S later per lost stretch before it.
        let wall = start + jiff::SignedDuration::from_secs_f64(a + GAP_S * k as f64);
        let rec = dir.join(format!("part{}.mp4", k + 1));
        ffmpeg(&[
            "-ss",
            &a.to_string(),
            "-i",
            demo.mp4.to_str().unwrap(),
            "-t",
            &(b - a).to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-c:a",
            "aac",
            "-map_metadata",
            "-1",
            "-metadata",
            &format!("creation_time={}", wall.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")),
            rec.to_str().unwrap(),
        ]);
        // The recorder's danmaku XML of this part: times from the part's start.
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><i>\n");
        for line in xml.lines().filter(|l| l.starts_with("<d p=\"")) {
            let rest = &line[6..];
            let comma = rest.find(',').unwrap();
            let t: f64 = rest[..comma].parse().unwrap();
            if (a..b).contains(&t) {
                out.push_str(&format!("<d p=\"{:.3}{}\n", t - a, &rest[comma..]));
            }
        }
        out.push_str("</i>\n");
        let c = dir.join(format!("part{}.xml", k + 1));
        std::fs::write(&c, out).unwrap();
        recordings.push(rec);
        comments.push(c);
    }
    // The shop's order export for the session, on the wall clock: orders placed while
    // part k was on air happened GAP_S·k later than the demo says.
    let csv = std::fs::read_to_string(&demo.orders).unwrap();
    let mut lines = csv.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for line in lines {
        let cols: Vec<&str> = line.split(',').collect();
        let paid: jiff::Timestamp = cols[1].parse().unwrap();
        let t = paid.duration_since(start).as_secs_f64();
        let k = CUTS.iter().skip(1).filter(|&&c| t >= c).count().min(2);
        let moved = paid + jiff::SignedDuration::from_secs_f64(GAP_S * k as f64);
        let moved = moved.strftime("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string();
        out.push_str(&format!("{},{moved},{}\n", cols[0], cols[2..].join(",")));
    }
    let orders = dir.join("session.orders.csv");
    std::fs::write(&orders, out).unwrap();
    Parts {
        recordings,
        comments,
        orders,
    }
}

/// Mean absolute difference of two frames scaled to 64×36 grey.
fn frame_diff(a: &Path, ta: f64, b: &Path, tb: f64) -> f64 {
    let grab = |p: &Path, t: f64| {
        let o = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-ss", &format!("{t:.3}"), "-i"])
            .arg(p)
            .args([
                "-frames:v",
                "1",
                "-vf",
                "scale=64:36",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "gray",
                "-",
            ])
            .output()
            .unwrap();
        assert_eq!(o.stdout.len(), 64 * 36, "{}", p.display());
        o.stdout
    };
    let (x, y) = (grab(a, ta), grab(b, tb));
    x.iter()
        .zip(&y)
        .map(|(p, q)| (f64::from(*p) - f64::from(*q)).abs())
        .sum::<f64>()
        / x.len() as f64
}

#[test]
fn three_parts_with_gaps_are_one_session_on_one_timeline() {
    let dir = scratch("sessions_three_parts");
    let parts = split_demo(&dir);
    let out = dir.join("out");
    // Given out of order: the parts are placed by their starts.
    let order = [1usize, 0, 2];
    let o = run(livecut()
        .arg("run")
        .args(order.map(|i| &parts.recordings[i]))
        .arg("--comments")
        .args(order.map(|i| &parts.comments[i]))
        .arg("--orders")
        .arg(&parts.orders)
        .args([
            "--name",
            "session",
            "--platforms",
            "source",
            "--transcribe",
            "off",
            "--out",
        ])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let session = out.join("session");
    let h = read_json(&session.join("highlights.json"));

    // The parts on the session's timeline, in time order, with the gaps known.
    let p = h["source"]["parts"].as_array().unwrap();
    assert_eq!(p.len(), 3);
    for (k, part) in p.iter().enumerate() {
        assert!(part["path"]
            .as_str()
            .unwrap()
            .ends_with(&format!("part{}.mp4", k + 1)));
        assert!(
            (part["start_s"].as_f64().unwrap() - CUTS[k]).abs() < 0.1,
            "{part}"
        );
        if k > 0 {
            assert!(
                (part["gap_before_s"].as_f64().unwrap() - GAP_S).abs() < 0.1,
                "{part}"
            );
        }
    }
    assert!((h["source"]["duration_s"].as_f64().unwrap() - 150.0).abs() < 0.5);
    assert!(h["source"]["start_source"]
        .as_str()
        .unwrap()
        .contains("first part"));

    // Every comment and in-range order on the session's timeline.
    let demo = demo();
    let reports = h["timelines"].as_array().unwrap();
    let used = |kind: &str| {
        reports
            .iter()
            .find(|r| r["path"].as_str().unwrap().contains(kind))
            .map(|r| r["rows_used"].as_u64().unwrap())
            .unwrap()
    };
    let demo_comments = std::fs::read_to_string(&demo.comments)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("<d p=\""))
        .filter(|l| l[6..].split(',').next().unwrap().parse::<f64>().unwrap() < 150.0)
        .count() as u64;
    assert_eq!(used("comments"), demo_comments);
    assert!(used("orders") > 0);

    // The highlights are the demo's moments at the demo's times (the timeline is the
    // demo's again), and none spans a join.
    let highlights = h["highlights"].as_array().unwrap();
    let truth = demo.truth["moments"].as_array().unwrap();
    let span = |v: &Value| (v["start_s"].as_f64().unwrap(), v["end_s"].as_f64().unwrap());
    let hits = truth
        .iter()
        .filter(|m| {
            let (s, e) = span(m);
            highlights.iter().any(|hl| {
                let (a, b) = span(hl);
                a < e && b > s
            })
        })
        .count();
    eprintln!(
        "{} highlights, {hits} of {} true moments",
        highlights.len(),
        truth.len()
    );
    assert!(hits * 3 >= truth.len() * 2, "{hits} of {}", truth.len());
    for hl in highlights {
        let (a, b) = span(hl);
        assert!(
            !CUTS[1..3].iter().any(|&c| a < c - 0.5 && b > c + 0.5),
            "spans a join: {hl}"
        );
    }
    // The orders' lag is the buyers' (seconds), not the lost minute.
    for lag in h["lags"].as_array().unwrap() {
        assert!(lag["lag_s"].as_f64().unwrap() <= 30.0, "{lag}");
    }

    // Clips come from the part that holds them: the picture is the demo's at that time.
    let manifest = validate_manifest(&session.join("manifest.json"));
    for c in manifest["clips"].as_array().unwrap() {
        let (a, b) = span(&c["span"]);
        let clip = session.join(c["path"].as_str().unwrap());
        let d = probe_duration(&ffprobe(&clip));
        assert!((d - (b - a)).abs() < 0.3, "{d} vs {c}");
        let diff = frame_diff(&clip, 1.0, &demo.mp4, a + 1.0);
        eprintln!("clip {a:.1}–{b:.1}: frame difference to the demo {diff:.2}");
        assert!(diff < 8.0, "{} is not the demo at {a}", clip.display());
    }
}

#[test]
fn session_comment_files_must_match_the_parts() {
    let dir = scratch("sessions_bad_comments");
    let a = dir.join("a.mp4");
    let b = dir.join("b.mp4");
    synth_recording(&a, 3, &[]);
    synth_recording(&b, 3, &[]);
    let c = dir.join("c.xml");
    std::fs::write(&c, "<i></i>").unwrap();
    let o = run(livecut()
        .arg("analyze")
        .args([&a, &b])
        .arg("--comments")
        .args([&c, &c, &c])
        .arg("--out")
        .arg(dir.join("out")));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("3 comment files for 2 parts"), "{err}");
}

#[test]
fn batch_joins_a_recorders_parts_of_one_session() {
    // BililiveRecorder's names: room 123 recorded in three parts (40-s gaps), room 456
    // once, and room 123 again in the evening (a session of its own).
    let dir = scratch("sessions_batch");
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    let names = [
        "录制-123-20240903-191250-000-上新",
        "录制-123-20240903-191340-000-上新",
        "录制-123-20240903-191430-000-上新",
        "录制-456-20240903-191250-000-别的直播间",
        "录制-123-20240903-210000-000-晚场",
    ];
    for name in names {
        // FLV from a recorder: no creation_time, the start is in the name.
        synth_recording(
            &inputs.join(format!("{name}.flv")),
            10,
            &["-metadata", "creation_time=", "-f", "flv"],
        );
        // The recorder's danmaku XML beside each file, times from the file's start.
        std::fs::write(
            inputs.join(format!("{name}.xml")),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><i>\n\
             <d p=\"2.0,1,25,16777215,1725362000,0,a,1\">来了</d>\n</i>\n",
        )
        .unwrap();
    }
    let out = dir.join("out");
    let o = run(livecut()
        .arg("batch")
        .arg(&inputs)
        .args(["--no-models", "--transcribe", "off", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let report = read_json(&out.join("batch.json"));
    let recs = report["recordings"].as_array().unwrap();
    let got: Vec<&str> = recs.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(got.len(), 3, "{got:?}");
    let h = read_json(&out.join(names[0]).join("highlights.json"));
    let parts = h["source"]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    for (k, p) in parts.iter().enumerate() {
        assert!(p["path"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{}.flv", names[k])));
        assert!(
            (p["start_s"].as_f64().unwrap() - 10.0 * k as f64).abs() < 0.2,
            "{p}"
        );
        if k > 0 {
            assert!(
                (p["gap_before_s"].as_f64().unwrap() - 40.0).abs() < 0.5,
                "{p}"
            );
        }
    }
    assert!((h["source"]["duration_s"].as_f64().unwrap() - 30.0).abs() < 0.5);
    // Each part's comment at 2 s of its file, on the session's timeline.
    let session = read_json(&out.join(names[0]).join("session.json"));
    assert_eq!(session["exports"].as_array().unwrap().len(), 3);
    let comments =
        std::fs::read_to_string(out.join(names[0]).join("session.comments.jsonl")).unwrap();
    let times: Vec<f64> = comments
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["t"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert_eq!(times.len(), 3);
    for (k, t) in times.iter().enumerate() {
        let part_start = parts[k]["start_s"].as_f64().unwrap();
        assert!((t - (2.0 + part_start)).abs() < 0.01, "{times:?}");
    }
    for single in [names[3], names[4]] {
        let h = read_json(&out.join(single).join("highlights.json"));
        assert!(h["source"]["parts"].is_null(), "{single}");
    }
}

#[test]
fn a_timestamp_reset_inside_one_flv_keeps_comments_and_orders_aligned() {
    // A recorder's FLV across a reconnect: the second connection's tags start again at
    // 0 (the second file's tags appended to the first's). A loud, commented, selling
    // moment at 38–44 s of the recording (8–14 s after the reset).
    let dir = scratch("sessions_reset");
    let mk = |name: &str, volume: &str| {
        let p = dir.join(name);
        lavfi_recording(
            &p,
            "testsrc2=s=320x180:r=25",
            &format!("anoisesrc=a=0.5:c=pink:r=48000,volume='{volume}':eval=frame"),
            30,
            &["-f", "flv"],
        );
        std::fs::read(p).unwrap()
    };
    let a = mk("a.flv", "0.03");
    let b = mk("b.flv", "if(between(t,8,14),1,0.03)");
    let rec = dir.join("录制-123-20240903-191250-000-上新.flv");
    // FLV header (9 bytes) and the first PreviousTagSize (4) only once.
    std::fs::write(&rec, [a, b[13..].to_vec()].concat()).unwrap();
    // Danmaku on the recorder's (continuous) clock: chatter, a burst at 38–44 s.
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><i>\n");
    for k in 0..60 {
        let t = k as f64;
        xml.push_str(&format!(
            "<d p=\"{t:.1},1,25,16777215,0,0,u{k},{k}\">聊天</d>\n"
        ));
    }
    for k in 0..60 {
        let t = 38.0 + k as f64 * 0.1;
        xml.push_str(&format!(
            "<d p=\"{t:.2},1,25,16777215,0,0,b{k},{}\">抢到了</d>\n",
            100 + k
        ));
    }
    xml.push_str("</i>\n");
    let comments = dir.join("comments.xml");
    std::fs::write(&comments, xml).unwrap();
    // Orders in Beijing time (the file name's start is 19:12:50 there): 39–46 s.
    let mut csv = String::from("order_id,paid_at,sku,quantity,amount_cny\n");
    for k in 0..15 {
        csv.push_str(&format!(
            "{k},2024-09-03T19:13:{:02}+08:00,SKU-A,1,99\n",
            29 + k % 8 // 39–46 s after 19:12:50
        ));
    }
    let orders = dir.join("orders.csv");
    std::fs::write(&orders, csv).unwrap();
    let out = dir.join("out");
    let o = run(livecut()
        .arg("analyze")
        .arg(&rec)
        .arg("--comments")
        .arg(&comments)
        .arg("--orders")
        .arg(&orders)
        .args(["--no-models", "--transcribe", "off", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let stem = rec.file_stem().unwrap().to_string_lossy().into_owned();
    let h = read_json(&out.join(&stem).join("highlights.json"));
    let breaks = h["source"]["timestamp_breaks"].as_array().unwrap();
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    assert!((breaks[0]["at_s"].as_f64().unwrap() - 30.0).abs() < 0.2);
    assert!((h["source"]["duration_s"].as_f64().unwrap() - 60.0).abs() < 0.5);
    assert!(h["source"]["start_source"]
        .as_str()
        .unwrap()
        .contains("file name"));
    // Every comment and order placed (nothing "after the end" of a 30-s file).
    for r in h["timelines"].as_array().unwrap() {
        assert_eq!(r["after_end"], 0, "{r}");
    }
    let best = &h["highlights"][0];
    let peak = best["peak_s"].as_f64().unwrap();
    assert!((37.0..46.0).contains(&peak), "{best}");
    let reasons: Vec<&str> = best["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["signal"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"comments") && reasons.contains(&"orders"),
        "{reasons:?}"
    );
    assert!(
        best["start_s"].as_f64().unwrap() >= 20.0,
        "not across the reconnect: {best}"
    );
}
