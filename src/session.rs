//! Split sessions: a live recorder cuts one livestream into several files (by size or
//! time, or after a reconnect). `livecut run part1.flv part2.flv …` analyses them as one
//! recording on one timeline.
//!
//! The parts are joined by FFmpeg's concat demuxer (`DIR/<session>/session.ffconcat`, a
//! short text file listing the parts and their durations; nothing is copied): the
//! session's timeline is the parts back to back, so seeking, decoding and cutting work
//! as on one file. Comments and orders are moved onto that timeline before the analysis:
//! each part's start comes from `--start`-like sources in the usual order (the
//! container's `creation_time`, the recorder's danmaku XML header, the file name), the
//! gap between parts is the difference between a part's start and the previous part's
//! end, and rows that fall into a gap are left out and counted. Per-part comment files
//! (`--comments` once per part, BililiveRecorder writes one XML per FLV) are read with
//! their part's start; a session-wide export (one `--comments`, the `--orders` file)
//! with absolute times is mapped through the parts, its relative times are seconds from
//! the first part's start. No highlight spans two parts: the joins are walls for the
//! selection ([`Part`]s in `highlights.json`'s `source.parts`).

use std::path::{Path, PathBuf};

use jiff::{tz::TimeZone, Timestamp};
use serde::{Deserialize, Serialize};

use crate::media::{self, MediaError};
use crate::timelines::{self, ParseReport, ReadContext, TimelineError};

/// The concat script's name in the session folder.
pub const CONCAT_FILE: &str = "session.ffconcat";
/// The parts, written beside the script (the pipeline reads them back).
pub const PARTS_FILE: &str = "session.json";

/// One file of a split session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub path: PathBuf,
    /// Where the part begins on the session's timeline, seconds.
    pub start_s: f64,
    pub duration_s: f64,
    /// The part's wall-clock start and where it came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_source: Option<String>,
    /// Wall-clock seconds between the previous part's end and this part's start (absent
    /// for the first part or when a start is unknown); the timeline leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_before_s: Option<f64>,
}

impl Part {
    pub fn end_s(&self) -> f64 {
        self.start_s + self.duration_s
    }
}

/// `session.json`: the parts and what reading the original exports showed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionFile {
    pub parts: Vec<Part>,
    /// The exports as given (the analysis reads the merged copies beside this file).
    pub exports: Vec<ParseReport>,
    /// Rows of the exports that fell into a gap between parts (left out).
    pub rows_in_gaps: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Timeline(#[from] TimelineError),
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
}

/// What [`prepare`] made: the recording to analyse and its exports on its timeline.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub concat: PathBuf,
    pub comments: Option<PathBuf>,
    pub orders: Option<PathBuf>,
    pub file: SessionFile,
    /// The first part's start (the session's), for absolute times.
    pub start: Option<Timestamp>,
}

/// How to read the parts and their exports.
#[derive(Debug)]
pub struct SessionInputs<'a> {
    pub parts: &'a [PathBuf],
    /// None, one for the whole session, or one per part (in the order of `parts`).
    pub comments: &'a [PathBuf],
    pub orders: Option<&'a Path>,
    pub audio_track: Option<usize>,
    pub tz: &'a TimeZone,
    pub strict: bool,
}

