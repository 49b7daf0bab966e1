//! Sound beyond loudness: spectral flux and onset rate (how much is happening), and voice
//! pitch with its variation (an excited voice rises and swings), from the 16 kHz audio.

use std::sync::Arc;

use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::Track;
use crate::media::{AudioBlock, AUDIO_RATE};

/// Analysis frame and hop (32 ms, 50 % overlap).
const FRAME: usize = 512;
const HOP: usize = 256;
const FFT: usize = 1024;
const MIN_HZ: f64 = 70.0;
const MAX_HZ: f64 = 400.0;
/// Normalised autocorrelation above which a frame is voiced.
const VOICED: f32 = 0.45;
/// Frames quieter than this (RMS, full scale 1.0) carry no pitch.
const MIN_RMS: f32 = 0.003;

pub struct VoiceMeter {
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
    window: Vec<f32>,
    pending: Vec<f32>,
    t_next: Option<f64>,
    prev_mag: Vec<f32>,
    flux: Track,
    pitch: Track,
}

impl std::fmt::Debug for VoiceMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceMeter")
            .field("frames", &self.flux.len())
            .finish()
    }
}

impl Default for VoiceMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl VoiceMeter {
    pub fn new() -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        Self {
            fwd: planner.plan_fft_forward(FFT),
            inv: planner.plan_fft_inverse(FFT),
            window: crate::models::yamnet::periodic_hann(FRAME),
            pending: Vec::new(),
            t_next: None,
            prev_mag: Vec::new(),
            flux: Track::new(
                "spectral_flux",
                "fraction",
                "positive change of the magnitude spectrum between 32 ms frames, relative to \
                 the frame's total magnitude (every 16 ms)",
            ),
            pitch: Track::new(
                "pitch_hz",
                "Hz",
                "fundamental frequency of voiced frames (70–400 Hz, autocorrelation); NaN \
                 where unvoiced or quiet (every 16 ms)",
            ),
        }
    }

    pub fn push(&mut self, block: &AudioBlock) {
        let t0 = *self.t_next.get_or_insert(block.t);
        self.pending.extend_from_slice(&block.samples);
        let mut input = vec![0f32; FFT];
        let mut spectrum = self.fwd.make_output_vec();
        let mut power = self.inv.make_input_vec();
        let mut acf = self.inv.make_output_vec();
        let mut offset = 0;
        let mut frames = 0usize;
        while self.pending.len() - offset >= FRAME {
            let frame = &self.pending[offset..offset + FRAME];
            let t = t0 + (frames * HOP + FRAME / 2) as f64 / f64::from(AUDIO_RATE);
            // Spectrum of the windowed frame.
            input.iter_mut().for_each(|v| *v = 0.0);
            for (k, v) in input.iter_mut().take(FRAME).enumerate() {
                *v = frame[k] * self.window[k];
            }
            if self.fwd.process(&mut input, &mut spectrum).is_err() {
                break;
            }
            let mag: Vec<f32> = spectrum.iter().map(|c| c.norm()).collect();
            let total: f32 = mag.iter().sum();
            let flux = if self.prev_mag.len() == mag.len() && total > 1e-6 {
                mag.iter()
                    .zip(&self.prev_mag)
                    .map(|(a, b)| (a - b).max(0.0))
                    .sum::<f32>()
                    / total
            } else {
                0.0
            };
            self.flux.push(t, flux);
            // Autocorrelation via the power spectrum of the (unwindowed) frame.
            let rms = (frame.iter().map(|v| v * v).sum::<f32>() / FRAME as f32).sqrt();
            let mut f0 = f32::NAN;
            if rms >= MIN_RMS {
                input.iter_mut().for_each(|v| *v = 0.0);
                input[..FRAME].copy_from_slice(frame);
                if self.fwd.process(&mut input, &mut spectrum).is_ok() {
                    for (p, c) in power.iter_mut().zip(&spectrum) {
                        *p = realfft::num_complex::Complex::new(c.norm_sqr(), 0.0);
                    }
                    if self.inv.process(&mut power, &mut acf).is_ok() {
                        f0 = pitch_from_acf(&acf);
                    }
                }
            }
            self.pitch.push(t, f0);
            self.prev_mag = mag;
            offset += HOP;
            frames += 1;
        }
        self.pending.drain(..offset);
        self.t_next = Some(t0 + (frames * HOP) as f64 / f64::from(AUDIO_RATE));
    }

    /// Flux, onset rate per second, pitch, and pitch variation per second.
    pub fn finish(self, duration_s: f64) -> Vec<Track> {
        let n = duration_s.ceil().max(1.0) as usize;
        // Onsets: flux peaks above 1.5× the mean of the surrounding second.
        let v = &self.flux.values;
        let mut onsets = vec![0f32; n];
        for i in 1..v.len().saturating_sub(1) {
            let lo = i.saturating_sub(31);
            let hi = (i + 32).min(v.len());
            let mean = v[lo..hi].iter().sum::<f32>() / (hi - lo) as f32;
            if v[i] > v[i - 1] && v[i] >= v[i + 1] && v[i] > 1.5 * mean && v[i] > 0.05 {
                let s = (self.flux.times_s[i].max(0.0) as usize).min(n - 1);
                onsets[s] += 1.0;
            }
        }
        // Pitch variation: standard deviation in semitones of voiced frames within ±1.5 s.
        let voiced: Vec<(f64, f32)> = self
            .pitch
            .times_s
            .iter()
            .zip(&self.pitch.values)
            .filter(|(_, p)| p.is_finite())
            .map(|(&t, &p)| (t, 12.0 * (p / 100.0).log2()))
            .collect();
        let mut variation = vec![f32::NAN; n];
        let mut lo = 0;
        for (s, out) in variation.iter_mut().enumerate() {
            let centre = s as f64 + 0.5;
            while lo < voiced.len() && voiced[lo].0 < centre - 1.5 {
                lo += 1;
            }
            let win: Vec<f32> = voiced[lo..]
                .iter()
                .take_while(|(t, _)| *t <= centre + 1.5)
                .map(|(_, st)| *st)
                .collect();
            if win.len() >= 10 {
                let m = win.iter().sum::<f32>() / win.len() as f32;
                *out = (win.iter().map(|x| (x - m).powi(2)).sum::<f32>() / win.len() as f32).sqrt();
            }
        }
        let per_second = |name: &str, unit: &str, desc: &str, values: Vec<f32>| Track {
            name: name.into(),
            unit: unit.into(),
            description: desc.into(),
            times_s: (0..values.len()).map(|i| i as f64).collect(),
            values,
        };
        vec![
            per_second(
                "onset_rate",
                "1/s",
                "spectral-flux peaks (onsets: syllables, claps, hits) per second",
                onsets,
            ),
            per_second(
                "pitch_variation",
                "semitones",
                "standard deviation of the voice pitch over ±1.5 s of voiced frames (NaN with \
                 fewer than 10 voiced frames)",
                variation,
            ),
            decimate(&self.flux, false),
            decimate(&self.pitch, true),
        ]
    }
}

