//! Platform presets: output size, frame-rate cap, length range, H.264/AAC encoding, loudness
//! target and file-size cap for each platform a clip is rendered for.
//!
//! The built-in presets live in `presets.toml` next to this file (every figure there is
//! cited in the preset's `sources` and explained in a comment, with its source quality).
//! A `--profile` file overrides them field by field under `[platforms.NAME]`
//! ([`Presets::with_overrides`]); `livecut platforms` prints them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The built-in presets (TOML, one `[[preset]]` table each, in display order).
const BUILTIN: &str = include_str!("presets.toml");

/// Every field of [`Preset`], in declaration order (the keys a `[platforms.NAME]` table may use).
const FIELDS: &[&str] = &[
    "name",
    "title",
    "mode",
    "width",
    "height",
    "aspect",
    "framing",
    "max_fps",
    "min_duration_s",
    "max_duration_s",
    "video_codec",
    "video_profile",
    "video_level",
    "video_bitrate_kbps",
    "video_maxrate_kbps",
    "video_bufsize_kbps",
    "gop_s",
    "audio_codec",
    "audio_sample_rate",
    "audio_channels",
    "audio_bitrate_kbps",
    "loudness_lufs",
    "true_peak_dbtp",
    "max_bytes",
    "faststart",
    "subtitles",
    "subtitle_bottom",
    "title_max_chars",
    "product_clip_s",
    "sources",
];

/// Fields a new preset defined in a `[platforms.NAME]` table may leave out: the name comes
/// from the table, and width/height default to 0 (source size, copy mode only).
const OPTIONAL_FIELDS: &[&str] = &[
    "name",
    "width",
    "height",
    "subtitles",
    "subtitle_bottom",
    "title_max_chars",
    "product_clip_s",
];

/// Container overhead allowed for in [`Preset::worst_case_bytes`] (MP4 boxes, sample tables).
const CONTAINER_OVERHEAD: f64 = 1.02;

/// How a preset produces its clips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Decode, reframe, normalise loudness and re-encode (exact cuts).
    Encode,
    /// Stream copy: the recording's own size, codecs and loudness; cuts snap to key frames.
    Copy,
}

/// How the source picture is fitted into the output frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framing {
    /// Crop to the output aspect, following the host (the default for vertical output).
    Follow,
    /// The whole source picture scaled into the frame over a blurred copy of itself.
    Pad,
    /// Scale only (16:9 output from 16:9 sources; stream copy).
    Fit,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Encode => "encode",
            Self::Copy => "copy",
        })
    }
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Follow => "follow",
            Self::Pad => "pad",
            Self::Fit => "fit",
        })
    }
}

