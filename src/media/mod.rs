//! The FFmpeg edge: probing recordings and decoding them into analysis frames and audio.
//!
//! Everything leaving this module is in seconds from the recording's first presentation
//! time (the earliest `start_time` of its audio/video streams).

mod decode;
mod ffi;
mod probe;
mod repair;

pub use decode::{
    read_audio, spawn_decoder, AudioBlock, DecodeEvent, DecodeOptions, DecodeStats, GrayFrame,
    Nvdec, RgbFrame,
};
pub use ffi::{buffersrc_add_keep_ref, clear_codec_tag, copy_display_matrix};
pub use probe::{
    display_rotation, displayed_size, open_input, probe, probe_with, AudioInfo, CodedPicture,
    MediaInfo, VideoInfo,
};
pub use repair::{may_break, remux_monotonic, timestamp_breaks, TimestampBreak};

use std::path::PathBuf;

/// Sample rate of the mono analysis audio.
pub const AUDIO_RATE: u32 = 16_000;

/// Errors of the media edge. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{path}: no such file")]
    NotFound { path: PathBuf },
    #[error("{path}: file is empty (0 bytes)")]
    Empty { path: PathBuf },
    #[error("{path}: cannot open as a media file ({source}); is it truncated or corrupt?")]
    Open {
        path: PathBuf,
        #[source]
        source: ffmpeg_next::Error,
    },
    /// Audio-only recordings are refused: every clip livecut makes is a video for a video
    /// platform, and a livestream recording without a picture is almost always a wrong
    /// file (a podcast or an extracted track). README says how to give it a picture.
    #[error(
        "{path}: has no video stream (sound only); livecut cuts video recordings. To clip \
         it anyway, give it a still picture first: ffmpeg -loop 1 -framerate 2 -i cover.jpg \
         -i FILE -shortest -c:a copy -c:v libx264 -tune stillimage out.mp4"
    )]
    NoVideo { path: PathBuf },
    #[error("{path}: its audio stream cannot be read")]
    NoAudio { path: PathBuf },
    #[error(
        "{path}: --audio-track {asked}: the recording has {count} audio track(s), numbered from 1"
    )]
    AudioTrack {
        path: PathBuf,
        asked: usize,
        count: usize,
    },
    #[error("{path}: {what}: {source}")]
    Codec {
        path: PathBuf,
        what: String,
        #[source]
        source: ffmpeg_next::Error,
    },
    #[error("{path}: NVDEC (--device cuda) cannot decode it: {message}")]
    Nvdec { path: PathBuf, message: String },
    #[error("{path}: nothing could be decoded ({detail}); the file is corrupt or truncated")]
    Undecodable { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The NVDEC decoder for a codec (`h264` → `h264_cuvid`), when this FFmpeg has it and an
/// NVIDIA GPU is present; else why not.
pub fn nvdec_decoder(codec: &str) -> Result<ffmpeg_next::Codec, String> {
    let name = format!("{codec}_cuvid");
    let found = ffmpeg_next::decoder::find_by_name(&name)
        .ok_or_else(|| format!("this FFmpeg has no {name} decoder"))?;
    if !std::path::Path::new("/dev/nvidia0").exists() {
        return Err("no NVIDIA GPU (/dev/nvidia0 is missing)".into());
    }
    Ok(found)
}

/// Initialise libav* (idempotent).
pub fn init() {
    // ffmpeg::init only registers devices; it cannot fail on the FFmpeg versions we build for.
    let _ = ffmpeg_next::init();
}
