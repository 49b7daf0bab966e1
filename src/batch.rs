//! The daily job: many recordings with their exports in, clips and previews out; one bad
//! file never costs the others.
//!
//! - **Discovery**: folders (one level deep) and list files name the recordings; sidecars
//!   are found by stem (`x.mp4` + `x.comments.xml|.jsonl|.csv` + `x.orders.csv` +
//!   `x.products.csv`, the product catalogue, else the batch's `--products`) or given by a
//!   mapping file (CSV `recording,comments,orders[,products]`).
//! - **Shards**: `--shard I/N` keeps the recordings whose name hashes to I mod N — disjoint,
//!   deterministic and independent of listing order.
//! - **Workers**: `jobs` threads take recordings from a queue; each loads the models once.
//! - **Resume**: `DIR/<name>/done.json` is written last, with a hash of the inputs (sampled
//!   content of the recording, full content of the exports) and of the settings; a rerun
//!   skips a recording whose marker matches and redoes it when either changed. Every other
//!   output is written atomically, so a killed run leaves only temporary files, removed on
//!   the next run.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::pipeline::{self, AnalyzeOptions, CutSettings, Progress};

/// File extensions taken as recordings when a folder is scanned.
pub const VIDEO_EXTENSIONS: &[&str] = &["mp4", "mkv", "flv", "ts", "mov", "m4v", "webm"];
pub const DONE_FILE: &str = "done.json";
pub const BATCH_FILE: &str = "batch.json";

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    #[error("{path}:{line}: {message}")]
    Map {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("--shard {0}: expected I/N with 0 <= I < N, e.g. 0/3")]
    Shard(String),
    /// Writing the batch summary failed (not a usage error).
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
}

impl BatchError {
    /// Whether the command line or its inputs are at fault (exit code 2).
    pub fn is_usage(&self) -> bool {
        !matches!(self, Self::Report(_))
    }
}

/// One recording of the batch and its exports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recording {
    /// Output folder name under DIR (the stem; made unique when stems repeat).
    pub name: String,
    pub path: PathBuf,
    pub comments: Option<PathBuf>,
    pub orders: Option<PathBuf>,
    /// Its product catalogue (`<stem>.products.csv`; else the batch's `--products`).
    #[serde(default)]
    pub products: Option<PathBuf>,
    /// A recorder's later parts of the same session (after `path`, in time order) with
    /// their comment sidecars; analysed with `path` as one session ([`group_sessions`]).
    pub more_parts: Vec<(PathBuf, Option<PathBuf>)>,
}

/// Parts of one session follow each other by at most this much (the recorder's
/// reconnect or its split by size or time leaves seconds, not hours).
pub const SESSION_GAP_S: f64 = 600.0;

/// A live recorder's room id and the file's start in its name: BililiveRecorder
/// (`录制-ROOM-YYYYMMDD-HHMMSS-mmm-TITLE.flv`) and blrec
/// (`blive_ROOM_YYYY-MM-DD-HHMMSS.flv`).
fn recorder_room(p: &Path) -> Option<(String, jiff::Timestamp)> {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = PATTERN.get_or_init(|| {
        regex::Regex::new(r"^(?:录制-(?P<a>[0-9]+)-20[0-9]{6}-[0-9]{6}|blive_(?P<b>[0-9]+)_20)")
            .expect("a valid pattern")
    });
    let name = p.file_stem()?.to_string_lossy();
    let c = re.captures(&name)?;
    let room = c.name("a").or_else(|| c.name("b"))?.as_str().to_string();
    // The zone does not matter: parts are compared with each other.
    let at = crate::timelines::start::file_name_start(p, &jiff::tz::TimeZone::UTC)?;
    Some((room, at))
}

