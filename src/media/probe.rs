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
    /// A split session's files on its timeline (`livecut run part1 part2 …`, see
    /// [`crate::session`]); absent for one file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<crate::session::Part>,
    /// Where the file's own timestamps reset or leapt (a recorder's reconnect inside one
    /// FLV/TS file); `path` is then a copy with one monotonic timeline
    /// ([`super::remux_monotonic`]) and `repaired_from` the file as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timestamp_breaks: Vec<super::TimestampBreak>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repaired_from: Option<PathBuf>,
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
    /// The picture as it is displayed: after the display matrix's rotation (a phone held
    /// upright records 1920×1080 with a −90° matrix: 1080×1920 here) and with anamorphic
    /// pixels stretched to square ones. Every frame livecut analyses or renders has
    /// this size's shape.
    pub width: u32,
    pub height: u32,
    /// Average frame rate in frames per second.
    pub fps: f64,
    pub time_base: TimeBase,
    /// Degrees to turn the coded picture clockwise to show it upright (0, 90, 180, 270),
    /// from the container's display matrix (ffprobe prints the opposite sign: "rotation
    /// of -90.00 degrees" is 90 here).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rotation: u32,
    /// The coded picture's size and pixel shape when they differ from the displayed
    /// ones (rotated or anamorphic), else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coded: Option<CodedPicture>,
}

/// The picture as stored in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CodedPicture {
    pub width: u32,
    pub height: u32,
    /// Sample (pixel) aspect ratio, `[num, den]`; `[1, 1]` for square pixels.
    pub sample_aspect_ratio: [u32; 2],
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn is_zero(x: &u32) -> bool {
    *x == 0
}

impl VideoInfo {
    /// The filters (FFmpeg filtergraph syntax) that turn a decoded frame into the
    /// displayed picture: rotation by the display matrix, anamorphic pixels made square.
    /// `None` when the coded picture is already the displayed one.
    pub fn upright_filters(&self) -> Option<String> {
        let mut f: Vec<&str> = Vec::new();
        if self.coded.is_some_and(|c| c.sample_aspect_ratio != [1, 1]) {
            // Stretch (never squeeze) to square pixels, even sizes for 4:2:0.
            f.push("scale=w='trunc(iw*max(sar,1)/2)*2':h='trunc(ih*max(1/sar,1)/2)*2',setsar=1");
        }
        match self.rotation {
            90 => f.push("transpose=clock"),
            180 => f.push("hflip,vflip"),
            270 => f.push("transpose=cclock"),
            _ => {}
        }
        (!f.is_empty()).then(|| f.join(","))
    }
}

/// Clockwise degrees (0, 90, 180, 270) that show upright a picture stored with this
/// display matrix (nine 32-bit integers as in the MP4 `tkhd` box: 16.16 fixed point,
/// libavutil's `AV_PKT_DATA_DISPLAYMATRIX`); what FFmpeg's command line turns into
/// `transpose`/`hflip,vflip` filters. Angles between the right ones are rounded to
/// the nearest; a matrix without a rotation part gives 0.
pub fn display_rotation(matrix: &[i32; 9]) -> u32 {
    let (a, b) = (f64::from(matrix[0]), f64::from(matrix[1]));
    if a == 0.0 && b == 0.0 {
        return 0;
    }
    let degrees = b.atan2(a).to_degrees();
    ((degrees / 90.0).round() as i64).rem_euclid(4) as u32 * 90
}

/// The display matrix of `stream`, when the container has one.
fn display_matrix(stream: &ffmpeg::format::stream::Stream<'_>) -> Option<[i32; 9]> {
    let side = stream
        .side_data()
        .find(|d| d.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix)?;
    let bytes = side.data();
    if bytes.len() < 36 {
        return None;
    }
    let mut m = [0i32; 9];
    for (i, v) in m.iter_mut().enumerate() {
        // libavutil stores the matrix in native byte order.
        *v = i32::from_ne_bytes([
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ]);
    }
    Some(m)
}

