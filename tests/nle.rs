//! Editor timelines (`timeline.otio`, `timeline.fcpxml`, `timeline.edl`) read back by the
//! real OpenTimelineIO (`scripts/otio_check.py`: opentimelineio 0.18.1 with its FCP X XML
//! and CMX 3600 adapters) for a 25 fps recording (the demo) and a 29.97 fps one, compared
//! with the spans in manifest.json; EDL timecodes and FCPXML rationals checked exactly
//! here. Also: manifest.json's JSON Schema rejects drift.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use livecut::report::nle::{self, FrameRate};
use serde_json::{json, Value};

/// `python3 scripts/otio_check.py [--rate R] FILE…` (it re-executes itself in the
/// project's Python environment) as JSON.
fn otio_read(files: &[PathBuf], rate: &str) -> Value {
    let out = Command::new("python3")
        .arg(root().join("scripts/otio_check.py"))
        .args(["--rate", rate])
        .args(files)
        .output()
        .expect("python3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "otio_check.py failed (run `python3 scripts/otio_check.py --install`):\n{stderr}"
    );
    serde_json::from_slice(&out.stdout).expect("otio_check.py prints JSON")
}

/// Ranks and requested spans of the manifest's highlights, in manifest (rank) order.
fn manifest_spans(m: &Value) -> Vec<(u64, f64, f64)> {
    let mut spans: Vec<(u64, f64, f64)> = Vec::new();
    for c in m["clips"].as_array().unwrap() {
        let rank = c["rank"].as_u64().unwrap();
        if spans.iter().any(|s| s.0 == rank) {
            continue;
        }
        let r = &c["requested"];
        spans.push((
            rank,
            r["start_s"].as_f64().unwrap(),
            r["end_s"].as_f64().unwrap(),
        ));
    }
    spans
}

/// The clips of every track OTIO read from one file: (track kind, clips).
fn tracks(file: &Value) -> Vec<(String, Vec<Value>)> {
    let timelines = file["timelines"].as_array().unwrap();
    assert_eq!(timelines.len(), 1, "one timeline in {}", file["file"]);
    timelines[0]["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["kind"].as_str().unwrap().to_string(),
                t["clips"].as_array().unwrap().clone(),
            )
        })
        .collect()
}

/// Check one file as OTIO read it: every track has the highlights in rank order, named
/// `#rank …`, with ranges within `tol_s` of the manifest's spans. Prints the figures.
fn check_ranges(file: &Value, spans: &[(u64, f64, f64)], rate: f64, tol_s: f64) -> Vec<String> {
    let mut kinds = Vec::new();
    for (kind, clips) in tracks(file) {
        assert_eq!(clips.len(), spans.len(), "{kind} clips in {}", file["file"]);
        for (c, &(rank, start, end)) in clips.iter().zip(spans) {
            let name = c["name"].as_str().unwrap();
            assert!(
                name.starts_with(&format!("#{rank} ")),
                "{name} is #{rank} in {}",
                file["file"]
            );
            assert!(
                (c["rate"].as_f64().unwrap() - rate).abs() < 1e-9,
                "{name}: rate {} (expected {rate}) in {}",
                c["rate"],
                file["file"]
            );
            let s = c["start_s"].as_f64().unwrap();
            let e = s + c["duration_s"].as_f64().unwrap();
            eprintln!(
                "{} {kind} {name:?}: OTIO {s:.4}–{e:.4} s at rate {rate:.8}, manifest {start:.4}–{end:.4} s (Δ {:+.4} / {:+.4} s, allowed {tol_s:.4})",
                file["adapter"].as_str().unwrap(),
                s - start,
                e - end,
            );
            assert!((s - start).abs() <= tol_s, "{name}: start {s} vs {start}");
            assert!((e - end).abs() <= tol_s, "{name}: end {e} vs {end}");
        }
        kinds.push(kind);
    }
    kinds
}

/// The events of a CMX 3600 EDL: (reel, channels, src in, src out, rec in, rec out, clip
/// name) per event.
fn edl_events(text: &str) -> Vec<[String; 7]> {
    let mut events: Vec<[String; 7]> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 8 && f[0].len() == 3 && f[0].bytes().all(|b| b.is_ascii_digit()) {
            assert_eq!(f[3], "C", "cut event: {line}");
            assert_eq!(f[0], format!("{:03}", events.len() + 1), "numbered: {line}");
            events.push([
                f[1].into(),
                f[2].into(),
                f[4].into(),
                f[5].into(),
                f[6].into(),
                f[7].into(),
                String::new(),
            ]);
        } else if let Some(name) = line.strip_prefix("* FROM CLIP NAME: ") {
            events.last_mut().unwrap()[6] = name.to_string();
        }
    }
    events
}

