//! Bad input never panics and never leaves output behind: each case gets exit code 1, a
//! message naming the file (and line), and no `DIR/<stem>` folder.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::Path;

use common::*;

/// Run `livecut run REC ... --out OUT` and check the failure contract.
fn assert_fails_cleanly(rec: &Path, extra: &[&str], out: &Path, names: &Path, needle: &str) {
    let mut cmd = livecut();
    cmd.arg("run").arg(rec).args(extra).arg("--out").arg(out);
    let o = run(&mut cmd);
    assert_eq!(o.status.code(), Some(1), "exit code");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(&names.display().to_string()),
        "message names {}: {stderr}",
        names.display()
    );
    assert!(
        stderr.to_lowercase().contains(needle),
        "message says {needle:?}: {stderr}"
    );
    assert_eq!(files_under(out), Vec::<String>::new(), "nothing written");
}

#[test]
fn missing_recording() {
    let dir = scratch("missing");
    let rec = dir.join("nope.mp4");
    assert_fails_cleanly(&rec, &[], &dir.join("out"), &rec, "no such file");
}

#[test]
fn empty_recording() {
    let dir = scratch("empty");
    let rec = dir.join("empty.mp4");
    std::fs::write(&rec, b"").unwrap();
    assert_fails_cleanly(&rec, &[], &dir.join("out"), &rec, "empty");
}

#[test]
fn corrupt_recording() {
    let dir = scratch("corrupt");
    let rec = dir.join("garbage.mp4");
    let bytes: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&rec, bytes).unwrap();
    assert_fails_cleanly(&rec, &[], &dir.join("out"), &rec, "cannot open");
}

#[test]
fn truncated_recording_without_index() {
    // A recorder that died mid-file: the MP4 index (moov, written last) is missing.
    let dir = scratch("truncated");
    let whole = dir.join("whole.mp4");
    synth_recording(&whole, 20, &[]);
    let bytes = std::fs::read(&whole).unwrap();
    let rec = dir.join("truncated.mp4");
    std::fs::write(&rec, &bytes[..bytes.len() / 2]).unwrap();
    assert_fails_cleanly(&rec, &[], &dir.join("out"), &rec, "truncated or corrupt");
}

// A recording without sound is analysed (tests/streams.rs); one without a picture is
// refused, saying how to give it one (README: "Recordings livecut reads").
#[test]
fn recording_without_video() {
    let dir = scratch("novideo");
    let rec = dir.join("radio.mp4");
    synth_recording(&rec, 5, &["-vn"]);
    assert_fails_cleanly(
        &rec,
        &[],
        &dir.join("out"),
        &rec,
        "no video stream (sound only)",
    );
    assert_fails_cleanly(&rec, &[], &dir.join("out"), &rec, "ffmpeg -loop 1");
}

#[test]
fn orders_with_absolute_times_but_no_recording_start() {
    let dir = scratch("nostart");
    let rec = dir.join("nostart.mp4");
    synth_recording(&rec, 5, &["-metadata", "creation_time="]);
    let orders = dir.join("orders.csv");
    std::fs::write(
        &orders,
        "order_id,paid_at,amount\n1,2024-09-03T19:13:00+08:00,9.9\n",
    )
    .unwrap();
    let orders_arg = orders.to_str().unwrap();
    assert_fails_cleanly(
        &rec,
        &["--orders", orders_arg],
        &dir.join("out"),
        &orders,
        "--start",
    );
}

