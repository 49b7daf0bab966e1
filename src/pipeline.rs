//! One recording from input files to highlights, clips and manifest.
//!
//! `analyze`: probe → timelines → decode + signal tracks (or the cache) → fuse → select →
//! `highlights.json` + `signals.json` + `curve.json` + `preview.html` (without clips).
//! `cut`: `highlights.json` → clips + `manifest.json` + `preview.html`. `run` does both.

use std::path::{Path, PathBuf};

use jiff::{tz::TimeZone, Timestamp};
use sha2::{Digest, Sha256};

use crate::cascade::{self, CascadeReport, CascadeSettings};
use crate::error::Result;
use crate::fuse::{fuse, FuseSettings};
use crate::media::{self, DecodeOptions, MediaInfo};
use crate::models::{self, Device, ModelDir, Runtime};
use crate::report::{self, HighlightsFile, Manifest, ManifestClip, SignalsFile};
use crate::select::{select, SelectSettings};
use crate::signals::{self, ModelSet, SignalSet};
use crate::speech::{SpeechSettings, TranscribeMode};
use crate::timelines::{
    self, CommentAggregator, Lexicon, OrderAggregator, ParseReport, ReadContext,
};

/// Comment texts kept per highlight (`top_comments`).
const TOP_COMMENTS: usize = 5;

/// Everything `analyze` needs besides the recording.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    pub comments: Option<PathBuf>,
    pub orders: Option<PathBuf>,
    pub out_dir: PathBuf,
    /// Name of the recording's output folder under `out_dir` (default: the file stem).
    pub name: Option<String>,
    /// Instant of the recording's first presentation time; overrides `creation_time`.
    pub start: Option<Timestamp>,
    /// Zone for naive local times in exports.
    pub tz: TimeZone,
    pub decode: DecodeOptions,
    /// Keyword classes and sentiment words for comments.
    pub lexicon: Lexicon,
    /// Make the first malformed export row an error.
    pub strict: bool,
    pub fuse: FuseSettings,
    pub select: SelectSettings,
    pub models: ModelOptions,
    /// The survey → candidates → detail cascade (`enabled: false` is `--full`).
    pub cascade: CascadeSettings,
    /// The speech stage's settings (`[speech]` of the profile, `--language`).
    pub speech: SpeechSettings,
}

/// Which pretrained models run and where.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// False with `--no-models`: cheap signals only.
    pub enabled: bool,
    pub ort_lib: Option<PathBuf>,
    pub device: Device,
    pub dir: Option<PathBuf>,
    /// Intra-op threads per model session.
    pub threads: usize,
    /// Frames per second given to the face model.
    pub face_fps: f64,
    /// Longer side of those frames, pixels.
    pub face_max_side: u32,
    /// Where the speech stage listens (`--transcribe`); `off` needs no speech model.
    pub transcribe: TranscribeMode,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            ort_lib: None,
            device: Device::Auto,
            dir: None,
            threads: 1,
            face_fps: 0.5,
            face_max_side: 320,
            transcribe: TranscribeMode::Auto,
        }
    }
}

/// What the models part of an analysis was (recorded in highlights.json).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ModelsUsed {
    pub enabled: bool,
    pub device: Option<String>,
    pub runtime: Option<PathBuf>,
    /// `name==sha256` of every model that ran.
    pub models: Vec<String>,
}

/// Load ONNX Runtime and the models, or nothing with `--no-models`.
pub fn load_models(opts: &ModelOptions) -> Result<(ModelSet, ModelsUsed)> {
    if !opts.enabled {
        return Ok((ModelSet::default(), ModelsUsed::default()));
    }
    let rt = Runtime::init(opts.ort_lib.as_deref(), opts.device, opts.threads)?;
    let dir = ModelDir::locate(opts.dir.as_deref());
    let mut used = ModelsUsed {
        enabled: true,
        device: Some(format!("{:?}", rt.device).to_lowercase()),
        runtime: Some(rt.library.clone()),
        models: Vec::new(),
    };
    for name in [
        models::vad::NAME,
        models::yamnet::NAME,
        models::faces::NAME,
        "ppocrv4_det",
        "ppocrv4_rec",
    ] {
        let spec = dir.spec(name)?;
        used.models.push(format!("{}=={}", spec.name, spec.sha256));
    }
    let set = ModelSet {
        vad: Some(models::vad::Vad::new(&rt, &dir)?),
        yamnet: Some(models::yamnet::Yamnet::new(&rt, &dir)?),
        faces: Some(models::faces::FaceDetector::new(&rt, &dir)?),
        ocr: Some(models::ocr::Ocr::new(&rt, &dir)?),
        speech: None,
        face_max_side: opts.face_max_side,
        seconds: Default::default(),
    };
    Ok((set, used))
}

