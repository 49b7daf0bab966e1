//! The analysis cascade: look at the whole recording cheaply, then closely only where a
//! highlight can be.
//!
//! 1. **Survey** (whole recording): every audio sample (loudness, voice features) and only
//!    the video's key frames (motion between key frames, static and broken pictures,
//!    cuts), in parallel time segments, one per core. Key-frame decoding costs about a
//!    tenth of a full decode.
//! 2. **Candidates**: the survey tracks plus comments and orders are fused with the same
//!    profile (motion comes from the key frames; the model signals are absent and the
//!    remaining weights renormalised). The candidates are the peaks that stand out on
//!    that curve by the selection's own significance rule (`candidate_bar` = 1: its bars
//!    as they are), plus `extra_candidates` of the next best, at most
//!    `candidates_per_highlight × planned + extra_candidates` (`planned`: `--highlights N`
//!    when given, else `planned_per_hour` per hour, at least an hour's worth; with
//!    `--highlights N` always that many). Each becomes a window around its peak, wide
//!    enough for the longest clip plus a margin.
//! 3. **Detail** (windows only): the full analysis — every frame decoded, sampled at the
//!    analysis rate, motion in the host's region, VAD, YAMNet, faces, OCR.
//! 4. **Merge**: audio tracks come from the survey; picture flags are the survey's outside
//!    the windows and the detail's inside; motion and the model tracks exist only inside
//!    the windows (their coverage is recorded in [`SignalSet::detail`], and fusion
//!    normalises them against the examined seconds only). Final selection considers only
//!    the examined windows.
//!
//! Recordings under `min_duration_s` (6 minutes) are analysed in one full pass; when the
//! windows would cover more than `max_coverage` of a longer one, the whole recording is
//! examined in detail as one window (no seeks; the survey's audio tracks are kept).

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::boundaries::Boundaries;
use crate::fuse::{fuse, FuseSettings};
use crate::media::{DecodeOptions, DecodeStats, MediaInfo};
use crate::select::{select, SelectSettings};
use crate::signals::{self, ModelSet, ProgressFn, SignalError, SignalSet, Track};
use crate::time::Span;

/// How the cascade chooses where to look closely (the `[cascade]` table of the profile).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CascadeSettings {
    /// Use the cascade (false: decode and run every model over the whole recording, as
    /// `--full` does).
    pub enabled: bool,
    /// Candidate moments per highlight planned for (`selection.top` when set, else
    /// `planned_per_hour`).
    pub candidates_per_highlight: f64,
    /// Highlights to plan for per hour of recording (at least one hour's worth) when
    /// `selection.top` is 0 (as many as stand out).
    pub planned_per_hour: f64,
    /// Candidate moments on top of that.
    pub extra_candidates: usize,
    /// A survey peak is a candidate when it passes the selection's significance rule with
    /// its bars (`min_score`, `significance_mads`, `min_prominence`) scaled by this;
    /// the cascade examines those and `extra_candidates` more (at most
    /// `candidates_per_highlight × planned + extra_candidates`). 0: always the most.
    pub candidate_bar: f64,
    /// Seconds examined beyond the longest clip around each candidate peak, on each side.
    pub margin_s: f64,
    /// Above this fraction of the recording in windows, the whole recording is examined
    /// in detail (one window).
    pub max_coverage: f64,
    /// Recordings shorter than this (seconds) are analysed in one full pass: under 6
    /// minutes the three windows of a session with one moment (80 s each by default)
    /// already cover more than `max_coverage`.
    pub min_duration_s: f64,
    /// Survey segments decoded in parallel (0: one per core).
    pub survey_jobs: usize,
}

impl Default for CascadeSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            candidates_per_highlight: 2.0,
            planned_per_hour: 8.0,
            extra_candidates: 2,
            candidate_bar: 1.0,
            margin_s: 10.0,
            max_coverage: 0.6,
            min_duration_s: 360.0,
            survey_jobs: 0,
        }
    }
}

impl CascadeSettings {
    /// Candidate moments for `top` highlights.
    pub fn candidates(&self, top: usize) -> usize {
        (self.candidates_per_highlight * top as f64).ceil() as usize + self.extra_candidates
    }

