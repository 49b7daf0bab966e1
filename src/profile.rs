//! The tuning profile: fusion weights, lags and normalisation, and selection thresholds, in
//! TOML. `livecut profile` prints the built-in default (every key documented in
//! `fuse.rs`/`select.rs`); `--profile FILE` loads an edited copy. Keys left out keep their
//! default; a `[[fusion.signals]]` list, when given, replaces the default list.
//! `[platforms.NAME]` tables override fields of the platform presets
//! ([`crate::render::presets::Presets::with_overrides`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fuse::FuseSettings;
use crate::select::SelectSettings;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    pub fusion: FuseSettings,
    pub selection: SelectSettings,
    /// Where the analysis looks closely ([`crate::cascade`]).
    pub cascade: crate::cascade::CascadeSettings,
    /// The speech stage: where and how to listen, guards against invented text, spoken
    /// keywords ([`crate::speech::SpeechSettings`]).
    pub speech: crate::speech::SpeechSettings,
    /// Overrides of the platform presets, `[platforms.douyin] video_bitrate_kbps = 6000`
    /// (`livecut platforms` lists the presets and their fields). Checked when the presets
    /// are built ([`crate::render::presets::Presets::with_overrides`]).
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub platforms: toml::Table,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct ProfileError {
    pub path: PathBuf,
    pub line: u64,
    pub message: String,
}

impl Profile {
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            path: path.to_path_buf(),
            line: 1,
            message: format!("cannot read the profile: {e}"),
        })?;
        toml::from_str(&text).map_err(|e| ProfileError {
            path: path.to_path_buf(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u64 + 1)
                .unwrap_or(1),
            message: format!("not a livecut profile: {}", e.message()),
        })
    }

    /// The profile as TOML, with a header saying how to use it.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).unwrap_or_default();
        format!(
            "# livecut profile: fusion weights/lags and selection thresholds.\n\
             # Edit and pass with --profile FILE. Keys left out keep their defaults.\n\n{body}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_round_trips_and_partial_profiles_keep_defaults() {
        let default = Profile::default();
        let back: Profile = toml::from_str(&default.to_toml()).unwrap();
        assert_eq!(back, default);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.toml");
        std::fs::write(&p, "[selection]\ntop = 3\nmin_len_s = 15.0\n").unwrap();
        let prof = Profile::load(&p).unwrap();
        assert_eq!(prof.selection.top, 3);
        assert_eq!(prof.selection.significance_mads, 4.0);
        assert_eq!(
            prof.selection.max_len_s,
            SelectSettings::default().max_len_s
        );
        assert_eq!(prof.fusion, FuseSettings::default());
        assert!(prof.platforms.is_empty());
    }

    #[test]
    fn platform_overrides_round_trip() {
        let prof = Profile {
            platforms: toml::from_str("[douyin]\nvideo_bitrate_kbps = 6000\n").unwrap(),
            ..Profile::default()
        };
        let text = prof.to_toml();
        assert!(text.contains("[platforms.douyin]"), "{text}");
        let back: Profile = toml::from_str(&text).unwrap();
        assert_eq!(back, prof);
        assert!(!Profile::default().to_toml().contains("platforms"));
    }

    #[test]
    fn unknown_keys_are_errors_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.toml");
        std::fs::write(&p, "[selection]\ntop = 3\n\n[fusion]\nweigth = 2\n").unwrap();
        let err = Profile::load(&p).unwrap_err().to_string();
        assert!(
            err.contains("p.toml:5:") || err.contains("p.toml:4:"),
            "{err}"
        );
    }
}
