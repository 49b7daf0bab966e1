//! Shared helpers for the integration tests: fixture media generated with the FFmpeg CLI
//! and `fixtures/make_demo.py`, ffprobe facts, and running the real binary.
#![allow(dead_code)]

pub mod browser;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch folder under target/ that survives the test (for post-mortems).
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("livecut-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// The binary, with speech transcription off (`LIVECUT_TRANSCRIBE=off`): the speech
/// stage has its own tests (`tests/speech.rs`, the demo), and Whisper in every other test
/// would multiply the suite's time. [`livecut_with_speech`] leaves the default on.
pub fn livecut() -> Command {
    let mut cmd = livecut_with_speech();
    cmd.env("LIVECUT_TRANSCRIBE", "off");
    cmd
}

/// The binary with the default speech stage (`--transcribe auto`).
pub fn livecut_with_speech() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_livecut"));
    cmd.env_remove("LIVECUT_LOG");
    cmd.env_remove("LIVECUT_TRANSCRIBE");
    cmd
}

/// Run a livecut command and print what it did. After a successful `run` or `cut`, the
/// `manifest.json` it wrote is validated against `schema/manifest.schema.json`, so every
/// manifest the suite produces is checked.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn livecut");
    eprintln!(
        "$ {:?}\nexit {:?}\n--- stdout\n{}--- stderr\n{}",
        cmd,
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        if let Some(manifest) = manifest_written_by(cmd) {
            validate_manifest(&manifest);
        }
    }
    out
}

/// Where `livecut run REC … --out OUT` (OUT/<stem>/manifest.json) or `livecut cut
/// HIGHLIGHTS …` (beside HIGHLIGHTS) writes its manifest, for commands of that shape.
fn manifest_written_by(cmd: &Command) -> Option<PathBuf> {
    let args: Vec<PathBuf> = cmd.get_args().map(PathBuf::from).collect();
    let sub = args
        .iter()
        .position(|a| a.as_os_str() == "run" || a.as_os_str() == "cut")?;
    let input = args.get(sub + 1)?;
    let dir = if args[sub].as_os_str() == "cut" {
        input.parent()?.to_path_buf()
    } else {
        let out = args.iter().position(|a| a.as_os_str() == "--out")?;
        // `--name NAME` names the folder (a split session's, say).
        let name = match args.iter().position(|a| a.as_os_str() == "--name") {
            Some(i) => args.get(i + 1)?.as_os_str().to_owned(),
            None => input.file_stem()?.to_owned(),
        };
        args.get(out + 1)?.join(name)
    };
    let dir = match cmd.get_current_dir() {
        Some(cwd) if dir.is_relative() => cwd.join(dir),
        _ => dir,
    };
    Some(dir.join("manifest.json"))
}

/// `schema/manifest.schema.json`, compiled once.
fn manifest_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema = read_json(&root().join("schema/manifest.schema.json"));
        jsonschema::validator_for(&schema).expect("schema/manifest.schema.json compiles")
    })
}