/// Non-drop-frame timecode by plain arithmetic (independent of livecut's).
fn ndf(frame: i64, base: i64) -> String {
    let s = frame / base;
    format!(
        "{:02}:{:02}:{:02}:{:02}",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        frame % base
    )
}

/// `n/d` seconds of an FCPXML time (`40s`, `1200199/30000s`) as an exact fraction.
fn fcpx_time(t: &str) -> (i128, i128) {
    let t = t.strip_suffix('s').unwrap();
    match t.split_once('/') {
        Some((n, d)) => (n.parse().unwrap(), d.parse().unwrap()),
        None => (t.parse().unwrap(), 1),
    }
}

/// FCPXML facts: the format's frameDuration and each asset-clip's (name, offset, start,
/// duration), read with quick-xml.
fn fcpxml_clips(text: &str) -> (String, String, Vec<[String; 4]>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let (mut frame, mut src, mut clips) = (String::new(), String::new(), Vec::new());
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let attr = |k: &str| {
                    e.try_get_attribute(k)
                        .unwrap()
                        .map(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned()
                        })
                        .unwrap_or_default()
                };
                match e.name().as_ref() {
                    "format" => frame = attr("frameDuration"),
                    "media-rep" => src = attr("src"),
                    "asset-clip" => clips.push([
                        attr("name"),
                        attr("offset"),
                        attr("start"),
                        attr("duration"),
                    ]),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    (frame, src, clips)
}

