//! The media stage: the recording's signal tracks — from the cache when the recording and
//! the settings are the same, else through the cascade (survey → candidates → detail) or
//! one full pass — and what reading it showed (truncation, corrupt packets).

use std::path::Path;

use sha2::{Digest, Sha256};

use super::{AnalyzeOptions, ModelsUsed, PipelineError, Progress, ProgressSink, StageClock};
use crate::cascade::{self, CascadeReport, CascadeSettings};
use crate::media::{self, DecodeOptions, MediaInfo};
use crate::report::{self, SignalsFile};
use crate::signals::{self, ModelSet, SignalSet};

type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// The decode settings of an analysis: NVDEC as the device says, RGB frames for the models.
pub(super) fn decode_options(opts: &AnalyzeOptions) -> DecodeOptions {
    let mut decode = opts.decode.clone();
    decode.nvdec = match opts.models.device {
        crate::models::Device::Cpu => media::Nvdec::Off,
        crate::models::Device::Auto => media::Nvdec::Prefer,
        crate::models::Device::Cuda => media::Nvdec::Require,
    };
    if opts.models.enabled {
        // Frames wide enough for on-screen text; the face model scales them down itself.
        decode.rgb_width = Some(640);
        decode.rgb_fps = opts.models.face_fps;
    }
    decode
}

/// The media tracks of `info`: the cached ones in `signals_path` when they match, else
/// the cascade or one full pass.
#[allow(clippy::too_many_arguments)]
pub(super) fn tracks(
    info: &MediaInfo,
    opts: &AnalyzeOptions,
    signals_path: &Path,
    timelines: &SignalSet,
    model_set: &mut ModelSet,
    models_used: &ModelsUsed,
    progress: ProgressSink<'_>,
    clock: &mut StageClock,
) -> Result<(MediaTracks, String)> {
    let decode = decode_options(opts);
    let use_cascade = opts.cascade.worth_it(info.duration_s) && !decode.keyframes_only;
    let key = cache_key(
        info,
        &decode,
        models_used,
        use_cascade.then_some(&opts.cascade),
    );
    let cached = report::read_signals(signals_path).filter(|s| s.cache_key == key);
    let media = if use_cascade {
        cascade_tracks(
            info, &decode, opts, timelines, cached, model_set, progress, clock,
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
                model_set.load_media()?;
                let total_s = info.duration_s;
                let on_media = |done_s: f64| progress(Progress::Media { done_s, total_s });
                let (tracks, decode) =
                    signals::extract_media_tracks(info, &decode, model_set, &on_media)?;
                clock.add("decode", since);
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
    Ok((media, key))
}

impl MediaTracks {
    /// How much of the recording could be read, and the warnings reading it gave.
    pub(super) fn readable_until(&self, info: &MediaInfo) -> (f64, Vec<String>) {
        let mut warnings = Vec::new();
        let stats = &self.decode;
        let mut until = info.duration_s;
        let short = stats.decoded_until_s + (0.02 * info.duration_s).max(2.0) < info.duration_s;
        if stats.read_error.is_some() || short {
            let why = stats.read_error.as_deref().unwrap_or("data ends early");
            warnings.push(format!(
                "{}: reading stopped at {:.1} s of {:.1} s ({why}); the file looks truncated, \
                 highlights come from the readable part",
                info.path.display(),
                stats.decoded_until_s,
                info.duration_s
            ));
            until = stats.decoded_until_s.min(info.duration_s);
        }
        if stats.corrupt_packets > 0 {
            warnings.push(format!(
                "{}: {} corrupt packets skipped",
                info.path.display(),
                stats.corrupt_packets
            ));
        }
        (until, warnings)
    }
}

/// The media tracks of one analysis and where they came from.
pub(super) struct MediaTracks {
    pub tracks: SignalSet,
    /// Of the whole-recording pass (the survey, with the cascade).
    pub decode: media::DecodeStats,
    pub cascade: Option<CascadeReport>,
    /// The survey's own picture flags (the merged tracks hold the detail's inside the
    /// windows); with the merged tracks they give back the survey for a rerun.
    pub survey_flags: Vec<signals::Track>,
    pub reused: bool,
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
    clock: &mut StageClock,
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
    clock.add("survey", since);

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
    clock.add("candidates", since);
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
    model_set.load_media()?;
    let (detail, detail_stats) = cascade::detail(info, &dense, &windows, model_set, &on_media)?;
    clock.add("detail", since);
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
