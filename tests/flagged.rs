//! Moments that look busy but must never be highlights: a "be right back" card with loud
//! music (static picture, no speech) and broken (black) frames.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use common::*;

#[test]
fn brb_card_and_black_frames_are_flagged_and_never_picked() {
    let dir = scratch("flagged");
    let rec = dir.join("brb.mp4");
    ffmpeg(&[
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=20",
        "-f", "lavfi", "-i", "color=c=navy:size=320x180:rate=25:duration=15,drawbox=x=80:y=50:w=160:h=80:color=yellow:t=fill",
        "-f", "lavfi", "-i", "color=c=black:size=320x180:rate=25:duration=2",
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=23",
        "-f", "lavfi", "-i",
        "aevalsrc='if(between(t,20,35),0.4*sin(2*PI*440*t)+0.3*sin(2*PI*554*t)+0.3*sin(2*PI*659*t),0.02*sin(2*PI*300*t))':s=48000:d=60",
        "-filter_complex", "[0:v][1:v][2:v][3:v]concat=n=4:v=1:a=0[v]",
        "-map", "[v]", "-map", "4:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
        rec.to_str().unwrap(),
    ]);
    let out = dir.join("out");
    let o = run(livecut()
        .arg("analyze")
        .arg(&rec)
        .arg("--out")
        .arg(&out)
        .args(["--min-len", "10", "--max-len", "20"]));
    assert_eq!(o.status.code(), Some(0));
    let h = read_json(&out.join("brb/highlights.json"));
    let flagged = h["flagged"].as_array().unwrap();
    let span = |kind: &str| {
        flagged
            .iter()
            .find(|s| s["kind"] == kind)
            .map(|s| (s["start_s"].as_f64().unwrap(), s["end_s"].as_f64().unwrap()))
            .unwrap_or_else(|| panic!("no {kind} span in {flagged:?}"))
    };
    let (is, ie) = span("intermission");
    assert!(
        is <= 22.0 && ie >= 33.0 && is >= 19.0 && ie <= 36.5,
        "intermission {is}–{ie}"
    );
    let (gs, ge) = span("glitch");
    assert!(
        gs <= 35.5 && ge >= 36.5 && gs >= 33.0 && ge <= 39.0,
        "glitch {gs}–{ge}"
    );
    for hl in h["highlights"].as_array().unwrap() {
        let p = hl["peak_s"].as_f64().unwrap();
        assert!(
            !(is..ie).contains(&p) && !(gs..ge).contains(&p),
            "picked a flagged moment: {hl}"
        );
    }
}

#[test]
fn white_and_torn_frames_are_found_at_the_right_times() {
    let dir = scratch("glitch_frames");
    let rec = dir.join("glitch.mp4");
    // Moving test pattern; white frames 10–11 s; the lower half lost (dark) 25–25.5 s.
    ffmpeg(&[
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=40",
        "-f", "lavfi", "-i", "color=c=white:size=320x180:rate=25:duration=40",
        "-f", "lavfi", "-i", "color=c=0x101010:size=320x90:rate=25:duration=40",
        "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:duration=40",
        "-filter_complex",
        "[0:v][1:v]overlay=enable='between(t,10,11)'[a];[a][2:v]overlay=y=90:enable='between(t,25,25.5)'[v]",
        "-map", "[v]", "-map", "3:a", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac",
        rec.to_str().unwrap(),
    ]);
    let s = analyze_signals(
        &rec,
        &dir.join("out"),
        &["--no-models", "--sample-fps", "4"],
    );
    let broken: Vec<f64> = track_points(&s, "picture_broken")
        .into_iter()
        .filter(|(_, v)| *v > 0.0)
        .map(|(t, _)| t)
        .collect();
    let step = 0.25; // one sampled frame at 4 fps
    assert!(
        broken
            .iter()
            .all(|&t| (10.0 - step..=11.0 + step).contains(&t)
                || (25.0 - step..=25.5 + step).contains(&t)),
        "{broken:?}"
    );
    assert!(
        broken
            .iter()
            .filter(|&&t| (10.0..=11.0).contains(&t))
            .count()
            >= 3,
        "white: {broken:?}"
    );
    assert!(
        broken
            .iter()
            .any(|&t| (25.0 - step..=25.5 + step).contains(&t)),
        "tear: {broken:?}"
    );
}