/// Everything about one cut's timelines. `rate` is the recording's exact rate.
fn check_timelines(dir: &Path, recording: &Path, rate: FrameRate) -> Vec<(u64, f64, f64)> {
    let m = validate_manifest(&dir.join("manifest.json"));
    assert_eq!(
        m["timelines"],
        json!({"otio": "timeline.otio", "fcpxml": "timeline.fcpxml", "edl": "timeline.edl"})
    );
    let spans = manifest_spans(&m);
    assert!(!spans.is_empty());
    let fps = rate.fps();
    let half = 0.5 / fps + 1e-9;
    let url = nle::file_url(&std::fs::canonicalize(recording).unwrap());
    let duration = m["source"]["duration_s"].as_f64().unwrap();

    // --- FCPXML: exact frame-aligned rationals (checked here, independently of OTIO).
    let text = std::fs::read_to_string(dir.join("timeline.fcpxml")).unwrap();
    let (frame, src, clips) = fcpxml_clips(&text);
    assert_eq!(frame, format!("{}/{}s", rate.den, rate.num));
    assert_eq!(src, url);
    assert_eq!(clips.len(), spans.len());
    let (fd_n, fd_d) = fcpx_time(&frame);
    let mut offset = 0i128;
    for (c, &(rank, start, end)) in clips.iter().zip(&spans) {
        assert!(c[0].starts_with(&format!("#{rank} ")), "{}", c[0]);
        let frames = |t: &str| {
            let (n, d) = fcpx_time(t);
            // a whole number of frames: n/d = k × fd_n/fd_d
            assert_eq!((n * fd_d) % (d * fd_n), 0, "{t} is not on a frame boundary");
            (n * fd_d) / (d * fd_n)
        };
        let (o, s, l) = (frames(&c[1]), frames(&c[2]), frames(&c[3]));
        assert_eq!(o, offset, "back to back");
        offset += l;
        assert_eq!(s as i64, rate.frame_at(start), "nearest frame to {start}");
        assert_eq!((s + l) as i64, rate.frame_at(end), "nearest frame to {end}");
        eprintln!(
            "fcpxml #{rank}: start {} duration {} = frames {s}+{l} ({:.4}–{:.4} s; manifest {start:.4}–{end:.4})",
            c[2],
            c[3],
            rate.secs(s as i64),
            rate.secs((s + l) as i64)
        );
    }

    // --- EDL timecodes.
    let edl = std::fs::read_to_string(dir.join("timeline.edl")).unwrap();
    let fcm = if rate.drop_frame() {
        "FCM: DROP FRAME"
    } else {
        "FCM: NON-DROP FRAME"
    };
    assert!(edl.lines().any(|l| l == fcm), "{fcm} in\n{edl}");
    let events = edl_events(&edl);
    assert_eq!(events.len(), spans.len(), "{edl}");
    let mut rec = nle::parse_timecode(
        if rate.drop_frame() {
            "01:00:00;00"
        } else {
            "01:00:00:00"
        },
        rate,
    )
    .unwrap();
    for (ev, &(rank, start, end)) in events.iter().zip(&spans) {
        assert_eq!(ev[1], "B", "video and audio");
        assert!(ev[6].starts_with(&format!("#{rank} ")), "{}", ev[6]);
        let (sf, ef) = (rate.frame_at(start), rate.frame_at(end));
        if !rate.drop_frame() {
            let base = i64::from(rate.timebase());
            assert_eq!(ev[2], ndf(sf, base));
            assert_eq!(ev[3], ndf(ef, base));
            assert_eq!(ev[4], ndf(rec, base));
            assert_eq!(ev[5], ndf(rec + ef - sf, base));
        }
        for (tc, f) in [
            (&ev[2], sf),
            (&ev[3], ef),
            (&ev[4], rec),
            (&ev[5], rec + ef - sf),
        ] {
            assert_eq!(nle::parse_timecode(tc, rate), Some(f), "{tc}");
        }
        eprintln!(
            "edl #{rank}: {} {} {} {} (manifest {start:.4}–{end:.4} s)",
            ev[2], ev[3], ev[4], ev[5]
        );
        rec += ef - sf;
    }

    // --- OpenTimelineIO reads all three.
    let files = [
        dir.join("timeline.otio"),
        dir.join("timeline.fcpxml"),
        dir.join("timeline.edl"),
    ];
    let rate_arg = format!("{}/{}", rate.num, rate.den);
    let doc = otio_read(&files, &rate_arg);
    eprintln!(
        "OpenTimelineIO {} adapters {}",
        doc["opentimelineio"], doc["adapters"]
    );
    let read = doc["files"].as_array().unwrap();
    assert_eq!(read[0]["adapter"], "otio_json");
    assert_eq!(read[1]["adapter"], "fcpx_xml");
    assert_eq!(read[2]["adapter"], "cmx_3600");

    // .otio: the exact rate, within half a frame, the recording as an external reference.
    let kinds = check_ranges(&read[0], &spans, fps, half);
    assert_eq!(kinds, ["Video", "Audio"]);
    for (_, clips) in tracks(&read[0]) {
        for c in clips {
            assert_eq!(c["target_url"], url.as_str());
            assert_eq!(c["available_start_s"], 0.0);
            let avail = c["available_duration_s"].as_f64().unwrap();
            assert!((avail - duration).abs() <= half, "{avail} vs {duration}");
        }
    }
    // .fcpxml: the adapter keeps only whole-number rates (int(30000/1001) = 29) and
    // truncates seconds × rate to whole frames, so its readings may be up to one of its
    // frames early besides our half frame of snapping.
    let adapter_rate = f64::from(rate.timebase()).min(fps).floor();
    check_ranges(&read[1], &spans, adapter_rate, half + 1.0 / adapter_rate);
    // .edl: the rate given, drop-frame counted by OTIO; video and audio tracks.
    let kinds = check_ranges(&read[2], &spans, fps, half);
    assert_eq!(kinds, ["Video", "Audio"]);
    spans
}