/// Progress reports from the library; the binary draws them.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    Stage(&'a str),
    Media { done_s: f64, total_s: f64 },
}

pub type ProgressSink<'a> = &'a (dyn Fn(Progress<'_>) + Sync);

/// Where the outputs of one recording go: `DIR/<stem>/`.
pub fn recording_dir(out_dir: &Path, recording: &Path) -> PathBuf {
    let stem = recording
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "recording".into());
    out_dir.join(stem)
}

#[derive(Debug)]
pub struct Analysis {
    pub dir: PathBuf,
    pub highlights_path: PathBuf,
    pub highlights: HighlightsFile,
    pub reused_cache: bool,
}

pub fn analyze(
    recording: &Path,
    opts: &AnalyzeOptions,
    progress: ProgressSink<'_>,
) -> Result<Analysis> {
    let (mut model_set, models_used) = load_models(&opts.models)?;
    analyze_with_models(recording, opts, &mut model_set, &models_used, progress)
}

/// [`analyze`] with models already loaded (a batch worker loads them once and reuses the
/// sessions for every recording it takes).
pub fn analyze_with_models(
    recording: &Path,
    opts: &AnalyzeOptions,
    model_set: &mut ModelSet,
    models_used: &ModelsUsed,
    progress: ProgressSink<'_>,
) -> Result<Analysis> {
    model_set.seconds.clear();
    progress(Progress::Stage("probe"));
    let probe_started = std::time::Instant::now();
    let info = media::probe(recording)?;
    let mut info = MediaInfo {
        path: std::fs::canonicalize(recording).unwrap_or_else(|_| recording.to_path_buf()),
        ..info
    };
    let start = opts.start.or(info.creation_time);
    let mut warnings = Vec::new();
    if opts.start.is_some() {
        info.creation_time = opts.start;
    }

    // Timelines first: they are cheap, and a missing recording start should fail before
    // an hour of decoding.
    let probe_s = probe_started.elapsed().as_secs_f64();
    progress(Progress::Stage("timelines"));
    let timelines_started = std::time::Instant::now();
    let ctx = ReadContext {
        start,
        tz: opts.tz.clone(),
        duration_s: info.duration_s,
        strict: opts.strict,
    };
    let (timeline_tracks, reports) = read_timelines(
        opts.comments.as_deref(),
        opts.orders.as_deref(),
        &ctx,
        &opts.lexicon,
    )?;
    for r in &reports {
        tracing::info!("{}", r.summary());
    }

    let timelines_s = timelines_started.elapsed().as_secs_f64();

    let dir = match &opts.name {
        Some(name) => opts.out_dir.join(name),
        None => recording_dir(&opts.out_dir, recording),
    };
    let signals_path = dir.join(report::SIGNALS_FILE);
    let mut decode = opts.decode.clone();
    decode.nvdec = match opts.models.device {
        models::Device::Cpu => media::Nvdec::Off,
        models::Device::Auto => media::Nvdec::Prefer,
        models::Device::Cuda => media::Nvdec::Require,
    };
    if opts.models.enabled {
        // Frames wide enough for on-screen text; the face model scales them down itself.
        decode.rgb_width = Some(640);
        decode.rgb_fps = opts.models.face_fps;
    }
    if !opts.models.enabled {
        warnings.push(format!(
            "{}: models disabled (--no-models): loudness, motion, comments and orders only",
            recording.display()
        ));
    }
    let use_cascade =
        opts.cascade.worth_it(info.duration_s, &opts.select) && !decode.keyframes_only;
    let key = cache_key(
        &info,
        &decode,
        models_used,
        use_cascade.then_some(&opts.cascade),
    );
    let cached = report::read_signals(&signals_path).filter(|s| s.cache_key == key);
    let mut stage_seconds = std::collections::BTreeMap::from([
        ("probe".to_string(), probe_s),
        ("timelines".to_string(), timelines_s),
    ]);
    let mut stage = |name: &str, since: std::time::Instant| {
        *stage_seconds.entry(name.to_string()).or_insert(0.0) += since.elapsed().as_secs_f64();
    };
    let media = if use_cascade {
        cascade_tracks(
            &info,
            &decode,
            opts,
            &timeline_tracks,
            cached,
            model_set,
            progress,
            &mut stage,
        )?
    } else {
        match cached {
            Some(c) => {
                tracing::info!("{}: reusing cached signal tracks", signals_path.display());
                MediaTracks {
                    tracks: c.media,
                    decode: c.decode,
                    cascade: None,
                    survey_flags: Vec::new(),
                    reused: true,
                }
            }
            None => {
                progress(Progress::Stage("decode"));
                let since = std::time::Instant::now();
                let total_s = info.duration_s;
                let on_media = |done_s: f64| progress(Progress::Media { done_s, total_s });
                let (tracks, decode) =
                    signals::extract_media_tracks(&info, &decode, model_set, &on_media)?;
                stage("decode", since);
                MediaTracks {
                    tracks,
                    decode,
                    cascade: None,
                    survey_flags: Vec::new(),
                    reused: false,
                }
            }
        }
    };
    let reused_cache = media.reused;
    let decode_stats = media.decode.clone();
    let MediaTracks {
        tracks: media_tracks,
        cascade: cascade_report,
        survey_flags,
        ..
    } = media;
    let mut analysed_until_s = info.duration_s;
    let short = decode_stats.decoded_until_s + (0.02 * info.duration_s).max(2.0) < info.duration_s;
    if decode_stats.read_error.is_some() || short {
        let why = decode_stats
            .read_error
            .as_deref()
            .unwrap_or("data ends early");
        warnings.push(format!(
            "{}: reading stopped at {:.1} s of {:.1} s ({why}); the file looks truncated, \
             highlights come from the readable part",
            recording.display(),
            decode_stats.decoded_until_s,
            info.duration_s
        ));
        analysed_until_s = decode_stats.decoded_until_s.min(info.duration_s);
    }
    if decode_stats.corrupt_packets > 0 {
        warnings.push(format!(
            "{}: {} corrupt packets skipped",
            recording.display(),
            decode_stats.corrupt_packets
        ));
    }
    for w in &warnings {
        tracing::warn!("{w}");
    }

    // Score: every track on one curve, then the moments (first without speech: it says
    // where to listen).
    progress(Progress::Stage("fuse"));
    let fuse_started = std::time::Instant::now();
    let mut all = media_tracks.clone();
    for t in &timeline_tracks.tracks {
        all.insert(t.clone());
    }
    let (derived, flagged) = signals::derive(&all, analysed_until_s);
    for t in &derived {
        all.insert(t.clone());
    }
    let unexamined = cascade_report
        .as_ref()
        .map(|c| cascade::gaps(&c.windows, analysed_until_s))
        .unwrap_or_default();
    let scoring = Scoring {
        duration_s: analysed_until_s,
        flagged: &flagged,
        unexamined: &unexamined,
        opts,
    };
    let mut scored = scoring.run(&all, None);
    stage("fuse", fuse_started);

    // Speech: listen around the candidate moments and the chosen highlights, then score
    // again with the spoken keywords and the sentences.
    let transcript = match model_set.speech.as_deref_mut() {
        Some(recognizer) if opts.models.transcribe != TranscribeMode::Off => {
            progress(Progress::Stage("speech"));
            let since = std::time::Instant::now();
            let t = listen(
                recognizer,
                &info,
                &scoring,
                &mut all,
                &mut scored,
                opts.models.transcribe,
            )?;
            stage("speech", since);
            for (k, v) in &t.cost_seconds {
                *model_set
                    .seconds
                    .entry(format!("speech_{k}"))
                    .or_insert(0.0) += v;
            }
            Some(t)
        }
        _ => None,
    };
    let fuse_started = std::time::Instant::now();
    let Scored {
        curve,
        mut highlights,
        ..
    } = scored;
    for h in &mut highlights {
        (h.kind, h.tags, h.type_evidence) = crate::classify::classify(h, &all, &curve);
        if let Some(t) = &transcript {
            let text = t.text_in(&h.span());
            crate::classify::add_speech_tags(h, &text, &opts.lexicon.speech);
            h.transcript = Some(text);
        }
    }
    if let (Some(path), false) = (opts.comments.as_deref(), highlights.is_empty()) {
        // What viewers wrote during each highlight (one more pass over the export, keeping
        // only the comments inside the highlights' windows, shifted by the comment lag).
        let lag = curve.lag_of("comments");
        let windows = highlights
            .iter()
            .map(|h| crate::time::Span::new(h.start_s + lag, h.end_s + lag))
            .collect();
        let mut top = timelines::TopComments::new(windows);
        timelines::read_comments(path, &ctx, &mut |c| top.push(&c))?;
        for (h, comments) in highlights.iter_mut().zip(top.finish(TOP_COMMENTS)) {
            h.top_comments = comments;
        }
    }

    stage("fuse", fuse_started);
    let report_started = std::time::Instant::now();
    for (name, secs) in &model_set.seconds {
        tracing::info!("{name}: {secs:.2} s");
    }
    let mut signals_file = SignalsFile {
        schema_version: report::SCHEMA_VERSION,
        cost_seconds: model_set.seconds.clone(),
        stage_seconds: std::collections::BTreeMap::new(),
        cache_key: key,
        decode: decode_stats,
        cascade: cascade_report,
        survey_flags,
        media: media_tracks,
        timelines: timeline_tracks,
    };
    let file = HighlightsFile {
        schema_version: report::SCHEMA_VERSION,
        generator: report::generator(),
        source: info,
        analysed_until_s,
        models: models_used.clone(),
        flagged,
        lags: curve.lags.clone(),
        timelines: reports,
        warnings,
        highlights,
    };
    let curve_file = report::CurveFile::new(&curve, analysed_until_s);
    report::write_json(&dir.join(report::CURVE_FILE), &curve_file)?;
    let transcript_path = dir.join(crate::speech::TRANSCRIPT_FILE);
    match &transcript {
        Some(t) => report::write_json(&transcript_path, t)?,
        // An older transcript would describe another analysis.
        None => {
            let _ = std::fs::remove_file(&transcript_path);
        }
    }
    let highlights_path = dir.join(report::HIGHLIGHTS_FILE);
    report::write_json(&highlights_path, &file)?;
    // The page without clips (cut renders it again with them).
    report::write_preview(&report::Preview {
        dir: &dir,
        highlights: &file,
        manifest: None,
        signals: Some(&signals_file),
        curve: Some(&curve_file),
        transcript: transcript.as_ref(),
    })?;
    stage("report", report_started);
    signals_file.stage_seconds = stage_seconds;
    report::write_json(&signals_path, &signals_file)?;
    Ok(Analysis {
        dir,
        highlights_path,
        highlights: file,
        reused_cache,
    })
}

/// The media tracks of one analysis and where they came from.
struct MediaTracks {
    tracks: SignalSet,
    /// Of the whole-recording pass (the survey, with the cascade).
    decode: media::DecodeStats,
    cascade: Option<CascadeReport>,
    /// The survey's own picture flags (the merged tracks hold the detail's inside the
    /// windows); with the merged tracks they give back the survey for a rerun.
    survey_flags: Vec<signals::Track>,
    reused: bool,
}

/// The cascade ([`crate::cascade`]): survey (or the cached one), candidate windows from
/// it and the timelines, then the detail in those windows (reused when the cached
/// analysis examined the same windows).
#[allow(clippy::too_many_arguments)]
fn cascade_tracks(
    info: &MediaInfo,
    decode: &DecodeOptions,
    opts: &AnalyzeOptions,
    timelines: &SignalSet,
    cached: Option<SignalsFile>,
    model_set: &mut ModelSet,
    progress: ProgressSink<'_>,
    stage: &mut dyn FnMut(&str, std::time::Instant),
) -> Result<MediaTracks> {
    let since = std::time::Instant::now();
    let cached = cached.filter(|c| c.cascade.is_some());
    let (survey, survey_stats, survey_flags) = match &cached {
        Some(c) => {
            let survey = cascade::survey_from(&c.media, &c.survey_flags);
            (survey, c.decode.clone(), c.survey_flags.clone())
        }
        None => {
            progress(Progress::Stage("survey"));
            let total_s = info.duration_s;
            let on_media = |done_s: f64| progress(Progress::Media { done_s, total_s });
            let jobs = match opts.cascade.survey_jobs {
                0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                n => n,
            };
            let (survey, stats, costs) = cascade::survey(info, decode, jobs, &on_media)?;
            for (name, secs) in costs {
                *model_set
                    .seconds
                    .entry(format!("survey_{name}"))
                    .or_insert(0.0) += secs;
            }
            let flags = cascade::flags_of(&survey);
            (survey, stats, flags)
        }
    };
    stage("survey", since);

    let since = std::time::Instant::now();
    progress(Progress::Stage("candidates"));
    let mut all = survey.clone();
    for t in &timelines.tracks {
        all.insert(t.clone());
    }
    let until = survey_stats.decoded_until_s.min(info.duration_s).max(0.0);
    let until = if survey_stats.read_error.is_some() {
        until
    } else {
        info.duration_s
    };
    let (derived, flagged) = signals::derive(&all, until);
    for t in derived {
        all.insert(t);
    }
    let (candidates, windows) = cascade::candidate_windows(
        &all,
        &flagged,
        until,
        &opts.fuse,
        &opts.select,
        &opts.cascade,
    );
    stage("candidates", since);
    let report = CascadeReport {
        enabled: true,
        candidates,
        coverage: cascade::coverage(&windows, info.duration_s),
        windows: windows.clone(),
    };
    tracing::info!(
        "{}: {} candidate moments, {} windows, {:.1} % of the recording analysed in detail",
        info.path.display(),
        candidates,
        windows.len(),
        100.0 * report.coverage
    );
    if let Some(c) = cached.filter(|c| c.cascade.as_ref().map(|r| &r.windows) == Some(&windows)) {
        tracing::info!("reusing the cached detail analysis of the same windows");
        return Ok(MediaTracks {
            tracks: c.media,
            decode: c.decode,
            cascade: Some(report),
            survey_flags,
            reused: true,
        });
    }

    let since = std::time::Instant::now();
    progress(Progress::Stage("detail"));
    let total_s: f64 = windows.iter().map(|w| w.duration()).sum();
    let on_media = |done_s: f64| progress(Progress::Media { done_s, total_s });
    let dense = DecodeOptions {
        skip_loop_filter: true,
        skip_nonref: true,
        ..decode.clone()
    };
    let (detail, detail_stats) = cascade::detail(info, &dense, &windows, model_set, &on_media)?;
    stage("detail", since);
    let mut stats = survey_stats;
    stats.corrupt_packets = stats.corrupt_packets.max(detail_stats.corrupt_packets);
    Ok(MediaTracks {
        tracks: cascade::merge(&survey, &detail, &windows),
        decode: stats,
        cascade: Some(report),
        survey_flags,
        reused: false,
    })
}

/// Fusion and selection of one recording, run before and after the speech stage.
struct Scoring<'a> {
    duration_s: f64,
    flagged: &'a [signals::FlaggedSpan],
    unexamined: &'a [crate::time::Span],
    opts: &'a AnalyzeOptions,
}

