//! Platform clips: exact re-encoded cuts through libav* for every platform preset, with
//! 9:16 reframing that follows the host, loudness normalisation, covers and titles.

pub mod encode;
pub mod presets;
pub mod reframe;

use std::path::PathBuf;

use ffmpeg_next as ffmpeg;

use crate::media::MediaError;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("{path}: {what}: {source}")]
    Ffmpeg {
        path: PathBuf,
        what: String,
        #[source]
        source: ffmpeg::Error,
    },
    #[error("{path}: no audio stream to render")]
    NoAudio { path: PathBuf },
    #[error("{path}: no video stream to render")]
    NoVideo { path: PathBuf },
    #[error("{path}: no frames in {start_s:.3}–{end_s:.3} s; nothing to render")]
    EmptySpan {
        path: PathBuf,
        start_s: f64,
        end_s: f64,
    },
    #[error("{path}: loudness measurement: {message}")]
    Loudness { path: PathBuf, message: String },
    #[error("encoder {name}: {message}")]
    Encoder { name: String, message: String },
    #[error("--device cuda: {message}")]
    Cuda { message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::fsutil::{sha256_file, PendingFile};
use crate::media::MediaInfo;
use crate::models::Device;
use crate::time::Span;
use encode::{AudioPlan, Engine, OutputPlan, VideoPlan};
use presets::{Framing, Preset};
use reframe::{Observation, ReframeSettings};

/// Fonts tried for title burn-in (Debian's fonts-noto-cjk, installed by set-up).
pub const TITLE_FONTS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
];

/// How clips are rendered (shared by every platform of a run).
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub device: Device,
    /// `follow` or `pad` for the vertical presets (their own default when absent).
    pub framing: Option<Framing>,
    /// Burn the suggested title into the picture.
    pub titles: bool,
    /// libx264 speed preset.
    pub x264_preset: String,
    pub reframe: ReframeSettings,
    /// `--subtitles` (absent: each preset's own choice, [`Preset::subtitle_mode`]).
    pub subtitles: Option<crate::subtitles::SubtitleMode>,
    pub subtitle_style: crate::subtitles::SubtitleStyle,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            device: Device::Auto,
            framing: None,
            titles: false,
            x264_preset: "veryfast".into(),
            reframe: ReframeSettings::default(),
            subtitles: None,
            subtitle_style: Default::default(),
        }
    }
}

/// One rendered file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RenderedClip {
    pub platform: String,
    pub path: PathBuf,
    pub span: Span,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub framing: String,
    /// The encoder that wrote the video (libx264, h264_nvenc, or "copy").
    pub encoder: String,
    /// Codecs in the file (the source's for a stream copy); no audio codec: no sound.
    pub video_codec: String,
    pub audio_codec: Option<String>,
    pub bytes: u64,
    pub sha256: String,
    pub cover: Option<PathBuf>,
    /// Largest frame-to-frame movement of the 9:16 crop window, pixels of the source.
    pub crop_max_step_px: Option<f64>,
    /// The clip's subtitle files (none: `--subtitles off`, or no transcript).
    #[serde(default)]
    pub subtitles: Option<crate::subtitles::ClipSubtitles>,
}

/// `<rank>_<platform>.crop.json`: where the 9:16 window sat in the source, frame by frame
/// (times in seconds of the recording).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CropTrack {
    pub source_width: u32,
    pub source_height: u32,
    pub clip_start_s: f64,
    /// Face detections the path was planned from (0: no face track, the crop is centred).
    pub face_observations: usize,
    /// The documented bound on frame-to-frame movement (max_speed × crop width / fps).
    pub step_bound_px: f64,
    pub max_step_px: f64,
    pub path: reframe::CropPath,
}

/// Which encoder a render uses, and why (for the log and the manifest).
pub fn choose_engine(device: Device) -> Result<(Engine, String), RenderError> {
    let nvenc = || ffmpeg::encoder::find_by_name("h264_nvenc").is_some();
    let gpu_present = Path::new("/dev/nvidia0").exists();
    match device {
        Device::Cpu => Ok((Engine::Cpu, "libx264 (--device cpu)".into())),
        Device::Cuda => {
            if !nvenc() {
                return Err(RenderError::Cuda {
                    message: "this FFmpeg build has no h264_nvenc encoder".into(),
                });
            }
            if !gpu_present {
                return Err(RenderError::Cuda {
                    message: "no NVIDIA GPU (/dev/nvidia0 is missing)".into(),
                });
            }
            Ok((Engine::Cuda, "h264_nvenc + NVDEC (--device cuda)".into()))
        }
        Device::Auto if nvenc() && gpu_present => Ok((
            Engine::Cuda,
            "h264_nvenc + NVDEC (auto: NVIDIA GPU found)".into(),
        )),
        Device::Auto => Ok((Engine::Cpu, "libx264 (auto: no NVIDIA GPU)".into())),
    }
}