/// A 75 s recording at 30000/1001 fps (testsrc2 + a tone), two known highlights (one across
/// the first minute boundary, where drop-frame labels skip ;00 and ;01).
#[test]
fn ntsc_recording_timelines() {
    let out = scratch("nle_ntsc");
    let rec = out.join("ntsc 29.97 <&>.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=30000/1001",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "75",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "60",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        rec.to_str().unwrap(),
    ]);
    let o = run(livecut()
        .arg("analyze")
        .arg(&rec)
        .arg("--out")
        .arg(&out)
        .arg("--no-models"));
    assert_eq!(o.status.code(), Some(0));
    let dir = out.join("ntsc 29.97 <&>");
    let path = dir.join("highlights.json");
    let mut h = read_json(&path);
    let fps = h["source"]["video"]["fps"].as_f64().unwrap();
    eprintln!("probed fps {fps:.10}");
    let rate = FrameRate::from_fps(fps).unwrap();
    assert_eq!((rate.num, rate.den), (30000, 1001));
    let highlight = |rank: u64, start: f64, end: f64, title: &str| {
        json!({
            "rank": rank, "start_s": start, "end_s": end, "peak_s": (start + end) / 2.0,
            "score": 0.9 - rank as f64 * 0.1, "reasons": [], "type": "product",
            "tags": [format!("sku:{title}")],
        })
    };
    h["highlights"] = json!([
        highlight(1, 55.0, 70.0, "A<1>&\"'"),
        highlight(2, 40.0, 50.0, "B2"),
    ]);
    std::fs::write(&path, serde_json::to_vec_pretty(&h).unwrap()).unwrap();
    let o = run(livecut()
        .arg("cut")
        .arg(&path)
        .args(["--platforms", "source"]));
    assert_eq!(o.status.code(), Some(0));
    let spans = check_timelines(&dir, &rec, rate);
    assert_eq!(spans, [(1, 55.0, 70.0), (2, 40.0, 50.0)]);

    // The exact drop-frame events: 55.0 s is frame 1648.35 → 1648 = 00:00:54;28, 70.0 s is
    // frame 2097.9 → 2098, past the first minute (labels ;00 and ;01 of 00:01:00 are
    // skipped) = 00:01:10;00; 40.0 s is frame 1198.8 → 1199 = 00:00:39;29.
    let events = edl_events(&std::fs::read_to_string(dir.join("timeline.edl")).unwrap());
    let tcs: Vec<[&str; 4]> = events
        .iter()
        .map(|e| [e[2].as_str(), &e[3], &e[4], &e[5]])
        .collect();
    assert_eq!(
        tcs,
        [
            ["00:00:54;28", "00:01:10;00", "01:00:00;00", "01:00:15;00"],
            ["00:00:39;29", "00:00:49;29", "01:00:15;00", "01:00:25;00"],
        ]
    );
    assert_eq!(events[0][0], "NTSC2997", "reel from the file name");
    let otio = read_json(&dir.join("timeline.otio"));
    let clip = &otio["tracks"]["children"][0]["children"][0];
    assert_eq!(clip["source_range"]["start_time"]["rate"], 30000.0 / 1001.0);
    assert_eq!(clip["source_range"]["start_time"]["value"], 1648.0);
    assert_eq!(clip["source_range"]["duration"]["value"], 450.0);
    assert!(clip["name"].as_str().unwrap().contains("A<1>&\"'"));
}

/// The demo (25 fps) with its own analysed highlights.
#[test]
fn demo_timelines_at_25_fps() {
    let demo = demo();
    let out = scratch("nle_demo");
    let o = run(livecut()
        .arg("analyze")
        .arg(&demo.mp4)
        .arg("--comments")
        .arg(&demo.comments)
        .arg("--orders")
        .arg(&demo.orders)
        .arg("--out")
        .arg(&out)
        .arg("--no-models"));
    assert_eq!(o.status.code(), Some(0));
    let dir = out.join("demo");
    let o = run(livecut().arg("cut").arg(dir.join("highlights.json")).args([
        "--platforms",
        "source",
        "--top",
        "3",
    ]));
    assert_eq!(o.status.code(), Some(0));
    let rate = FrameRate::from_fps(25.0).unwrap();
    let spans = check_timelines(&dir, &demo.mp4, rate);
    assert_eq!(spans.len(), 3);
    let edl = std::fs::read_to_string(dir.join("timeline.edl")).unwrap();
    assert!(edl.starts_with("TITLE: demo highlights\nFCM: NON-DROP FRAME\n"));
    assert!(edl.contains("001  DEMO     B     C        "), "{edl}");
}

