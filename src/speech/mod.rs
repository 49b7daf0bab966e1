//! Speech: what the host says, as a transcript and as spoken-keyword tracks.
//!
//! The stage listens only where it matters (see `pipeline`): around the candidate moments
//! and the chosen highlights (`--transcribe auto`), or over the whole recording
//! (`--transcribe all`). [`plan`] turns those stretches into recogniser windows of at most
//! 30 s where the VAD heard speech; each window is read from the recording (sound only),
//! recognised (Whisper through ONNX Runtime, [`crate::models::whisper`]) and guarded
//! against invented text (no-speech probability, mean log-probability, compression ratio,
//! repetition, and the VAD under each segment); [`keywords`] finds the lexicon's spoken
//! keywords in the text and in the audio itself.

pub mod keywords;
pub mod plan;
pub mod whisper;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::media::{MediaError, MediaInfo};
use crate::models::ModelError;
use crate::signals::{SignalSet, Track};
use crate::time::Span;
use crate::timelines::SpeechLexicon;

pub use keywords::{HitSource, KeywordHit, WindowScores};

/// The transcript's file name in a recording's output folder.
pub const TRANSCRIPT_FILE: &str = "transcript.json";

/// Where the speech stage listens (`--transcribe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TranscribeMode {
    /// Not at all (no speech model needed).
    Off,
    /// Around the candidate moments and over every chosen highlight (with a margin).
    #[default]
    Auto,
    /// Wherever the VAD hears speech in the whole recording (slow on long recordings).
    All,
}

/// The `[speech]` table of the profile.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SpeechSettings {
    /// `auto` (detected per window) or a Whisper language code (`zh`, `en`, ...).
    pub language: String,
    /// Write Mandarin in Simplified characters (Whisper often writes Traditional).
    pub simplified_chinese: bool,
    /// Seconds listened to on each side of a candidate moment's peak.
    pub candidate_radius_s: f64,
    /// Seconds listened to beyond each end of a chosen highlight.
    pub highlight_margin_s: f64,
    /// Speech probability at which the VAD counts a 32 ms chunk as speech.
    pub vad_threshold: f32,
    /// Audio kept on each side of heard speech, seconds.
    pub pad_s: f64,
    /// Pauses shorter than this stay inside one window, seconds.
    pub merge_gap_s: f64,
    /// Longest recogniser window, seconds (at most 30).
    pub max_window_s: f64,
    /// Shortest speech worth recognising, seconds.
    pub min_speech_s: f64,
    /// A window is silence when its no-speech probability is above this and its mean
    /// log-probability below `logprob_threshold` (Whisper's own rule).
    pub no_speech_threshold: f32,
    pub logprob_threshold: f32,
    /// Above this ratio of text bytes to zlib-compressed bytes a window is a repetition
    /// loop, not speech.
    pub compression_ratio_threshold: f32,
    /// Least share of a segment's time the VAD must hear as speech for it to be kept.
    pub min_segment_speech: f32,
    /// An audio-scored word is heard in a window when its mean log-probability is this
    /// many nats above its typical score in the recording ...
    pub keyword_margin: f32,
    /// ... and at least this.
    pub keyword_floor: f32,
    /// A segment longer than this (seconds) is split at the longest pauses the VAD hears
    /// inside it until no piece is longer (Whisper leaves a host who never stops, or
    /// speech it hears poorly, in one long segment) ...
    pub max_sentence_s: f64,
    /// ... pauses at least this long (seconds).
    pub min_pause_s: f64,
}

impl Default for SpeechSettings {
    fn default() -> Self {
        Self {
            language: "auto".into(),
            simplified_chinese: true,
            candidate_radius_s: 12.0,
            highlight_margin_s: 5.0,
            vad_threshold: 0.5,
            pad_s: 0.3,
            merge_gap_s: 2.0,
            max_window_s: 30.0,
            min_speech_s: 0.4,
            no_speech_threshold: 0.6,
            logprob_threshold: -1.0,
            compression_ratio_threshold: 2.4,
            min_segment_speech: 0.15,
            keyword_margin: 1.0,
            keyword_floor: -9.0,
            max_sentence_s: 10.0,
            min_pause_s: 0.3,
        }
    }
}