/// Join a live recorder's files of one session: same folder and room, each starting
/// (by its file name) at most [`SESSION_GAP_S`] after the previous one ended (by its
/// probed duration). The session takes the first part's name and order export.
pub fn group_sessions(recs: Vec<Recording>) -> Vec<Recording> {
    let mut out: Vec<Recording> = Vec::new();
    // The last part's end of the session each output entry is (when it is one).
    let mut ends: Vec<Option<(PathBuf, String, jiff::Timestamp)>> = Vec::new();
    let mut keyed: Vec<(Option<(String, jiff::Timestamp)>, Recording)> = recs
        .into_iter()
        .map(|r| (recorder_room(&r.path), r))
        .collect();
    keyed.sort_by(|(a, ra), (b, rb)| {
        (ra.path.parent(), a.as_ref().map(|k| (&k.0, k.1)), &ra.path).cmp(&(
            rb.path.parent(),
            b.as_ref().map(|k| (&k.0, k.1)),
            &rb.path,
        ))
    });
    for (key, rec) in keyed {
        let Some((room, at)) = key else {
            out.push(rec);
            ends.push(None);
            continue;
        };
        let end = crate::media::probe(&rec.path).ok().and_then(|i| {
            at.checked_add(jiff::SignedDuration::from_secs_f64(i.duration_s))
                .ok()
        });
        let folder = rec.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let joins = match (ends.last(), out.last()) {
            (Some(Some((f, r, prev_end))), Some(_)) => {
                *f == folder
                    && *r == room
                    && at.duration_since(*prev_end).as_secs_f64() <= SESSION_GAP_S
                    && at
                        >= prev_end
                            .checked_sub(jiff::SignedDuration::from_secs(5))
                            .unwrap_or(at)
            }
            _ => false,
        };
        match (joins, end) {
            (true, Some(end)) => {
                if let Some(session) = out.last_mut() {
                    session.more_parts.push((rec.path, rec.comments));
                }
                if let Some(last) = ends.last_mut() {
                    *last = Some((folder, room, end));
                }
            }
            _ => {
                ends.push(end.map(|e| (folder, room, e)));
                out.push(rec);
            }
        }
    }
    out
}

impl Recording {
    /// Every file of the recording: `path`, then the later parts.
    pub fn files(&self) -> Vec<&Path> {
        std::iter::once(self.path.as_path())
            .chain(self.more_parts.iter().map(|(p, _)| p.as_path()))
            .collect()
    }
}

fn is_video(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "recording".into())
}

/// Sidecars beside `rec` by stem: comments, orders, product catalogue.
fn sidecars(rec: &Path) -> (Option<PathBuf>, Option<PathBuf>, Option<PathBuf>) {
    let dir = rec.parent().unwrap_or(Path::new("."));
    let s = stem(rec);
    let find = |exts: &[&str]| {
        exts.iter()
            .map(|e| dir.join(format!("{s}.{e}")))
            .find(|p| p.is_file())
    };
    (
        // `<stem>.xml`: what live recorders (BililiveRecorder, blrec) write beside a file.
        find(&["comments.xml", "comments.jsonl", "comments.csv", "xml"]),
        find(&["orders.csv"]),
        find(&["products.csv"]),
    )
}