/// Probe the parts, order them by their starts, write the concat script and the
/// exports moved onto the session's timeline into `dir`.
pub fn prepare(inputs: &SessionInputs<'_>, dir: &Path) -> Result<Prepared, SessionError> {
    let n = inputs.parts.len();
    if inputs.comments.len() > 1 && inputs.comments.len() != n {
        return Err(SessionError::Input {
            path: inputs.comments[0].clone(),
            message: format!(
                "{} comment files for {n} parts: give one for the whole session or one per \
                 part, in the order of the parts",
                inputs.comments.len()
            ),
        });
    }
    // Probe, and each part's start from its own sources.
    let mut parts: Vec<(Part, Option<&PathBuf>)> = Vec::with_capacity(n);
    for (i, path) in inputs.parts.iter().enumerate() {
        let info = media::probe_with(path, inputs.audio_track)?;
        let own_comments = (inputs.comments.len() == n).then(|| &inputs.comments[i]);
        let start = timelines::start::resolve(
            None,
            info.creation_time,
            own_comments.map(PathBuf::as_path),
            path,
            inputs.tz,
        )?;
        parts.push((
            Part {
                path: std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()),
                start_s: 0.0,
                duration_s: info.duration_s,
                started_at: start.as_ref().map(|s| s.at),
                start_source: start.map(|s| s.source),
                gap_before_s: None,
            },
            own_comments,
        ));
    }
    // In time order when every start is known, else as given.
    if parts.iter().all(|(p, _)| p.started_at.is_some()) {
        parts.sort_by_key(|(p, _)| p.started_at);
    }
    let mut t = 0.0;
    let mut prev_end: Option<Timestamp> = None;
    for (p, _) in parts.iter_mut() {
        p.start_s = t;
        t += p.duration_s;
        if let (Some(end), Some(at)) = (prev_end, p.started_at) {
            let gap = at.duration_since(end).as_secs_f64();
            if gap < -1.0 {
                tracing::warn!(
                    "{}: starts {:.1} s before the previous part ends; the parts overlap",
                    p.path.display(),
                    -gap
                );
            }
            p.gap_before_s = Some(gap.max(0.0));
        }
        prev_end = p.started_at.map(|at| {
            at.checked_add(jiff::SignedDuration::from_secs_f64(p.duration_s))
                .unwrap_or(at)
        });
    }
    let session_start = parts[0].0.started_at;

    std::fs::create_dir_all(dir).map_err(|e| SessionError::Input {
        path: dir.to_path_buf(),
        message: format!("cannot create the session folder ({e})"),
    })?;
    let concat = dir.join(CONCAT_FILE);
    write_text(&concat, &concat_script(parts.iter().map(|(p, _)| p)))?;

    let clock = Clock::new(parts.iter().map(|(p, _)| p.clone()).collect());
    let mut exports = Vec::new();
    let mut rows_in_gaps = 0u64;
    let wall_span = clock.wall_span_s();
    // Comments: per part with its own start, or one file for the session.
    let comments = match inputs.comments.len() {
        0 => None,
        _ => {
            let mut lines = String::new();
            let mut push = |c: &timelines::Comment| {
                if let Ok(line) = serde_json::to_string(c) {
                    lines.push_str(&line);
                    lines.push('\n');
                }
            };
            if inputs.comments.len() == n {
                for (p, file) in &parts {
                    let Some(file) = file else { continue };
                    let ctx = ReadContext {
                        start: p.started_at,
                        tz: inputs.tz.clone(),
                        duration_s: p.duration_s,
                        strict: inputs.strict,
                    };
                    let report = timelines::read_comments(file, &ctx, &mut |mut c| {
                        c.t += p.start_s;
                        push(&c);
                    })?;
                    exports.push(report);
                }
            } else {
                let ctx = ReadContext {
                    start: session_start,
                    tz: inputs.tz.clone(),
                    duration_s: wall_span,
                    strict: inputs.strict,
                };
                let report =
                    timelines::read_comments(&inputs.comments[0], &ctx, &mut |mut c| match clock
                        .session_time(c.t)
                    {
                        Some(t) => {
                            c.t = t;
                            push(&c);
                        }
                        None => rows_in_gaps += 1,
                    })?;
                exports.push(report);
            }
            let path = dir.join("session.comments.jsonl");
            write_text(&path, &lines)?;
            Some(path)
        }
    };
    let orders = match inputs.orders {
        None => None,
        Some(file) => {
            let ctx = ReadContext {
                start: session_start,
                tz: inputs.tz.clone(),
                duration_s: wall_span,
                strict: inputs.strict,
            };
            // Order times are instants: the session's start plus the session time (the
            // analysis reads them back with that start; reading the export at all
            // needed a start).
            let origin = session_start.unwrap_or(Timestamp::UNIX_EPOCH);
            let mut csv = String::from("paid_at,sku,buyer,quantity,amount\n");
            let report =
                timelines::read_orders(file, &ctx, &mut |o| match clock.session_time(o.t) {
                    Some(t) => csv.push_str(&format!(
                        "{},{},{},{},{}\n",
                        origin
                            .checked_add(jiff::SignedDuration::from_secs_f64(t))
                            .unwrap_or(origin)
                            .strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
                        csv_field(o.sku.as_deref().unwrap_or("")),
                        csv_field(o.buyer.as_deref().unwrap_or("")),
                        o.quantity,
                        o.amount
                    )),
                    None => rows_in_gaps += 1,
                })?;
            exports.push(report);
            let path = dir.join("session.orders.csv");
            write_text(&path, &csv)?;
            Some(path)
        }
    };
    if rows_in_gaps > 0 {
        tracing::warn!(
            "{rows_in_gaps} comment/order rows fall between the parts (while the recorder \
             was not recording) and are left out"
        );
    }
    let file = SessionFile {
        parts: clock.parts,
        exports,
        rows_in_gaps,
    };
    let json = serde_json::to_string_pretty(&file).unwrap_or_default();
    write_text(&dir.join(PARTS_FILE), &json)?;
    Ok(Prepared {
        concat,
        comments,
        orders,
        file,
        start: session_start,
    })
}

