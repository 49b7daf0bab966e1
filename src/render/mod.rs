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
