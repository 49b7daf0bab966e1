//! Pretrained ONNX models through ONNX Runtime (`ort`, loaded dynamically): speech activity
//! (Silero VAD), audio events (YAMNet), faces (CenterFace), on-screen text (PP-OCRv4),
//! speech recognition (Whisper).
//!
//! Each model has a spec file in `models/` (provenance, checksum, inputs, preprocessing,
//! outputs). Pre- and post-processing are pure functions next to each model; only
//! `runtime.rs` talks to ONNX Runtime.

pub mod faces;
pub mod ocr;
pub mod runtime;
pub mod spec;
pub mod status;
pub mod vad;
pub mod whisper;
pub mod yamnet;

pub use runtime::{Device, Runtime};
pub use spec::{ModelDir, ModelSpec};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "cannot load ONNX Runtime from {path}: {message}. Run scripts/install-deps.sh (it puts \
         libonnxruntime.so in .local/onnxruntime/), or point --ort-lib / ORT_DYLIB_PATH at \
         libonnxruntime.so, or pass --no-models to run the cheap signals only"
    )]
    Runtime { path: PathBuf, message: String },
    #[error(
        "model file {path} is missing (expected sha256 {expected}); run scripts/fetch_models.py, \
         or pass --no-models to run the cheap signals only"
    )]
    Missing { path: PathBuf, expected: String },
    #[error(
        "model file {path} has sha256 {found}, expected {expected} (corrupt or a different \
         version); run scripts/fetch_models.py again"
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{path}: {message}")]
    Spec { path: PathBuf, message: String },
    #[error("{model}: {message}")]
    Inference { model: String, message: String },
    #[error("--device cuda: {0}")]
    Cuda(String),
}

impl ModelError {
    pub(crate) fn inference(model: &str, e: impl std::fmt::Display) -> Self {
        Self::Inference {
            model: model.to_string(),
            message: e.to_string(),
        }
    }
}