impl SpeechSettings {
    fn plan(&self) -> plan::PlanSettings {
        plan::PlanSettings {
            vad_threshold: self.vad_threshold,
            pad_s: self.pad_s,
            merge_gap_s: self.merge_gap_s,
            max_window_s: self.max_window_s.clamp(1.0, 30.0),
            min_speech_s: self.min_speech_s,
        }
    }

    /// The fixed language, or `None` for detection.
    pub fn fixed_language(&self) -> Option<&str> {
        (!self.language.eq_ignore_ascii_case("auto") && !self.language.is_empty())
            .then_some(self.language.as_str())
    }
}

/// Whisper's language codes (in its token order; `yue` only in large-v3 and later).
pub const LANGUAGES: [&str; 100] = [
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it",
    "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur",
    "hr", "bg", "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn",
    "et", "mk", "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si",
    "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo",
    "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln",
    "ha", "ba", "jw", "su", "yue",
];

/// `auto` or a Whisper language code; else a message listing a few.
pub fn check_language(code: &str) -> Result<(), String> {
    if code.eq_ignore_ascii_case("auto") || LANGUAGES.contains(&code) {
        Ok(())
    } else {
        Err(format!(
            "--language {code:?}: not a Whisper language code (auto, zh, en, ja, ko, yue, ...)"
        ))
    }
}

/// Phrases Whisper is known to invent over silence, music or noise (learnt from the
/// subtitles it was trained on); a segment containing one is dropped. Matched on
/// normalised text (lower case, no spaces or punctuation).
const HALLUCINATIONS: &[&str] = &[
    "点赞订阅",
    "订阅小铃铛",
    "请不吝点赞",
    "明镜与点点",
    "字幕由amaraorg",
    "字幕志愿者",
    "amaraorg社区",
    "thanksforwatching",
    "thankyouforwatching",
    "pleasesubscribe",
    "subtitlesby",
];

/// Why the speech stage failed.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A transcript file (perhaps edited by hand) that cannot be read.
    #[error("{}:{line}:{column}: {message} (fix the file, or delete it to transcribe again)", path.display())]
    TranscriptFile {
        path: std::path::PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// The transcript in `path` (`None`: there is none). A file that is not a transcript —
/// broken JSON, a field of the wrong type, a segment that ends before it starts — is an
/// error naming the file, line and column: it may hold an editor's corrections.
pub fn read_transcript(path: &std::path::Path) -> Result<Option<Transcript>, SpeechError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(SpeechError::TranscriptFile {
                path: path.to_path_buf(),
                line: 0,
                column: 0,
                message: e.to_string(),
            })
        }
    };
    let bad = |line: usize, column: usize, message: String| SpeechError::TranscriptFile {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let t: Transcript = serde_json::from_slice(&bytes).map_err(|e| {
        let message = e.to_string();
        // serde_json appends " at line L column C"; the prefix says it already.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.clone(), |(m, _)| m.to_string());
        bad(e.line(), e.column(), message)
    })?;
    // Segments are checked in order; the line is the one their text is on.
    let text = String::from_utf8_lossy(&bytes);
    for (i, seg) in t.segments.iter().enumerate() {
        let ok = seg.start_s.is_finite() && seg.end_s.is_finite() && seg.start_s < seg.end_s;
        if !ok {
            let needle = serde_json::to_string(&seg.text).unwrap_or_default();
            let line = text
                .find(&needle)
                .map_or(0, |at| text[..at].matches('\n').count() + 1);
            return Err(bad(
                line,
                0,
                format!(
                    "segment {} ({:?}) ends at {} s, not after its start {} s",
                    i + 1,
                    seg.text,
                    seg.end_s,
                    seg.start_s
                ),
            ));
        }
    }
    Ok(Some(t))
}

