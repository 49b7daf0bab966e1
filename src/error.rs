//! The library's top-level error: one variant per pipeline domain.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error(transparent)]
    Timeline(#[from] crate::timelines::TimelineError),
    #[error(transparent)]
    Cut(#[from] crate::cut::CutError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error(transparent)]
    Usage(#[from] crate::cli::UsageError),
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