/// One platform's output settings. Field names are the TOML keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Short name used on the command line (`douyin`, `youtube-shorts`, …).
    pub name: String,
    /// Human name, e.g. "抖音 Douyin".
    pub title: String,
    pub mode: Mode,
    /// Output width in pixels (even); 0 in copy mode (source size).
    #[serde(default)]
    pub width: u32,
    /// Output height in pixels (even); 0 in copy mode (source size).
    #[serde(default)]
    pub height: u32,
    /// "9:16", "16:9" (width:height reduced), or "source" in copy mode.
    pub aspect: String,
    pub framing: Framing,
    /// Frame-rate cap: output fps = min(source fps, cap) ([`Preset::output_fps`]).
    pub max_fps: f64,
    /// Shortest clip the platform takes, seconds.
    pub min_duration_s: f64,
    /// Longest clip the platform takes, seconds.
    pub max_duration_s: f64,
    /// "h264" (the only encoder livecut drives).
    pub video_codec: String,
    /// H.264 profile: "baseline", "main" or "high".
    pub video_profile: String,
    /// H.264 level, e.g. "4.1" (1080x1920 up to 30 fps) or "4.2" (up to 60 fps).
    pub video_level: String,
    /// Average video bitrate, kbit/s.
    pub video_bitrate_kbps: u32,
    /// VBV maximum rate, kbit/s (>= the average).
    pub video_maxrate_kbps: u32,
    /// VBV buffer, kbit.
    pub video_bufsize_kbps: u32,
    /// Closed-GOP length, seconds ([`Preset::gop_frames`]).
    pub gop_s: f64,
    /// "aac" (AAC-LC).
    pub audio_codec: String,
    /// 44100 or 48000.
    pub audio_sample_rate: u32,
    /// 1 or 2.
    pub audio_channels: u32,
    /// Audio bitrate, kbit/s.
    pub audio_bitrate_kbps: u32,
    /// Integrated loudness target, LUFS, in [-40, -5].
    pub loudness_lufs: f64,
    /// True-peak ceiling, dBTP, in [-9, 0].
    pub true_peak_dbtp: f64,
    /// File-size cap, bytes. A clip of `max_duration_s` at the peak rate must fit
    /// ([`Preset::worst_case_bytes`]).
    pub max_bytes: u64,
    /// Write the MP4 index (moov atom) first.
    pub faststart: bool,
    /// Subtitles of its clips: `burn`, `srt` or `off` (absent: burned into vertical
    /// output, which is watched with the sound off; files only for the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitles: Option<crate::subtitles::SubtitleMode>,
    /// Lowest point of burned subtitles above the frame's bottom edge, fraction of the
    /// height: the platform's own interface (caption, buttons) covers what is below.
    #[serde(default = "default_subtitle_bottom")]
    pub subtitle_bottom: f64,
    /// Longest title the platform shows or takes, characters (a CJK character counts
    /// one); suggested titles are never longer.
    #[serde(default = "default_title_max_chars")]
    pub title_max_chars: usize,
    /// Length of a product's explanation clip (`--product-clips`), seconds; shorter when
    /// the product is on air less long, never longer than `max_duration_s`.
    #[serde(default = "default_product_clip_s")]
    pub product_clip_s: f64,
    /// Where each figure comes from, with its source quality.
    pub sources: Vec<String>,
}

fn default_subtitle_bottom() -> f64 {
    0.08
}

fn default_title_max_chars() -> usize {
    30
}

/// 60 s: long enough for a product's selling points and its price, the length content
/// teams cut explanation clips (商品讲解切片) to (livecut's choice; no platform publishes
/// one).
fn default_product_clip_s() -> f64 {
    60.0
}

impl Preset {
    /// How this preset's clips get subtitles (`--subtitles` wins over the preset).
    pub fn subtitle_mode(
        &self,
        given: Option<crate::subtitles::SubtitleMode>,
    ) -> crate::subtitles::SubtitleMode {
        use crate::subtitles::SubtitleMode;
        given
            .or(self.subtitles)
            .unwrap_or(if self.height > self.width {
                SubtitleMode::Burn
            } else {
                SubtitleMode::Srt
            })
    }
}

/// A preset that does not exist, cannot be parsed or breaks a rule. Messages name the preset
/// and the field or key.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("unknown platform {name:?}; known platforms: {known} (or \"all\")")]
    Unknown { name: String, known: String },
    #[error("no platform named in {list:?}; give names like \"douyin,bilibili\" or \"all\"")]
    EmptyList { list: String },
    #[error("platform preset {preset}: {field}: {message}")]
    Invalid {
        preset: String,
        field: String,
        message: String,
    },
    #[error("[platforms.{preset}]: unknown key {key:?}; preset keys are: {known}")]
    UnknownKey {
        preset: String,
        key: String,
        known: String,
    },
    #[error(
        "[platforms.{preset}]: {preset:?} is not a built-in preset, so its table must give \
         every field; missing: {missing}"
    )]
    Incomplete { preset: String, missing: String },
    #[error(
        "[platforms.{preset}]: expected a table of preset fields, \
         e.g. [platforms.{preset}] video_bitrate_kbps = 6000"
    )]
    NotATable { preset: String },
    #[error("platform preset {preset} is defined twice")]
    Duplicate { preset: String },
    #[error("built-in presets.toml: {0}")]
    Builtin(String),
}

