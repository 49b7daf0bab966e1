//! `livecut batch` on real media: failure isolation, resume after SIGKILL, shards, and a
//! corpus of bad recordings next to good ones.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// Flags that keep a batch of short recordings fast: no models, stream-copied clips.
const FAST: &[&str] = &[
    "--no-models",
    "--platforms",
    "source",
    "--min-len",
    "4",
    "--max-len",
    "8",
    "--highlights",
    "2",
];

/// `n` short good recordings (`rec00.mp4` …) with a loud burst each, in `dir`.
fn good_recordings(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let template = dir.join("template.mkv");
    synth_recording(
        &template,
        16,
        &["-af", "volume='if(between(t,6,9),4,0.3)':eval=frame"],
    );
    for i in 0..n {
        // Remux per file: same media, different container metadata (distinct files).
        let out = dir.join(format!("rec{i:02}.mp4"));
        ffmpeg(&[
            "-i",
            template.to_str().unwrap(),
            "-c",
            "copy",
            "-metadata",
            &format!("title=rec{i}"),
            out.to_str().unwrap(),
        ]);
    }
    std::fs::remove_file(template).unwrap();
}

fn batch_json(out: &Path) -> Value {
    read_json(&out.join("batch.json"))
}

fn statuses(report: &Value) -> BTreeMap<String, (String, String)> {
    report["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                (
                    r["status"].as_str().unwrap().to_string(),
                    r["error"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect()
}

/// Every clip under `out` with its sha256 (relative path → hash).
fn clip_hashes(out: &Path) -> BTreeMap<String, String> {
    files_under(out)
        .into_iter()
        .filter(|f| f.ends_with(".mp4"))
        .map(|f| {
            let h = livecut::fsutil::sha256_file(&out.join(&f)).unwrap();
            (f, h)
        })
        .collect()
}

#[test]
fn one_bad_file_never_costs_the_others() {
    let dir = scratch("batch_twenty");
    let inputs = dir.join("in");
    good_recordings(&inputs, 17);
    std::fs::write(inputs.join("zero.mp4"), b"").unwrap();
    std::fs::write(inputs.join("noise.mp4"), vec![0x5a; 50_000]).unwrap();
    synth_recording(&inputs.join("radio.mp4"), 10, &["-vn"]);
    let out = dir.join("out");
    let o = run(livecut()
        .arg("batch")
        .arg(&inputs)
        .arg("--out")
        .arg(&out)
        .args(FAST));
    assert_eq!(o.status.code(), Some(1));
    let report = batch_json(&out);
    let st = statuses(&report);
    assert_eq!(st.len(), 20);
    let ok = st.values().filter(|(s, _)| s == "ok").count();
    assert_eq!(ok, 17, "{st:?}");
    for bad in ["zero", "noise", "radio"] {
        let (s, e) = &st[bad];
        assert_eq!(s, "failed");
        assert!(
            e.contains(&format!("{bad}.mp4")),
            "{bad}: error names the file: {e}"
        );
    }
    assert!(st["radio"].1.contains("no video"), "{:?}", st["radio"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("17 ok, 3 failed, 0 skipped"), "{stdout}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("3 of 20 recordings failed"));
    for i in 0..17 {
        let d = out.join(format!("rec{i:02}"));
        assert!(d.join("done.json").is_file());
        assert!(d.join("manifest.json").is_file());
    }
}

#[test]
fn killed_at_any_moment_the_rerun_completes_without_redoing_work() {
    let dir = scratch("batch_kill");
    let inputs = dir.join("in");
    good_recordings(&inputs, 6);
    let out = dir.join("out");
    let batch = || {
        let mut cmd = livecut();
        cmd.arg("batch")
            .arg(&inputs)
            .arg("--out")
            .arg(&out)
            .args(["--jobs", "1"])
            .args(FAST);
        cmd
    };
    // SIGKILL at several points of the run (the process gets no chance to clean up).
    for wait_ms in [150u64, 700, 1500, 2600] {
        let mut child = batch()
            .arg("-q")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(wait_ms));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        eprintln!("killed after {wait_ms} ms: {status:?}");
    }
    let o = run(&mut batch());
    assert_eq!(o.status.code(), Some(0));
    let report = batch_json(&out);
    let st = statuses(&report);
    assert_eq!(st.len(), 6);
    assert!(
        st.values().all(|(s, _)| s == "ok" || s == "skipped"),
        "{st:?}"
    );
    let skipped = st.values().filter(|(s, _)| s == "skipped").count();
    eprintln!("after the kills: {skipped} of 6 skipped as done");
    assert!(skipped >= 1, "finished work was redone: {st:?}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("{skipped} skipped")), "{stdout}");
    // No partial file anywhere; every recording complete.
    let leftovers: Vec<String> = files_under(&out)
        .into_iter()
        .filter(|f| f.contains(".part") || f.contains(".livecut-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    for i in 0..6 {
        let d = out.join(format!("rec{i:02}"));
        for f in ["done.json", "highlights.json", "manifest.json"] {
            read_json(&d.join(f));
        }
        let m = read_json(&d.join("manifest.json"));
        for c in m["clips"].as_array().unwrap() {
            let p = d.join(c["path"].as_str().unwrap());
            assert_eq!(
                livecut::fsutil::sha256_file(&p).unwrap(),
                c["sha256"].as_str().unwrap()
            );
        }
    }
    // A third run does nothing; changed settings redo everything.
    let o = run(&mut batch());
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 ok, 0 failed, 6 skipped"));
    let o = run(batch().args(["--sample-fps", "1"]));
    assert_eq!(o.status.code(), Some(0));
    let st = statuses(&batch_json(&out));
    assert!(st.values().all(|(s, _)| s == "ok"), "{st:?}");
    assert!(batch_json(&out)["recordings"][0]["reason"] == "settings changed");
}

#[test]
fn shards_together_equal_one_run() {
    let dir = scratch("batch_shards");
    let inputs = dir.join("in");
    good_recordings(&inputs, 7);
    let whole = dir.join("whole");
    let o = run(livecut()
        .arg("batch")
        .arg(&inputs)
        .arg("--out")
        .arg(&whole)
        .args(FAST));
    assert_eq!(o.status.code(), Some(0));
    // Three processes at once into one shared folder.
    let sharded = dir.join("sharded");
    let children: Vec<_> = (0..3)
        .map(|i| {
            livecut()
                .arg("batch")
                .arg(&inputs)
                .arg("--out")
                .arg(&sharded)
                .args(["--shard", &format!("{i}/3"), "-q"])
                .args(FAST)
                .spawn()
                .unwrap()
        })
        .collect();
    let mut names = Vec::new();
    for (i, mut c) in children.into_iter().enumerate() {
        assert!(c.wait().unwrap().success());
        let report = read_json(&sharded.join(format!("batch.shard-{i}-of-3.json")));
        names.extend(statuses(&report).into_keys());
    }
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "shards overlap: {names:?}");
    assert_eq!(names.len(), 7, "{names:?}");
    let union = clip_hashes(&sharded);
    let single = clip_hashes(&whole);
    assert!(!single.is_empty());
    assert_eq!(union, single);
}

#[test]
fn a_corpus_of_bad_recordings_fails_by_name_and_the_good_ones_complete() {
    let dir = scratch("batch_corpus");
    let inputs = dir.join("in");
    good_recordings(&inputs, 2);
    let good = inputs.join("rec00.mp4");
    let bytes = std::fs::read(&good).unwrap();
    for frac in [0.1, 0.5, 0.9] {
        let n = (bytes.len() as f64 * frac) as usize;
        std::fs::write(
            inputs.join(format!("cut{}.mp4", (frac * 100.0) as u32)),
            &bytes[..n],
        )
        .unwrap();
    }
    let mut flipped = bytes.clone();
    for i in (4096..flipped.len()).step_by(997) {
        flipped[i] ^= 0x55;
    }
    std::fs::write(inputs.join("flipped.mp4"), flipped).unwrap();
    std::fs::write(inputs.join("zero.mp4"), b"").unwrap();
    synth_recording(&inputs.join("noaudio.mp4"), 8, &["-an"]);
    synth_recording(&inputs.join("novideo.mp4"), 8, &["-vn"]);
    // Variable frame rate, a phone video rotated 90°, timestamps near 6 h in 1/90000.
    synth_recording(
        &inputs.join("vfr.mp4"),
        12,
        &[
            "-vf",
            "setpts='N/25/TB+if(gt(N,100),0.3*sin(N)/TB,0)'",
            "-fps_mode",
            "vfr",
        ],
    );
    synth_recording(
        &inputs.join("rotated.mp4"),
        12,
        &["-metadata:s:v", "rotate=90"],
    );
    synth_recording(
        &inputs.join("late.ts"),
        12,
        &["-output_ts_offset", "21590", "-f", "mpegts"],
    );
    let out = dir.join("out");
    let o = run(livecut()
        .arg("batch")
        .arg(&inputs)
        .arg("--out")
        .arg(&out)
        .args(FAST));
    let st = statuses(&batch_json(&out));
    eprintln!("{st:#?}");
    assert_eq!(st.len(), 12);
    for name in ["rec00", "rec01", "vfr", "rotated", "late", "noaudio"] {
        assert_eq!(st[name].0, "ok", "{name}: {:?}", st[name]);
    }
    for (name, (s, e)) in &st {
        if s == "failed" {
            assert!(
                e.contains(name.as_str()),
                "{name}: error does not name the file: {e}"
            );
        }
    }
    for name in ["zero", "novideo"] {
        assert_eq!(st[name].0, "failed", "{name}");
    }
    let failed = st.values().filter(|(s, _)| s == "failed").count();
    assert_eq!(o.status.code(), Some(if failed > 0 { 1 } else { 0 }));
    // The late TS keeps its times relative to its first frame.
    let h = read_json(&out.join("late/highlights.json"));
    assert!(h["source"]["start_time_s"].as_f64().unwrap() > 21_000.0);
    for hl in h["highlights"].as_array().unwrap() {
        assert!(hl["end_s"].as_f64().unwrap() <= 12.5, "{hl}");
    }
}

#[test]
fn dry_run_prints_the_discovery_table_only() {
    let dir = scratch("batch_dry");
    let inputs = dir.join("in");
    good_recordings(&inputs, 2);
    std::fs::write(inputs.join("rec01.comments.jsonl"), b"").unwrap();
    // rec00 has its own product catalogue; rec01 takes the batch's.
    std::fs::write(inputs.join("rec00.products.csv"), b"sku,name\nA,a\n").unwrap();
    let list = dir.join("list.txt");
    std::fs::write(&list, "# one more\nin/rec00.mp4\n").unwrap();
    let out: PathBuf = dir.join("out");
    let o = run(livecut()
        .arg("batch")
        .arg(&inputs)
        .arg(&list)
        .arg("--out")
        .arg(&out)
        .arg("--products")
        .arg(dir.join("all.csv"))
        .arg("--dry-run"));
    assert_eq!(o.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("2 recordings"), "{stdout}");
    assert!(stdout.contains("rec01.comments.jsonl"), "{stdout}");
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("{name}: {stdout}"))
            .to_string()
    };
    assert!(row("rec00").ends_with("rec00.products.csv |"), "{stdout}");
    assert!(row("rec01").ends_with("all.csv (--products) |"), "{stdout}");
    assert!(!out.exists(), "dry run wrote {out:?}");
    let o = run(livecut()
        .arg("batch")
        .arg(dir.join("missing"))
        .arg("--out")
        .arg(&out));
    assert_eq!(o.status.code(), Some(2));
}