/// What the stage asks of a recogniser for one window.
#[derive(Debug, Clone)]
pub struct WindowRequest<'a> {
    /// `None`: detect.
    pub language: Option<&'a str>,
    /// Words to score against the audio, in the written form to score.
    pub keywords: &'a [String],
    pub simplified_chinese: bool,
}

/// A recogniser's result for one window (times relative to the window's start).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowResult {
    pub language: String,
    pub language_prob: f32,
    pub no_speech_prob: f32,
    pub avg_logprob: f32,
    pub compression_ratio: f32,
    pub segments: Vec<RawSegment>,
    /// Log-probability per written character of each requested keyword (same order).
    pub keyword_logprob: Vec<f32>,
    /// Where in the window each keyword fits best, seconds from the window's start (same
    /// order; may be empty: the whole window).
    pub keyword_at: Vec<(f64, f64)>,
    /// Seconds spent on this window, by step (e.g. encode, decode, keywords).
    pub cost_seconds: Vec<(&'static str, f64)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawSegment {
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    pub avg_logprob: f32,
    /// The text in pieces with the estimated time each starts (seconds from the window
    /// start, non-decreasing; joined, they are `text` before trimming); may be empty.
    pub pieces: Vec<(f64, String)>,
}

/// A speech recogniser (Whisper in livecut; a fake in the unit tests).
pub trait Recognizer: std::fmt::Debug {
    /// `name==sha256` of the model, for the outputs.
    fn model(&self) -> String;
    /// Recognise ≤ 30 s of mono 16 kHz audio.
    fn recognize(
        &mut self,
        samples: &[f32],
        request: &WindowRequest<'_>,
    ) -> Result<WindowResult, ModelError>;
}

/// One transcribed sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    pub lang: String,
    /// exp(mean token log-probability), 0–1.
    pub confidence: f64,
    /// Corrected by an editor (set it when changing `text`, `start_s` or `end_s` by
    /// hand): kept as it is by every later analysis, and used for subtitles and titles.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub edited: bool,
}

#[cfg(test)]
impl Segment {
    /// A Chinese sentence said over `[start_s, end_s)` (tests).
    pub fn said(start_s: f64, end_s: f64, text: &str) -> Self {
        Self {
            start_s,
            end_s,
            text: text.into(),
            lang: "zh".into(),
            confidence: 0.9,
            edited: false,
        }
    }
}

/// How one window went (kept, or why it was dropped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowReport {
    pub start_s: f64,
    pub end_s: f64,
    pub language: String,
    pub language_prob: f32,
    pub no_speech_prob: f32,
    pub avg_logprob: f32,
    pub compression_ratio: f32,
    /// Segments kept.
    pub segments: usize,
    /// Why nothing (or not everything) was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
}

/// `transcript.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub model: String,
    /// The language of most transcribed speech.
    pub language: String,
    /// The stretches listened to, `[start_s, end_s]`.
    pub transcribed: Vec<[f64; 2]>,
    pub segments: Vec<Segment>,
    /// Spoken keywords found (transcript and audio).
    #[serde(default)]
    pub keywords: Vec<KeywordHit>,
    /// Words scored against the audio, and their scores per window.
    #[serde(default)]
    pub scored_words: Vec<String>,
    #[serde(default)]
    pub keyword_scores: Vec<WindowScores>,
    #[serde(default)]
    pub windows: Vec<WindowReport>,
    /// Seconds spent: reading audio, recognising.
    #[serde(default)]
    pub cost_seconds: BTreeMap<String, f64>,
}

