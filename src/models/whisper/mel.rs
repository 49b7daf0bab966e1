//! Whisper's log-mel front end, numerically as faster-whisper's `FeatureExtractor`: 16 kHz
//! mono, zero-padded to 30 s; 400-point periodic-Hann frames every 160 samples, centred
//! (reflect padding of 200 samples at the start); power spectrum; Slaney mel filters
//! (librosa's default: `htk=False`, `norm="slaney"`, 0–8000 Hz); `log10(max(x, 1e-10))`;
//! `max(x, max(x) - 8)`; `(x + 4) / 4`. 3000 frames (the STFT's last frame is dropped).
//!
//! The spectrum is computed in f64 (numpy's precision) and returned as f32.

use std::sync::Arc;

use ndarray::Array2;
use realfft::{RealFftPlanner, RealToComplex};

pub const SAMPLE_RATE: usize = 16_000;
pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
/// Frequency bins of one frame's spectrum.
pub const BINS: usize = N_FFT / 2 + 1;
/// Samples in one 30-s window.
pub const CHUNK_SAMPLES: usize = 30 * SAMPLE_RATE;
/// Frames in one window (the encoder's input length).
pub const FRAMES: usize = CHUNK_SAMPLES / HOP;

/// Hz → mel on the Slaney scale (linear below 1 kHz, logarithmic above), as librosa's
/// `hz_to_mel(htk=False)`.
pub fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / logstep
    } else {
        hz / F_SP
    }
}

/// Inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (logstep * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// librosa's `filters.mel(sr=16000, n_fft=400, n_mels, fmin=0, fmax=8000)`: `[n_mels, 201]`,
/// triangles between `n_mels + 2` points evenly spaced in Slaney mel, each scaled by
/// `2 / (f[i+2] - f[i])` (unit area in Hz).
pub fn mel_filters(n_mels: usize) -> Array2<f64> {
    let fmax = SAMPLE_RATE as f64 / 2.0;
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(fmax));
    let points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let bin_hz = |k: usize| fmax * k as f64 / (BINS - 1) as f64;
    let mut w = Array2::zeros((n_mels, BINS));
    for m in 0..n_mels {
        let (l, c, u) = (points[m], points[m + 1], points[m + 2]);
        let enorm = 2.0 / (u - l);
        for k in 0..BINS {
            let f = bin_hz(k);
            let lower = (f - l) / (c - l);
            let upper = (u - f) / (u - c);
            w[[m, k]] = lower.min(upper).max(0.0) * enorm;
        }
    }
    w
}

/// The front end with its FFT plan, filters and buffers (reused across windows).
pub struct LogMel {
    n_mels: usize,
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    /// Per mel band: first bin and the weights from there on.
    filters: Vec<(usize, Vec<f64>)>,
    frame: Vec<f64>,
    spectrum: Vec<realfft::num_complex::Complex<f64>>,
    scratch: Vec<realfft::num_complex::Complex<f64>>,
    power: Vec<f64>,
}

impl std::fmt::Debug for LogMel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogMel")
            .field("n_mels", &self.n_mels)
            .finish()
    }
}

impl LogMel {
    pub fn new(n_mels: usize) -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT);
        let dense = mel_filters(n_mels);
        let filters = dense
            .outer_iter()
            .map(|row| {
                let first = row.iter().position(|&w| w > 0.0).unwrap_or(0);
                let last = row.iter().rposition(|&w| w > 0.0).map_or(first, |l| l + 1);
                (
                    first,
                    row.iter().skip(first).take(last - first).copied().collect(),
                )
            })
            .collect();
        Self {
            n_mels,
            window: (0..N_FFT)
                .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos())
                .collect(),
            frame: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; BINS],
            fft,
            filters,
        }
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// `[n_mels, 3000]` log-mel of one window. Samples beyond 30 s are ignored.
    pub fn compute(&mut self, samples: &[f32]) -> Array2<f32> {
        let samples = &samples[..samples.len().min(CHUNK_SAMPLES)];
        // The signal is the samples followed by zeros; the STFT is centred with reflect
        // padding, so sample index s < 0 reads sample -s.
        let at = |s: isize| -> f64 {
            let i = s.unsigned_abs();
            samples.get(i).map_or(0.0, |&v| f64::from(v))
        };
        // Frames 3000 and 3001 still see the end of a full 30-s window: they are not
        // returned, but the reference's `max(x) - 8` floor is taken over them too.
        let frames = FRAMES + 2;
        let mut mel = Array2::<f64>::zeros((self.n_mels, frames));
        for t in 0..frames {
            let start = (t * HOP) as isize - (N_FFT / 2) as isize;
            if start >= samples.len() as isize {
                break; // only zeros from here on: mel energy 0
            }
            for (j, (v, w)) in self.frame.iter_mut().zip(&self.window).enumerate() {
                *v = at(start + j as isize) * w;
            }
            if self
                .fft
                .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
                .is_err()
            {
                // Only fails on buffer length mismatches, which the plan's own vectors rule out.
                continue;
            }
            for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
                *p = c.norm_sqr();
            }
            for (m, (first, weights)) in self.filters.iter().enumerate() {
                mel[[m, t]] = weights
                    .iter()
                    .zip(&self.power[*first..])
                    .map(|(w, p)| w * p)
                    .sum();
            }
        }
        mel.mapv_inplace(|x| x.max(1e-10).log10());
        let max = mel.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        mel.slice(ndarray::s![.., ..FRAMES])
            .mapv(|x| ((x.max(max - 8.0) + 4.0) / 4.0) as f32)
    }
}