/// Every violation of the JSON Schema in `schema_path` by `value` ("path: message").
pub fn validate_json(value: &Value, schema_path: &Path) -> Vec<String> {
    let schema = read_json(schema_path);
    let v = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{} compiles: {e}", schema_path.display()));
    v.iter_errors(value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Every violation of `schema/manifest.schema.json` in `manifest` ("path: message").
pub fn manifest_schema_errors(manifest: &Value) -> Vec<String> {
    manifest_validator()
        .iter_errors(manifest)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Read `path` (a manifest.json), require it to match `schema/manifest.schema.json`
/// (panicking with every violation) and return it.
pub fn validate_manifest(path: &Path) -> Value {
    let manifest = read_json(path);
    let errors = manifest_schema_errors(&manifest);
    assert!(
        errors.is_empty(),
        "{} does not match schema/manifest.schema.json:\n{}",
        path.display(),
        errors.join("\n")
    );
    manifest
}

pub fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-y", "-hide_banner", "-loglevel", "error"])
        .args(args)
        .status()
        .expect("ffmpeg must be installed (scripts/install-deps.sh)");
    assert!(status.success(), "ffmpeg {args:?} failed");
}

/// `ffprobe -show_format -show_streams` as JSON.
pub fn ffprobe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe must be installed");
    assert!(out.status.success(), "ffprobe {} failed", path.display());
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

pub fn probe_duration(p: &Value) -> f64 {
    p["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("format.duration")
}

pub fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("valid JSON")
}

/// Files under `dir`, recursively (relative names).
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap_or(&p).display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// The demo-like recording used by most tests (150 s, 320x180), generated once per test
/// binary by `fixtures/make_demo.py`.
pub struct Demo {
    pub dir: PathBuf,
    pub mp4: PathBuf,
    pub comments: PathBuf,
    pub orders: PathBuf,
    pub truth: Value,
}

pub fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        // Keyed by the generator's content: an edited make_demo.py regenerates.
        let script = std::fs::read(root().join("fixtures/make_demo.py")).expect("make_demo.py");
        let key = &livecut::fsutil::hex(&<sha2::Sha256 as sha2::Digest>::digest(&script))[..12];
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("livecut-fixtures")
            .join(format!("demo150-{key}"));
        let mp4 = dir.join("demo.mp4");
        let truth_path = dir.join("demo.truth.json");
        if !truth_path.exists() {
            let status = Command::new("python3")
                .arg(root().join("fixtures/make_demo.py"))
                .args(["--out"])
                .arg(&dir)
                .args(["--duration", "150", "--width", "320", "--height", "180"])
                .status()
                .expect("python3");
            assert!(status.success(), "make_demo.py failed");
        }
        Demo {
            comments: dir.join("demo.comments.xml"),
            orders: dir.join("demo.orders.csv"),
            truth: read_json(&truth_path),
            mp4,
            dir,
        }
    })
}

/// A labelled session from `fixtures/make_session.py` (320x180), generated once per
/// generator version and arguments. `events` is the generator's `--events` list (empty:
/// the random layout of `seed`).
pub struct Session {
    pub dir: PathBuf,
    pub mp4: PathBuf,
    pub comments: PathBuf,
    pub orders: PathBuf,
    pub truth: Value,
}

pub fn session(seed: u32, duration_s: u32, events: &str) -> Session {
    session_with(seed, duration_s, events, &[])
}

/// [`session`] with more generator flags (e.g. `--host-voice cmn-latn-pinyin`).
pub fn session_with(seed: u32, duration_s: u32, events: &str, extra: &[&str]) -> Session {
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    for script in ["fixtures/make_session.py", "fixtures/make_demo.py"] {
        let bytes = std::fs::read(root().join(script)).expect("generator script");
        sha2::Digest::update(&mut hasher, &bytes);
    }
    sha2::Digest::update(
        &mut hasher,
        format!("{seed}|{duration_s}|{events}").as_bytes(),
    );
    if !extra.is_empty() {
        sha2::Digest::update(&mut hasher, extra.join(" ").as_bytes());
    }
    let key = &livecut::fsutil::hex(&sha2::Digest::finalize(hasher))[..12];
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("livecut-fixtures")
        .join(format!("session-{key}"));
    let stem = "session";
    let truth_path = dir.join(format!("{stem}.truth.json"));
    if !truth_path.exists() {
        let mut cmd = Command::new("python3");
        cmd.arg(root().join("fixtures/make_session.py"))
            .arg("--out")
            .arg(&dir)
            .args(["--stem", stem, "--seed", &seed.to_string()])
            .args(["--duration", &duration_s.to_string()]);
        if !events.is_empty() {
            cmd.args(["--events", events]);
        }
        cmd.args(extra);
        let status = cmd.status().expect("python3");
        assert!(status.success(), "make_session.py failed");
    }
    Session {
        mp4: dir.join(format!("{stem}.mp4")),
        comments: dir.join(format!("{stem}.comments.xml")),
        orders: dir.join(format!("{stem}.orders.csv")),
        truth: read_json(&truth_path),
        dir,
    }
}