impl Transcript {
    /// Keep the segments an editor corrected in `old` (the previous analysis' transcript):
    /// they replace whatever this one heard over the same time.
    pub fn keep_edits(&mut self, old: &Transcript) {
        let edits: Vec<&Segment> = old.segments.iter().filter(|s| s.edited).collect();
        if edits.is_empty() {
            return;
        }
        self.segments.retain(|s| {
            !edits
                .iter()
                .any(|e| s.start_s < e.end_s && e.start_s < s.end_s)
        });
        self.segments.extend(edits.into_iter().cloned());
        self.segments
            .sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    }

    /// Whether an editor corrected any segment.
    pub fn has_edits(&self) -> bool {
        self.segments.iter().any(|s| s.edited)
    }

    /// The transcribed stretches as spans.
    pub fn heard(&self) -> Vec<Span> {
        self.transcribed
            .iter()
            .map(|[a, b]| Span::new(*a, *b))
            .collect()
    }

    /// The text said in `span`: the segments with most of their time inside it.
    pub fn text_in(&self, span: &Span) -> String {
        let mut out = String::new();
        for s in &self.segments {
            let seg = Span::new(s.start_s, s.end_s);
            if seg.overlap(span) >= 0.5 * seg.duration().max(1e-3) {
                let cjk = s.lang == "zh" || s.lang == "ja";
                if !out.is_empty() && !cjk {
                    out.push(' ');
                }
                out.push_str(s.text.trim());
            }
        }
        out
    }

    /// Sentences as spans (for clip boundaries).
    pub fn sentences(&self) -> Vec<Span> {
        self.segments
            .iter()
            .map(|s| Span::new(s.start_s, s.end_s))
            .collect()
    }

    /// Per-second `speech_kw_<class>` tracks.
    pub fn keyword_tracks(&self, lexicon: &SpeechLexicon, duration_s: f64) -> Vec<Track> {
        keywords::tracks(&self.keywords, lexicon, duration_s)
    }
}

/// The stage's state for one recording: what was heard so far.
pub struct Listener<'a> {
    recognizer: &'a mut dyn Recognizer,
    info: &'a MediaInfo,
    settings: &'a SpeechSettings,
    lexicon: &'a SpeechLexicon,
    transcript: Transcript,
}

impl std::fmt::Debug for Listener<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("model", &self.transcript.model)
            .field("windows", &self.transcript.windows.len())
            .finish()
    }
}

impl<'a> Listener<'a> {
    pub fn new(
        recognizer: &'a mut dyn Recognizer,
        info: &'a MediaInfo,
        settings: &'a SpeechSettings,
        lexicon: &'a SpeechLexicon,
    ) -> Self {
        let transcript = Transcript {
            model: recognizer.model(),
            scored_words: lexicon.scored.iter().map(|(w, _)| w.clone()).collect(),
            ..Transcript::default()
        };
        Self {
            recognizer,
            info,
            settings,
            lexicon,
            transcript,
        }
    }