/// A hand-made manifest with every field as livecut serialises it.
fn manifest_value(cover: Option<&str>, timelines: bool) -> Value {
    use livecut::classify::HighlightType;
    use livecut::media::{AudioInfo, MediaInfo, VideoInfo};
    use livecut::report::{Manifest, ManifestClip};
    use livecut::time::{Span, TimeBase};

    let manifest = Manifest {
        schema_version: 1,
        generator: livecut::report::generator(),
        source: MediaInfo {
            path: "rec.mp4".into(),
            size_bytes: 1234,
            container: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            duration_s: 60.0,
            start_time_s: 0.0,
            creation_time: Some("2024-09-03T11:12:50Z".parse().unwrap()),
            start_source: Some("creation_time".into()),
            audio_tracks: 1,
            parts: Vec::new(),
            timestamp_breaks: Vec::new(),
            repaired_from: None,
            video: Some(VideoInfo {
                index: 0,
                codec: "h264".into(),
                width: 1920,
                height: 1080,
                fps: 30000.0 / 1001.0,
                time_base: TimeBase::new(1, 30000),
                rotation: 0,
                coded: None,
            }),
            audio: Some(AudioInfo {
                index: 1,
                codec: "aac".into(),
                sample_rate: 48000,
                channels: 2,
                time_base: TimeBase::new(1, 48000),
            }),
        },
        highlights_file: "highlights.json".into(),
        clips: vec![ManifestClip {
            rank: 1,
            clip_kind: livecut::report::ClipKind::Highlight,
            product: None,
            platform: "douyin".into(),
            path: "clips/1_douyin.mp4".into(),
            requested: Span::new(40.0, 52.0),
            span: Span::new(40.0, 52.0),
            duration_s: 12.0,
            width: 1080,
            height: 1920,
            fps: 29.97,
            framing: "follow".into(),
            encoder: "libx264".into(),
            bytes: 99,
            sha256: "ab".repeat(32),
            video_codec: "h264".into(),
            audio_codec: Some("aac".into()),
            peak_s: 45.0,
            score: 0.8,
            kind: HighlightType::FlashSale,
            tags: vec!["sku:A1".into()],
            title: "秒杀 <&>".into(),
            titles: vec!["秒杀 <&>".into(), "限时秒杀 上链接".into()],
            suggested_title: "秒杀 <&>".into(),
            warnings: vec![livecut::claims::Warning {
                kind: "price".into(),
                word: "全网最低".into(),
                text: "全网最低价".into(),
                place: livecut::claims::Place::Speech,
                at_s: Some(41.5),
                left_out: false,
            }],
            approved: true,
            cover: cover.map(Into::into),
            subtitles: None,
        }],
        products_not_clipped: Vec::new(),
        timelines: timelines.then(nle::TimelinePaths::default),
    };
    serde_json::to_value(&manifest).unwrap()
}

/// A change that makes a manifest invalid.
type Breaker = fn(&mut Value);

#[test]
fn manifest_schema_accepts_what_livecut_writes_and_rejects_drift() {
    for (cover, timelines) in [(None, false), (Some("clips/1_douyin.jpg"), true)] {
        let m = manifest_value(cover, timelines);
        assert_eq!(manifest_schema_errors(&m), Vec::<String>::new(), "{m:#}");
    }
    let good = manifest_value(None, true);
    let broken: Vec<(&str, Breaker)> = vec![
        ("extra top-level field", |m| m["extra"] = json!(1)),
        ("extra clip field", |m| {
            m["clips"][0]["bitrate"] = json!(1000)
        }),
        ("wrong type (bytes as text)", |m| {
            m["clips"][0]["bytes"] = json!("99")
        }),
        ("wrong type (negative width)", |m| {
            m["clips"][0]["width"] = json!(-1)
        }),
        ("unknown highlight type", |m| {
            m["clips"][0]["type"] = json!("giveaway")
        }),
        ("missing field", |m| {
            m["clips"][0].as_object_mut().unwrap().remove("sha256");
        }),
        ("bad sha256", |m| m["clips"][0]["sha256"] = json!("XYZ")),
        ("span without end", |m| {
            m["clips"][0]["span"]
                .as_object_mut()
                .unwrap()
                .remove("end_s");
        }),
        ("newer schema_version", |m| m["schema_version"] = json!(2)),
        ("extra field in source.video", |m| {
            m["source"]["video"]["bit_depth"] = json!(8)
        }),
        ("timelines missing edl", |m| {
            m["timelines"].as_object_mut().unwrap().remove("edl");
        }),
        ("NaN score (serialised as null)", |m| {
            m["clips"][0]["score"] = Value::Null
        }),
    ];
    for (what, break_it) in broken {
        let mut m = good.clone();
        break_it(&mut m);
        let errors = manifest_schema_errors(&m);
        eprintln!("{what}: {errors:?}");
        assert!(!errors.is_empty(), "{what} must be rejected");
    }
}
