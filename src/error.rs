//! The library's top-level error: one variant per pipeline domain.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error(transparent)]
    Timeline(#[from] crate::timelines::TimelineError),
    #[error(transparent)]
    Model(#[from] crate::models::ModelError),
    #[error(transparent)]
    Speech(#[from] crate::speech::SpeechError),
    #[error(transparent)]
    Cut(#[from] crate::cut::CutError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error(transparent)]
    Usage(#[from] crate::cli::UsageError),
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    #[error(transparent)]
    Eval(#[from] crate::eval::EvalError),
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    #[error(transparent)]
    Batch(#[from] crate::batch::BatchError),
    #[error(transparent)]
    Preset(#[from] crate::render::presets::PresetError),
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
}

impl From<crate::signals::SignalError> for Error {
    fn from(e: crate::signals::SignalError) -> Self {
        match e {
            crate::signals::SignalError::Media(e) => Self::Media(e),
            crate::signals::SignalError::Model(e) => Self::Model(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