/// The span a platform gets for a highlight: shortened around the peak (60 % before it)
/// when longer than the platform allows, lengthened (two thirds before) when shorter.
pub fn platform_span(span: Span, peak_s: f64, p: &Preset, duration_s: f64) -> Span {
    let len = span.duration();
    let out = if len > p.max_duration_s {
        let start = (peak_s - 0.6 * p.max_duration_s)
            .max(span.start_s)
            .min(span.end_s - p.max_duration_s);
        Span::new(start, start + p.max_duration_s)
    } else if len < p.min_duration_s {
        let missing = p.min_duration_s - len;
        Span::new(
            span.start_s - missing * 2.0 / 3.0,
            span.end_s + missing / 3.0,
        )
    } else {
        span
    };
    let shift = (-out.start_s).max(0.0) - (out.end_s - duration_s).max(0.0);
    Span::new(
        (out.start_s + shift).max(0.0),
        (out.end_s + shift).min(duration_s),
    )
}

/// Escape a path for a filter option value inside a filter graph description.
fn filter_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\\\\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Everything a render needs about one highlight.
#[derive(Debug)]
pub struct ClipRequest<'a> {
    /// File names are `<stem>_<platform>.mp4` (`stem`: the rank, or `product_<sku>`).
    pub stem: &'a str,
    pub span: Span,
    pub peak_s: f64,
    /// Suggested titles, best first ([`crate::titles::candidates`]); `--titles` burns the
    /// first that fits the platform.
    pub titles: &'a [String],
    /// The host's face over the recording (empty without models).
    pub faces: &'a [Observation],
    /// The transcript's segments (recording seconds; empty: no subtitles).
    pub segments: &'a [crate::speech::Segment],
}

/// An earlier cut's subtitle files of `stem` go when this cut has none (a stale `.srt`
/// beside a clip would be published with it).
fn remove_subtitle_files(dir: &Path, stem: &str) {
    for ext in ["srt", "vtt"] {
        let _ = std::fs::remove_file(dir.join(format!("{stem}.{ext}")));
    }
}

/// Write the `.srt` and `.vtt` of the clip `span` (recording seconds) as
/// `<stem>.srt`/`.vtt` in `dir` (atomically), and return the cues with the files; `None`
/// when the transcript says nothing inside the clip.
fn subtitle_files(
    segments: &[crate::speech::Segment],
    span: Span,
    layout: &crate::subtitles::Layout,
    dir: &Path,
    stem: &str,
    burned: bool,
) -> Result<Option<(Vec<crate::subtitles::Cue>, crate::subtitles::ClipSubtitles)>, RenderError> {
    let srt = dir.join(format!("{stem}.srt"));
    let vtt = dir.join(format!("{stem}.vtt"));
    let cues = crate::subtitles::cues(segments, span, layout);
    if cues.is_empty() {
        remove_subtitle_files(dir, stem);
        return Ok(None);
    }
    for (path, text) in [
        (&srt, crate::subtitles::srt(&cues)),
        (&vtt, crate::subtitles::vtt(&cues)),
    ] {
        crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|source| RenderError::Io {
            path: path.clone(),
            source,
        })?;
    }
    let files = crate::subtitles::ClipSubtitles {
        srt,
        vtt,
        burned,
        cues: cues.len(),
        missing_glyphs: Vec::new(),
    };
    Ok(Some((cues, files)))
}

