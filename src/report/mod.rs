//! Output files: `highlights.json` (the contract publishing scripts and the evaluation rely
//! on), `signals.json` (the cached tracks), `curve.json` (the fused excitement curve with
//! each signal's contribution), `manifest.json` (the clips), `preview.html` (the editor's
//! page), a batch's `index.html`, and the editor timelines (`nle`: `timeline.otio`,
//! `timeline.fcpxml`, `timeline.edl`).

pub mod anomalies;
mod index;
pub mod nle;
mod preview;

pub use index::{write_index, IndexEntry};
pub use preview::{render_preview, write_preview, Preview};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::media::{DecodeStats, MediaInfo};
use crate::render::RenderedClip;
use crate::select::Highlight;
use crate::signals::SignalSet;
use crate::time::Span;
use crate::timelines::ParseReport;

pub const SCHEMA_VERSION: u32 = 1;
pub const HIGHLIGHTS_FILE: &str = "highlights.json";
pub const SIGNALS_FILE: &str = "signals.json";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const PREVIEW_FILE: &str = "preview.html";
pub const CURVE_FILE: &str = "curve.json";
pub const INDEX_FILE: &str = "index.html";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a livecut {what} file: {source}")]
    Parse {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path}: schema_version {found} is newer than this livecut understands ({SCHEMA_VERSION})"
    )]
    Version { path: PathBuf, found: u32 },
    #[error("preview template: {0}")]
    Template(#[from] minijinja::Error),
}

/// `DIR/<stem>/highlights.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HighlightsFile {
    pub schema_version: u32,
    pub generator: String,
    pub source: MediaInfo,
    /// Seconds of the recording that could be decoded (less than the duration when the
    /// file is truncated).
    pub analysed_until_s: f64,
    /// Which pretrained models ran (enabled = false with `--no-models`).
    #[serde(default)]
    pub models: crate::pipeline::ModelsUsed,
    /// Spans that are never highlights: broken frames (`glitch`) and "be right back" cards
    /// (`intermission`).
    #[serde(default)]
    pub flagged: Vec<crate::signals::FlaggedSpan>,
    /// How far comments and orders were shifted back onto the moments they react to.
    #[serde(default)]
    pub lags: Vec<crate::fuse::Lag>,
    /// Signals of the fusion that had nothing to measure in this analysis, and why (no
    /// sound in the recording, no comment export, `--transcribe off` …); the curve is
    /// the others' weights renormalised.
    #[serde(default)]
    pub absent: Vec<crate::fuse::Absent>,
    pub timelines: Vec<ParseReport>,
    pub warnings: Vec<String>,
    /// The fusion weights this analysis used (the profile's; `livecut tune` and the review
    /// page read them). Absent in files of older versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fusion_weights: Vec<SignalWeight>,
    pub highlights: Vec<Highlight>,
}

/// One fusion signal's weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalWeight {
    pub signal: String,
    pub weight: f64,
}

/// `DIR/<stem>/signals.json`: every track, plus the key that decides whether a rerun may
/// reuse the media tracks instead of decoding again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignalsFile {
    pub schema_version: u32,
    pub cache_key: String,
    pub decode: DecodeStats,
    /// Seconds each model and each cheap track took in this analysis, and `decode_wait`
    /// (empty when the cache was used).
    #[serde(default, alias = "model_seconds")]
    pub cost_seconds: std::collections::BTreeMap<String, f64>,
    /// Wall seconds of each stage of this analysis (timelines, survey, candidates, detail
    /// or decode, fuse, report).
    #[serde(default)]
    pub stage_seconds: std::collections::BTreeMap<String, f64>,
    /// What the analysis cascade examined (absent: the whole recording in full).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cascade: Option<crate::cascade::CascadeReport>,
    /// The survey's picture flags over the whole recording (with the cascade).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub survey_flags: Vec<crate::signals::Track>,
    pub media: SignalSet,
    pub timelines: SignalSet,
}

/// `DIR/<stem>/curve.json`: the fused excitement curve on its 1 s grid (`score`), each
/// signal's weighted contribution (`contributions`: `[signal, values]` pairs that add up to
/// `score`, rounded to 4 decimals) and the lags applied to comments and orders.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CurveFile {
    pub schema_version: u32,
    pub generator: String,
    /// Seconds of the recording the curve covers (bin `i` is `[i·step_s, (i+1)·step_s)`).
    pub analysed_until_s: f64,
    #[serde(flatten)]
    pub curve: crate::fuse::Curve,
}

impl CurveFile {
    pub fn new(curve: &crate::fuse::Curve, analysed_until_s: f64) -> Self {
        let round =
            |v: &Vec<f64>| -> Vec<f64> { v.iter().map(|x| (x * 1e4).round() / 1e4).collect() };
        Self {
            schema_version: SCHEMA_VERSION,
            generator: generator(),
            analysed_until_s,
            curve: crate::fuse::Curve {
                step_s: curve.step_s,
                score: round(&curve.score),
                contributions: curve
                    .contributions
                    .iter()
                    .map(|(name, v)| (name.clone(), round(v)))
                    .collect(),
                lags: curve.lags.clone(),
            },
        }
    }
}

/// Read `curve.json`; `None` when absent, unreadable or of a newer schema (the preview then
/// goes without the stacked curve).
pub fn read_curve(path: &Path) -> Option<CurveFile> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice::<CurveFile>(&bytes)
        .ok()
        .filter(|c| c.schema_version <= SCHEMA_VERSION)
}

/// Read `manifest.json`; `None` when absent or unreadable.
pub fn read_manifest(path: &Path) -> Option<Manifest> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice::<Manifest>(&bytes)
        .ok()
        .filter(|m| m.schema_version <= SCHEMA_VERSION)
}