/// The recordings named by `inputs` (folders, recordings, list files with one path per
/// line, `#` comments) and the optional mapping file, sorted by path, with unique names.
pub fn discover(inputs: &[PathBuf], map: Option<&Path>) -> Result<Vec<Recording>, BatchError> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input).map_err(|e| BatchError::Input {
                path: input.clone(),
                message: format!("cannot list the folder: {e}"),
            })?;
            for e in entries.flatten() {
                let p = e.path();
                if p.is_file() && is_video(&p) {
                    paths.push(p);
                }
            }
        } else if is_video(input) {
            if !input.is_file() {
                return Err(BatchError::Input {
                    path: input.clone(),
                    message: "no such recording".into(),
                });
            }
            paths.push(input.clone());
        } else if input.is_file() {
            let text = std::fs::read_to_string(input).map_err(|e| BatchError::Input {
                path: input.clone(),
                message: format!("cannot read the list: {e}"),
            })?;
            let base = input.parent().unwrap_or(Path::new("."));
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                paths.push(base.join(line));
            }
        } else {
            return Err(BatchError::Input {
                path: input.clone(),
                message: "neither a folder, a recording nor a list file".into(),
            });
        }
    }
    let mut recs: Vec<Recording> = paths
        .into_iter()
        .map(|path| {
            let (comments, orders, products) = sidecars(&path);
            Recording {
                name: stem(&path),
                path,
                comments,
                orders,
                products,
                more_parts: Vec::new(),
            }
        })
        .collect();
    if let Some(map) = map {
        apply_map(&mut recs, map)?;
    }
    recs.sort_by(|a, b| a.path.cmp(&b.path));
    recs.dedup_by(|a, b| a.path == b.path);
    // A recorder's parts of one session become one recording.
    let mut recs = group_sessions(recs);
    recs.sort_by(|a, b| a.path.cmp(&b.path));
    // Unique output names: a repeated stem gets a short hash of its path.
    let names: Vec<String> = recs.iter().map(|r| r.name.clone()).collect();
    for r in &mut recs {
        if names.iter().filter(|n| **n == r.name).count() > 1 {
            let h = Sha256::digest(r.path.to_string_lossy().as_bytes());
            r.name = format!("{}-{}", r.name, &crate::fsutil::hex(&h)[..8]);
        }
    }
    Ok(recs)
}

/// `recording,comments,orders[,products]` rows (header optional, empty cells allowed): the exports of
/// each recording, overriding what was found by stem; recordings not yet listed are added.
fn apply_map(recs: &mut Vec<Recording>, map: &Path) -> Result<(), BatchError> {
    let base = map.parent().unwrap_or(Path::new("."));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(map)
        .map_err(|e| BatchError::Input {
            path: map.to_path_buf(),
            message: e.to_string(),
        })?;
    for (i, row) in reader.records().enumerate() {
        let line = i as u64 + 1;
        let row = row.map_err(|e| BatchError::Map {
            path: map.to_path_buf(),
            line,
            message: e.to_string(),
        })?;
        let cell = |k: usize| row.get(k).filter(|s| !s.is_empty()).map(|s| base.join(s));
        let Some(rec) = cell(0) else { continue };
        if i == 0
            && row
                .get(0)
                .is_some_and(|h| h.eq_ignore_ascii_case("recording"))
        {
            continue;
        }
        if !rec.is_file() {
            return Err(BatchError::Map {
                path: map.to_path_buf(),
                line,
                message: format!("{}: no such recording", rec.display()),
            });
        }
        let (comments, orders, products) = (cell(1), cell(2), cell(3));
        match recs.iter_mut().find(|r| r.path == rec) {
            Some(r) => {
                r.comments = comments.or(r.comments.take());
                r.orders = orders.or(r.orders.take());
                r.products = products.or(r.products.take());
            }
            None => recs.push(Recording {
                name: stem(&rec),
                path: rec,
                comments,
                orders,
                products,
                more_parts: Vec::new(),
            }),
        }
    }
    Ok(())
}