/// Render one highlight for `platforms` into `clips_dir` (`<rank>_<platform>.mp4` and
/// `<rank>_<platform>.jpg`). Platforms with the same span share one decode.
pub fn render_highlight(
    info: &MediaInfo,
    req: &ClipRequest<'_>,
    platforms: &[&Preset],
    opts: &RenderOptions,
    engine: Engine,
    clips_dir: &Path,
) -> Result<Vec<RenderedClip>, RenderError> {
    std::fs::create_dir_all(clips_dir).map_err(|source| RenderError::Io {
        path: clips_dir.to_path_buf(),
        source,
    })?;
    let vinfo = info.video.as_ref().ok_or_else(|| RenderError::NoVideo {
        path: info.path.clone(),
    })?;
    let scratch = tempfile::tempdir().map_err(|source| RenderError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let font = TITLE_FONTS.iter().map(Path::new).find(|p| p.exists());
    let has_host = |t: f64| {
        req.faces.is_empty()
            || req
                .faces
                .iter()
                .any(|o| (o.t - t).abs() <= 1.5 && o.score > 0.0)
    };
    let mut out = Vec::new();
    // Copy presets: stream copy as before.
    for p in platforms.iter().filter(|p| p.mode == presets::Mode::Copy) {
        let span = platform_span(req.span, req.peak_s, p, info.duration_s);
        let dest = clips_dir.join(format!("{}_{}.mp4", req.stem, p.name));
        let clip = crate::cut::stream_copy(info, span, &dest).map_err(|e| match e {
            crate::cut::CutError::Media(m) => RenderError::Media(m),
            other => RenderError::Encoder {
                name: "copy".into(),
                message: other.to_string(),
            },
        })?;
        // A stream copy keeps the source's picture: files only, never burned.
        let subtitles = match p.subtitle_mode(opts.subtitles) {
            crate::subtitles::SubtitleMode::Off => {
                remove_subtitle_files(clips_dir, &format!("{}_{}", req.stem, p.name));
                None
            }
            _ => {
                let layout =
                    crate::subtitles::Layout::new(vinfo.width, vinfo.height, &opts.subtitle_style);
                let stem = format!("{}_{}", req.stem, p.name);
                subtitle_files(req.segments, clip.span, &layout, clips_dir, &stem, false)?
                    .map(|(_, f)| f)
            }
        };
        out.push(RenderedClip {
            platform: p.name.clone(),
            path: clip.path,
            span: clip.span,
            width: vinfo.width,
            height: vinfo.height,
            fps: vinfo.fps,
            framing: "source".into(),
            encoder: "copy".into(),
            video_codec: clip.video_codec,
            audio_codec: clip.audio_codec,
            bytes: clip.bytes,
            sha256: clip.sha256,
            cover: None,
            crop_max_step_px: None,
            subtitles,
        });
    }
    // Encoded presets, grouped by span.
    let encoded: Vec<&Preset> = platforms
        .iter()
        .copied()
        .filter(|p| p.mode == presets::Mode::Encode)
        .collect();
    let mut groups: Vec<(Span, Vec<&Preset>)> = Vec::new();
    for p in encoded {
        let span = platform_span(req.span, req.peak_s, p, info.duration_s);
        match groups.iter_mut().find(|(s, _)| {
            (s.start_s - span.start_s).abs() < 1e-6 && (s.end_s - span.end_s).abs() < 1e-6
        }) {
            Some((_, g)) => g.push(p),
            None => groups.push((span, vec![p])),
        }
    }
    for (span, group) in groups {
        // Without sound (a video-only recording) the clips have none either.
        let measured = match info.audio {
            Some(_) => Some(encode::measure_loudness(info, span)?),
            None => None,
        };
        // Gains already settled in this group, by (target LUFS, ceiling dB, sample rate).
        let mut settled: Vec<((f64, f64, u32), f64)> = Vec::new();
        let mut plans = Vec::new();
        let mut pendings = Vec::new();
        let mut meta = Vec::new();
        for (k, p) in group.iter().enumerate() {
            let fps = p.output_fps(vinfo.fps);
            let framing = match (opts.framing, p.framing) {
                (Some(f), Framing::Follow | Framing::Pad) => f,
                (_, f) => f,
            };
            let (w, h) = (p.width, p.height);
            let mut crop_step = None;
            let mut filters = match framing {
                Framing::Follow => {
                    let path = reframe::plan(
                        req.faces,
                        vinfo.width,
                        vinfo.height,
                        (w, h),
                        (span.start_s, span.end_s),
                        fps,
                        &opts.reframe,
                    );
                    crop_step = Some(path.max_step_px());
                    // The crop track beside the clip (editors and tests read it).
                    let track = CropTrack {
                        source_width: vinfo.width,
                        source_height: vinfo.height,
                        clip_start_s: span.start_s,
                        face_observations: req
                            .faces
                            .iter()
                            .filter(|o| o.t >= span.start_s - 5.0 && o.t <= span.end_s + 5.0)
                            .count(),
                        step_bound_px: opts.reframe.step_bound_px(f64::from(path.crop_w), fps),
                        max_step_px: path.max_step_px(),
                        path: path.clone(),
                    };
                    let track_path = clips_dir.join(format!("{}_{}.crop.json", req.stem, p.name));
                    crate::report::write_json(&track_path, &track).map_err(|e| {
                        RenderError::Io {
                            path: track_path.clone(),
                            source: std::io::Error::other(e.to_string()),
                        }
                    })?;
                    let cmd_file = scratch.path().join(format!("reframe-{k}.cmd"));
                    std::fs::write(&cmd_file, path.sendcmd("crop@rf", span.start_s)).map_err(
                        |source| RenderError::Io {
                            path: cmd_file.clone(),
                            source,
                        },
                    )?;
                    let (x0, y0) = path.at(span.start_s);
                    format!(
                        "sendcmd=f={},crop@rf=w={}:h={}:x={}:y={},scale={w}:{h}:flags=bicubic",
                        filter_path(&cmd_file),
                        path.crop_w,
                        path.crop_h,
                        x0.round(),
                        y0.round()
                    )
                }
                Framing::Pad => format!(
                    "split[fg0][bg0];[bg0]scale={w}:{h}:force_original_aspect_ratio=increase,\
                     crop={w}:{h},boxblur=luma_radius=20:luma_power=2[bg];\
                     [fg0]scale={w}:{h}:force_original_aspect_ratio=decrease[fg];\
                     [bg][fg]overlay=(W-w)/2:(H-h)/2"
                ),
                Framing::Fit => format!(
                    "scale={w}:{h}:force_original_aspect_ratio=decrease,\
                     pad={w}:{h}:(ow-iw)/2:(oh-ih)/2"
                ),
            };
            // The first suggested title that is within the platform's length and fits
            // on one line (a CJK character is about one font size wide).
            let size = (w.min(h) / 14).max(16);
            let one_line = (f64::from(w) * 0.9 / f64::from(size)) as usize;
            let title = crate::titles::fit(req.titles, p.title_max_chars.min(one_line))
                .into_iter()
                .next();
            if let (true, Some(title), Some(font)) = (opts.titles, title, font) {
                let text_file = scratch.path().join(format!("title-{k}.txt"));
                std::fs::write(&text_file, title).map_err(|source| RenderError::Io {
                    path: text_file.clone(),
                    source,
                })?;
                filters.push_str(&format!(
                    ",drawtext=fontfile={}:textfile={}:fontsize={size}:fontcolor=white:\
                     box=1:boxcolor=black@0.55:boxborderw={}:x=(w-text_w)/2:y=h*0.08",
                    filter_path(font),
                    filter_path(&text_file),
                    size / 3
                ));
            }
            let mode = p.subtitle_mode(opts.subtitles);
            let subtitles = if mode == crate::subtitles::SubtitleMode::Off {
                remove_subtitle_files(clips_dir, &format!("{}_{}", req.stem, p.name));
                None
            } else {
                let style = crate::subtitles::SubtitleStyle {
                    bottom: p.subtitle_bottom,
                    ..opts.subtitle_style.clone()
                };
                let layout = crate::subtitles::Layout::new(w, h, &style);
                let stem = format!("{}_{}", req.stem, p.name);
                let burn = mode == crate::subtitles::SubtitleMode::Burn;
                match subtitle_files(req.segments, span, &layout, clips_dir, &stem, burn)? {
                    Some((cues, mut files)) => {
                        if burn {
                            let missing = TITLE_FONTS
                                .iter()
                                .find_map(|p| std::fs::read(p).ok())
                                .and_then(|data| {
                                    crate::subtitles::missing_glyphs(&data, &style.font, &cues)
                                })
                                .unwrap_or_default();
                            if !missing.is_empty() {
                                tracing::warn!(
                                    "{stem}: the subtitle font {} has no glyph for {}; \
                                     libass draws them from another font or as boxes",
                                    style.font,
                                    missing.iter().collect::<String>()
                                );
                            }
                            files.missing_glyphs = missing.iter().map(|c| c.to_string()).collect();
                            let ass_file = scratch.path().join(format!("subtitles-{k}.ass"));
                            std::fs::write(
                                &ass_file,
                                crate::subtitles::ass(&cues, &layout, &style),
                            )
                            .map_err(|source| RenderError::Io {
                                path: ass_file.clone(),
                                source,
                            })?;
                            filters.push_str(&format!(",ass=filename={}", filter_path(&ass_file)));
                        }
                        Some(files)
                    }
                    None => None,
                }
            };
            let dest = clips_dir.join(format!("{}_{}.mp4", req.stem, p.name));
            let pending = PendingFile::new(&dest).map_err(|source| RenderError::Io {
                path: dest.clone(),
                source,
            })?;
            // Bitrate within the size cap: video + audio at peak rate, 3 % container.
            let budget_bps = (p.max_bytes as f64 * 8.0 / span.duration().max(1.0) / 1.03) as u64;
            let audio_bps = u64::from(p.audio_bitrate_kbps) * 1000;
            let maxrate = (u64::from(p.video_maxrate_kbps) * 1000)
                .min(budget_bps.saturating_sub(audio_bps))
                .max(200_000);
            let bitrate = (u64::from(p.video_bitrate_kbps) * 1000).min(maxrate);
            let audio = match &measured {
                Some(measured) => Some(audio_plan(
                    info,
                    span,
                    p,
                    audio_bps,
                    measured,
                    &mut settled,
                )?),
                None => None,
            };
            let peak_rel = req.peak_s - span.start_s;
            plans.push(OutputPlan {
                path: pending.path().to_path_buf(),
                video: VideoPlan {
                    width: w,
                    height: h,
                    fps,
                    filters,
                    profile: p.video_profile.clone(),
                    level: p.video_level.clone(),
                    bitrate,
                    maxrate,
                    bufsize: u64::from(p.video_bufsize_kbps) * 1000,
                    gop: p.gop_frames(fps),
                    x264_preset: opts.x264_preset.clone(),
                },
                audio,
                cover_window: Some(((peak_rel - 3.0).max(0.0), peak_rel + 3.0)),
            });
            pendings.push((dest, pending));
            meta.push((p, fps, framing, crop_step, subtitles));
        }
        let results = encode::encode_span(info, span, plans, engine, &has_host)?;
        for ((res, (dest, pending)), (p, fps, framing, crop_step, subtitles)) in
            results.into_iter().zip(pendings).zip(meta)
        {
            let io = |source| RenderError::Io {
                path: dest.clone(),
                source,
            };
            pending.commit().map_err(io)?;
            let bytes = std::fs::metadata(&dest).map_err(io)?.len();
            if bytes > p.max_bytes {
                let _ = std::fs::remove_file(&dest);
                return Err(RenderError::Encoder {
                    name: engine.encoder_name().into(),
                    message: format!(
                        "{}: {bytes} bytes is over {}'s cap of {}",
                        dest.display(),
                        p.name,
                        p.max_bytes
                    ),
                });
            }
            let cover = match res.cover {
                Some((_, img)) => {
                    let jpg = dest.with_extension("jpg");
                    let mut buf = std::io::Cursor::new(Vec::new());
                    img.write_to(&mut buf, image::ImageFormat::Jpeg)
                        .map_err(|e| io(std::io::Error::other(e)))?;
                    crate::fsutil::write_atomic(&jpg, buf.get_ref()).map_err(io)?;
                    Some(jpg)
                }
                None => None,
            };
            let sha256 = sha256_file(&dest).map_err(io)?;
            out.push(RenderedClip {
                platform: p.name.clone(),
                path: dest.clone(),
                span,
                width: p.width,
                height: p.height,
                fps,
                framing: format!("{framing:?}").to_lowercase(),
                encoder: engine.encoder_name().into(),
                video_codec: "h264".into(),
                audio_codec: info.audio.as_ref().map(|_| "aac".into()),
                bytes,
                sha256,
                cover,
                crop_max_step_px: crop_step,
                subtitles,
            });
        }
    }
    Ok(out)
}

/// The audio side of a preset's output: gain to the preset's loudness from the span's
/// measurement, then (pass two) measure what the limiter and fades leave and correct the
/// gain (more gain means more limiting, so up to three rounds). Presets with the same
/// target share the result through `settled` (by target LUFS, ceiling dB, sample rate).
fn audio_plan(
    info: &MediaInfo,
    span: Span,
    p: &Preset,
    bitrate: u64,
    measured: &encode::Loudness,
    settled: &mut Vec<((f64, f64, u32), f64)>,
) -> Result<AudioPlan, RenderError> {
    let mut audio = AudioPlan {
        sample_rate: p.audio_sample_rate,
        bitrate,
        gain_db: (p.loudness_lufs - measured.integrated_lufs).clamp(-40.0, 40.0),
        ceiling_db: p.true_peak_dbtp - 1.5,
        fade_s: 0.25,
    };
    if !measured.integrated_lufs.is_finite() {
        audio.gain_db = 0.0;
    }
    let key = (p.loudness_lufs, audio.ceiling_db, audio.sample_rate);
    match settled.iter().find(|(k, _)| *k == key) {
        Some((_, gain)) => audio.gain_db = *gain,
        None => {
            for _ in 0..3 {
                let after = encode::measure_processed(info, span, &audio)?;
                let miss = p.loudness_lufs - after.integrated_lufs;
                if !miss.is_finite() || miss.abs() < 0.2 {
                    break;
                }
                audio.gain_db = (audio.gain_db + miss).clamp(-40.0, 40.0);
            }
            settled.push((key, audio.gain_db));
        }
    }
    Ok(audio)
}