    /// Transcribe the parts of `spans` not heard yet. `vad` is the speech-activity track
    /// (absent: the spans are taken whole). Returns the seconds of audio recognised.
    pub fn listen(&mut self, spans: &[Span], vad: Option<&Track>) -> Result<f64, SpeechError> {
        let limit = self.info.duration_s;
        let spans: Vec<Span> = spans
            .iter()
            .map(|s| Span::new(s.start_s.max(0.0), s.end_s.min(limit)))
            .collect();
        let todo = plan::subtract(&plan::union(&spans), &plan::union(&self.transcript.heard()));
        let windows = plan::windows(&todo, vad, &self.settings.plan());
        let mut seconds = 0.0;
        for w in windows {
            let since = std::time::Instant::now();
            let samples = match crate::media::read_audio(self.info, w.start_s, w.end_s) {
                Ok(s) => s,
                // Past the readable end of a truncated file: nothing to hear.
                Err(MediaError::Undecodable { .. }) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            *self
                .transcript
                .cost_seconds
                .entry("read_audio".into())
                .or_insert(0.0) += since.elapsed().as_secs_f64();
            self.transcript.transcribed.push([w.start_s, w.end_s]);
            if samples.len() < 1600 {
                continue;
            }
            let since = std::time::Instant::now();
            let request = WindowRequest {
                language: self.settings.fixed_language(),
                keywords: &self.lexicon.scored_forms,
                simplified_chinese: self.settings.simplified_chinese,
            };
            let result = self.recognizer.recognize(&samples, &request)?;
            let costs = &mut self.transcript.cost_seconds;
            *costs.entry("recognize".into()).or_insert(0.0) += since.elapsed().as_secs_f64();
            for (step, s) in &result.cost_seconds {
                *costs.entry(format!("recognize.{step}")).or_insert(0.0) += s;
            }
            seconds += w.duration();
            self.accept(&w, result, vad);
        }
        self.transcript.transcribed = plan::union(&self.transcript.heard())
            .iter()
            .map(|s| [s.start_s, s.end_s])
            .collect();
        Ok(seconds)
    }

    /// Keep what survives the guards of one window's result.
    fn accept(&mut self, w: &Span, r: WindowResult, vad: Option<&Track>) {
        let s = self.settings;
        let mut report = WindowReport {
            start_s: w.start_s,
            end_s: w.end_s,
            language: r.language.clone(),
            language_prob: r.language_prob,
            no_speech_prob: r.no_speech_prob,
            avg_logprob: r.avg_logprob,
            compression_ratio: r.compression_ratio,
            segments: 0,
            dropped: Vec::new(),
        };
        let silent =
            r.no_speech_prob > s.no_speech_threshold && r.avg_logprob < s.logprob_threshold;
        let looping = r.compression_ratio > s.compression_ratio_threshold;
        if silent {
            report.dropped.push(format!(
                "no speech (no-speech probability {:.2}, mean log-probability {:.2})",
                r.no_speech_prob, r.avg_logprob
            ));
        } else if looping {
            report.dropped.push(format!(
                "repetition loop (compression ratio {:.2})",
                r.compression_ratio
            ));
        }
        if !silent && !r.keyword_logprob.is_empty() {
            // Scored against the audio: usable even when the text is not.
            self.transcript.keyword_scores.push(WindowScores {
                start_s: w.start_s,
                end_s: w.end_s,
                logprob: r
                    .keyword_logprob
                    .iter()
                    .map(|x| x.is_finite().then(|| round3f(*x)))
                    .collect(),
                at: r
                    .keyword_at
                    .iter()
                    .map(|&(a, b)| {
                        let a = (w.start_s + a).clamp(w.start_s, w.end_s);
                        [round3(a), round3((w.start_s + b).clamp(a, w.end_s))]
                    })
                    .collect(),
            });
        }
        if !silent && !looping {
            let mut last_text: Option<String> = None;
            for seg in &r.segments {
                let text = seg.text.trim();
                let (a, b) = (
                    (w.start_s + seg.start_s).clamp(w.start_s, w.end_s),
                    (w.start_s + seg.end_s).clamp(w.start_s, w.end_s),
                );
                if text.is_empty() || b <= a {
                    continue;
                }
                let norm = keywords::normalise(text);
                if let Some(h) = HALLUCINATIONS.iter().find(|h| norm.contains(*h)) {
                    report.dropped.push(format!(
                        "{a:.1}-{b:.1} s: a phrase Whisper invents over silence ({h})"
                    ));
                    continue;
                }
                if last_text.as_deref() == Some(text) {
                    report
                        .dropped
                        .push(format!("{a:.1}-{b:.1} s: repeats the previous segment"));
                    continue;
                }
                // Whisper's timestamps are coarse at window edges (its first segment
                // starts at the window's start): tighten them to the speech the VAD
                // heard inside the segment.
                let (a, b) = match vad.and_then(|v| heard_within(v, a, b, s.vad_threshold)) {
                    Some((x, y)) if y - x >= 0.2 => (x.max(a), y.min(b)),
                    _ => (a, b),
                };
                if let Some(v) = vad {
                    let heard = speech_share(v, a, b, s.vad_threshold);
                    if heard.is_some_and(|h| h < s.min_segment_speech) {
                        report.dropped.push(format!(
                            "{a:.1}-{b:.1} s: the VAD hears no speech there ({:.0} %)",
                            100.0 * heard.unwrap_or(0.0)
                        ));
                        continue;
                    }
                }
                last_text = Some(text.to_string());
                let pieces: Vec<(f64, &str)> = seg
                    .pieces
                    .iter()
                    .map(|(at, p)| (w.start_s + at, p.as_str()))
                    .collect();
                let parts = match vad {
                    Some(v) => split_long(a, b, &pieces, v, s),
                    None => Vec::new(),
                };
                let parts = if parts.len() > 1 {
                    parts
                } else {
                    vec![(a, b, text.to_string())]
                };
                for (a, b, text) in parts {
                    report.segments += 1;
                    self.transcript.segments.push(Segment {
                        start_s: round3(a),
                        end_s: round3(b),
                        text,
                        lang: r.language.clone(),
                        confidence: round3(f64::from(seg.avg_logprob).exp().clamp(0.0, 1.0)),
                        edited: false,
                    });
                }
            }
        }
        self.transcript.windows.push(report);
    }

    /// The transcript so far, with its keywords found, segments in time order.
    pub fn transcript(&self) -> Transcript {
        let mut t = self.transcript.clone();
        t.segments.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        t.windows.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        t.keyword_scores
            .sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        let mut by_lang: BTreeMap<String, f64> = BTreeMap::new();
        for s in &t.segments {
            *by_lang.entry(s.lang.clone()).or_insert(0.0) += s.end_s - s.start_s;
        }
        t.language = by_lang
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(l, _)| l)
            .or_else(|| self.settings.fixed_language().map(str::to_string))
            .unwrap_or_default();
        let mut hits: Vec<KeywordHit> = Vec::new();
        for s in &t.segments {
            for (class, word) in keywords::classes_in(&s.text, self.lexicon) {
                hits.push(KeywordHit {
                    class,
                    word,
                    start_s: s.start_s,
                    end_s: s.end_s,
                    source: HitSource::Transcript,
                    strength: 1.0,
                });
            }
        }
        // An audio hit adds to the count only where the transcript did not already find
        // the same class in that window.
        for h in keywords::audio_hits(
            &t.keyword_scores,
            self.lexicon,
            self.settings.keyword_margin,
            self.settings.keyword_floor,
        ) {
            let seen = hits.iter().any(|x| {
                x.source == HitSource::Transcript
                    && x.class == h.class
                    && x.start_s < h.end_s
                    && x.end_s > h.start_s
            });
            if !seen {
                hits.push(h);
            }
        }
        hits.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        t.keywords = hits;
        t
    }
}