/// A generated recording from lavfi `video` and `audio` sources, `secs` long: H.264
/// (ultrafast, a key frame every 25 frames) and AAC. `extra` goes before the output
/// path (`-metadata …`, `-f flv`).
pub fn lavfi_recording(path: &Path, video: &str, audio: &str, secs: u32, extra: &[&str]) {
    let secs = secs.to_string();
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        video,
        "-f",
        "lavfi",
        "-i",
        audio,
        "-t",
        &secs,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "25",
        "-c:a",
        "aac",
    ];
    args.extend_from_slice(extra);
    args.push(path.to_str().expect("utf-8 path"));
    ffmpeg(&args);
}

/// A short synthetic recording: moving test pattern, a tone, optional loud burst.
/// `extra` goes before the output path (e.g. `-an`, `-movflags +faststart`).
pub fn synth_recording(path: &Path, secs: u32, extra: &[&str]) {
    let d = secs.to_string();
    let mut args: Vec<&str> = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        &d,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-metadata",
        "creation_time=2024-09-03T11:12:50Z",
    ];
    args.extend_from_slice(extra);
    let p = path.to_str().expect("utf-8 path");
    args.push(p);
    ffmpeg(&args);
}

/// Run `livecut analyze REC --out OUT EXTRA…`, require success, return `signals.json`.
pub fn analyze_signals(rec: &Path, out: &Path, extra: &[&str]) -> Value {
    let o = run(livecut()
        .arg("analyze")
        .arg(rec)
        .arg("--out")
        .arg(out)
        .args(extra));
    assert_eq!(o.status.code(), Some(0), "analyze failed");
    let stem = rec
        .file_stem()
        .expect("file stem")
        .to_string_lossy()
        .into_owned();
    read_json(&out.join(stem).join("signals.json"))
}

/// (time, value) pairs of a media track in `signals.json` (null values are skipped).
pub fn track_points(signals: &Value, name: &str) -> Vec<(f64, f64)> {
    let track = signals["media"]["tracks"]
        .as_array()
        .expect("media tracks")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no track {name}"));
    track["times_s"]
        .as_array()
        .expect("times_s")
        .iter()
        .zip(track["values"].as_array().expect("values"))
        .filter_map(|(t, v)| Some((t.as_f64()?, v.as_f64()?)))
        .collect()
}

/// ffprobe's description of the first video stream of `path`.
pub fn first_video_stream(path: &Path) -> Value {
    ffprobe(path)["streams"]
        .as_array()
        .expect("ffprobe/ffmpeg output")
        .iter()
        .find(|s| s["codec_type"] == "video")
        .expect("ffprobe/ffmpeg output")
        .clone()
}

/// The display matrix's rotation ffprobe reports for the first video stream.
pub fn ffprobe_rotation(path: &Path) -> Option<f64> {
    let v = first_video_stream(path);
    v["side_data_list"]
        .as_array()?
        .iter()
        .find_map(|d| d["rotation"].as_f64())
}

/// One RGB24 frame of `path` at `t` seconds, as FFmpeg's command line shows it (it
/// honours the display matrix), with its size.
pub fn frame_at(path: &Path, t: f64) -> (Vec<u8>, usize, usize) {
    let v = first_video_stream(path);
    let (w, h) = (
        v["width"].as_u64().expect("ffprobe/ffmpeg output") as usize,
        v["height"].as_u64().expect("ffprobe/ffmpeg output") as usize,
    );
    let turned = ffprobe_rotation(path).is_some_and(|r| (r.abs() - 90.0).abs() < 1.0);
    let (w, h) = if turned { (h, w) } else { (w, h) };
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &t.to_string(), "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("ffprobe/ffmpeg output");
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), w * h * 3, "{}", path.display());
    (out.stdout, w, h)
}