/// The curve and the moments chosen on it.
struct Scored {
    curve: crate::fuse::Curve,
    highlights: Vec<crate::select::Highlight>,
    /// Peaks of the wider candidate list (where speech is worth hearing).
    candidate_peaks: Vec<f64>,
}

impl Scoring<'_> {
    /// Fuse `all` and select; `sentences` (transcribed speech) are boundaries a clip may
    /// not cut through.
    fn run(&self, all: &SignalSet, sentences: Option<Vec<crate::time::Span>>) -> Scored {
        let curve = fuse(all, self.duration_s, &self.opts.fuse);
        let mut bounds = crate::boundaries::Boundaries::from_signals(all);
        bounds.avoid = self
            .flagged
            .iter()
            .map(|f| crate::time::Span::new(f.start_s - 0.5, f.end_s + 0.5))
            .collect();
        bounds.unexamined = self.unexamined.to_vec();
        if let Some(s) = sentences {
            bounds.sentences = s;
        }
        let highlights = select(&curve, self.duration_s, &self.opts.select, &bounds);
        let wide = SelectSettings {
            top: self.opts.cascade.candidates(self.opts.select.top),
            min_score: 0.0,
            ..self.opts.select.clone()
        };
        let candidate_peaks = select(&curve, self.duration_s, &wide, &bounds)
            .iter()
            .map(|h| h.peak_s)
            .collect();
        Scored {
            curve,
            highlights,
            candidate_peaks,
        }
    }
}

