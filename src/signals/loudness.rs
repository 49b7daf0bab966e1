//! EBU R128 loudness (momentary, 400 ms window) every 100 ms, via the `ebur128` crate.
//!
//! Measured on the 16 kHz analysis audio with its channels (stereo for stereo sources), so
//! the values agree with FFmpeg's `ebur128` filter on speech and music; delivery loudness
//! is measured again on the rendered clip.

use ebur128::{EbuR128, Mode};

use super::Track;
use crate::media::{AudioBlock, AUDIO_RATE};

/// Floor for silence (−inf LUFS is not useful to fuse).
pub const SILENCE_LUFS: f32 = -70.0;
const HOP: usize = (AUDIO_RATE / 10) as usize; // 100 ms

#[derive(Debug)]
pub struct LoudnessMeter {
    meter: Option<EbuR128>,
    channels: usize,
    /// Interleaved samples not yet measured.
    pending: Vec<f32>,
    t_next: Option<f64>,
    momentary: Track,
    short_term: Track,
}

impl Default for LoudnessMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl LoudnessMeter {
    pub fn new() -> Self {
        Self {
            meter: None,
            channels: 0,
            pending: Vec::with_capacity(HOP * 4),
            t_next: None,
            momentary: Track::new(
                "loudness_momentary",
                "LUFS",
                "EBU R128 momentary loudness (400 ms window) every 100 ms, floored at -70",
            ),
            short_term: Track::new(
                "loudness_short_term",
                "LUFS",
                "EBU R128 short-term loudness (3 s window) every 100 ms, floored at -70",
            ),
        }
    }

    pub fn push(&mut self, block: &AudioBlock) {
        if self.t_next.is_none() {
            self.t_next = Some(block.t);
            self.channels = if block.stereo.is_some() { 2 } else { 1 };
            self.meter = EbuR128::new(self.channels as u32, AUDIO_RATE, Mode::M | Mode::S).ok();
        }
        match (&block.stereo, self.channels) {
            (Some(st), 2) => self.pending.extend_from_slice(st),
            _ => self.pending.extend_from_slice(&block.samples),
        }
        let hop = HOP * self.channels.max(1);
        let mut offset = 0;
        while self.pending.len() - offset >= hop {
            let chunk = &self.pending[offset..offset + hop];
            offset += hop;
            let t_end = self.t_next.unwrap_or(0.0) + HOP as f64 / f64::from(AUDIO_RATE);
            self.t_next = Some(t_end);
            let Some(meter) = self.meter.as_mut() else {
                continue;
            };
            if meter.add_frames_f32(chunk).is_err() {
                continue;
            }
            // Stamp each value at the end of the window it covers.
            let m = floor_lufs(meter.loudness_momentary().unwrap_or(f64::NEG_INFINITY));
            let s = floor_lufs(meter.loudness_shortterm().unwrap_or(f64::NEG_INFINITY));
            self.momentary.push(t_end, m);
            self.short_term.push(t_end, s);
        }
        self.pending.drain(..offset);
    }

    pub fn finish(self) -> [Track; 2] {
        [self.momentary, self.short_term]
    }
}

fn floor_lufs(v: f64) -> f32 {
    if v.is_finite() {
        (v as f32).max(SILENCE_LUFS)
    } else {
        SILENCE_LUFS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(amplitude: f32, secs: f64) -> AudioBlock {
        let n = (secs * f64::from(AUDIO_RATE)) as usize;
        let samples = (0..n)
            .map(|i| {
                amplitude
                    * (i as f32 * 2.0 * std::f32::consts::PI * 1000.0 / AUDIO_RATE as f32).sin()
            })
            .collect();
        AudioBlock {
            t: 0.0,
            samples,
            stereo: None,
        }
    }

    #[test]
    fn louder_tone_reads_louder_and_silence_is_floored() {
        let mut quiet = LoudnessMeter::new();
        quiet.push(&tone(0.05, 2.0));
        let mut loud = LoudnessMeter::new();
        loud.push(&tone(0.5, 2.0));
        let q = quiet.finish()[0].values.last().copied().unwrap();
        let l = loud.finish()[0].values.last().copied().unwrap();
        // 20 dB more amplitude is 20 LU louder.
        assert!((l - q - 20.0).abs() < 0.5, "quiet {q} loud {l}");
        let mut silent = LoudnessMeter::new();
        silent.push(&tone(0.0, 1.0));
        let track = &silent.finish()[0];
        assert_eq!(track.len(), 10);
        assert!(track.values.iter().all(|&v| v == SILENCE_LUFS));
        assert!((track.times_s[9] - 1.0).abs() < 1e-9);
    }
}