/// The displayed size of a `width`×`height` picture with pixels of shape `sar`, turned
/// by `rotation` degrees; see [`VideoInfo::upright_filters`] (same rounding).
pub fn displayed_size(width: u32, height: u32, sar: [u32; 2], rotation: u32) -> (u32, u32) {
    let ratio = if sar[0] > 0 && sar[1] > 0 {
        f64::from(sar[0]) / f64::from(sar[1])
    } else {
        1.0
    };
    let even = |x: f64| ((x / 2.0).trunc() * 2.0) as u32;
    let (w, h) = if (ratio - 1.0).abs() < 1e-9 {
        (width, height)
    } else {
        (
            even(f64::from(width) * ratio.max(1.0)),
            even(f64::from(height) * (1.0 / ratio).max(1.0)),
        )
    };
    if rotation % 180 == 90 {
        (h, w)
    } else {
        (w, h)
    }
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
    // A split session's concat script (crate::session) names its parts by absolute
    // path, which the concat demuxer only accepts with `safe=0`.
    let opened = if path.extension().is_some_and(|e| e == "ffconcat") {
        let mut opts = ffmpeg::Dictionary::new();
        opts.set("safe", "0");
        ffmpeg::format::input_with_dictionary(path, opts)
    } else {
        ffmpeg::format::input(path)
    };
    opened.map_err(|source| MediaError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// Probe `path`. Fails when the file cannot be opened or has no video stream; a
/// recording without sound is analysed from its picture and timelines (`audio: None`).
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
                let rotation = display_matrix(&stream).map_or(0, |m| display_rotation(&m));
                // Pixel shape; 0/1 (unknown) and nonsense mean square.
                let r = dec.aspect_ratio();
                let sar = match (u32::try_from(r.numerator()), u32::try_from(r.denominator())) {
                    (Ok(n), Ok(d)) if n > 0 && d > 0 && n != d => {
                        let g = gcd(n, d);
                        [n / g, d / g]
                    }
                    _ => [1, 1],
                };
                let (width, height) = displayed_size(dec.width(), dec.height(), sar, rotation);
                let coded = (rotation != 0 || sar != [1, 1]).then_some(CodedPicture {
                    width: dec.width(),
                    height: dec.height(),
                    sample_aspect_ratio: sar,
                });
                video = Some(VideoInfo {
                    index: stream.index(),
                    codec,
                    width,
                    height,
                    fps,
                    time_base,
                    rotation,
                    coded,
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
        parts: Vec::new(),
        timestamp_breaks: Vec::new(),
        repaired_from: None,
    };
    if info.video.is_none() {
        return Err(MediaError::NoVideo {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The display matrix ffprobe reports as "rotation of `ffprobe_degrees` degrees"
    /// (16.16 fixed point; the phone matrix below is ffprobe's -90).
    fn matrix(ffprobe_degrees: f64) -> [i32; 9] {
        let (s, c) = (-ffprobe_degrees).to_radians().sin_cos();
        let fx = |x: f64| (x * 65536.0).round() as i32;
        [fx(c), fx(s), 0, fx(-s), fx(c), 0, 0, 0, 1 << 30]
    }

    #[test]
    fn display_matrices_give_the_clockwise_turn_that_shows_the_picture_upright() {
        // ffprobe's "rotation of -90.00 degrees" (a phone held upright): players turn
        // the picture 90° clockwise.
        assert_eq!(display_rotation(&matrix(-90.0)), 90);
        assert_eq!(display_rotation(&matrix(90.0)), 270);
        assert_eq!(display_rotation(&matrix(180.0)), 180);
        assert_eq!(display_rotation(&matrix(-180.0)), 180);
        assert_eq!(display_rotation(&matrix(0.0)), 0);
        assert_eq!(display_rotation(&matrix(-88.0)), 90, "nearest right angle");
        assert_eq!(display_rotation(&[0; 9]), 0);
        // The phone matrix as written in a tkhd box.
        assert_eq!(
            display_rotation(&[0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x4000_0000]),
            90
        );
    }

    #[test]
    fn displayed_size_turns_and_stretches() {
        assert_eq!(displayed_size(1920, 1080, [1, 1], 90), (1080, 1920));
        assert_eq!(displayed_size(1920, 1080, [1, 1], 180), (1920, 1080));
        // DV widescreen: 720×576 with 64:45 pixels shows as 1024×576.
        assert_eq!(displayed_size(720, 576, [64, 45], 0), (1024, 576));
        // Tall pixels stretch the height, never squeeze the width.
        assert_eq!(displayed_size(320, 180, [1, 2], 0), (320, 360));
        assert_eq!(displayed_size(160, 180, [2, 1], 270), (180, 320));
    }

    #[test]
    fn upright_filters_match_the_displayed_size() {
        let info = |rotation, sar| VideoInfo {
            index: 0,
            codec: "h264".into(),
            width: 0,
            height: 0,
            fps: 25.0,
            time_base: TimeBase::new(1, 25),
            rotation,
            coded: Some(CodedPicture {
                width: 320,
                height: 180,
                sample_aspect_ratio: sar,
            }),
        };
        assert_eq!(
            info(90, [1, 1]).upright_filters().as_deref(),
            Some("transpose=clock")
        );
        assert_eq!(
            info(270, [1, 1]).upright_filters().as_deref(),
            Some("transpose=cclock")
        );
        assert_eq!(
            info(180, [1, 1]).upright_filters().as_deref(),
            Some("hflip,vflip")
        );
        let both = info(90, [4, 3]).upright_filters().unwrap();
        assert!(
            both.starts_with("scale=") && both.ends_with("transpose=clock"),
            "{both}"
        );
        let plain = VideoInfo {
            coded: None,
            ..info(0, [1, 1])
        };
        assert_eq!(plain.upright_filters(), None);
    }
}
