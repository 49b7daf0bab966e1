//! Ad-law warnings and titles on a generated session: a host (espeak-ng's Mandarin voice)
//! who says 这是最好的面膜 and 全网最低价 while a card reads 销量第一, analysed with the
//! real models (Whisper hears the speech, the OCR model reads the card), cut for two
//! platforms: warnings with times in manifest.json, titles within each platform's length
//! and free of lexicon words, `--avoid-claims` moving the start past a flagged sentence.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// When each spoken sentence starts, and the card's span (recording seconds).
const BEST_AT: f64 = 12.0;
const LOWEST_AT: f64 = 20.0;
const CARD: (f64, f64) = (10.0, 34.0);
const SECS: u32 = 40;

fn say(dir: &Path, name: &str, pinyin: &str) -> PathBuf {
    let wav = dir.join(format!("{name}.wav"));
    let status = std::process::Command::new("espeak-ng")
        .args(["-v", "cmn-latn-pinyin", "-s", "140", "-w"])
        .arg(&wav)
        .arg(pinyin)
        .status()
        .expect("espeak-ng must be installed (scripts/install-deps.sh)");
    assert!(status.success());
    wav
}

/// The session: a grey set with a moving box, the red card, two sentences over pink noise.
fn recording(dir: &Path) -> PathBuf {
    let best = say(dir, "best", "zhe4 shi4 zui4 hao3 de5 mian4 mo2");
    let lowest = say(dir, "lowest", "quan2 wang3 zui4 di1 jia4");
    let font = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc";
    let rec = dir.join("claims.mp4");
    let graph = format!(
        "[0:v]drawbox=x='200+100*sin(t)':y=420:w=160:h=160:color=0x8090a0:t=fill,\
         drawtext=fontfile={font}:text='销量第一':fontsize=96:fontcolor=white:box=1:\
         boxcolor=0xd01020:boxborderw=24:x=(w-text_w)/2:y=120:enable='between(t,{},{})'[v];\
         [1:a]aresample=48000,adelay={}|{},apad[a1];[2:a]aresample=48000,adelay={}|{},apad[a2];\
         [3:a][a1][a2]amix=inputs=3:duration=first:normalize=0,pan=stereo|c0=c0|c1=c0[a]",
        CARD.0,
        CARD.1,
        BEST_AT * 1000.0,
        BEST_AT * 1000.0,
        LOWEST_AT * 1000.0,
        LOWEST_AT * 1000.0
    );
    let secs = SECS.to_string();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("color=c=0x303840:s=1280x720:r=25:d={secs}"),
        "-i",
        best.to_str().unwrap(),
        "-i",
        lowest.to_str().unwrap(),
        "-f",
        "lavfi",
        "-i",
        &format!("anoisesrc=c=pink:a=0.003:d={secs}:r=48000"),
        "-filter_complex",
        &graph,
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-t",
        &secs,
        "-c:v",
        "libx264",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-metadata",
        "creation_time=2024-09-03T11:12:50Z",
        rec.to_str().unwrap(),
    ]);
    rec
}