/// The speech stage: transcribe where it matters, add the spoken-keyword tracks to `all`
/// and score again (`scored` is replaced); a second round hears what the final
/// highlights hold beyond the first round's stretches.
fn listen(
    recognizer: &mut dyn crate::speech::Recognizer,
    info: &MediaInfo,
    scoring: &Scoring<'_>,
    all: &mut SignalSet,
    scored: &mut Scored,
    mode: TranscribeMode,
) -> Result<crate::speech::Transcript> {
    let settings = &scoring.opts.speech;
    let lexicon = &scoring.opts.lexicon.speech;
    let vad = crate::speech::vad_track(all).cloned();
    let mut listener = crate::speech::Listener::new(recognizer, info, settings, lexicon);
    let first: Vec<crate::time::Span> = match mode {
        TranscribeMode::All => vec![crate::time::Span::new(0.0, scoring.duration_s)],
        _ => {
            let spans: Vec<_> = scored.highlights.iter().map(|h| h.span()).collect();
            crate::speech::auto_spans(&scored.candidate_peaks, &spans, settings)
        }
    };
    let heard = listener.listen(&first, vad.as_ref())?;
    tracing::info!("speech: {heard:.0} s of audio transcribed");
    for round in 0..2 {
        let t = listener.transcript();
        for track in t.keyword_tracks(lexicon, scoring.duration_s) {
            all.insert(track);
        }
        *scored = scoring.run(all, Some(t.sentences()));
        if round == 1 {
            break;
        }
        // Whatever the final highlights reach beyond what was heard.
        let spans: Vec<_> = scored.highlights.iter().map(|h| h.span()).collect();
        let more = listener.listen(
            &crate::speech::auto_spans(&[], &spans, settings),
            vad.as_ref(),
        )?;
        if more <= 0.0 {
            break;
        }
        tracing::info!("speech: {more:.0} s more for the final highlights");
    }
    Ok(listener.transcript())
}