    /// Highlights to look for in a `duration_s` recording: `select.top` when set, else
    /// `planned_per_hour` per hour (at least one hour's worth).
    pub fn planned(&self, duration_s: f64, select: &SelectSettings) -> usize {
        if select.top > 0 {
            return select.top;
        }
        let hours = (duration_s / 3600.0).max(1.0);
        (self.planned_per_hour * hours).ceil().max(1.0) as usize
    }

    /// Half the width of a window around a candidate peak.
    fn half_window(&self, select: &SelectSettings) -> f64 {
        select.max_len_s * 0.5 + self.margin_s
    }

    /// Whether a `duration_s` recording is surveyed first (else analysed in one full pass).
    pub fn worth_it(&self, duration_s: f64) -> bool {
        self.enabled && duration_s >= self.min_duration_s
    }

    /// How many candidate moments to take from `curve`: the peaks that pass the selection's
    /// significance rule at `candidate_bar` of its bars, plus `extra_candidates`, at most
    /// the planned number's worth (all of those with `--highlights N`). A calm or short
    /// session has few; a busy one as many as it shows.
    pub fn candidate_count(
        &self,
        curve: &crate::fuse::Curve,
        duration_s: f64,
        selection: &SelectSettings,
        bounds: &Boundaries,
    ) -> usize {
        let most = self.candidates(self.planned(duration_s, selection));
        if selection.top > 0 || self.candidate_bar <= 0.0 {
            return most;
        }
        let bar = self.candidate_bar;
        let relaxed = SelectSettings {
            top: most,
            min_score: selection.min_score * bar,
            significance_mads: selection.significance_mads * bar,
            min_prominence: selection.min_prominence * bar,
            max_per_hour: 0,
            ..selection.clone()
        };
        let standing = select(curve, duration_s, &relaxed, bounds).len();
        (standing + self.extra_candidates).min(most)
    }
}

/// What the cascade did, for `signals.json` and the benchmarks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CascadeReport {
    pub enabled: bool,
    /// Candidate moments found by the survey.
    pub candidates: usize,
    /// The windows analysed in detail.
    pub windows: Vec<Span>,
    /// Fraction of the recording inside the windows.
    pub coverage: f64,
}

/// Tracks made from the key frames in the survey; the detail's versions of these are the
/// ones fused (`motion` becomes `keyframe_motion` here: motion over a key-frame interval
/// is not on the scale of motion between analysis frames).
const SURVEY_MOTION: &str = "keyframe_motion";
/// Picture flags that mean the same at any frame rate: the survey's outside the windows,
/// the detail's inside.
const SPLICED: [&str; 3] = ["picture_static", "picture_broken", "shot_cut"];

/// Seconds spent per cheap track and waiting for the decoders, summed over the segments.
pub type Costs = std::collections::BTreeMap<String, f64>;