#[test]
fn comments_file_that_is_not_danmaku() {
    let dir = scratch("notxml");
    let rec = dir.join("rec.mp4");
    synth_recording(&rec, 5, &[]);
    let comments = dir.join("comments.xml");
    std::fs::write(&comments, "this is not xml at all\n").unwrap();
    let arg = comments.to_str().unwrap();
    assert_fails_cleanly(
        &rec,
        &["--comments", arg],
        &dir.join("out"),
        &comments,
        ":1:",
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = run(livecut().args(["run", "--bogus"]));
    assert_eq!(o.status.code(), Some(2));
    let o = run(livecut().args(["analyze", "x.mp4", "--out", "o", "--start", "yesterday"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--start"));
    let o = run(livecut().arg("--help"));
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Examples:"));
}

#[test]
fn malformed_rows_are_skipped_counted_and_named() {
    let dir = scratch("malformed");
    let rec = dir.join("rec.mp4");
    synth_recording(&rec, 30, &["-movflags", "+faststart"]);
    let comments = dir.join("c.xml");
    std::fs::write(
        &comments,
        "<?xml version=\"1.0\"?>\n<i>\n<d p=\"1.5,1,25,16777215,0,0,aa,1\">ok</d>\n\
         <d p=\"x,1,25\">bad time</d>\n<d>no p</d>\n<d p=\"3,1,25,16777215,0,0,bb,2\">ok2</d>\n</i>\n",
    )
    .unwrap();
    let orders = dir.join("o.csv");
    std::fs::write(
        &orders,
        "order_id,paid_at,amount_cny\n1,2024-09-03T19:13:00+08:00,10\n2,garbage,10\n3,2024-09-03T19:13:01+08:00,abc\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = run(livecut()
        .arg("analyze")
        .arg(&rec)
        .arg("--comments")
        .arg(&comments)
        .arg("--orders")
        .arg(&orders)
        .arg("--out")
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let h = read_json(&out.join("rec/highlights.json"));
    let t = h["timelines"].as_array().unwrap();
    assert_eq!(t[0]["rows_used"], 2);
    assert_eq!(t[0]["rows_skipped"], 2);
    let lines: Vec<u64> = t[0]["skipped_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![4, 5]);
    assert_eq!(t[1]["rows_used"], 1);
    assert_eq!(t[1]["rows_skipped"], 2);
    assert_eq!(t[1]["skipped_examples"][0]["line"], 3);
    assert_eq!(t[1]["skipped_examples"][1]["line"], 4);
}

#[test]
fn profile_overrides_and_bad_profiles() {
    let dir = scratch("profile");
    let rec = dir.join("rec.mp4");
    synth_recording(&rec, 30, &[]);
    // The printed default is a valid profile.
    let o = run(livecut().arg("profile"));
    assert_eq!(o.status.code(), Some(0));
    let default = dir.join("default.toml");
    std::fs::write(&default, &o.stdout).unwrap();
    let o = run(livecut()
        .arg("analyze")
        .arg(&rec)
        .arg("--profile")
        .arg(&default)
        .args(["--no-models", "--out"])
        .arg(dir.join("out")));
    assert_eq!(o.status.code(), Some(0));
    // A typo in a key names the file and line; exit 2 (usage), nothing written.
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[selection]\nmin_len_s = 15.0\nmax_lenn_s = 30.0\n").unwrap();
    let out = dir.join("out_bad");
    let o = run(livecut()
        .arg("analyze")
        .arg(&rec)
        .arg("--profile")
        .arg(&bad)
        .args(["--no-models", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("{}:3:", bad.display())),
        "{stderr}"
    );
    assert!(files_under(&out).is_empty());
}

#[test]
fn an_impossible_out_folder_fails_before_the_analysis() {
    let dir = scratch("bad_out");
    let rec = dir.join("rec.mp4");
    synth_recording(&rec, 5, &[]);
    let blocker = dir.join("not_a_folder");
    std::fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("out");
    let o = run(livecut().arg("analyze").arg(&rec).arg("--out").arg(&out));
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&out.display().to_string()) && stderr.contains("is a file"),
        "{stderr}"
    );
    // Said once: no cause repeated after the message.
    let first = stderr.lines().find(|l| l.starts_with("error:")).unwrap();
    assert_eq!(first.matches("is a file").count(), 1, "{first}");
}

#[test]
fn several_audio_tracks_say_which_is_used_and_take_audio_track() {
    // OBS-style: microphone and desktop sound as two audio tracks.
    let dir = scratch("two_audio");
    let rec = dir.join("obs.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=color=pink:amplitude=0.2:sample_rate=48000",
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2:a",
        "-t",
        "20",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        rec.to_str().unwrap(),
    ]);
    let analyze = |extra: &[&str], out: &str| {
        run(livecut()
            .arg("analyze")
            .arg(&rec)
            .args(extra)
            .args(["--no-models", "--out"])
            .arg(dir.join(out)))
    };
    let o = analyze(&[], "first");
    assert_eq!(o.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("2 audio tracks; using track 1 (stream #1")
            && stderr.contains("--audio-track N"),
        "{stderr}"
    );
    let h = read_json(&dir.join("first/obs/highlights.json"));
    assert_eq!(h["source"]["audio"]["index"], 1);
    assert_eq!(h["source"]["audio_tracks"], 2);
    let o = analyze(&["--audio-track", "2"], "second");
    assert_eq!(o.status.code(), Some(0));
    let h = read_json(&dir.join("second/obs/highlights.json"));
    assert_eq!(h["source"]["audio"]["index"], 2);
    let o = analyze(&["--audio-track", "3"], "third");
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&rec.display().to_string()) && stderr.contains("has 2 audio track(s)"),
        "{stderr}"
    );
}