fn warnings_of(clip: &Value) -> Vec<(String, String, Option<f64>, bool)> {
    clip["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["where"].as_str().unwrap().to_string(),
                w["word"].as_str().unwrap().to_string(),
                w["at_s"].as_f64(),
                w["left_out"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[test]
fn claims_said_and_shown_are_warned_about_and_kept_out_of_titles() {
    let out = scratch("claims");
    let rec = recording(&out);
    let o = run(livecut_with_speech()
        .arg("analyze")
        .arg(&rec)
        .args(["--transcribe", "all", "--language", "zh", "--out"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(0));
    let dir = out.join("claims");

    // The card was read on screen.
    let signals = read_json(&dir.join("signals.json"));
    let screen = signals["media"]["screen_text"].as_array().unwrap();
    assert!(
        screen
            .iter()
            .any(|l| l["text"].as_str().unwrap().contains("第一")),
        "{screen:?}"
    );

    // Whisper heard the first claim; the synthetic voice's 全网最低 is misheard (千万最低…),
    // and the editor corrects it in transcript.json.
    let tpath = dir.join("transcript.json");
    let mut t = read_json(&tpath);
    let segments = t["segments"].as_array_mut().unwrap();
    let best = segments
        .iter()
        .find(|s| s["text"].as_str().unwrap().contains("最好"))
        .unwrap_or_else(|| panic!("最好 not heard: {segments:?}"))
        .clone();
    let best_at = best["start_s"].as_f64().unwrap();
    let best_end = best["end_s"].as_f64().unwrap();
    assert!((best_at - BEST_AT).abs() < 1.0, "{best:?}");
    let lowest = segments
        .iter_mut()
        .find(|s| (s["start_s"].as_f64().unwrap() - LOWEST_AT).abs() < 1.0)
        .unwrap();
    lowest["text"] = "全网最低价".into();
    lowest["edited"] = true.into();
    let lowest_at = lowest["start_s"].as_f64().unwrap();
    std::fs::write(&tpath, serde_json::to_vec_pretty(&t).unwrap()).unwrap();

    // One highlight over the whole scene, peak after both sentences.
    let hpath = dir.join("highlights.json");
    let mut h = read_json(&hpath);
    let mut first = h["highlights"][0].clone();
    first["start_s"] = 8.0.into();
    first["end_s"] = 38.0.into();
    first["peak_s"] = 28.0.into();
    h["highlights"] = Value::Array(vec![first]);
    std::fs::write(&hpath, serde_json::to_vec_pretty(&h).unwrap()).unwrap();

    let cut = |extra: &[&str]| {
        let o = run(livecut()
            .arg("cut")
            .arg(&hpath)
            .args([
                "--platforms",
                "douyin,wechat-channels",
                "--subtitles",
                "srt",
            ])
            .args(extra));
        assert_eq!(o.status.code(), Some(0));
        validate_manifest(&dir.join("manifest.json"))
    };
    let claims = livecut::claims::ClaimsLexicon::default();
    let m = cut(&[]);
    for clip in m["clips"].as_array().unwrap() {
        let w = warnings_of(clip);
        assert!(
            w.contains(&(
                "speech".into(),
                "最好".into(),
                Some((best_at * 1000.0).round() / 1000.0),
                false
            )),
            "{w:?}"
        );
        assert!(
            w.contains(&(
                "speech".into(),
                "全网最低".into(),
                Some((lowest_at * 1000.0).round() / 1000.0),
                false
            )),
            "{w:?}"
        );
        let card = w
            .iter()
            .find(|(place, word, _, _)| place == "screen" && word == "第一")
            .unwrap_or_else(|| panic!("{w:?}"));
        let at = card.2.unwrap();
        assert!((CARD.0..CARD.1).contains(&at), "{at}");
        // Titles: within the platform's length, never a lexicon word.
        let max = if clip["platform"] == "douyin" { 30 } else { 16 };
        let titles = clip["titles"].as_array().unwrap();
        assert!(!titles.is_empty());
        assert_eq!(clip["title"], titles[0]);
        for t in titles {
            let t = t.as_str().unwrap();
            assert!(t.chars().count() <= max, "{t}");
            assert!(!claims.flags(t), "{t}");
        }
    }
    let preview = std::fs::read_to_string(dir.join("preview.html")).unwrap();
    assert!(preview.contains("Ad-law warnings") && preview.contains("全网最低价"));

    // --avoid-claims: the start moves past 最好 (the clip keeps 20 s and its peak); moving
    // past 全网最低 too would leave less than 20 s, so that one stays, warned.
    let m = cut(&["--avoid-claims"]);
    for clip in m["clips"].as_array().unwrap() {
        let start = clip["span"]["start_s"].as_f64().unwrap();
        assert!((start - best_end).abs() < 0.05, "{start} vs {best_end}");
        let w = warnings_of(clip);
        assert!(w.iter().any(|x| x.1 == "最好" && x.3), "{w:?}");
        assert!(w.iter().any(|x| x.1 == "全网最低" && !x.3), "{w:?}");
        let p = ffprobe(&dir.join(clip["path"].as_str().unwrap()));
        let d = probe_duration(&p);
        assert!((d - (38.0 - best_end)).abs() < 0.1, "{d}");
    }
}