/// Parse `I/N`.
pub fn parse_shard(s: &str) -> Result<(u64, u64), BatchError> {
    let bad = || BatchError::Shard(s.to_string());
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The shard of a recording: its name's SHA-256 modulo `n`.
pub fn shard_of(rec: &Recording, n: u64) -> u64 {
    let h = Sha256::digest(rec.name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    u64::from_be_bytes(first) % n
}

/// Identity of the inputs: the recording's size and three 4 MiB samples (start, middle,
/// end; hashing hours of video in full would cost more than a minute per file) plus the
/// exports in full.
pub fn input_hash(rec: &Recording) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    const SAMPLE: u64 = 4 << 20;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; SAMPLE as usize];
    for file in rec.files() {
        let mut f = std::fs::File::open(file)?;
        let size = f.metadata()?.len();
        h.update(size.to_le_bytes());
        for at in [0, size / 2, size.saturating_sub(SAMPLE)] {
            f.seek(SeekFrom::Start(at))?;
            let n = f.by_ref().take(SAMPLE).read(&mut buf)?;
            h.update(&buf[..n]);
        }
    }
    let part_comments = rec.more_parts.iter().filter_map(|(_, c)| c.as_ref());
    for side in [&rec.comments, &rec.orders, &rec.products]
        .into_iter()
        .flatten()
        .chain(part_comments)
    {
        h.update(crate::fsutil::sha256_file(side)?.as_bytes());
    }
    Ok(crate::fsutil::hex(&h.finalize()))
}

/// `DIR/<name>/done.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DoneMarker {
    pub input_hash: String,
    pub settings_hash: String,
    pub highlights: usize,
    pub clips: usize,
    pub seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    Skipped,
}

/// One recording's outcome (a row of the summary and of `batch.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordingResult {
    pub name: String,
    pub recording: PathBuf,
    pub comments: Option<PathBuf>,
    pub orders: Option<PathBuf>,
    pub status: Status,
    /// Why it was (re)done or skipped: "new", "inputs changed", "settings changed",
    /// "done earlier, unchanged".
    pub reason: String,
    pub error: Option<String>,
    pub highlights: usize,
    pub clips: usize,
    pub seconds: f64,
}

/// `DIR/batch.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchReport {
    pub generator: String,
    pub out_dir: PathBuf,
    pub shard: Option<(u64, u64)>,
    pub jobs: usize,
    pub settings_hash: String,
    pub seconds: f64,
    pub recordings: Vec<RecordingResult>,
}

impl BatchReport {
    pub fn count(&self, s: Status) -> usize {
        self.recordings.iter().filter(|r| r.status == s).count()
    }

    /// The summary table printed at the end.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| recording | status | why | highlights | clips | seconds | error |\n|---|---|---|---|---|---|---|\n",
        );
        for r in &self.recordings {
            out.push_str(&format!(
                "| {} | {:?} | {} | {} | {} | {:.1} | {} |\n",
                r.name,
                r.status,
                r.reason,
                r.highlights,
                r.clips,
                r.seconds,
                r.error.as_deref().unwrap_or("")
            ));
        }
        out.push_str(&format!(
            "\n{} ok, {} failed, {} skipped; {} clips; {:.1} s\n",
            self.count(Status::Ok),
            self.count(Status::Failed),
            self.count(Status::Skipped),
            self.recordings.iter().map(|r| r.clips).sum::<usize>(),
            self.seconds
        ));
        out
    }
}

/// What the batch does with each recording.
#[derive(Debug, Clone)]
pub struct BatchSettings {
    /// Analysis options; exports, output folder and name are set per recording.
    pub analyze: AnalyzeOptions,
    pub cut: CutSettings,
    pub jobs: usize,
    pub shard: Option<(u64, u64)>,
}

impl BatchSettings {
    /// Hash of everything that shapes the outputs (a changed profile, platform list or
    /// model set redoes the recordings).
    pub fn hash(&self) -> String {
        let a = &self.analyze;
        let text = format!(
            "{}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{}",
            env!("CARGO_PKG_VERSION"),
            // How many threads survey a recording does not change what it finds.
            crate::cascade::CascadeSettings {
                survey_jobs: 0,
                ..a.cascade.clone()
            },
            a.fuse,
            a.select,
            a.decode,
            a.models.enabled,
            a.models.face_fps,
            a.lexicon,
            a.tz,
            a.start,
            a.strict,
            self.cut.platforms,
            format!("{:?}", self.cut.render)
                + &format!("{:?}", self.cut.top)
                // The batch's catalogue (by content) and whether products are clipped.
                + &format!(
                    "|{:?}|{}|{}",
                    a.products
                        .as_deref()
                        .map(|p| crate::fsutil::sha256_file(p).unwrap_or_default()),
                    self.cut.product_clips,
                    a.mixed_products
                ),
        );
        crate::fsutil::hex(&Sha256::digest(text.as_bytes()))
    }
}