/// Read the comment and order exports into per-second tracks.
pub fn read_timelines(
    comments: Option<&Path>,
    orders: Option<&Path>,
    ctx: &ReadContext,
    lexicon: &Lexicon,
) -> Result<(SignalSet, Vec<ParseReport>)> {
    let mut set = SignalSet::default();
    let mut reports = Vec::new();
    if let Some(path) = comments {
        let mut agg = CommentAggregator::new(ctx.duration_s, lexicon.clone());
        let mut report = timelines::read_comments(path, ctx, &mut |c| agg.push(&c))?;
        if agg.late_rows > 0 {
            tracing::warn!(
                "{}: {} comment rows came more than 5 minutes out of time order; they are \
                 counted, but not checked for bot floods",
                path.display(),
                agg.late_rows
            );
        }
        let (tracks, spans) = agg.finish();
        for t in tracks {
            set.insert(t);
        }
        report.spam_spans = spans;
        reports.push(report);
    }
    if let Some(path) = orders {
        let mut agg = OrderAggregator::new(ctx.duration_s);
        let report = timelines::read_orders(path, ctx, &mut |o| agg.push(&o))?;
        for t in agg.finish() {
            set.insert(t);
        }
        reports.push(report);
    }
    Ok((set, reports))
}

/// Identity of the input file and the settings that shape the media tracks.
fn cache_key(
    info: &MediaInfo,
    decode: &DecodeOptions,
    models: &ModelsUsed,
    cascade: Option<&CascadeSettings>,
) -> String {
    let modified = std::fs::metadata(&info.path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = Sha256::new();
    h.update(format!(
        "{}|{}|{}|{}|{}|{}|{}|{:?}|{}|{:?}",
        env!("CARGO_PKG_VERSION"),
        info.path.display(),
        info.size_bytes,
        modified,
        decode.sample_fps,
        decode.keyframes_only,
        decode.analysis_width,
        decode.rgb_width,
        decode.rgb_fps,
        models.models
    ));
    if let Some(c) = cascade {
        h.update(format!("|cascade {c:?}"));
    }
    crate::fsutil::hex(&h.finalize())
}

/// What `cut` renders: the best `top` highlights, for each of `platforms`.
#[derive(Debug, Clone)]
pub struct CutSettings {
    pub top: Option<usize>,
    pub platforms: Vec<crate::render::presets::Preset>,
    pub render: crate::render::RenderOptions,
}

impl Default for CutSettings {
    fn default() -> Self {
        Self {
            top: None,
            platforms: crate::render::presets::Presets::builtin()
                .get("source")
                .cloned()
                .into_iter()
                .collect(),
            render: Default::default(),
        }
    }
}

/// Cut clips for the best highlights of an earlier analysis, for every platform asked
/// for; writes `manifest.json` and `preview.html` beside `highlights.json`.
pub fn cut(
    highlights_path: &Path,
    settings: &CutSettings,
    progress: ProgressSink<'_>,
) -> Result<Manifest> {
    let file = report::read_highlights(highlights_path)?;
    let dir = highlights_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let info = media::probe(&file.source.path)?;
    // Times in highlights.json are relative to the first presentation time recorded then.
    let info = MediaInfo {
        start_time_s: file.source.start_time_s,
        creation_time: file.source.creation_time,
        ..info
    };
    // The host's face track (for 9:16 reframing), from the analysis' signal tracks.
    let signals_file = report::read_signals(&dir.join(report::SIGNALS_FILE));
    let faces = signals_file
        .as_ref()
        .map(|s| crate::render::reframe::observations_from_tracks(&s.media.tracks))
        .unwrap_or_default();
    let platforms: Vec<&crate::render::presets::Preset> = settings.platforms.iter().collect();
    let needs_encoder = platforms
        .iter()
        .any(|p| p.mode == crate::render::presets::Mode::Encode);
    let engine = if needs_encoder {
        let (engine, why) = crate::render::choose_engine(settings.render.device)?;
        tracing::info!("encoder: {why}");
        engine
    } else {
        crate::render::encode::Engine::Cpu
    };
    let clips_dir = dir.join("clips");
    crate::fsutil::remove_stale_parts(&clips_dir);
    let n = settings
        .top
        .unwrap_or(usize::MAX)
        .min(file.highlights.len());
    let mut clips = Vec::new();
    for h in &file.highlights[..n] {
        progress(Progress::Stage("cut"));
        let title = crate::classify::suggested_title(h);
        let req = crate::render::ClipRequest {
            rank: h.rank,
            span: h.span(),
            peak_s: h.peak_s,
            title: Some(&title),
            faces: &faces,
        };
        let rendered = crate::render::render_highlight(
            &info,
            &req,
            &platforms,
            &settings.render,
            engine,
            &clips_dir,
        )?;
        for clip in &rendered {
            tracing::info!(
                "clip #{} {}: {:.2}–{:.2} s → {}",
                h.rank,
                clip.platform,
                clip.span.start_s,
                clip.span.end_s,
                clip.path.display()
            );
            clips.push(ManifestClip::new(h, clip, &title, &dir));
        }
    }
    // Editor timelines of the same highlights, referring to the recording itself.
    let source = std::fs::canonicalize(&file.source.path).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(&file.source.path))
            .unwrap_or_else(|_| file.source.path.clone())
    });
    let edits = report::nle::edits(&file, n);
    let timelines = report::nle::build(&source, &info, &edits);
    let paths = report::nle::TimelinePaths::default();
    for (name, text) in [
        (&paths.otio, &timelines.otio),
        (&paths.fcpxml, &timelines.fcpxml),
        (&paths.edl, &timelines.edl),
    ] {
        let path = dir.join(name);
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|source| {
            crate::Error::Report(report::ReportError::Io {
                path: path.clone(),
                source,
            })
        })?;
    }
    let manifest = Manifest {
        schema_version: report::SCHEMA_VERSION,
        generator: report::generator(),
        source: file.source.clone(),
        highlights_file: PathBuf::from(report::HIGHLIGHTS_FILE),
        clips,
        timelines: Some(paths),
    };
    report::write_json(&dir.join(report::MANIFEST_FILE), &manifest)?;
    let curve = report::read_curve(&dir.join(report::CURVE_FILE));
    let transcript = std::fs::read(dir.join(crate::speech::TRANSCRIPT_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<crate::speech::Transcript>(&b).ok());
    report::write_preview(&report::Preview {
        dir: &dir,
        highlights: &file,
        manifest: Some(&manifest),
        signals: signals_file.as_ref(),
        curve: curve.as_ref(),
        transcript: transcript.as_ref(),
    })?;
    Ok(manifest)
}
