//! YAMNet audio events (521 AudioSet classes) every 0.48 s, with its log-mel front end in
//! pure Rust (the front end of the published model: 16 kHz; 25 ms periodic-Hann frames
//! every 10 ms; 512-point FFT magnitude; 64 HTK mel bands 125–7500 Hz; log(mel + 0.001);
//! patches of 96 frames every 48 frames).

use std::sync::Arc;

use ort::session::Session;
use ort::value::TensorRef;
use realfft::{RealFftPlanner, RealToComplex};

use super::{ModelDir, ModelError, Runtime};

pub const NAME: &str = "yamnet";
pub const SAMPLE_RATE: f64 = 16_000.0;
pub const WINDOW: usize = 400;
pub const HOP: usize = 160;
pub const FFT: usize = 512;
pub const MEL_BANDS: usize = 64;
pub const PATCH_FRAMES: usize = 96;
pub const PATCH_HOP: usize = 48;
/// Seconds between patches.
pub const PATCH_STEP_S: f64 = (PATCH_HOP * HOP) as f64 / SAMPLE_RATE;
/// Seconds covered by one patch.
pub const PATCH_SPAN_S: f64 = ((PATCH_FRAMES - 1) * HOP + WINDOW) as f64 / SAMPLE_RATE;
const LOG_OFFSET: f32 = 0.001;

/// The AudioSet classes livecut keeps as tracks, by index in the class map.
pub const KEPT: &[(usize, &str)] = &[
    (0, "speech"),
    (6, "shout"),
    (9, "yell"),
    (13, "laughter"),
    (15, "giggle"),
    (17, "belly_laugh"),
    (58, "clapping"),
    (61, "cheering"),
    (62, "applause"),
    (64, "crowd"),
    (132, "music"),
];

/// Streaming log-mel front end: samples in, 96×64 patches out.
pub struct FrontEnd {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    mel: Vec<Vec<(usize, f32)>>,
    samples: Vec<f32>,
    frames: Vec<[f32; MEL_BANDS]>,
}

impl std::fmt::Debug for FrontEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontEnd")
            .field("pending_samples", &self.samples.len())
            .field("pending_frames", &self.frames.len())
            .finish()
    }
}

impl Default for FrontEnd {
    fn default() -> Self {
        Self::new()
    }
}

impl FrontEnd {
    pub fn new() -> Self {
        Self {
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(FFT),
            window: periodic_hann(WINDOW),
            mel: mel_matrix(),
            samples: Vec::new(),
            frames: Vec::new(),
        }
    }

    /// Feed samples; returns every complete patch (row-major 96×64).
    pub fn push(&mut self, samples: &[f32]) -> Vec<Vec<f32>> {
        self.samples.extend_from_slice(samples);
        let mut input = vec![0f32; FFT];
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut consumed = 0;
        while self.samples.len() - consumed >= WINDOW {
            input.iter_mut().for_each(|v| *v = 0.0);
            for (k, v) in input.iter_mut().take(WINDOW).enumerate() {
                *v = self.samples[consumed + k] * self.window[k];
            }
            if self
                .fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .is_err()
            {
                break;
            }
            let mag: Vec<f32> = spectrum.iter().map(|c| c.norm()).collect();
            let mut frame = [0f32; MEL_BANDS];
            for (b, weights) in self.mel.iter().enumerate() {
                let e: f32 = weights.iter().map(|&(k, w)| mag[k] * w).sum();
                frame[b] = (e + LOG_OFFSET).ln();
            }
            self.frames.push(frame);
            consumed += HOP;
        }
        self.samples.drain(..consumed);
        let mut patches = Vec::new();
        while self.frames.len() >= PATCH_FRAMES {
            let mut patch = Vec::with_capacity(PATCH_FRAMES * MEL_BANDS);
            for f in &self.frames[..PATCH_FRAMES] {
                patch.extend_from_slice(f);
            }
            patches.push(patch);
            self.frames.drain(..PATCH_HOP);
        }
        patches
    }
}

/// Periodic Hann window (as `scipy.signal.get_window('hann', n)` / TF's `periodic=True`).
pub fn periodic_hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .map(|v| v as f32)
        .collect()
}

fn hz_to_mel(hz: f64) -> f64 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