/// Progress of a batch, for the binary to draw.
#[derive(Debug, Clone, Copy)]
pub enum BatchEvent<'a> {
    Started {
        index: usize,
        name: &'a str,
    },
    Step {
        index: usize,
        progress: Progress<'a>,
    },
    Finished {
        index: usize,
        result: &'a RecordingResult,
    },
}

/// Run the batch: every recording analysed and cut by `settings.jobs` workers; returns
/// the report (also written to `DIR/batch.json`).
pub fn run(
    recordings: &[Recording],
    settings: &BatchSettings,
    events: &(dyn Fn(BatchEvent<'_>) + Sync),
) -> Result<BatchReport, BatchError> {
    let started = Instant::now();
    let out_dir = settings.analyze.out_dir.clone();
    std::fs::create_dir_all(&out_dir).map_err(|e| BatchError::Input {
        path: out_dir.clone(),
        message: format!("cannot create the output folder: {e}"),
    })?;
    let settings_hash = settings.hash();
    let queue = Mutex::new(0usize);
    let results: Mutex<Vec<Option<RecordingResult>>> = Mutex::new(vec![None; recordings.len()]);
    let jobs = settings.jobs.clamp(1, recordings.len().max(1));
    let mut shared = settings.clone();
    if shared.analyze.cascade.survey_jobs == 0 {
        // The workers already share the cores: each survey gets its share of them.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        shared.analyze.cascade.survey_jobs = (cores / jobs).max(1);
    }
    let settings = &shared;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                // Models load once per worker, on its first recording.
                let mut models: Option<
                    Result<
                        (crate::signals::ModelSet, pipeline::ModelsUsed),
                        pipeline::PipelineError,
                    >,
                > = None;
                loop {
                    let index = {
                        let Ok(mut next) = queue.lock() else { return };
                        let i = *next;
                        *next += 1;
                        i
                    };
                    let Some(rec) = recordings.get(index) else {
                        return;
                    };
                    events(BatchEvent::Started {
                        index,
                        name: &rec.name,
                    });
                    let result = process(rec, index, settings, &settings_hash, &mut models, events);
                    events(BatchEvent::Finished {
                        index,
                        result: &result,
                    });
                    if let Ok(mut r) = results.lock() {
                        r[index] = Some(result);
                    }
                }
            });
        }
    });
    let recordings: Vec<RecordingResult> = results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let report = BatchReport {
        generator: crate::report::generator(),
        out_dir: out_dir.clone(),
        shard: settings.shard,
        jobs,
        settings_hash,
        seconds: started.elapsed().as_secs_f64(),
        recordings,
    };
    crate::report::write_json(&out_dir.join(report_name(settings.shard)), &report)?;
    Ok(report)
}

/// `batch.json`, or `batch.shard-I-of-N.json` for a shard (shards may share one output
/// folder without overwriting each other's report).
pub fn report_name(shard: Option<(u64, u64)>) -> String {
    match shard {
        Some((i, n)) => format!("batch.shard-{i}-of-{n}.json"),
        None => BATCH_FILE.to_string(),
    }
}