/// A segment `[a, b)` longer than `max_sentence_s`, split at the longest VAD pause inside
/// it (at least `min_pause_s`, at least a second from either end); again on each side
/// until no part is longer or no pause is left. The text goes by each piece's estimated
/// time; where those estimates put all the text on one side (Whisper's timestamp guesses
/// are poor on speech it hears poorly), by the share of heard speech on each side, as if
/// the host spoke at an even pace. Returns one part when it cannot split.
fn split_long(
    a: f64,
    b: f64,
    pieces: &[(f64, &str)],
    vad: &Track,
    s: &SpeechSettings,
) -> Vec<(f64, f64, String)> {
    let whole = || {
        let text: String = pieces.iter().map(|(_, p)| *p).collect();
        vec![(a, b, text.trim().to_string())]
    };
    if b - a <= s.max_sentence_s || pieces.len() < 2 {
        return whole();
    }
    let mut pauses = pauses_within(vad, a + 1.0, b - 1.0, s.vad_threshold, s.min_pause_s);
    pauses.sort_by(|x, y| (y.1 - y.0).total_cmp(&(x.1 - x.0)));
    let has_text = |ps: &[(f64, &str)]| ps.iter().any(|(_, p)| !p.trim().is_empty());
    let splits = |cut: usize| {
        cut > 0 && cut < pieces.len() && has_text(&pieces[..cut]) && has_text(&pieces[cut..])
    };
    let heard = |x: f64, y: f64| {
        f64::from(speech_share(vad, x, y, s.vad_threshold).unwrap_or(0.0)) * (y - x).max(0.0)
    };
    for &(pa, pb) in &pauses {
        let mid = 0.5 * (pa + pb);
        let by_time = pieces.partition_point(|(at, _)| *at < mid);
        let cut = if splits(by_time) {
            by_time
        } else {
            let (before, after) = (heard(a, pa), heard(pb, b));
            let share = before / (before + after).max(1e-9);
            (share * pieces.len() as f64).round() as usize
        };
        if splits(cut) {
            let mut out = split_long(a, pa, &pieces[..cut], vad, s);
            out.extend(split_long(pb, b, &pieces[cut..], vad, s));
            return out;
        }
    }
    whole()
}