/// HTK mel filterbank as TensorFlow's `linear_to_mel_weight_matrix` builds it (the DC bin
/// carries no weight): per band, the non-zero (bin, weight) pairs.
pub fn mel_matrix() -> Vec<Vec<(usize, f32)>> {
    let bins = FFT / 2 + 1;
    let nyquist = SAMPLE_RATE / 2.0;
    let (lo, hi) = (hz_to_mel(125.0), hz_to_mel(7500.0));
    let edges: Vec<f64> = (0..MEL_BANDS + 2)
        .map(|i| lo + (hi - lo) * i as f64 / (MEL_BANDS + 1) as f64)
        .collect();
    (0..MEL_BANDS)
        .map(|b| {
            let (l, c, u) = (edges[b], edges[b + 1], edges[b + 2]);
            (1..bins)
                .filter_map(|k| {
                    let mel = hz_to_mel(nyquist * k as f64 / (bins - 1) as f64);
                    let w = ((mel - l) / (c - l)).min((u - mel) / (u - c)).max(0.0);
                    (w > 0.0).then_some((k, w as f32))
                })
                .collect()
        })
        .collect()
}

/// YAMNet session plus its front end.
#[derive(Debug)]
pub struct Yamnet {
    session: Session,
    pub front: FrontEnd,
    /// Whether the model's outputs are logits (a sigmoid gives probabilities).
    logits: bool,
}

impl Yamnet {
    pub fn new(rt: &Runtime, dir: &ModelDir) -> Result<Self, ModelError> {
        let (_, path) = dir.verified(NAME)?;
        Ok(Self {
            session: rt.session(NAME, &path)?,
            front: FrontEnd::new(),
            // The float conversion of the w8a8 file outputs logits (see models/yamnet.toml).
            logits: true,
        })
    }

    /// Class probabilities (521 each) for a batch of patches.
    pub fn scores(&mut self, patches: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, ModelError> {
        let err = |e: ort::Error| ModelError::inference(NAME, e);
        // The batch dimension is dynamic: one run for all patches at hand.
        let n = patches.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut batch = Vec::with_capacity(n * PATCH_FRAMES * MEL_BANDS);
        for p in patches {
            batch.extend_from_slice(p);
        }
        let x = TensorRef::from_array_view(([n, 1, PATCH_FRAMES, MEL_BANDS], &batch[..]))
            .map_err(err)?;
        let outputs = self.session.run(ort::inputs![x]).map_err(err)?;
        let y = outputs[0].try_extract_array::<f32>().map_err(err)?;
        let mut v: Vec<f32> = y.iter().copied().collect();
        if self.logits {
            v.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-*x).exp()));
        }
        if v.len() % n != 0 {
            return Err(ModelError::inference(
                NAME,
                format!("unexpected output size {}", v.len()),
            ));
        }
        let classes = v.len() / n;
        Ok(v.chunks(classes).map(<[f32]>::to_vec).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_constants() {
        assert!((PATCH_STEP_S - 0.48).abs() < 1e-12);
        assert!((PATCH_SPAN_S - 0.975).abs() < 1e-12);
    }

    #[test]
    fn mel_bands_cover_125_to_7500_hz() {
        let m = mel_matrix();
        assert_eq!(m.len(), 64);
        let hz = |k: usize| k as f64 * 8000.0 / 256.0;
        let first = m[0].first().unwrap().0;
        let last = m[63].last().unwrap().0;
        assert!(hz(first) >= 125.0 && hz(first) < 200.0, "{}", hz(first));
        assert!(hz(last) <= 7500.0 && hz(last) > 7000.0, "{}", hz(last));
        assert!(m.iter().all(|b| !b.is_empty()));
    }

    #[test]
    fn front_end_patch_count_and_tone_band() {
        let mut fe = FrontEnd::new();
        // 2 s of a 1 kHz tone: (32000-400)/160+1 = 198 frames → patches at frames 0, 48, 96.
        let tone: Vec<f32> = (0..32_000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let patches = fe.push(&tone[..10_000]);
        let mut all = patches;
        all.extend(fe.push(&tone[10_000..]));
        assert_eq!(all.len(), 3);
        let frame = &all[0][..64];
        let loudest = (0..64)
            .max_by(|&a, &b| frame[a].total_cmp(&frame[b]))
            .unwrap();
        // 1 kHz is about band 17 of 64 on the HTK scale 125–7500 Hz.
        assert!((15..=20).contains(&loudest), "band {loudest}");
    }
}