/// Collapse a 16 ms track to 100 ms bins (mean, or median of the finite values) so the
/// cache stays small on 8-hour recordings.
fn decimate(track: &Track, median: bool) -> Track {
    let mut out = Track::new(
        &track.name,
        &track.unit,
        &track.description.replace("every 16 ms", "per 100 ms bin"),
    );
    let mut i = 0;
    let v = &track.values;
    while i < v.len() {
        let bin = (track.times_s[i] * 10.0).floor();
        let start = i;
        while i < v.len() && (track.times_s[i] * 10.0).floor() == bin {
            i += 1;
        }
        let mut vals: Vec<f32> = v[start..i]
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        let value = if vals.is_empty() {
            f32::NAN
        } else if median {
            vals.sort_by(f32::total_cmp);
            vals[vals.len() / 2]
        } else {
            vals.iter().sum::<f32>() / vals.len() as f32
        };
        out.push(bin / 10.0 + 0.05, value);
    }
    out
}

/// Fundamental frequency from an autocorrelation (lag 0 first), or NaN when unvoiced.
pub fn pitch_from_acf(acf: &[f32]) -> f32 {
    let rate = f64::from(AUDIO_RATE);
    let min_lag = (rate / MAX_HZ) as usize;
    let max_lag = ((rate / MIN_HZ) as usize).min(acf.len().saturating_sub(2));
    let r0 = acf.first().copied().unwrap_or(0.0);
    if r0 <= 0.0 || max_lag <= min_lag {
        return f32::NAN;
    }
    // Normalised correlation per lag, corrected for the shrinking overlap of the frame.
    let norm: Vec<(usize, f32)> = (min_lag..=max_lag)
        .map(|lag| {
            let overlap = (FRAME - lag.min(FRAME - 1)) as f32 / FRAME as f32;
            (lag, acf[lag] / r0 / overlap)
        })
        .collect();
    let top = norm.iter().map(|&(_, r)| r).fold(f32::MIN, f32::max);
    if top < VOICED {
        return f32::NAN;
    }
    // The shortest lag that peaks near the top: multiples of the period (octave errors)
    // correlate about as well.
    let best = norm
        .windows(3)
        .map(|w| w[1])
        .zip(norm.windows(3))
        .find(|((_, r), w)| *r >= 0.9 * top && *r >= w[0].1 && *r >= w[2].1)
        .map(|(b, _)| b)
        .unwrap_or_else(|| {
            norm.iter()
                .copied()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((min_lag, top))
        });
    // Parabolic interpolation around the peak.
    let (l, c, r) = (acf[best.0 - 1], acf[best.0], acf[best.0 + 1]);
    let denom = l - 2.0 * c + r;
    let shift = if denom.abs() > 1e-12 {
        0.5 * (l - r) / denom
    } else {
        0.0
    };
    (rate / (best.0 as f64 + f64::from(shift))) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, secs: f32, amp: f32) -> AudioBlock {
        let n = (secs * AUDIO_RATE as f32) as usize;
        AudioBlock {
            t: 0.0,
            samples: (0..n)
                .map(|i| {
                    let t = i as f32 / AUDIO_RATE as f32;
                    // A voice-like harmonic tone.
                    amp * ((2.0 * std::f32::consts::PI * hz * t).sin()
                        + 0.5 * (4.0 * std::f32::consts::PI * hz * t).sin()
                        + 0.25 * (6.0 * std::f32::consts::PI * hz * t).sin())
                })
                .collect(),
            stereo: None,
        }
    }

    #[test]
    fn finds_the_pitch_of_a_harmonic_tone() {
        for hz in [110.0, 220.0, 330.0] {
            let mut m = VoiceMeter::new();
            m.push(&tone(hz, 1.0, 0.3));
            let tracks = m.finish(1.0);
            let pitch = &tracks.iter().find(|t| t.name == "pitch_hz").unwrap().values;
            let voiced: Vec<f32> = pitch.iter().copied().filter(|p| p.is_finite()).collect();
            assert!(
                voiced.len() > pitch.len() * 9 / 10,
                "{hz}: {} of {}",
                voiced.len(),
                pitch.len()
            );
            let mean = voiced.iter().sum::<f32>() / voiced.len() as f32;
            assert!((mean - hz).abs() < hz * 0.02, "{hz}: {mean}");
            let var = &tracks
                .iter()
                .find(|t| t.name == "pitch_variation")
                .unwrap()
                .values;
            assert!(var[0] < 0.3, "steady pitch: {}", var[0]);
        }
    }

    #[test]
    fn silence_is_unvoiced_and_clicks_are_onsets() {
        let mut m = VoiceMeter::new();
        // Eight clicks in the first second, then a second of silence.
        let mut samples = vec![0f32; 32_000];
        for k in 0..8 {
            let at = 1000 + k * 1800;
            for s in &mut samples[at..at + 80] {
                *s = 0.8;
            }
        }
        m.push(&AudioBlock {
            t: 0.0,
            samples,
            stereo: None,
        });
        let tracks = m.finish(2.0);
        let onsets = &tracks
            .iter()
            .find(|t| t.name == "onset_rate")
            .unwrap()
            .values;
        assert!(
            (6.0..=10.0).contains(&onsets[0]) && onsets[1] == 0.0,
            "{onsets:?}"
        );
        let pitch = tracks.iter().find(|t| t.name == "pitch_hz").unwrap();
        for (t, p) in pitch.times_s.iter().zip(&pitch.values) {
            if *t > 1.1 {
                assert!(p.is_nan(), "silence at {t} has pitch {p}");
            }
        }
    }
}