fn process(
    rec: &Recording,
    index: usize,
    settings: &BatchSettings,
    settings_hash: &str,
    models: &mut Option<
        Result<(crate::signals::ModelSet, pipeline::ModelsUsed), pipeline::PipelineError>,
    >,
    events: &(dyn Fn(BatchEvent<'_>) + Sync),
) -> RecordingResult {
    let started = Instant::now();
    let dir = settings.analyze.out_dir.join(&rec.name);
    let mut result = RecordingResult {
        name: rec.name.clone(),
        recording: rec.path.clone(),
        comments: rec.comments.clone(),
        orders: rec.orders.clone(),
        status: Status::Failed,
        reason: "new".into(),
        error: None,
        highlights: 0,
        clips: 0,
        seconds: 0.0,
    };
    let input_hash = match input_hash(rec) {
        Ok(h) => h,
        Err(e) => {
            result.error = Some(format!("{}: {e}", rec.path.display()));
            return result;
        }
    };
    let done_path = dir.join(DONE_FILE);
    if let Some(done) = std::fs::read(&done_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<DoneMarker>(&b).ok())
    {
        if done.input_hash == input_hash && done.settings_hash == settings_hash {
            result.status = Status::Skipped;
            result.reason = "done earlier, unchanged".into();
            result.highlights = done.highlights;
            result.clips = done.clips;
            return result;
        }
        result.reason = if done.input_hash != input_hash {
            "inputs changed".into()
        } else {
            "settings changed".into()
        };
    }
    // Leftovers of a killed run: temporary files and a stale marker go first.
    let _ = std::fs::remove_file(&done_path);
    crate::fsutil::remove_stale_parts(&dir);
    crate::fsutil::remove_stale_parts(&dir.join("clips"));

    let step = |p: Progress<'_>| events(BatchEvent::Step { index, progress: p });
    let outcome = (|| -> Result<(usize, usize), pipeline::PipelineError> {
        let (set, used) =
            match models.get_or_insert_with(|| pipeline::load_models(&settings.analyze.models)) {
                Ok(m) => (&mut m.0, &m.1),
                Err(e) => {
                    return Err(pipeline::PipelineError::Input {
                        path: rec.path.clone(),
                        message: format!("models: {e}"),
                    })
                }
            };
        let mut opts = AnalyzeOptions {
            comments: rec.comments.clone(),
            orders: rec.orders.clone(),
            // The recording's own catalogue, else the batch's.
            products: rec
                .products
                .clone()
                .or_else(|| settings.analyze.products.clone()),
            name: Some(rec.name.clone()),
            ..settings.analyze.clone()
        };
        // A recorder's session in parts: one per part when every part has its comments.
        let recording = if rec.more_parts.is_empty() {
            rec.path.clone()
        } else {
            let files: Vec<PathBuf> = rec.files().into_iter().map(Path::to_path_buf).collect();
            let comments: Vec<PathBuf> = std::iter::once(&rec.comments)
                .chain(rec.more_parts.iter().map(|(_, c)| c))
                .cloned()
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default();
            pipeline::prepare_recording(&files, &comments, &mut opts)?
        };
        let analysis = pipeline::analyze_with_models(&recording, &opts, set, used, &step)?;
        let manifest = pipeline::cut(&analysis.highlights_path, &settings.cut, &step)?;
        Ok((analysis.highlights.highlights.len(), manifest.clips.len()))
    })();
    result.seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok((highlights, clips)) => {
            result.highlights = highlights;
            result.clips = clips;
            let marker = DoneMarker {
                input_hash,
                settings_hash: settings_hash.to_string(),
                highlights,
                clips,
                seconds: result.seconds,
            };
            match crate::report::write_json(&done_path, &marker) {
                Ok(()) => result.status = Status::Ok,
                Err(e) => result.error = Some(e.to_string()),
            }
        }
        Err(e) => result.error = Some(e.to_string()),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str) -> Recording {
        Recording {
            name: name.into(),
            path: PathBuf::from(format!("/x/{name}.mp4")),
            comments: None,
            orders: None,
            products: None,
            more_parts: Vec::new(),
        }
    }

    #[test]
    fn recorder_names_give_the_room_and_the_start() {
        let (room, at) =
            recorder_room(Path::new("/r/录制-123-20240903-191250-123-上新.flv")).unwrap();
        assert_eq!(room, "123");
        assert_eq!(at.to_string(), "2024-09-03T19:12:50.123Z");
        let (room, _) = recorder_room(Path::new("blive_456_2024-09-03-191250.flv")).unwrap();
        assert_eq!(room, "456");
        assert!(recorder_room(Path::new("/r/obs 2024-09-03 19-12-50.mp4")).is_none());
        assert!(recorder_room(Path::new("/r/录制-abc-20240903-191250.flv")).is_none());
    }

    #[test]
    fn shards_are_disjoint_complete_and_order_free() {
        let recs: Vec<Recording> = (0..50).map(|i| rec(&format!("rec{i:02}"))).collect();
        let n = 3;
        let mut seen = vec![0; recs.len()];
        for i in 0..n {
            for (k, r) in recs.iter().enumerate() {
                if shard_of(r, n) == i {
                    seen[k] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&c| c == 1));
        let sizes: Vec<usize> = (0..n)
            .map(|i| recs.iter().filter(|r| shard_of(r, n) == i).count())
            .collect();
        assert!(sizes.iter().all(|&s| s >= 8), "{sizes:?}");
        let mut reversed = recs.clone();
        reversed.reverse();
        for r in &recs {
            let again = reversed.iter().find(|q| q.name == r.name).unwrap();
            assert_eq!(shard_of(r, n), shard_of(again, n));
        }
    }

    #[test]
    fn shard_flags_are_checked() {
        assert_eq!(parse_shard("0/3").unwrap(), (0, 3));
        assert_eq!(parse_shard(" 2 / 3 ").unwrap(), (2, 3));
        for bad in ["3/3", "1", "a/b", "0/0", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn discovery_pairs_sidecars_by_stem_and_names_are_unique() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        for f in [
            "x.mp4",
            "x.comments.xml",
            "x.orders.csv",
            "x.products.csv",
            "y.flv",
            "notes.txt",
        ] {
            std::fs::write(a.join(f), b"").unwrap();
        }
        std::fs::write(b.join("x.mp4"), b"").unwrap();
        std::fs::write(b.join("x.comments.jsonl"), b"").unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(&list, "# yesterday\nb/x.mp4\n\n").unwrap();
        let recs = discover(&[a.clone(), list], None).unwrap();
        assert_eq!(recs.len(), 3, "{recs:?}");
        let ax = recs.iter().find(|r| r.path == a.join("x.mp4")).unwrap();
        assert_eq!(
            ax.comments.as_deref(),
            Some(a.join("x.comments.xml").as_path())
        );
        assert_eq!(ax.orders.as_deref(), Some(a.join("x.orders.csv").as_path()));
        assert_eq!(
            ax.products.as_deref(),
            Some(a.join("x.products.csv").as_path())
        );
        let bx = recs.iter().find(|r| r.path.ends_with("b/x.mp4")).unwrap();
        assert!(bx.comments.as_ref().unwrap().ends_with("x.comments.jsonl"));
        assert_ne!(ax.name, bx.name);
        assert!(ax.name.starts_with("x-") && bx.name.starts_with("x-"));
        let y = recs.iter().find(|r| r.name == "y").unwrap();
        assert!(y.comments.is_none());
        // A mapping file overrides and adds; a missing recording names its line.
        let map = dir.path().join("map.csv");
        std::fs::write(
            &map,
            "recording,comments,orders\na/y.flv,a/x.comments.xml,\n",
        )
        .unwrap();
        let recs = discover(std::slice::from_ref(&a), Some(&map)).unwrap();
        let y = recs.iter().find(|r| r.name == "y").unwrap();
        assert!(y.comments.as_ref().unwrap().ends_with("x.comments.xml"));
        std::fs::write(&map, "a/none.mp4,,\n").unwrap();
        let e = discover(&[a], Some(&map)).unwrap_err().to_string();
        assert!(e.contains("map.csv:1") && e.contains("none.mp4"), "{e}");
    }
}