/// Step 1: the whole recording, key frames and audio, in parallel segments.
pub fn survey(
    info: &MediaInfo,
    base: &DecodeOptions,
    jobs: usize,
    progress: ProgressFn<'_>,
) -> Result<(SignalSet, DecodeStats, Costs), SignalError> {
    /// Shortest segment worth its own decoder.
    const MIN_SEGMENT_S: f64 = 300.0;
    let duration = info.duration_s.max(0.0);
    let jobs = jobs
        .max(1)
        .min((duration / MIN_SEGMENT_S).floor().max(1.0) as usize);
    let step = duration / jobs as f64;
    let segments: Vec<(f64, f64)> = (0..jobs)
        .map(|i| {
            let start = i as f64 * step;
            // The last one runs to whatever the file really holds.
            let end = if i + 1 == jobs {
                f64::INFINITY
            } else {
                (i + 1) as f64 * step
            };
            (start, end)
        })
        .collect();
    let done = Mutex::new(vec![0.0f64; jobs]);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = segments
            .iter()
            .enumerate()
            .map(|(i, &(start, end))| {
                let opts = DecodeOptions {
                    keyframes_only: true,
                    // A key frame every two seconds at most is enough to survey.
                    sample_fps: base.sample_fps.min(0.5),
                    rgb_width: None,
                    // One decoder thread per segment when segments run side by side.
                    threads: if jobs > 1 { 1 } else { base.threads },
                    range: Some((start, end)),
                    ..base.clone()
                };
                let done = &done;
                scope.spawn(move || {
                    let report = |t: f64| {
                        if let Ok(mut d) = done.lock() {
                            d[i] = (t - start).max(0.0);
                            progress(d.iter().sum());
                        }
                    };
                    let mut models = ModelSet::default();
                    let out = signals::extract_media_tracks(info, &opts, &mut models, &report);
                    out.map(|(set, stats)| (set, stats, models))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SignalError::Media(crate::media::MediaError::Undecodable {
                        path: info.path.clone(),
                        detail: "a survey thread panicked".into(),
                    }))
                })
            })
            .collect()
    });
    let mut set = SignalSet::default();
    let mut stats = DecodeStats::default();
    let mut costs = Costs::new();
    let mut short = false;
    for ((start, end), result) in segments.iter().zip(results) {
        let (part, s, models) = result?;
        append_range(&mut set, &part, *start, *end);
        for (name, secs) in models.seconds {
            *costs.entry(name).or_default() += secs;
        }
        stats.video_frames_decoded += s.video_frames_decoded;
        stats.video_frames_sent += s.video_frames_sent;
        stats.audio_samples += s.audio_samples;
        stats.corrupt_packets += s.corrupt_packets;
        // The first segment that stopped early ends what was read.
        if !short {
            stats.decoded_until_s = s.decoded_until_s;
            if s.read_error.is_some() || (end.is_finite() && s.decoded_until_s + 2.0 < *end) {
                stats.read_error = s.read_error.or(Some("data ends early".into()));
                short = true;
            }
        }
    }
    for t in &mut set.tracks {
        if t.name == "motion" {
            t.name = SURVEY_MOTION.into();
            t.description = "mean absolute luma difference between consecutive key frames \
                             (survey of the whole recording; the fused `motion` is measured \
                             between analysis frames inside the examined windows)"
                .into();
        }
    }
    // Without faces there is no host region.
    set.tracks.retain(|t| t.name != "host_motion");
    Ok((set, stats, costs))
}

/// Step 2: where to look closely. `all` holds the survey tracks, the comment and order
/// tracks, and the derived flags (intermission, glitch) of the survey.
pub fn candidate_windows(
    all: &SignalSet,
    flagged: &[signals::FlaggedSpan],
    duration_s: f64,
    fusion: &FuseSettings,
    selection: &SelectSettings,
    settings: &CascadeSettings,
) -> (usize, Vec<Span>) {
    let mut survey_fusion = fusion.clone();
    for s in &mut survey_fusion.signals {
        if s.track == "motion" {
            s.track = SURVEY_MOTION.into();
        }
    }
    let curve = fuse(all, duration_s, &survey_fusion);
    let bounds = Boundaries {
        avoid: flagged
            .iter()
            .map(|f| Span::new(f.start_s - 0.5, f.end_s + 0.5))
            .collect(),
        ..Boundaries::default()
    };
    let count = settings.candidate_count(&curve, duration_s, selection, &bounds);
    let picks = select(&curve, duration_s, &selection.candidates(count), &bounds);
    let half = settings.half_window(selection);
    let windows: Vec<Span> = picks
        .iter()
        .map(|h| {
            Span::new(
                h.start_s.min(h.peak_s - half).max(0.0),
                h.end_s.max(h.peak_s + half).min(duration_s),
            )
        })
        .collect();
    let mut windows = merge_spans(&windows);
    // Windows over most of the recording: one pass over all of it costs less than many
    // seeks.
    if coverage(&windows, duration_s) > settings.max_coverage {
        windows = vec![Span::new(0.0, duration_s)];
    }
    (picks.len(), windows)
}

/// Sort and merge spans that overlap or nearly touch (a gap under 5 s is not worth a
/// second seek).
fn merge_spans(spans: &[Span]) -> Vec<Span> {
    let mut spans = spans.to_vec();
    spans.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut out: Vec<Span> = Vec::new();
    for s in spans.iter() {
        match out.last_mut() {
            Some(last) if s.start_s <= last.end_s + 5.0 => last.end_s = last.end_s.max(s.end_s),
            _ => out.push(*s),
        }
    }
    out
}

