//! Silero VAD v6: speech probability for every 32 ms (512 samples at 16 kHz).
//!
//! The model is stateful: each call takes 64 samples of context from the previous chunk plus
//! 512 new samples (`input` [1,576]), the recurrent `state` [2,1,128] and `sr` = 16000, and
//! returns the probability [1,1] and the next state.

use ndarray::Array3;
use ort::session::Session;
use ort::value::{Tensor, TensorRef};

use super::{ModelDir, ModelError, Runtime};

pub const NAME: &str = "silero_vad";
pub const CHUNK: usize = 512;
pub const CONTEXT: usize = 64;
/// Seconds per probability.
pub const STEP_S: f64 = CHUNK as f64 / 16_000.0;
/// Chunks of non-speech (probability below [`QUIET`]) after which the recurrent state is
/// reset (5 s). Over long music or silence the carried state drifts until even clear
/// speech stays near 0 (seen on a 2-minute music bed: a voice at 111 s scored 0.08
/// in the stream and 1.00 from a fresh state); resetting in a quiet stretch costs nothing.
const RESET_AFTER: usize = 156;
const QUIET: f32 = 0.15;

#[derive(Debug)]
pub struct Vad {
    session: Session,
    state: Array3<f32>,
    context: [f32; CONTEXT],
    pending: Vec<f32>,
    /// Consecutive quiet chunks.
    quiet: usize,
}

impl Vad {
    pub fn new(rt: &Runtime, dir: &ModelDir) -> Result<Self, ModelError> {
        let (_, path) = dir.verified(NAME)?;
        Ok(Self {
            session: rt.session(NAME, &path)?,
            state: Array3::zeros((2, 1, 128)),
            context: [0.0; CONTEXT],
            pending: Vec::with_capacity(CHUNK * 2),
            quiet: 0,
        })
    }

    /// Feed 16 kHz mono samples; returns the speech probability of each completed chunk.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>, ModelError> {
        self.pending.extend_from_slice(samples);
        let mut out = Vec::with_capacity(self.pending.len() / CHUNK);
        let mut offset = 0;
        while self.pending.len() - offset >= CHUNK {
            let input = window(&self.context, &self.pending[offset..offset + CHUNK]);
            let p = self.run(&input)?;
            out.push(p);
            if p < QUIET {
                self.quiet += 1;
                if self.quiet >= RESET_AFTER {
                    self.state.fill(0.0);
                    self.quiet = 0;
                }
            } else {
                self.quiet = 0;
            }
            self.context
                .copy_from_slice(&self.pending[offset + CHUNK - CONTEXT..offset + CHUNK]);
            offset += CHUNK;
        }
        self.pending.drain(..offset);
        Ok(out)
    }

    fn run(&mut self, input: &[f32]) -> Result<f32, ModelError> {
        let err = |e: ort::Error| ModelError::inference(NAME, e);
        let x = TensorRef::from_array_view(([1usize, CONTEXT + CHUNK], input)).map_err(err)?;
        let state = TensorRef::from_array_view(self.state.view()).map_err(err)?;
        let sr = Tensor::from_array(ndarray::arr0(16_000i64)).map_err(err)?;
        let outputs = self
            .session
            .run(ort::inputs!["input" => x, "state" => state, "sr" => sr])
            .map_err(err)?;
        let prob = outputs[0]
            .try_extract_array::<f32>()
            .map_err(err)?
            .iter()
            .next()
            .copied()
            .unwrap_or(0.0);
        let next = outputs[1].try_extract_array::<f32>().map_err(err)?;
        if next.len() == self.state.len() {
            for (dst, src) in self.state.iter_mut().zip(next.iter()) {
                *dst = *src;
            }
        }
        Ok(prob)
    }
}

/// Context followed by the new chunk: the model's input row.
pub fn window(context: &[f32; CONTEXT], chunk: &[f32]) -> Vec<f32> {
    let mut v = Vec::with_capacity(CONTEXT + chunk.len());
    v.extend_from_slice(context);
    v.extend_from_slice(chunk);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_context_then_chunk() {
        let mut ctx = [0.0; CONTEXT];
        ctx[CONTEXT - 1] = 7.0;
        let chunk = vec![1.0; CHUNK];
        let w = window(&ctx, &chunk);
        assert_eq!(w.len(), 576);
        assert_eq!(w[63], 7.0);
        assert_eq!(w[64], 1.0);
        assert!((STEP_S - 0.032).abs() < 1e-12);
    }
}
