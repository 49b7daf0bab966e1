//! Probe a recording: streams, duration, first presentation time, `creation_time`.

use std::path::{Path, PathBuf};

use ffmpeg_next as ffmpeg;
use serde::{Deserialize, Serialize};

use super::MediaError;
use crate::time::TimeBase;

/// What livecut knows about a recording before decoding it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MediaInfo {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub container: String,
    /// Duration in seconds (container duration, or the longest stream).
    pub duration_s: f64,
    /// The recording's first presentation time in the container's clock; every time
    /// livecut reports is relative to it.
    pub start_time_s: f64,
    /// The container's `creation_time` tag (UTC), when present; after analysis, the
    /// recording's start from whichever source gave it (`start_source`).
    pub creation_time: Option<jiff::Timestamp>,
    /// Where `creation_time` came from (`--start`, `creation_time`, a recorder's header,
    /// the file name); absent when unknown or not yet resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_source: Option<String>,
    pub video: Option<VideoInfo>,
    /// The audio track analysed and cut (the first, or `--audio-track N`).
    pub audio: Option<AudioInfo>,
    /// How many audio tracks the recording has (written when more than one).
    #[serde(default = "one", skip_serializing_if = "at_most_one")]
    pub audio_tracks: usize,
}

fn one() -> usize {
    1
}

fn at_most_one(n: &usize) -> bool {
    *n <= 1
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VideoInfo {
    pub index: usize,
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// Average frame rate in frames per second.
    pub fps: f64,
    pub time_base: TimeBase,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AudioInfo {
    pub index: usize,
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub time_base: TimeBase,
}

pub(crate) fn tb(r: ffmpeg::Rational) -> TimeBase {
    TimeBase::new(r.numerator(), r.denominator())
}

/// Open a file with libavformat, mapping the common failures to clear errors.
pub fn open_input(path: &Path) -> Result<ffmpeg::format::context::Input, MediaError> {
    super::init();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => MediaError::NotFound {
            path: path.to_path_buf(),
        },
        _ => MediaError::Io {
            path: path.to_path_buf(),
            source: e,
        },
    })?;
    if meta.len() == 0 {
        return Err(MediaError::Empty {
            path: path.to_path_buf(),
        });
    }
    ffmpeg::format::input(path).map_err(|source| MediaError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// Probe `path`. Fails when the file cannot be opened or lacks a video or audio stream.
/// With several audio tracks (OBS writes microphone and desktop sound as two) the first
/// is used; see [`probe_with`].
pub fn probe(path: &Path) -> Result<MediaInfo, MediaError> {
    probe_with(path, None)
}

/// [`probe`], using the `audio_track`-th audio track (1-based, in stream order) when
/// given. `audio_tracks` in the result counts them.
pub fn probe_with(path: &Path, audio_track: Option<usize>) -> Result<MediaInfo, MediaError> {
    let ictx = open_input(path)?;
    let size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let container = ictx.format().name().to_string();

    let mut video = None;
    let mut audios: Vec<AudioInfo> = Vec::new();
    let mut start_time_s = f64::INFINITY;
    let mut longest_stream_s: f64 = 0.0;
    for stream in ictx.streams() {
        let params = stream.parameters();
        let medium = params.medium();
        let is_av = matches!(
            medium,
            ffmpeg::media::Type::Video | ffmpeg::media::Type::Audio
        );
        if !is_av {
            continue;
        }
        let time_base = tb(stream.time_base());
        if stream.start_time() != ffmpeg::ffi::AV_NOPTS_VALUE {
            start_time_s = start_time_s.min(time_base.to_secs(stream.start_time()));
        }
        if stream.duration() > 0 {
            longest_stream_s = longest_stream_s.max(time_base.to_secs(stream.duration()));
        }
        let codec = params.id().name().to_string();
        let ctx = ffmpeg::codec::Context::from_parameters(params).map_err(|source| {
            MediaError::Codec {
                path: path.to_path_buf(),
                what: format!("stream {}", stream.index()),
                source,
            }
        })?;
        match medium {
            ffmpeg::media::Type::Video if video.is_none() => {
                let Ok(dec) = ctx.decoder().video() else {
                    continue;
                };
                let rate = stream.avg_frame_rate();
                let fps = if rate.denominator() != 0 && rate.numerator() > 0 {
                    f64::from(rate)
                } else {
                    let r = stream.rate();
                    if r.denominator() != 0 {
                        f64::from(r)
                    } else {
                        0.0
                    }
                };
                video = Some(VideoInfo {
                    index: stream.index(),
                    codec,
                    width: dec.width(),
                    height: dec.height(),
                    fps,
                    time_base,
                });
            }
            ffmpeg::media::Type::Audio => {
                let Ok(dec) = ctx.decoder().audio() else {
                    continue;
                };
                audios.push(AudioInfo {
                    index: stream.index(),
                    codec,
                    sample_rate: dec.rate(),
                    channels: dec.channels(),
                    time_base,
                });
            }
            _ => {}
        }
    }
    if !start_time_s.is_finite() {
        start_time_s = 0.0;
    }
    let container_duration = ictx.duration();
    let duration_s = if container_duration > 0 {
        container_duration as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE)
    } else {
        longest_stream_s
    };
    let creation_time = ictx
        .metadata()
        .get("creation_time")
        .and_then(|s| s.parse::<jiff::Timestamp>().ok());
    let audio_tracks = audios.len();
    let audio = match audio_track {
        Some(n) if n == 0 || n > audio_tracks => {
            return Err(MediaError::AudioTrack {
                path: path.to_path_buf(),
                asked: n,
                count: audio_tracks,
            })
        }
        Some(n) => Some(audios.swap_remove(n - 1)),
        None => (!audios.is_empty()).then(|| audios.swap_remove(0)),
    };

    let info = MediaInfo {
        path: path.to_path_buf(),
        size_bytes,
        container,
        duration_s,
        start_time_s,
        creation_time,
        start_source: None,
        video,
        audio,
        audio_tracks,
    };
    if info.video.is_none() {
        return Err(MediaError::NoVideo {
            path: path.to_path_buf(),
        });
    }
    if info.audio.is_none() {
        return Err(MediaError::NoAudio {
            path: path.to_path_buf(),
        });
    }
    if info.duration_s.is_nan() || info.duration_s <= 0.0 {
        return Err(MediaError::Undecodable {
            path: path.to_path_buf(),
            detail: "duration is unknown or zero".into(),
        });
    }
    Ok(info)
}