/// Stretches inside `[a, b)` the VAD hears no speech in, at least `min_s` long.
fn pauses_within(vad: &Track, a: f64, b: f64, threshold: f32, min_s: f64) -> Vec<(f64, f64)> {
    let lo = vad.times_s.partition_point(|&t| t < a);
    let hi = vad.times_s.partition_point(|&t| t < b);
    let mut out = Vec::new();
    let mut run: Option<usize> = None;
    for i in lo..=hi {
        let quiet = i < hi && vad.values[i] < threshold;
        match (quiet, run) {
            (true, None) => run = Some(i),
            (false, Some(first)) => {
                let (x, y) = (vad.times_s[first] - 0.016, vad.times_s[i - 1] + 0.016);
                if y - x >= min_s {
                    out.push((x, y));
                }
                run = None;
            }
            _ => {}
        }
    }
    out
}

/// First and last moments of `[a, b)` the VAD heard as speech (each chunk ±16 ms).
fn heard_within(vad: &Track, a: f64, b: f64, threshold: f32) -> Option<(f64, f64)> {
    let lo = vad.times_s.partition_point(|&t| t < a);
    let hi = vad.times_s.partition_point(|&t| t < b);
    let first = (lo..hi).find(|&i| vad.values[i] >= threshold)?;
    let last = (lo..hi).rev().find(|&i| vad.values[i] >= threshold)?;
    Some((vad.times_s[first] - 0.016, vad.times_s[last] + 0.016))
}

/// Share of `[a, b)` the VAD heard as speech (`None` where it did not run).
fn speech_share(vad: &Track, a: f64, b: f64, threshold: f32) -> Option<f32> {
    let lo = vad.times_s.partition_point(|&t| t < a);
    let hi = vad.times_s.partition_point(|&t| t < b);
    if hi <= lo {
        return None;
    }
    let n = vad.values[lo..hi]
        .iter()
        .filter(|&&p| p >= threshold)
        .count();
    Some(n as f32 / (hi - lo) as f32)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn round3f(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

/// The stretches `--transcribe auto` listens to: around each candidate peak and over each
/// highlight, with margins.
pub fn auto_spans(
    candidate_peaks: &[f64],
    highlights: &[Span],
    settings: &SpeechSettings,
) -> Vec<Span> {
    let r = settings.candidate_radius_s;
    let m = settings.highlight_margin_s;
    candidate_peaks
        .iter()
        .map(|p| Span::new(p - r, p + r))
        .chain(
            highlights
                .iter()
                .map(|h| Span::new(h.start_s - m, h.end_s + m)),
        )
        .collect()
}

/// The VAD track of a signal set, if the VAD ran.
pub fn vad_track(set: &SignalSet) -> Option<&Track> {
    set.get("speech").filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests;