/// Step 3: the full analysis inside each window, one after the other.
pub fn detail(
    info: &MediaInfo,
    dense: &DecodeOptions,
    windows: &[Span],
    models: &mut ModelSet,
    progress: ProgressFn<'_>,
) -> Result<(SignalSet, DecodeStats), SignalError> {
    let mut set = SignalSet::default();
    let mut stats = DecodeStats::default();
    let mut done = 0.0;
    for w in windows {
        let opts = DecodeOptions {
            range: Some((w.start_s, w.end_s)),
            ..dense.clone()
        };
        let report = |t: f64| progress(done + (t - w.start_s).max(0.0));
        let (part, s) = signals::extract_media_tracks(info, &opts, models, &report)?;
        append_range(&mut set, &part, w.start_s, w.end_s);
        set.screen_text.extend(part.screen_text);
        stats.video_frames_decoded += s.video_frames_decoded;
        stats.video_frames_sent += s.video_frames_sent;
        stats.audio_samples += s.audio_samples;
        stats.corrupt_packets += s.corrupt_packets;
        stats.decoded_until_s = stats.decoded_until_s.max(s.decoded_until_s);
        if s.read_error.is_some() {
            stats.read_error = s.read_error;
        }
        done += w.duration();
    }
    Ok((set, stats))
}

/// Step 4: one set of tracks from the survey and the detail (see the module docs).
pub fn merge(survey: &SignalSet, detail: &SignalSet, windows: &[Span]) -> SignalSet {
    let inside = |t: f64| windows.iter().any(|w| w.contains(t));
    let mut out = SignalSet {
        screen_text: detail.screen_text.clone(),
        ..SignalSet::default()
    };
    let mut detail_only = Vec::new();
    for t in &survey.tracks {
        if SPLICED.contains(&t.name.as_str()) {
            continue;
        }
        out.tracks.push(t.clone());
    }
    for t in &detail.tracks {
        if survey.get(&t.name).is_some() && !SPLICED.contains(&t.name.as_str()) {
            // Audio tracks: the survey measured the whole recording the same way.
            continue;
        }
        if SPLICED.contains(&t.name.as_str()) {
            let mut points: Vec<(f64, f32)> = survey
                .get(&t.name)
                .map(|s| {
                    s.times_s
                        .iter()
                        .zip(&s.values)
                        .filter(|(t, _)| !inside(**t))
                        .map(|(t, v)| (*t, *v))
                        .collect()
                })
                .unwrap_or_default();
            points.extend(t.times_s.iter().copied().zip(t.values.iter().copied()));
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            out.tracks.push(Track {
                times_s: points.iter().map(|p| p.0).collect(),
                values: points.iter().map(|p| p.1).collect(),
                ..t.clone()
            });
        } else {
            detail_only.push(t.name.clone());
            out.tracks.push(t.clone());
        }
    }
    out.detail = Some(signals::Detail {
        windows: windows.to_vec(),
        tracks: detail_only,
    });
    out
}

/// Append the points of `src`'s tracks with `start ≤ t < end` to `dst`'s tracks of the
/// same name (segments and windows come in time order).
fn append_range(dst: &mut SignalSet, src: &SignalSet, start: f64, end: f64) {
    for t in &src.tracks {
        let (times, values): (Vec<f64>, Vec<f32>) = t
            .times_s
            .iter()
            .zip(&t.values)
            .filter(|(x, _)| **x >= start && **x < end)
            .map(|(x, v)| (*x, *v))
            .unzip();
        match dst.tracks.iter_mut().find(|d| d.name == t.name) {
            Some(d) => {
                d.times_s.extend(times);
                d.values.extend(values);
            }
            None => dst.tracks.push(Track {
                times_s: times,
                values,
                ..t.clone()
            }),
        }
    }
}

/// The survey's own picture flags, kept beside the merged tracks.
pub fn flags_of(survey: &SignalSet) -> Vec<Track> {
    survey
        .tracks
        .iter()
        .filter(|t| SPLICED.contains(&t.name.as_str()))
        .cloned()
        .collect()
}

