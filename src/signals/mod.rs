//! Signal tracks: what the picture and the sound say over time.
//!
//! A [`Track`] is a named series on an explicit time axis (seconds from the recording's
//! first presentation time). Tracks are resampled onto the fusion grid only in `fuse`.

mod derive;
mod loudness;
mod models;
mod motion;
mod picture;
mod voice;

pub use derive::{derive, FlaggedSpan};

pub use loudness::LoudnessMeter;
pub use models::{ModelLoader, ModelSet, ModelTracks, ScreenText};
pub use motion::MotionMeter;
pub use picture::PictureMeter;
pub use voice::VoiceMeter;

use serde::{Deserialize, Serialize};

use crate::media::{DecodeEvent, DecodeOptions, DecodeStats, MediaError, MediaInfo};
use crate::models::ModelError;

/// One named, time-aligned signal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Track {
    pub name: String,
    pub unit: String,
    pub description: String,
    /// Sample times in seconds; one per value.
    pub times_s: Vec<f64>,
    /// Values; NaN (written as JSON `null`) where there is nothing to measure.
    #[serde(deserialize_with = "nan_from_null")]
    pub values: Vec<f32>,
}

/// JSON has no NaN: serde_json writes it as `null`; read `null` back as NaN.
fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    let v: Vec<Option<f32>> = Deserialize::deserialize(d)?;
    Ok(v.into_iter().map(|x| x.unwrap_or(f32::NAN)).collect())
}

impl Track {
    pub fn new(name: &str, unit: &str, description: &str) -> Self {
        Self {
            name: name.into(),
            unit: unit.into(),
            description: description.into(),
            times_s: Vec::new(),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, t: f64, v: f32) {
        self.times_s.push(t);
        self.values.push(v);
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Mean of the values in each `step_s` bin over `[0, n·step_s)`; bins without samples
    /// take the previous bin's value (`fill` before the first sample).
    pub fn resample_mean(&self, step_s: f64, n: usize, fill: f32) -> Vec<f32> {
        let mut sum = vec![0f64; n];
        let mut count = vec![0u32; n];
        for (&t, &v) in self.times_s.iter().zip(&self.values) {
            if t < 0.0 || !v.is_finite() {
                continue;
            }
            let i = (t / step_s) as usize;
            if i < n {
                sum[i] += f64::from(v);
                count[i] += 1;
            }
        }
        let mut out = Vec::with_capacity(n);
        let mut last = fill;
        for i in 0..n {
            if count[i] > 0 {
                last = (sum[i] / f64::from(count[i])) as f32;
            }
            out.push(last);
        }
        out
    }
}

/// All tracks of one recording.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SignalSet {
    pub tracks: Vec<Track>,
    /// On-screen text read by the OCR model (empty without it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub screen_text: Vec<ScreenText>,
    /// Set by the analysis cascade: the windows analysed in detail and the tracks that
    /// exist only inside them (absent: every track covers the whole recording).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

/// Where the detailed analysis ran (see [`crate::cascade`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Detail {
    pub windows: Vec<crate::time::Span>,
    /// Tracks measured only inside `windows`.
    pub tracks: Vec<String>,
}

impl SignalSet {
    pub fn get(&self, name: &str) -> Option<&Track> {
        self.tracks.iter().find(|t| t.name == name)
    }

    /// The stretches `name` was measured in, when it does not cover the whole recording.
    pub fn coverage_of(&self, name: &str) -> Option<&[crate::time::Span]> {
        let d = self.detail.as_ref()?;
        d.tracks
            .iter()
            .any(|t| t == name)
            .then_some(d.windows.as_slice())
    }

    pub fn insert(&mut self, track: Track) {
        self.tracks.retain(|t| t.name != track.name);
        self.tracks.push(track);
    }
}

/// Progress of a long step, in seconds of media processed.
pub type ProgressFn<'a> = &'a (dyn Fn(f64) + Sync);

/// Why extracting media tracks failed.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Decode `info` and compute the media tracks (loudness, motion, and the tracks of the
/// models in `models`) in one streaming pass.
pub fn extract_media_tracks(
    info: &MediaInfo,
    opts: &DecodeOptions,
    models: &mut ModelSet,
    progress: ProgressFn<'_>,
) -> Result<(SignalSet, DecodeStats), SignalError> {
    let mut opts = opts.clone();
    if !models.needs_frames() {
        opts.rgb_width = None;
    }
    let (rx, handle) = crate::media::spawn_decoder(info, opts);
    let mut loud = LoudnessMeter::new();
    let mut motion = MotionMeter::new();
    let mut picture = PictureMeter::new();
    let mut voice = VoiceMeter::new();
    let mut model_tracks = ModelTracks::new();
    let mut last_report = 0.0;
    use std::time::Instant;
    loop {
        let waiting = Instant::now();
        let Ok(event) = rx.recv() else {
            break;
        };
        models.time("decode_wait", waiting);
        let t = match event {
            DecodeEvent::Video(frame) => {
                let start = Instant::now();
                motion.push(&frame, model_tracks.host_face());
                models.time("motion", start);
                let start = Instant::now();
                picture.push(&frame);
                models.time("picture", start);
                frame.t
            }
            DecodeEvent::Rgb(frame) => {
                model_tracks.push_frame(models, &frame)?;
                frame.t
            }
            DecodeEvent::Audio(block) => {
                let start = Instant::now();
                loud.push(&block);
                models.time("loudness", start);
                let start = Instant::now();
                voice.push(&block);
                models.time("voice", start);
                model_tracks.push_audio(models, &block)?;
                block.t
            }
        };
        if t - last_report >= 5.0 {
            last_report = t;
            progress(t);
        }
    }
    let stats = handle.join().unwrap_or_else(|_| {
        Err(MediaError::Undecodable {
            path: info.path.clone(),
            detail: "the decode thread panicked".into(),
        })
    })?;
    let mut set = SignalSet::default();
    for track in loud.finish() {
        set.insert(track);
    }
    for track in motion.finish() {
        set.insert(track);
    }
    for track in picture.finish() {
        set.insert(track);
    }
    for track in voice.finish(stats.decoded_until_s.max(info.duration_s)) {
        set.insert(track);
    }
    set.screen_text = model_tracks.screen_text().to_vec();
    for track in model_tracks.finish(models) {
        set.insert(track);
    }
    Ok((set, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_values_survive_a_json_round_trip() {
        let mut t = Track::new("face_cx", "fraction", "");
        t.push(0.0, 0.5);
        t.push(1.0, f32::NAN);
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains("null"));
        let back: Track = serde_json::from_str(&json).unwrap();
        assert_eq!(back.values[0], 0.5);
        assert!(back.values[1].is_nan());
    }
}