/// `[n_mels, 3000]` log-mel of up to 30 s of 16 kHz mono samples (see the module docs).
pub fn log_mel(samples_16k: &[f32], n_mels: usize) -> Array2<f32> {
    LogMel::new(n_mels).compute(samples_16k)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn slaney_scale_is_linear_below_1khz_and_round_trips() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        for hz in [0.0, 40.0, 999.0, 1000.0, 2500.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9, "{hz}");
        }
    }

    #[test]
    fn mel_filters_shape_and_area() {
        let w = mel_filters(80);
        assert_eq!(w.dim(), (80, 201));
        assert!(w.iter().all(|&x| x >= 0.0));
        // Every band has some weight; peaks move up in frequency.
        let peaks: Vec<usize> = w
            .outer_iter()
            .map(|r| (0..201).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap())
            .collect();
        assert!(w.outer_iter().all(|r| r.sum() > 0.0));
        assert!(peaks.windows(2).all(|p| p[0] <= p[1]), "{peaks:?}");
        // Slaney normalisation: unit area in Hz, so sum × 40 Hz ≈ 1 (0.93–1.08 with the
        // 40-Hz bins; librosa's filters give the same sums).
        for (m, row) in w.outer_iter().enumerate() {
            let area = row.sum() * 40.0;
            assert!((area - 1.0).abs() < 0.09, "band {m}: {area}");
        }
        assert!((w.row(0).sum() * 40.0 - 0.995).abs() < 1e-3);
        // librosa's first filter: weight 0.0248626 at bin 1 (40 Hz), 0 at DC and bin 2.
        assert!((w[[0, 1]] - 0.024_862_6).abs() < 1e-7, "{}", w[[0, 1]]);
        assert_eq!(w[[0, 2]], 0.0);
        assert!(
            (w[[79, 198]] - 0.000_897_52).abs() < 1e-8,
            "{}",
            w[[79, 198]]
        );
        assert_eq!(w[[0, 0]], 0.0);
        // The top band ends at 8 kHz.
        assert!(w[[79, 200]] == 0.0 && w[[79, 199]] > 0.0);
        // 128 bands (large-v3) work too.
        assert_eq!(mel_filters(128).dim(), (128, 201));
    }

    #[test]
    fn silence_is_flat_and_tone_lands_in_its_band() {
        let m = log_mel(&[], 80);
        assert_eq!(m.dim(), (80, 3000));
        // log10(1e-10) = -10 everywhere → (-10 + 4) / 4.
        assert!(m.iter().all(|&x| (x + 1.5).abs() < 1e-6));

        let tone: Vec<f32> = (0..16_000)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let m = log_mel(&tone, 80);
        let col = m.column(50);
        let loudest = (0..80).max_by(|&a, &b| col[a].total_cmp(&col[b])).unwrap();
        let centre = hz_to_mel(1000.0) / hz_to_mel(8000.0) * 81.0 - 1.0;
        assert!(
            (loudest as f64 - centre).abs() <= 1.0,
            "{loudest} vs {centre}"
        );
        // The dynamic range is clamped to 8 decades (2.0 after scaling).
        let max = m.iter().copied().fold(f32::MIN, f32::max);
        let min = m.iter().copied().fold(f32::MAX, f32::min);
        assert!((max - min - 2.0).abs() < 1e-5, "{max} {min}");
        // After the tone (1 s = frame 100) the frames are at the floor.
        assert!(m.column(200).iter().all(|&x| (x - min).abs() < 1e-6));
    }

    #[test]
    fn frames_are_centred_with_reflect_padding() {
        // Frame t spans samples t·160 − 200 .. t·160 + 200: sample 250 is in frames 1 and 2.
        let mut x = vec![0f32; 1000];
        x[250] = 1.0;
        let m = log_mel(&x, 80);
        let floor = m.iter().copied().fold(f32::MAX, f32::min);
        let touched = |t: usize| m.column(t).iter().any(|&v| v > floor);
        assert!(!touched(0) && touched(1) && touched(2) && !touched(3));

        // Frame 0 against a naive DFT of numpy's reflect-padded signal.
        let x: Vec<f32> = (0..2000)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
            .collect();
        let padded: Vec<f64> = (0..N_FFT)
            .map(|j| f64::from(x[(j as isize - 200).unsigned_abs()]))
            .collect();
        let hann = |j: usize| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * j as f64 / 400.0).cos();
        let power: Vec<f64> = (0..BINS)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (j, v) in padded.iter().enumerate() {
                    let a = -2.0 * std::f64::consts::PI * (k * j) as f64 / 400.0;
                    re += v * hann(j) * a.cos();
                    im += v * hann(j) * a.sin();
                }
                re * re + im * im
            })
            .collect();
        let filters = mel_filters(80);
        let mut lm = LogMel::new(80);
        let got = lm.compute(&x);
        let all = lm.compute(&x); // buffers reused: same result
        assert_eq!(got, all);
        let raw: Vec<f64> = filters
            .outer_iter()
            .map(|r| {
                r.iter()
                    .zip(&power)
                    .map(|(w, p)| w * p)
                    .sum::<f64>()
                    .max(1e-10)
                    .log10()
            })
            .collect();
        // Undo the scaling on bands above the clamp and compare.
        let got_floor = f64::from(got.iter().copied().fold(f32::MAX, f32::min)) * 4.0 - 4.0;
        for (m, want) in raw.iter().enumerate() {
            let v = f64::from(got[[m, 0]]) * 4.0 - 4.0;
            if v > got_floor + 1e-3 {
                assert!((v - want).abs() < 1e-4, "band {m}: {v} vs {want}");
            }
        }
    }

    #[test]
    fn the_floor_counts_the_frames_past_3000() {
        // A full 30-s window, silent but for a burst in its last 100 samples. Frame 3000
        // (centred on sample 480,000) sees the burst best; it is dropped from the output, but
        // the reference takes max(x) − 8 over it too.
        let mut x = vec![0f32; CHUNK_SAMPLES];
        for (i, v) in x[CHUNK_SAMPLES - 100..].iter_mut().enumerate() {
            *v = if i % 2 == 0 { 0.8 } else { -0.8 };
        }
        let mut lm = LogMel::new(80);
        let m = lm.compute(&x);
        assert_eq!(m.dim(), (80, FRAMES));
        // Frame 3000's mel energies by hand (samples 479,800 .. 480,200).
        let hann = |j: usize| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * j as f64 / 400.0).cos();
        let frame: Vec<f64> = (0..N_FFT)
            .map(|j| f64::from(x.get(479_800 + j).copied().unwrap_or(0.0)) * hann(j))
            .collect();
        let power: Vec<f64> = (0..BINS)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (j, v) in frame.iter().enumerate() {
                    let a = -2.0 * std::f64::consts::PI * (k * j) as f64 / 400.0;
                    re += v * a.cos();
                    im += v * a.sin();
                }
                re * re + im * im
            })
            .collect();
        let max3000 = mel_filters(80)
            .outer_iter()
            .map(|r| {
                r.iter()
                    .zip(&power)
                    .map(|(w, p)| w * p)
                    .sum::<f64>()
                    .log10()
            })
            .fold(f64::MIN, f64::max);
        let out_max = m.iter().copied().fold(f32::MIN, f32::max);
        let floor = m.iter().copied().fold(f32::MAX, f32::min);
        assert!(
            f64::from(out_max) * 4.0 - 4.0 < max3000,
            "frame 3000 is the loudest"
        );
        assert!(
            (f64::from(floor) - (max3000 - 8.0 + 4.0) / 4.0).abs() < 1e-5,
            "floor {floor} vs {}",
            (max3000 - 4.0) / 4.0
        );
    }
}