/// The parts of a session recording (`session.ffconcat`), read back from `session.json`
/// beside it; empty for any other recording.
pub fn parts_of(recording: &Path) -> Vec<Part> {
    if recording.file_name().and_then(|n| n.to_str()) != Some(CONCAT_FILE) {
        return Vec::new();
    }
    let Some(dir) = recording.parent() else {
        return Vec::new();
    };
    std::fs::read(dir.join(PARTS_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<SessionFile>(&b).ok())
        .map(|f| f.parts)
        .unwrap_or_default()
}

/// The concat demuxer's script: each part by absolute path with its duration (so the
/// demuxer places the parts without opening them all first).
fn concat_script<'a>(parts: impl Iterator<Item = &'a Part>) -> String {
    let mut s = String::from("ffconcat version 1.0\n");
    for p in parts {
        // Single-quoted; a quote inside is closed, escaped and reopened.
        let quoted = p.path.to_string_lossy().replace('\'', r"'\''");
        s.push_str(&format!("file '{quoted}'\nduration {:.6}\n", p.duration_s));
    }
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_text(path: &Path, text: &str) -> Result<(), SessionError> {
    crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|e| SessionError::Input {
        path: path.to_path_buf(),
        message: format!("cannot write ({e})"),
    })
}

/// Wall-clock seconds from the session's start → the session's timeline.
struct Clock {
    parts: Vec<Part>,
    /// Where each part starts, wall-clock seconds after the first part: its session
    /// start plus the gaps before it (an unknown gap counts as none).
    walls: Vec<f64>,
}

impl Clock {
    fn new(parts: Vec<Part>) -> Self {
        let mut gaps = 0.0;
        let walls = parts
            .iter()
            .map(|p| {
                gaps += p.gap_before_s.unwrap_or(0.0);
                p.start_s + gaps
            })
            .collect();
        Self { parts, walls }
    }

    /// Seconds from the first part's start to the last part's end, in wall-clock time.
    fn wall_span_s(&self) -> f64 {
        self.parts
            .iter()
            .zip(&self.walls)
            .map(|(p, w)| w + p.duration_s)
            .fold(0.0, f64::max)
    }

    /// The session time of wall-clock second `t` (from the first part's start); `None`
    /// in a gap between parts.
    fn session_time(&self, t: f64) -> Option<f64> {
        self.parts
            .iter()
            .zip(&self.walls)
            .find(|(p, &w)| t >= w - 1e-6 && t <= w + p.duration_s + 1e-6)
            .map(|(p, &w)| p.start_s + (t - w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start_s: f64, duration_s: f64, gap: Option<f64>) -> Part {
        Part {
            path: PathBuf::from(format!("/p{start_s}.flv")),
            start_s,
            duration_s,
            started_at: None,
            start_source: None,
            gap_before_s: gap,
        }
    }

    #[test]
    fn wall_clock_maps_onto_the_parts_and_gaps_are_left_out() {
        // Three 100-s parts with 40-s gaps: wall 0–100, 140–240, 280–380.
        let clock = Clock::new(vec![
            part(0.0, 100.0, None),
            part(100.0, 100.0, Some(40.0)),
            part(200.0, 100.0, Some(40.0)),
        ]);
        assert_eq!(clock.wall_span_s(), 380.0);
        assert_eq!(clock.session_time(50.0), Some(50.0));
        assert_eq!(clock.session_time(120.0), None, "in the first gap");
        assert_eq!(clock.session_time(150.0), Some(110.0));
        assert_eq!(clock.session_time(300.0), Some(220.0));
        assert_eq!(clock.session_time(400.0), None, "after the end");
    }

    #[test]
    fn the_concat_script_quotes_paths() {
        let p = Part {
            path: PathBuf::from("/rec/it's live.flv"),
            ..part(0.0, 12.5, None)
        };
        let s = concat_script(std::iter::once(&p));
        assert_eq!(
            s,
            "ffconcat version 1.0\nfile '/rec/it'\\''s live.flv'\nduration 12.500000\n"
        );
    }
}
