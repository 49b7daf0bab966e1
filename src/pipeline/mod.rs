//! One recording from input files to highlights, clips and manifest, as a list of stages.
//!
//! `analyze` ([`analyze_with_models`]):
//! 1. **probe** the recording (duration, streams, start);
//! 2. **timelines**: read the comment and order exports once into per-second tracks (the
//!    text comments are kept compactly for the highlights' top comments);
//! 3. **media** ([`media`]): the signal tracks — survey → candidates → detail (the cascade),
//!    or one full pass, or the cache;
//! 4. **score** ([`score`]): derive flags, fuse, select;
//! 5. **speech** ([`score::listen`]): transcribe around the candidates and the highlights,
//!    spoken-keyword tracks, and score again with sentence boundaries;
//! 6. **classify**: type, tags, transcript and top comments per highlight;
//! 7. **report**: `highlights.json`, `signals.json`, `curve.json`, `transcript.json`,
//!    `preview.html` (without clips).
//!
//! `cut` ([`cut`]): `highlights.json` → clips + `manifest.json` + `preview.html`. `run`
//! does both. Each stage owns its types and errors; [`PipelineError`] gathers them.

mod cut;
mod media;
mod score;

pub use cut::{cut, CutSettings};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::{tz::TimeZone, Timestamp};

use crate::cascade::{self, CascadeSettings};
use crate::fuse::FuseSettings;
use crate::media::{DecodeOptions, MediaInfo};
use crate::models::{self, Device, ModelDir, Runtime};
use crate::report::{self, HighlightsFile, SignalsFile};
use crate::select::SelectSettings;
use crate::signals::{self, ModelSet, SignalSet};
use crate::speech::{SpeechSettings, TranscribeMode};
use crate::timelines::{
    self, CommentAggregator, CommentLog, Lexicon, OrderAggregator, ParseReport, ReadContext,
};
use score::{Scored, Scoring};