/// The survey again from merged tracks and the survey's flags (for a rerun on the cache):
/// the whole-recording tracks, with the survey's picture flags.
pub fn survey_from(merged: &SignalSet, flags: &[Track]) -> SignalSet {
    let mut out = SignalSet::default();
    for t in &merged.tracks {
        if merged.coverage_of(&t.name).is_none() && !SPLICED.contains(&t.name.as_str()) {
            out.tracks.push(t.clone());
        }
    }
    out.tracks.extend(flags.iter().cloned());
    out
}

/// The stretches of `[0, duration_s)` outside `windows` (sorted, disjoint).
pub fn gaps(windows: &[Span], duration_s: f64) -> Vec<Span> {
    let mut out = Vec::new();
    let mut at = 0.0;
    for w in windows {
        if w.start_s > at {
            out.push(Span::new(at, w.start_s));
        }
        at = at.max(w.end_s);
    }
    if at < duration_s {
        out.push(Span::new(at, duration_s));
    }
    out
}

/// Fraction of `duration_s` inside `windows`.
pub fn coverage(windows: &[Span], duration_s: f64) -> f64 {
    if duration_s <= 0.0 {
        return 1.0;
    }
    windows.iter().map(Span::duration).sum::<f64>() / duration_s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(name: &str, points: &[(f64, f32)]) -> Track {
        Track {
            name: name.into(),
            unit: String::new(),
            description: String::new(),
            times_s: points.iter().map(|p| p.0).collect(),
            values: points.iter().map(|p| p.1).collect(),
        }
    }

    #[test]
    fn spans_that_overlap_or_nearly_touch_merge() {
        let s = vec![
            Span::new(100.0, 200.0),
            Span::new(0.0, 50.0),
            Span::new(53.0, 60.0),
            Span::new(150.0, 250.0),
        ];
        assert_eq!(
            merge_spans(&s),
            vec![Span::new(0.0, 60.0), Span::new(100.0, 250.0)]
        );
    }

    #[test]
    fn merge_splices_flags_keeps_survey_audio_and_marks_detail_tracks() {
        let windows = [Span::new(10.0, 20.0)];
        let survey = SignalSet {
            tracks: vec![
                track(
                    "loudness_momentary",
                    &[(5.0, -30.0), (15.0, -20.0), (25.0, -30.0)],
                ),
                track("picture_static", &[(4.0, 1.0), (14.0, 1.0), (24.0, 0.0)]),
                track(SURVEY_MOTION, &[(4.0, 0.1), (24.0, 0.2)]),
            ],
            ..SignalSet::default()
        };
        let detail = SignalSet {
            tracks: vec![
                track("loudness_momentary", &[(15.0, -99.0)]),
                track("picture_static", &[(12.0, 0.0), (18.0, 0.0)]),
                track("motion", &[(12.0, 0.3), (18.0, 0.4)]),
                track("speech", &[(12.0, 0.9)]),
            ],
            ..SignalSet::default()
        };
        let m = merge(&survey, &detail, &windows);
        assert_eq!(m.get("loudness_momentary").unwrap().values[1], -20.0);
        let still = m.get("picture_static").unwrap();
        assert_eq!(still.times_s, vec![4.0, 12.0, 18.0, 24.0]);
        assert_eq!(still.values, vec![1.0, 0.0, 0.0, 0.0]);
        assert!(m.get(SURVEY_MOTION).is_some());
        let d = m.detail.as_ref().unwrap();
        assert_eq!(d.tracks, vec!["motion".to_string(), "speech".to_string()]);
        assert_eq!(m.coverage_of("motion"), Some(&windows[..]));
        assert_eq!(m.coverage_of("loudness_momentary"), None);
        // A rerun gets the survey back: whole-recording tracks and the survey's flags.
        let back = survey_from(&m, &flags_of(&survey));
        assert_eq!(back.get("picture_static"), survey.get("picture_static"));
        assert!(back.get("motion").is_none() && back.get("speech").is_none());
        assert_eq!(back.get(SURVEY_MOTION), survey.get(SURVEY_MOTION));
    }

    #[test]
    fn gaps_are_the_complement_of_the_windows() {
        let w = [Span::new(10.0, 20.0), Span::new(30.0, 100.0)];
        assert_eq!(
            gaps(&w, 120.0),
            vec![
                Span::new(0.0, 10.0),
                Span::new(20.0, 30.0),
                Span::new(100.0, 120.0)
            ]
        );
        assert_eq!(gaps(&[Span::new(0.0, 50.0)], 50.0), vec![]);
        assert!((coverage(&w, 160.0) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn segments_append_in_range_only() {
        let mut dst = SignalSet::default();
        let a = SignalSet {
            tracks: vec![track("x", &[(0.0, 1.0), (5.0, 2.0), (10.0, 3.0)])],
            ..SignalSet::default()
        };
        let b = SignalSet {
            tracks: vec![track(
                "x",
                &[(0.0, 0.0), (9.0, 9.0), (10.0, 4.0), (15.0, 5.0)],
            )],
            ..SignalSet::default()
        };
        append_range(&mut dst, &a, 0.0, 10.0);
        append_range(&mut dst, &b, 10.0, f64::INFINITY);
        let x = dst.get("x").unwrap();
        assert_eq!(x.times_s, vec![0.0, 5.0, 10.0, 15.0]);
        assert_eq!(x.values, vec![1.0, 2.0, 4.0, 5.0]);
    }

    #[test]
    fn recordings_under_six_minutes_skip_the_cascade() {
        let c = CascadeSettings::default();
        let s = SelectSettings::default();
        // As many as stand out: 8 planned per hour (at least an hour's worth), 18
        // candidates at most; 66 in 4 hours.
        assert_eq!(c.planned(20.0 * 60.0, &s), 8);
        assert_eq!(c.planned(4.0 * 3600.0, &s), 32);
        assert_eq!(c.candidates(c.planned(4.0 * 3600.0, &s)), 66);
        assert!(!c.worth_it(359.0));
        assert!(c.worth_it(10.0 * 60.0));
        assert!(c.worth_it(4.0 * 3600.0));
        let off = CascadeSettings {
            enabled: false,
            ..c
        };
        assert!(!off.worth_it(4.0 * 3600.0));
    }

    /// A curve of `n` seconds at 0.05 with a bump of `height` (10 s wide) at each peak.
    fn bumpy(n: usize, peaks: &[(usize, f64)]) -> crate::fuse::Curve {
        let mut score = vec![0.05; n];
        for &(p, h) in peaks {
            for v in score.iter_mut().skip(p.saturating_sub(5)).take(10) {
                *v = h;
            }
        }
        crate::fuse::Curve {
            step_s: 1.0,
            score,
            contributions: Vec::new(),
            lags: Vec::new(),
        }
    }

    #[test]
    fn candidates_are_the_peaks_that_stand_out_plus_two() {
        let c = CascadeSettings::default();
        let s = SelectSettings::default();
        let b = Boundaries::default();
        // Two clear moments and a bump under `min_score` in 10 minutes: 2 + 2, not 18; at
        // half the bars the weaker one counts too.
        let curve = bumpy(600, &[(100, 0.6), (300, 0.5), (500, 0.09)]);
        assert_eq!(c.candidate_count(&curve, 600.0, &s, &b), 4);
        let half = CascadeSettings {
            candidate_bar: 0.5,
            ..c.clone()
        };
        assert_eq!(half.candidate_count(&curve, 600.0, &s, &b), 5);
        // A flat session: the two extra only.
        assert_eq!(c.candidate_count(&bumpy(600, &[]), 600.0, &s, &b), 2);
        // Busy: capped at the planned number's worth (18 for up to an hour).
        let many: Vec<(usize, f64)> = (0..30).map(|i| (60 + i * 110, 0.6)).collect();
        assert_eq!(c.candidate_count(&bumpy(3400, &many), 3400.0, &s, &b), 18);
        // --highlights N: always 2N + 2.
        let five = SelectSettings {
            top: 5,
            ..SelectSettings::default()
        };
        assert_eq!(c.candidate_count(&curve, 600.0, &five, &b), 12);
    }
}