fn invalid(preset: &str, field: &str, message: impl Into<String>) -> PresetError {
    PresetError::Invalid {
        preset: preset.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

/// H.264 level limits (ITU-T H.264 Table A-1): max macroblocks per second, max frame size in
/// macroblocks, max video bitrate (kbit/s) and CPB size (kbit) for Baseline/Main; High
/// allows 1.25 times the bitrate and CPB.
const LEVELS: &[(&str, u64, u64, u64, u64)] = &[
    ("3.0", 40_500, 1_620, 10_000, 10_000),
    ("3.1", 108_000, 3_600, 14_000, 14_000),
    ("3.2", 216_000, 5_120, 20_000, 20_000),
    ("4.0", 245_760, 8_192, 20_000, 25_000),
    ("4.1", 245_760, 8_192, 50_000, 62_500),
    ("4.2", 522_240, 8_704, 50_000, 62_500),
    ("5.0", 589_824, 22_080, 135_000, 135_000),
    ("5.1", 983_040, 36_864, 240_000, 240_000),
    ("5.2", 2_073_600, 36_864, 240_000, 240_000),
];

impl Preset {
    /// Check the preset's figures; the error names the preset and the first bad field.
    pub fn validate(&self) -> Result<(), PresetError> {
        let p = self.name.as_str();
        let bad = |field: &str, message: String| Err(invalid(p, field, message));
        if self.name.is_empty()
            || self.name == "all"
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return bad(
                "name",
                format!(
                    "{:?} must be lowercase letters, digits and '-', and not \"all\"",
                    self.name
                ),
            );
        }
        if self.title.trim().is_empty() {
            return bad("title", "must not be empty".into());
        }
        match self.mode {
            Mode::Encode => {
                for (field, v) in [("width", self.width), ("height", self.height)] {
                    if v == 0 || v % 2 != 0 || v > 4096 {
                        return bad(field, format!("{v} must be even and in 2..=4096"));
                    }
                }
                let g = gcd(self.width, self.height);
                let aspect = format!("{}:{}", self.width / g, self.height / g);
                if self.aspect != aspect {
                    return bad(
                        "aspect",
                        format!(
                            "{:?} does not match {}x{} ({aspect})",
                            self.aspect, self.width, self.height
                        ),
                    );
                }
            }
            Mode::Copy => {
                if self.width != 0 || self.height != 0 {
                    return bad(
                        "width",
                        "stream copy keeps the source size: leave width and height out (or 0)"
                            .into(),
                    );
                }
                if self.aspect != "source" {
                    return bad(
                        "aspect",
                        format!(
                            "{:?}: stream copy keeps the source aspect (\"source\")",
                            self.aspect
                        ),
                    );
                }
                if self.framing != Framing::Fit {
                    return bad(
                        "framing",
                        format!("{}: stream copy cannot reframe (\"fit\")", self.framing),
                    );
                }
            }
        }
        if !(self.max_fps > 0.0 && self.max_fps <= 240.0) {
            return bad("max_fps", format!("{} must be in (0, 240]", self.max_fps));
        }
        if !(self.min_duration_s >= 0.0 && self.min_duration_s.is_finite()) {
            return bad(
                "min_duration_s",
                format!("{} must be >= 0", self.min_duration_s),
            );
        }
        if !(self.max_duration_s > 0.0
            && self.max_duration_s.is_finite()
            && self.max_duration_s >= self.min_duration_s)
        {
            return bad(
                "max_duration_s",
                format!(
                    "{} must be > 0 and >= min_duration_s ({})",
                    self.max_duration_s, self.min_duration_s
                ),
            );
        }
        if self.video_codec != "h264" {
            return bad(
                "video_codec",
                format!("{:?}: only \"h264\" is supported", self.video_codec),
            );
        }
        let profile_factor = match self.video_profile.as_str() {
            "baseline" | "main" => 1.0,
            "high" => 1.25,
            other => {
                return bad(
                    "video_profile",
                    format!("{other:?}: expected \"baseline\", \"main\" or \"high\""),
                )
            }
        };
        for (field, v) in [
            ("video_bitrate_kbps", self.video_bitrate_kbps),
            ("video_maxrate_kbps", self.video_maxrate_kbps),
            ("video_bufsize_kbps", self.video_bufsize_kbps),
            ("audio_bitrate_kbps", self.audio_bitrate_kbps),
        ] {
            if v == 0 {
                return bad(field, "must be > 0".into());
            }
        }
        if self.video_maxrate_kbps < self.video_bitrate_kbps {
            return bad(
                "video_maxrate_kbps",
                format!(
                    "{} must be >= video_bitrate_kbps ({})",
                    self.video_maxrate_kbps, self.video_bitrate_kbps
                ),
            );
        }
        let level = normalise_level(&self.video_level);
        let Some(&(_, max_mbps, max_fs, max_br, max_cpb)) = LEVELS.iter().find(|l| l.0 == level)
        else {
            let known: Vec<&str> = LEVELS.iter().map(|l| l.0).collect();
            return bad(
                "video_level",
                format!(
                    "{:?}: expected one of {}",
                    self.video_level,
                    known.join(", ")
                ),
            );
        };
        if self.mode == Mode::Encode {
            let mbs = u64::from(self.width.div_ceil(16)) * u64::from(self.height.div_ceil(16));
            // A frame dimension may not exceed sqrt(8 * MaxFS) macroblocks (A.3.1).
            let max_side = ((8 * max_fs) as f64).sqrt() as u64;
            if mbs > max_fs
                || u64::from(self.width.div_ceil(16)) > max_side
                || u64::from(self.height.div_ceil(16)) > max_side
            {
                return bad(
                    "video_level",
                    format!(
                        "level {level} cannot carry {}x{} frames",
                        self.width, self.height
                    ),
                );
            }
            if mbs as f64 * self.max_fps > max_mbps as f64 {
                return bad(
                    "video_level",
                    format!(
                        "level {level} carries {}x{} at up to {:.1} fps, below max_fps {}",
                        self.width,
                        self.height,
                        max_mbps as f64 / mbs as f64,
                        self.max_fps
                    ),
                );
            }
            let br_limit = (max_br as f64 * profile_factor) as u32;
            if self.video_maxrate_kbps > br_limit {
                return bad(
                    "video_maxrate_kbps",
                    format!(
                        "{} exceeds level {level} {} ({br_limit} kbit/s)",
                        self.video_maxrate_kbps, self.video_profile
                    ),
                );
            }
            let cpb_limit = (max_cpb as f64 * profile_factor) as u32;
            if self.video_bufsize_kbps > cpb_limit {
                return bad(
                    "video_bufsize_kbps",
                    format!(
                        "{} exceeds level {level} {} ({cpb_limit} kbit)",
                        self.video_bufsize_kbps, self.video_profile
                    ),
                );
            }
        }
        if !(self.gop_s > 0.0 && self.gop_s <= 10.0) {
            return bad("gop_s", format!("{} must be in (0, 10]", self.gop_s));
        }
        if self.audio_codec != "aac" {
            return bad(
                "audio_codec",
                format!("{:?}: only \"aac\" is supported", self.audio_codec),
            );
        }
        if !matches!(self.audio_sample_rate, 44_100 | 48_000) {
            return bad(
                "audio_sample_rate",
                format!("{} must be 44100 or 48000", self.audio_sample_rate),
            );
        }
        if !matches!(self.audio_channels, 1 | 2) {
            return bad(
                "audio_channels",
                format!("{} must be 1 or 2", self.audio_channels),
            );
        }
        if !(-40.0..=-5.0).contains(&self.loudness_lufs) {
            return bad(
                "loudness_lufs",
                format!("{} must be in [-40, -5]", self.loudness_lufs),
            );
        }
        if !(-9.0..=0.0).contains(&self.true_peak_dbtp) {
            return bad(
                "true_peak_dbtp",
                format!("{} must be in [-9, 0]", self.true_peak_dbtp),
            );
        }
        if self.max_bytes == 0 {
            return bad("max_bytes", "must be > 0".into());
        }
        // Two lines of subtitles (about 15 % of a vertical frame) must fit above it in the
        // lower half.
        if !(0.0..=0.35).contains(&self.subtitle_bottom) {
            return bad(
                "subtitle_bottom",
                format!("{} must be in [0, 0.35]", self.subtitle_bottom),
            );
        }
        if !(crate::products::clips::MIN_PRODUCT_CLIP_S..=600.0).contains(&self.product_clip_s) {
            return bad(
                "product_clip_s",
                format!(
                    "{} must be in [{}, 600]",
                    self.product_clip_s,
                    crate::products::clips::MIN_PRODUCT_CLIP_S
                ),
            );
        }
        // The plain type titles (the last resort) are up to 10 characters.
        if self.title_max_chars < 10 {
            return bad(
                "title_max_chars",
                format!("{} must be at least 10", self.title_max_chars),
            );
        }
        if self.mode == Mode::Encode {
            let worst = self.worst_case_bytes(self.max_duration_s);
            if worst > self.max_bytes {
                return bad(
                    "max_bytes",
                    format!(
                        "{} is below the worst case of a {} s clip at the peak rate ({worst}); \
                         lower max_duration_s or the rates, or raise max_bytes",
                        self.max_bytes, self.max_duration_s
                    ),
                );
            }
        }
        if self.sources.iter().all(|s| s.trim().is_empty()) {
            return bad("sources", "cite where the figures come from".into());
        }
        Ok(())
    }

    /// Output frame rate for a source frame rate: min(source, cap) when encoding (the cap
    /// when the source rate is unknown, i.e. not a positive number); the source's own in
    /// copy mode.
    pub fn output_fps(&self, source_fps: f64) -> f64 {
        match self.mode {
            Mode::Copy => source_fps,
            Mode::Encode if source_fps > 0.0 && source_fps.is_finite() => {
                source_fps.min(self.max_fps)
            }
            Mode::Encode => self.max_fps,
        }
    }

    /// Frames per closed GOP at `fps` (normally [`Preset::output_fps`]): never longer than
    /// `gop_s`, at least 1 (0.5 s at 25 fps → 12 frames).
    pub fn gop_frames(&self, fps: f64) -> u32 {
        let frames = (self.gop_s * fps + 1e-6).floor();
        if frames >= 1.0 {
            frames.min(f64::from(u32::MAX)) as u32
        } else {
            1
        }
    }

    /// Upper bound of the file size of a `duration_s` clip: video at the VBV maximum rate
    /// plus one full buffer, audio, and 2 % container overhead. Not meaningful in copy mode.
    pub fn worst_case_bytes(&self, duration_s: f64) -> u64 {
        let kbit = f64::from(self.video_maxrate_kbps + self.audio_bitrate_kbps)
            * duration_s.max(0.0)
            + f64::from(self.video_bufsize_kbps);
        (kbit * 1000.0 / 8.0 * CONTAINER_OVERHEAD).ceil() as u64
    }
}

/// `base` with the keys of `table` replaced, type-checked key by key so that an error names
/// the key (keys are known to be fields).
fn merge(name: &str, base: &Preset, table: &toml::Table) -> Result<Preset, PresetError> {
    let mut merged =
        toml::Table::try_from(base).map_err(|e| invalid(name, "(all)", e.to_string()))?;
    for (key, v) in table {
        merged.insert(key.clone(), v.clone());
        merged
            .clone()
            .try_into::<Preset>()
            .map_err(|e| invalid(name, key, e.message().to_string()))?;
    }
    merged
        .try_into()
        .map_err(|e| invalid(name, "(all)", e.message().to_string()))
}

/// "4" → "4.0"; other spellings unchanged.
fn normalise_level(level: &str) -> String {
    let level = level.trim();
    if level.contains('.') {
        level.to_string()
    } else {
        format!("{level}.0")
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

/// The platform presets, in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct Presets {
    list: Vec<Preset>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    preset: Vec<Preset>,
}

impl Presets {
    /// The built-in presets from `presets.toml` (a unit test proves they parse and validate).
    pub fn builtin() -> Presets {
        Self::parse(BUILTIN).expect("built-in presets.toml parses and validates (unit-tested)")
    }

    fn parse(text: &str) -> Result<Presets, PresetError> {
        let file: PresetFile =
            toml::from_str(text).map_err(|e| PresetError::Builtin(e.to_string()))?;
        let presets = Presets { list: file.preset };
        for (i, p) in presets.list.iter().enumerate() {
            p.validate()?;
            if presets.list[..i].iter().any(|q| q.name == p.name) {
                return Err(PresetError::Duplicate {
                    preset: p.name.clone(),
                });
            }
        }
        Ok(presets)
    }

    /// Apply `[platforms.NAME]` tables (the `platforms` table of a profile): their keys
    /// replace the fields of the built-in preset NAME; a table for any other name defines a
    /// new preset (appended) and must give every field but `name`, `width` and `height`.
    /// Unknown keys, wrong types and figures that fail [`Preset::validate`] are errors
    /// naming the preset and the key.
    pub fn with_overrides(mut self, overrides: &toml::Table) -> Result<Presets, PresetError> {
        for (name, value) in overrides {
            let table = value.as_table().ok_or_else(|| PresetError::NotATable {
                preset: name.clone(),
            })?;
            if let Some(key) = table.keys().find(|k| !FIELDS.contains(&k.as_str())) {
                return Err(PresetError::UnknownKey {
                    preset: name.clone(),
                    key: key.clone(),
                    known: FIELDS.join(", "),
                });
            }
            if let Some(given) = table.get("name") {
                if given.as_str() != Some(name.as_str()) {
                    return Err(invalid(
                        name,
                        "name",
                        format!(
                            "{given} differs from the table's name; to add a preset, \
                             write a new [platforms.NEW] table"
                        ),
                    ));
                }
            }
            let preset = match self.list.iter().position(|p| p.name == *name) {
                Some(i) => {
                    let preset = merge(name, &self.list[i], table)?;
                    self.list[i] = preset.clone();
                    preset
                }
                None => {
                    let missing: Vec<&str> = FIELDS
                        .iter()
                        .copied()
                        .filter(|f| !OPTIONAL_FIELDS.contains(f) && !table.contains_key(*f))
                        .collect();
                    let Some(template) = self.list.first().filter(|_| missing.is_empty()) else {
                        return Err(PresetError::Incomplete {
                            preset: name.clone(),
                            missing: missing.join(", "),
                        });
                    };
                    // Every required field comes from the table; only the optional ones
                    // are taken from this blank.
                    let blank = Preset {
                        name: name.clone(),
                        width: 0,
                        height: 0,
                        ..template.clone()
                    };
                    let preset = merge(name, &blank, table)?;
                    self.list.push(preset.clone());
                    preset
                }
            };
            preset.validate()?;
        }
        Ok(self)
    }

    /// The preset called `name`; an unknown name is an error listing the known ones.
    pub fn get(&self, name: &str) -> Result<&Preset, PresetError> {
        self.list
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| PresetError::Unknown {
                name: name.to_string(),
                known: self.names(),
            })
    }

    /// The presets in display order.
    pub fn iter(&self) -> impl Iterator<Item = &Preset> {
        self.list.iter()
    }

    /// "douyin,bilibili" → those presets, in the order given (repeats dropped); "all" → all.
    pub fn parse_list(&self, list: &str) -> Result<Vec<&Preset>, PresetError> {
        let names: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if names.is_empty() {
            return Err(PresetError::EmptyList {
                list: list.to_string(),
            });
        }
        if names.contains(&"all") {
            return Ok(self.list.iter().collect());
        }
        let mut out: Vec<&Preset> = Vec::with_capacity(names.len());
        for name in names {
            let p = self.get(name)?;
            if !out.iter().any(|q| q.name == p.name) {
                out.push(p);
            }
        }
        Ok(out)
    }

    fn names(&self) -> String {
        self.list
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 10] = [
        "douyin",
        "kuaishou",
        "tiktok",
        "youtube-shorts",
        "instagram-reels",
        "wechat-channels",
        "xiaohongshu",
        "bilibili",
        "landscape",
        "source",
    ];

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn builtin_parses_and_every_preset_validates() {
        let presets = Presets::parse(BUILTIN).unwrap();
        assert_eq!(presets, Presets::builtin());
        for p in presets.iter() {
            p.validate().unwrap();
            assert!(!p.sources.is_empty(), "{}", p.name);
            assert!(p.faststart, "{}", p.name);
            assert_eq!(
                (p.audio_sample_rate, p.audio_channels),
                (48_000, 2),
                "{}",
                p.name
            );
            assert_eq!((p.loudness_lufs, p.true_peak_dbtp), (-14.0, -1.0));
        }
    }

    #[test]
    fn all_ten_names_present_and_only_source_copies() {
        let presets = Presets::builtin();
        let names: Vec<&str> = presets.iter().map(|p| p.name.as_str()).collect();
        for n in NAMES {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
        for p in presets.iter() {
            assert_eq!(p.mode == Mode::Copy, p.name == "source", "{}", p.name);
        }
        let source = presets.get("source").unwrap();
        assert_eq!((source.width, source.height), (0, 0));
        assert_eq!(source.aspect, "source");
    }

    #[test]
    fn vertical_presets_are_9_16_1080x1920_and_landscape_ones_16_9() {
        let presets = Presets::builtin();
        for n in &NAMES[..7] {
            let p = presets.get(n).unwrap();
            assert_eq!(
                (p.width, p.height, p.aspect.as_str()),
                (1080, 1920, "9:16"),
                "{n}"
            );
            assert_eq!(p.framing, Framing::Follow, "{n}");
        }
        for n in ["bilibili", "landscape"] {
            let p = presets.get(n).unwrap();
            assert_eq!(
                (p.width, p.height, p.aspect.as_str()),
                (1920, 1080, "16:9"),
                "{n}"
            );
        }
        assert_eq!(presets.get("landscape").unwrap().framing, Framing::Fit);
        // YouTube asks for a closed GOP of half the frame rate.
        assert_eq!(presets.get("youtube-shorts").unwrap().gop_s, 0.5);
    }

    #[test]
    fn fields_list_matches_the_struct() {
        let mut p = Presets::builtin().get("douyin").unwrap().clone();
        // The one optional field no built-in preset sets.
        p.subtitles = Some(crate::subtitles::SubtitleMode::Burn);
        let t = toml::Table::try_from(&p).unwrap();
        let mut keys: Vec<&str> = t.keys().map(String::as_str).collect();
        let mut fields = FIELDS.to_vec();
        keys.sort_unstable();
        fields.sort_unstable();
        assert_eq!(keys, fields);
    }

    #[test]
    fn overrides_replace_a_field_and_keep_the_rest() {
        let base = Presets::builtin();
        let presets = base
            .clone()
            .with_overrides(&table(
                "[douyin]\nvideo_bitrate_kbps = 5000\nmax_duration_s = 120\n",
            ))
            .unwrap();
        let d = presets.get("douyin").unwrap();
        assert_eq!(d.video_bitrate_kbps, 5000);
        assert_eq!(d.max_duration_s, 120.0);
        assert_eq!(
            d.video_maxrate_kbps,
            base.get("douyin").unwrap().video_maxrate_kbps
        );
        assert_eq!(
            presets.get("kuaishou").unwrap(),
            base.get("kuaishou").unwrap()
        );
        assert_eq!(presets.iter().count(), base.iter().count());
    }

    #[test]
    fn overrides_reject_unknown_keys_bad_types_and_bad_figures() {
        let err = Presets::builtin()
            .with_overrides(&table("[douyin]\nvideo_bitrate = 5000\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("douyin") && err.contains("\"video_bitrate\""),
            "{err}"
        );

        let err = Presets::builtin()
            .with_overrides(&table("[tiktok]\nmax_fps = \"fast\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("tiktok") && err.contains("max_fps"), "{err}");

        let err = Presets::builtin()
            .with_overrides(&table("[bilibili]\nwidth = 1921\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bilibili") && err.contains("width"), "{err}");

        // 60 fps at 1080x1920 needs level 4.2.
        let err = Presets::builtin()
            .with_overrides(&table("[douyin]\nmax_fps = 60\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("douyin") && err.contains("video_level"),
            "{err}"
        );

        let err = Presets::builtin()
            .with_overrides(&table("douyin = 6000\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[platforms.douyin]"), "{err}");
    }

    #[test]
    fn a_new_preset_needs_every_field() {
        let err = Presets::builtin()
            .with_overrides(&table("[weibo]\nvideo_bitrate_kbps = 5000\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("weibo") && err.contains("missing") && err.contains("max_fps"),
            "{err}"
        );

        let mut full = toml::Table::try_from(Presets::builtin().get("douyin").unwrap()).unwrap();
        full.remove("name");
        full.insert("title".into(), "微博 Weibo".into());
        let mut overrides = toml::Table::new();
        overrides.insert("weibo".into(), toml::Value::Table(full));
        let presets = Presets::builtin().with_overrides(&overrides).unwrap();
        let w = presets.get("weibo").unwrap();
        assert_eq!((w.title.as_str(), w.width), ("微博 Weibo", 1080));
        assert_eq!(presets.iter().last().unwrap().name, "weibo");
    }

    #[test]
    fn get_and_parse_list_name_the_unknown_platform() {
        let presets = Presets::builtin();
        let err = presets.get("vine").unwrap_err().to_string();
        assert!(err.contains("\"vine\"") && err.contains("douyin"), "{err}");
        let err = presets
            .parse_list("douyin, myspace")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"myspace\"") && err.contains("bilibili"),
            "{err}"
        );
        assert!(presets.parse_list(" , ").is_err());
        let two: Vec<&str> = presets
            .parse_list("douyin, bilibili,douyin")
            .unwrap()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(two, ["douyin", "bilibili"]);
        assert_eq!(
            presets.parse_list("all").unwrap().len(),
            presets.iter().count()
        );
    }

    #[test]
    fn output_fps_is_capped_and_copy_keeps_the_source_rate() {
        let presets = Presets::builtin();
        let douyin = presets.get("douyin").unwrap();
        assert_eq!(douyin.max_fps, 30.0);
        assert_eq!(douyin.output_fps(60.0), 30.0);
        assert_eq!(douyin.output_fps(25.0), 25.0);
        assert_eq!(douyin.output_fps(f64::NAN), 30.0);
        assert_eq!(presets.get("tiktok").unwrap().output_fps(59.94), 59.94);
        assert_eq!(presets.get("source").unwrap().output_fps(50.0), 50.0);
    }

    #[test]
    fn gop_frames_never_exceed_the_gop_length() {
        let presets = Presets::builtin();
        let yt = presets.get("youtube-shorts").unwrap();
        assert_eq!(yt.gop_frames(30.0), 15);
        assert_eq!(yt.gop_frames(60.0), 30);
        assert_eq!(yt.gop_frames(25.0), 12);
        let douyin = presets.get("douyin").unwrap();
        assert_eq!(douyin.gop_frames(30.0), 60);
        assert_eq!(douyin.gop_frames(29.97), 59);
        assert_eq!(douyin.gop_frames(0.1), 1);
        assert_eq!(douyin.gop_frames(f64::NAN), 1);
    }

    #[test]
    fn validate_names_the_preset_and_field() {
        let good = Presets::builtin().get("douyin").unwrap().clone();
        let cases: Vec<(&str, Preset)> = vec![
            (
                "height",
                Preset {
                    height: 1919,
                    ..good.clone()
                },
            ),
            (
                "max_fps",
                Preset {
                    max_fps: 0.0,
                    ..good.clone()
                },
            ),
            (
                "max_duration_s",
                Preset {
                    min_duration_s: 200.0,
                    ..good.clone()
                },
            ),
            (
                "video_bitrate_kbps",
                Preset {
                    video_bitrate_kbps: 0,
                    ..good.clone()
                },
            ),
            (
                "loudness_lufs",
                Preset {
                    loudness_lufs: -3.0,
                    ..good.clone()
                },
            ),
            (
                "true_peak_dbtp",
                Preset {
                    true_peak_dbtp: 0.5,
                    ..good.clone()
                },
            ),
            (
                "aspect",
                Preset {
                    aspect: "16:9".into(),
                    ..good.clone()
                },
            ),
            (
                "max_bytes",
                Preset {
                    max_bytes: 1_000_000,
                    ..good.clone()
                },
            ),
            (
                "video_level",
                Preset {
                    video_level: "9.9".into(),
                    ..good.clone()
                },
            ),
        ];
        for (field, p) in cases {
            let err = p.validate().unwrap_err().to_string();
            assert!(
                err.contains("douyin") && err.contains(field),
                "{field}: {err}"
            );
        }
    }
}