/// One clip in `manifest.json`: one highlight rendered for one platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestClip {
    /// The highlight's rank; 0 for a product clip.
    pub rank: usize,
    /// A highlight's clip, or a product clip (`--product-clips`).
    #[serde(rename = "kind", default)]
    pub clip_kind: ClipKind,
    /// Which product a product clip shows, and which part of its story.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<crate::products::clips::ProductRef>,
    pub platform: String,
    /// Relative to the manifest's folder.
    pub path: PathBuf,
    /// The highlight's span in the recording.
    pub requested: Span,
    /// The span in the file (stream copy widens to key frames; platforms with a length
    /// limit may shorten or lengthen it).
    pub span: Span,
    pub duration_s: f64,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// follow (9:16 crop following the host), pad, fit, or source (stream copy).
    pub framing: String,
    /// libx264, h264_nvenc or copy.
    pub encoder: String,
    pub bytes: u64,
    pub sha256: String,
    pub video_codec: String,
    /// `None` (JSON null): the clip has no sound (the recording has none).
    pub audio_codec: Option<String>,
    pub peak_s: f64,
    pub score: f64,
    #[serde(rename = "type")]
    pub kind: crate::classify::HighlightType,
    pub tags: Vec<String>,
    /// The chosen title: the first of `titles`.
    pub title: String,
    /// Suggested titles for A/B tests, best first: within the platform's
    /// `title_max_chars`, none with a forbidden claim ([`crate::titles`]).
    #[serde(default)]
    pub titles: Vec<String>,
    /// Same as `title` (kept for readers of earlier manifests).
    pub suggested_title: String,
    /// Claims that advertising law or the platforms forbid, in what the clip says, shows
    /// or is titled ([`crate::claims`]); with `--avoid-claims`, those left out by a moved
    /// boundary are listed with `left_out`.
    #[serde(default)]
    pub warnings: Vec<crate::claims::Warning>,
    /// Approved by an editor in the review (`review.json`): publishing scripts publish only
    /// these. Every clip of `cut --approved` is.
    #[serde(default)]
    pub approved: bool,
    /// Cover image (JPEG), relative to the manifest's folder.
    pub cover: Option<PathBuf>,
    /// Subtitle files (SRT and WebVTT in the clip's time), relative to the manifest's
    /// folder, and whether the text is burned into the picture; absent: no subtitles
    /// (`--subtitles off`, or nothing said in the clip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitles: Option<crate::subtitles::ClipSubtitles>,
}

/// What a manifest clip is cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipKind {
    /// One of highlights.json's highlights (by rank).
    #[default]
    Highlight,
    /// A product clip: a product's best explanation or its closing moment.
    Product,
}

impl ManifestClip {
    pub fn new(h: &Highlight, clip: &RenderedClip, titles: &[String], base: &Path) -> Self {
        let title = titles
            .first()
            .cloned()
            .unwrap_or_else(|| crate::classify::suggested_title(h));
        let rel = |p: &Path| p.strip_prefix(base).unwrap_or(p).to_path_buf();
        Self {
            rank: h.rank,
            clip_kind: ClipKind::Highlight,
            product: None,
            platform: clip.platform.clone(),
            path: rel(&clip.path),
            requested: h.span(),
            span: clip.span,
            duration_s: round3(clip.span.duration()),
            width: clip.width,
            height: clip.height,
            fps: round3(clip.fps),
            framing: clip.framing.clone(),
            encoder: clip.encoder.clone(),
            bytes: clip.bytes,
            sha256: clip.sha256.clone(),
            video_codec: clip.video_codec.clone(),
            audio_codec: clip.audio_codec.clone(),
            peak_s: h.peak_s,
            score: h.score,
            kind: h.kind,
            tags: h.tags.clone(),
            suggested_title: title.clone(),
            title,
            titles: titles.to_vec(),
            warnings: Vec::new(),
            approved: false,
            cover: clip.cover.as_deref().map(rel),
            subtitles: clip
                .subtitles
                .as_ref()
                .map(|s| crate::subtitles::ClipSubtitles {
                    srt: rel(&s.srt),
                    vtt: rel(&s.vtt),
                    ..s.clone()
                }),
        }
    }
}

/// `DIR/<stem>/manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub generator: String,
    pub source: MediaInfo,
    pub highlights_file: PathBuf,
    pub clips: Vec<ManifestClip>,
    /// With `--product-clips`: the products that got no clip, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products_not_clipped: Vec<crate::products::clips::NotClipped>,
    /// The editor timelines of the same highlights (absent in manifests of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timelines: Option<nle::TimelinePaths>,
}

pub fn generator() -> String {
    format!("livecut {}", env!("CARGO_PKG_VERSION"))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Serialise `value` as pretty JSON and write it atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Streamed: signals.json of an 8-hour recording is over 100 MB of text.
    crate::fsutil::write_atomic_with(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value)?;
        w.write_all(b"\n")
    })
    .map_err(io)
}

pub fn read_highlights(path: &Path) -> Result<HighlightsFile, ReportError> {
    let bytes = std::fs::read(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let version: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|source| ReportError::Parse {
            path: path.to_path_buf(),
            what: "highlights",
            source,
        })?;
    let found = version
        .get("schema_version")
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as u32;
    if found > SCHEMA_VERSION {
        return Err(ReportError::Version {
            path: path.to_path_buf(),
            found,
        });
    }
    serde_json::from_value(version).map_err(|source| ReportError::Parse {
        path: path.to_path_buf(),
        what: "highlights",
        source,
    })
}

/// Read a signals cache; `None` when absent or unreadable (it is only a cache).
pub fn read_signals(path: &Path) -> Option<SignalsFile> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice::<SignalsFile>(&bytes)
        .ok()
        .filter(|s| s.schema_version == SCHEMA_VERSION)
}