/// Why an analysis or a cut failed: the error of the stage that failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error(transparent)]
    Timeline(#[from] crate::timelines::TimelineError),
    #[error(transparent)]
    Model(#[from] crate::models::ModelError),
    #[error(transparent)]
    Speech(#[from] crate::speech::SpeechError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    #[error(transparent)]
    Cut(#[from] crate::cut::CutError),
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
    #[error(transparent)]
    Review(#[from] crate::review::ReviewError),
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
}

/// The recording to analyse: the one file, or a split session's parts joined
/// ([`crate::session`]): then the session folder (`--name`, else the first part's stem)
/// gets the concat script and the exports on the session's timeline, and `opts` reads
/// those.
pub fn prepare_recording(
    parts: &[PathBuf],
    comments: &[PathBuf],
    opts: &mut AnalyzeOptions,
) -> Result<PathBuf> {
    let first = parts.first().ok_or_else(|| PipelineError::Input {
        path: PathBuf::from("."),
        message: "no recording given".into(),
    })?;
    if parts.len() == 1 {
        if comments.len() > 1 {
            return Err(PipelineError::Input {
                path: comments[1].clone(),
                message: "several --comments files for one recording".into(),
            });
        }
        opts.comments = comments.first().cloned();
        return Ok(first.clone());
    }
    if opts.start.is_some() {
        return Err(PipelineError::Input {
            path: first.clone(),
            message: "--start with several parts: each part's start comes from its \
                      creation_time, its recorder's danmaku XML or its file name"
                .into(),
        });
    }
    let name = opts.name.clone().unwrap_or_else(|| {
        first
            .file_stem()
            .map_or_else(|| "session".into(), |s| s.to_string_lossy().into_owned())
    });
    let dir = opts.out_dir.join(&name);
    let prepared = crate::session::prepare(
        &crate::session::SessionInputs {
            parts,
            comments,
            orders: opts.orders.as_deref(),
            audio_track: opts.audio_track,
            tz: &opts.tz,
            strict: opts.strict,
        },
        &dir,
    )?;
    for p in &prepared.file.parts {
        tracing::info!(
            "part {} at {:.1} s of the session, {:.1} s long{}",
            p.path.display(),
            p.start_s,
            p.duration_s,
            p.gap_before_s
                .map(|g| format!(", {g:.1} s after the previous part ended"))
                .unwrap_or_default()
        );
    }
    opts.name = Some(name);
    opts.comments = prepared.comments;
    opts.orders = prepared.orders;
    Ok(prepared.concat)
}

impl From<crate::signals::SignalError> for PipelineError {
    fn from(e: crate::signals::SignalError) -> Self {
        match e {
            crate::signals::SignalError::Media(e) => Self::Media(e),
            crate::signals::SignalError::Model(e) => Self::Model(e),
        }
    }
}

type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// Wall-clock seconds per stage (`stage_seconds` in signals.json).
#[derive(Debug, Default)]
pub(crate) struct StageClock(BTreeMap<String, f64>);

impl StageClock {
    /// Add the time since `since` to `stage`.
    pub(crate) fn add(&mut self, stage: &str, since: std::time::Instant) {
        *self.0.entry(stage.to_string()).or_insert(0.0) += since.elapsed().as_secs_f64();
    }

    /// Run `f` as (part of) `stage`.
    fn time<T>(&mut self, stage: &str, f: impl FnOnce() -> T) -> T {
        let since = std::time::Instant::now();
        let out = f();
        self.add(stage, since);
        out
    }
}

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
    /// The audio track to use (1-based), for recordings with several; `None`: the first.
    pub audio_track: Option<usize>,
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
    /// Product catalogue (`--products`); without it the products are the SKUs sold.
    pub products: Option<PathBuf>,
    /// Let a highlight span a product change (`--mixed-products`); by default, with a
    /// catalogue, each highlight shows one product only.
    pub mixed_products: bool,
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
    /// The speech model's spec name in the models folder (`--speech-model`; default
    /// `whisper_base`, the one set-up fetches; `scripts/whisper_convert.py` makes others).
    pub speech_model: String,
    /// Which of its graphs run (`--speech-weights`; auto: the int8 ones on the CPU).
    pub speech_weights: models::whisper::Weights,
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
            speech_model: models::whisper::NAME.to_string(),
            speech_weights: models::whisper::Weights::Auto,
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
    let speech_model = match opts.transcribe {
        TranscribeMode::Off => None,
        _ => {
            // Checked now (spec, files), loaded when the speech stage starts.
            let (name, weights) = (&opts.speech_model, opts.speech_weights);
            models::whisper::Whisper::check(&dir, name, weights, rt.device)?;
            used.models.push(models::whisper::Whisper::id(
                &dir, name, weights, rt.device,
            )?);
            Some(name.clone())
        }
    };
    // The speech stage runs alone after the media tracks: its sessions may use every core.
    let mut speech_runtime = rt.clone();
    speech_runtime.threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let set = ModelSet {
        face_max_side: opts.face_max_side,
        loader: Some(crate::signals::ModelLoader {
            runtime: rt,
            speech_runtime,
            dir,
            speech_model,
            speech_weights: opts.speech_weights,
        }),
        ..ModelSet::default()
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
    let mut clock = StageClock::default();
    let dir = match &opts.name {
        Some(name) => opts.out_dir.join(name),
        None => recording_dir(&opts.out_dir, recording),
    };
    // An output folder that cannot be written fails now, not after the analysis.
    crate::fsutil::check_writable_dir(&dir).map_err(|e| PipelineError::Input {
        path: dir.clone(),
        message: format!("cannot write the output folder ({e})"),
    })?;

    // The previous transcript may hold an editor's corrections: a broken one stops the
    // analysis now (naming the file and line), before it could be overwritten.
    let previous = crate::speech::read_transcript(&dir.join(crate::speech::TRANSCRIPT_FILE))?;

    // 1. Probe.
    progress(Progress::Stage("probe"));
    let info = clock.time("probe", || probe(recording, opts, &dir))?;

    // 2. Timelines first: they are cheap, and a missing recording start should fail
    //    before an hour of decoding.
    progress(Progress::Stage("timelines"));
    let ctx = ReadContext {
        start: info.creation_time,
        tz: opts.tz.clone(),
        duration_s: info.duration_s,
        strict: opts.strict,
    };
    let timelines = clock.time("timelines", || {
        read_exports(
            opts.comments.as_deref(),
            opts.orders.as_deref(),
            &ctx,
            &opts.lexicon,
        )
    })?;

    // The product catalogue: a broken one fails now, naming the file and line.
    let catalogue = match &opts.products {
        Some(path) => {
            let (products, report) =
                crate::timelines::catalogue::read_catalogue(path, opts.strict)?;
            tracing::info!("{}", report.summary());
            Some((path.clone(), products, report))
        }
        None => None,
    };

    // 3. Media tracks.
    let signals_path = dir.join(report::SIGNALS_FILE);
    let (media, cache_key) = media::tracks(
        &info,
        opts,
        &signals_path,
        &timelines.tracks,
        model_set,
        models_used,
        progress,
        &mut clock,
    )?;
    let (analysed_until_s, mut warnings) = media.readable_until(&info);
    if !opts.models.enabled {
        warnings.insert(
            0,
            format!(
                "{}: models disabled (--no-models): loudness, motion, comments and orders only",
                recording.display()
            ),
        );
    }
    for b in &info.timestamp_breaks {
        warnings.push(format!(
            "{}: its timestamps jump {:+.1} s at {:.1} s (a reconnect?); analysed and cut from \
             a copy with one timeline ({})",
            info.repaired_from.as_deref().unwrap_or(recording).display(),
            b.jump_s,
            b.at_s,
            info.path.display()
        ));
    }
    if info.audio.is_none() {
        warnings.insert(
            0,
            format!(
                "{}: no sound (video only): analysed from the picture, comments and orders; \
                 clips are rendered without sound",
                recording.display()
            ),
        );
    }
    for w in &warnings {
        tracing::warn!("{w}");
    }

    // 4. Score: every track on one curve, then the moments (first without speech: they
    //    say where to listen).
    progress(Progress::Stage("fuse"));
    let since = std::time::Instant::now();
    let mut all = media.tracks.clone();
    for t in &timelines.tracks.tracks {
        all.insert(t.clone());
    }
    let (derived, mut flagged) = signals::derive(&all, analysed_until_s);
    // A split session's joins: no clip spans two parts (the gap between them is not in
    // the recording).
    for p in info.parts.iter().skip(1) {
        flagged.push(signals::FlaggedSpan {
            kind: "part_join".into(),
            start_s: p.start_s,
            end_s: p.start_s,
        });
    }
    // Likewise a reconnect inside one file: the seconds around it were never recorded.
    for b in &info.timestamp_breaks {
        flagged.push(signals::FlaggedSpan {
            kind: "timestamp_break".into(),
            start_s: b.at_s,
            end_s: b.at_s,
        });
    }
    for t in derived {
        all.insert(t);
    }
    let unexamined = media
        .cascade
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
    clock.add("fuse", since);

    // 5. Speech: listen around the candidate moments and the chosen highlights, then
    //    score again with the spoken keywords and the sentences.
    let wants_speech = opts.models.transcribe != TranscribeMode::Off && info.audio.is_some();
    let recognizer = if wants_speech {
        progress(Progress::Stage("speech"));
        clock.time("speech", || model_set.load_speech())?
    } else {
        None
    };
    let transcript = match recognizer {
        Some(recognizer) => Some(clock.time("speech", || {
            score::listen(
                recognizer,
                &info,
                &scoring,
                &mut all,
                &mut scored,
                opts.models.transcribe,
            )
        })?),
        None => None,
    };
    // Rendering decodes frames again: the allocator's threshold for that.
    models::runtime::map_blocks_from(models::runtime::MMAP_THRESHOLD);
    // What an editor corrected in the previous transcript stays.
    let transcript = transcript.map(|mut t| {
        if let Some(old) = &previous {
            t.keep_edits(old);
        }
        t
    });
    for (k, v) in transcript.iter().flat_map(|t| &t.cost_seconds) {
        *model_set
            .seconds
            .entry(format!("speech_{k}"))
            .or_insert(0.0) += v;
    }

    let absent = crate::fuse::absent(&all, &opts.fuse, |track| {
        let from_sound = matches!(track, "loudness_momentary" | "audio_excitement")
            || track.starts_with("speech_");
        if from_sound && info.audio.is_none() {
            "the recording has no sound".into()
        } else if track.starts_with("comment") {
            "no comment export (--comments)".into()
        } else if track.starts_with("order") {
            "no order export (--orders)".into()
        } else if track.starts_with("speech_") && transcript.is_none() {
            "no transcript (--transcribe off or no speech model)".into()
        } else if !opts.models.enabled {
            "models disabled (--no-models)".into()
        } else {
            "nothing was measured".into()
        }
    });

    // 6. Classify: type, tags, what was said and what viewers wrote.
    let since = std::time::Instant::now();
    let Scored {
        curve,
        mut highlights,
        ..
    } = scored;
    // The product timeline (with a catalogue, or when orders name SKUs). With a catalogue
    // a highlight shows one product only (cut at the other products' stretches) and is
    // tagged with the product on air at its peak.
    let products =
        (catalogue.is_some() || !crate::products::skus_sold(&all).is_empty()).then(|| {
            crate::products::Build {
                catalogue,
                tracks: &all,
                duration_s: analysed_until_s,
                order_lag_s: curve.lag_of("orders"),
                speech: transcript.as_ref().map_or(&[][..], |t| &t.segments),
                screen: &all.screen_text,
            }
            .run()
        });
    clock.add("products", since);
    let since = std::time::Instant::now();
    // With a catalogue (products sold one after another) the highlights follow the
    // timeline; from orders alone (background sales of every SKU) it only informs.
    let follow = products.as_ref().filter(|p| p.source == "catalogue");
    if let Some(p) = follow.filter(|_| !opts.mixed_products) {
        for h in &mut highlights {
            (h.start_s, h.end_s) =
                crate::products::one_product((h.start_s, h.end_s), h.peak_s, &p.stretches);
        }
    }
    for h in &mut highlights {
        (h.kind, h.tags, h.type_evidence) = crate::classify::classify(h, &all, &curve);
        if let Some(t) = &transcript {
            let text = t.text_in(&h.span());
            crate::classify::add_speech_tags(h, &text, &opts.lexicon.speech);
            h.transcript = Some(text);
        }
    }
    if !highlights.is_empty() && !timelines.comments.is_empty() {
        // The comments inside the highlights' windows, shifted by the comment lag.
        let lag = curve.lag_of("comments");
        let windows = highlights
            .iter()
            .map(|h| crate::time::Span::new(h.start_s + lag, h.end_s + lag))
            .collect();
        let top = timelines.comments.top(windows, TOP_COMMENTS);
        for (h, comments) in highlights.iter_mut().zip(top) {
            h.top_comments = comments;
        }
    }
    if let Some(p) = follow {
        for h in &mut highlights {
            if let Some(sku) =
                crate::products::on_air(&p.stretches, h.peak_s).and_then(|s| s.sku.as_ref())
            {
                let tag = format!("sku:{sku}");
                if !h.tags.contains(&tag) {
                    h.tags.push(tag);
                }
            }
        }
    }
    for sku in follow.iter().flat_map(|p| &p.unknown_skus) {
        tracing::warn!("orders name SKU {sku}, which the product catalogue does not list");
    }
    clock.add("classify", since);

    // 7. Report.
    let since = std::time::Instant::now();
    for (name, secs) in &model_set.seconds {
        tracing::info!("{name}: {secs:.2} s");
    }
    let reused_cache = media.reused;
    let mut signals_file = SignalsFile {
        schema_version: report::SCHEMA_VERSION,
        cost_seconds: model_set.seconds.clone(),
        stage_seconds: BTreeMap::new(),
        cache_key,
        decode: media.decode,
        cascade: media.cascade,
        survey_flags: media.survey_flags,
        media: media.tracks,
        timelines: timelines.tracks,
    };
    let file = HighlightsFile {
        schema_version: report::SCHEMA_VERSION,
        generator: report::generator(),
        source: info,
        analysed_until_s,
        models: models_used.clone(),
        flagged,
        lags: curve.lags.clone(),
        absent,
        timelines: timelines.reports,
        warnings,
        fusion_weights: opts
            .fuse
            .signals
            .iter()
            .filter(|s| s.weight > 0.0)
            .map(|s| report::SignalWeight {
                signal: s.signal.clone(),
                weight: s.weight,
            })
            .collect(),
        highlights,
    };
    let curve_file = report::CurveFile::new(&curve, analysed_until_s);
    report::write_json(&dir.join(report::CURVE_FILE), &curve_file)?;
    let transcript_path = dir.join(crate::speech::TRANSCRIPT_FILE);
    match &transcript {
        Some(t) => report::write_json(&transcript_path, t)?,
        // An older transcript would describe another analysis, unless an editor
        // corrected it: that is never thrown away.
        None if previous.as_ref().is_some_and(|t| t.has_edits()) => {}
        None => {
            let _ = std::fs::remove_file(&transcript_path);
        }
    }
    let products_path = dir.join(crate::products::PRODUCTS_FILE);
    match &products {
        Some(p) => report::write_json(&products_path, p)?,
        None => {
            let _ = std::fs::remove_file(&products_path);
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
        products: products.as_ref(),
    })?;
    clock.add("report", since);
    signals_file.stage_seconds = clock.0;
    report::write_json(&signals_path, &signals_file)?;
    Ok(Analysis {
        dir,
        highlights_path,
        highlights: file,
        reused_cache,
    })
}

/// The probe stage: what the recording is, with its start (`--start`, the container's
/// `creation_time`, a recorder's danmaku XML header, the file name: see
/// [`timelines::start`]).
fn probe(recording: &Path, opts: &AnalyzeOptions, dir: &Path) -> Result<MediaInfo> {
    let info = crate::media::probe_with(recording, opts.audio_track)?;
    let info = repair_breaks(info, opts, dir)?;
    if let Some(a) = info.audio.as_ref().filter(|_| info.audio_tracks > 1) {
        tracing::warn!(
            "{}: {} audio tracks; using track {} (stream #{}, {}, {} channel(s)){}",
            recording.display(),
            info.audio_tracks,
            opts.audio_track.unwrap_or(1),
            a.index,
            a.codec,
            a.channels,
            if opts.audio_track.is_none() {
                "; choose another with --audio-track N"
            } else {
                ""
            }
        );
    }
    let start = timelines::start::resolve(
        opts.start,
        info.creation_time,
        opts.comments.as_deref(),
        recording,
        &opts.tz,
    )?;
    if let Some(s) = &start {
        tracing::info!("recording start {} (from {})", s.at, s.source);
    }
    // A split session starts with its first part.
    let parts = crate::session::parts_of(recording);
    let start = match parts.first() {
        Some(first) if opts.start.is_none() => {
            first
                .started_at
                .map(|at| crate::timelines::start::RecordingStart {
                    at,
                    source: format!(
                        "first part {}: {}",
                        first.path.display(),
                        first.start_source.as_deref().unwrap_or("?")
                    ),
                })
        }
        _ => start,
    };
    Ok(MediaInfo {
        path: match &info.repaired_from {
            Some(_) => info.path.clone(),
            None => std::fs::canonicalize(recording).unwrap_or_else(|_| recording.to_path_buf()),
        },
        creation_time: start.as_ref().map(|s| s.at),
        start_source: start.map(|s| s.source),
        parts,
        ..info
    })
}

/// A recorder file whose timestamps reset or leap: analysed (and cut) from a copy with
/// one monotonic timeline in the output folder (`repaired.mkv`, made again when the
/// recording is newer); others as they are.
fn repair_breaks(info: MediaInfo, opts: &AnalyzeOptions, dir: &Path) -> Result<MediaInfo> {
    if !crate::media::may_break(&info) {
        return Ok(info);
    }
    let breaks = crate::media::timestamp_breaks(&info)?;
    if breaks.is_empty() {
        return Ok(info);
    }
    let repaired =
        std::path::absolute(dir.join("repaired.mkv")).unwrap_or(dir.join("repaired.mkv"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = matches!(
        (modified(&repaired), modified(&info.path)),
        (Some(r), Some(o)) if r >= o
    );
    if !fresh {
        std::fs::create_dir_all(dir).map_err(|e| PipelineError::Input {
            path: dir.to_path_buf(),
            message: format!("cannot create the output folder ({e})"),
        })?;
        let pending =
            crate::fsutil::PendingFile::new(&repaired).map_err(|e| PipelineError::Input {
                path: repaired.clone(),
                message: format!("cannot write ({e})"),
            })?;
        crate::media::remux_monotonic(&info, pending.path())?;
        pending.commit().map_err(|e| PipelineError::Input {
            path: repaired.clone(),
            message: format!("cannot write ({e})"),
        })?;
    }
    for b in &breaks {
        tracing::warn!(
            "{}: timestamps jump {:+.1} s at {:.1} s (a reconnect?); analysed from {} with \
             one timeline",
            info.path.display(),
            b.jump_s,
            b.at_s,
            repaired.display()
        );
    }
    let fixed = crate::media::probe_with(&repaired, opts.audio_track)?;
    Ok(MediaInfo {
        creation_time: info.creation_time.or(fixed.creation_time),
        timestamp_breaks: breaks,
        repaired_from: Some(info.path.clone()),
        ..fixed
    })
}

/// What the timelines stage read.
struct Exports {
    /// Per-second comment and order tracks.
    tracks: SignalSet,
    reports: Vec<ParseReport>,
    /// The text comments, for each highlight's top comments.
    comments: CommentLog,
}

/// The timelines stage: each export read once.
fn read_exports(
    comments: Option<&Path>,
    orders: Option<&Path>,
    ctx: &ReadContext,
    lexicon: &Lexicon,
) -> Result<Exports> {
    let mut log = CommentLog::default();
    let (tracks, reports) = read_timelines_into(comments, orders, ctx, lexicon, Some(&mut log))?;
    for r in &reports {
        tracing::info!("{}", r.summary());
    }
    Ok(Exports {
        tracks,
        reports,
        comments: log,
    })
}

/// Read the comment and order exports into per-second tracks.
pub fn read_timelines(
    comments: Option<&Path>,
    orders: Option<&Path>,
    ctx: &ReadContext,
    lexicon: &Lexicon,
) -> Result<(SignalSet, Vec<ParseReport>)> {
    read_timelines_into(comments, orders, ctx, lexicon, None)
}

/// [`read_timelines`], also keeping the text comments in `log`.
fn read_timelines_into(
    comments: Option<&Path>,
    orders: Option<&Path>,
    ctx: &ReadContext,
    lexicon: &Lexicon,
    mut log: Option<&mut CommentLog>,
) -> Result<(SignalSet, Vec<ParseReport>)> {
    let mut set = SignalSet::default();
    let mut reports = Vec::new();
    if let Some(path) = comments {
        let mut agg = CommentAggregator::new(ctx.duration_s, lexicon.clone());
        let mut report = timelines::read_comments(path, ctx, &mut |c| {
            agg.push(&c);
            if let Some(log) = log.as_deref_mut() {
                log.push(&c);
            }
        })?;
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
