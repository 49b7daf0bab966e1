//! Keyword spotting: how well a known word fits somewhere in a window.
//!
//! Forcing a word after the transcription prompt over the whole 30-s window asks "does
//! the window *start* with this word?", and a window holds many words: the keyword's
//! score is drowned by whatever else is said (on synthetic Mandarin, 上链接 scored no
//! better in windows that contain it than in windows that do not). Here the window's
//! encoding is cut into short blocks instead, each block laid into the encoding of
//! digital silence at its own position (so the decoder sees "a short phrase, then
//! nothing", at the time it was said), and the word is forced after the prompt on every
//! block; the best block wins.
//!
//! * Blocks: `SLICE` = 5 s of the window's encoder output (250 positions of 20 ms), every
//!   `HOP` = 1 s (a 5-s word window moved by a fifth of itself: a word of ≤ 1.5 s lies
//!   wholly inside at least three blocks), with 0.5 s of the silence encoding on each side
//!   (300 positions). The decoder takes any number of encoder positions, so a block costs
//!   a fifth of a window.
//! * Stage 1: the 4-token prompt `<|startoftranscript|><|lang|><|transcribe|>
//!   <|notimestamps|>` on every block (batched), giving each word's first-token
//!   log-probability per block and the prompt's self-attention cache.
//! * Stage 2: the rest of each word's tokens, forced on the `TOP` blocks where its first
//!   token fits best, reusing their cache.
//! * Score: the best block's total log-probability divided by the word's written
//!   characters (tokenisations of one word differ in length between written forms).
//!
//! Measured in `research/keyword-slices/REPORT.md` (three sets of generated Mandarin
//! windows, two of them held out, hard negatives such as 上次/晚上/杀菌 included): the
//! separation between windows with and without each word went from −0.45 / −0.24 / +1.84
//! (上链接 / 秒杀 / 最后三单, whole window) to +0.39…+1.19 / +0.35…+1.19 / +1.63…+2.00.

use half::f16;
use ort::session::SessionInputValue;
use ort::value::TensorRef;

use super::{decode, mel, output, Encoded, ModelError, Whisper};

/// Encoder positions of one block's own audio (5 s at 20 ms).
const SLICE: usize = 250;
/// Positions of silence context on each side of a block.
const CONTEXT: usize = 25;
/// Positions between block starts (1 s; in tests/speech.rs's keyword windows the
/// separations are +0.50 / +1.19 / +1.60 against +0.50 / +1.19 / +1.63 with 0.5 s, which
/// costs twice as much).
const HOP: usize = 50;
/// Blocks per word that get its remaining tokens forced (5 and 8 give the same
/// separations in tests/speech.rs).
const TOP: usize = 5;
/// Blocks per decoder call (bounds the memory of one call: 4 blocks of 300 positions are
/// 2 × 6 × 4 × 300 × 512 floats ≈ 30 MB; 8 cost 29 MB more at the speech stage's peak and
/// were no faster with the int8 decoder).
const BATCH: usize = 4;

/// The encoding of 30 s of digital silence that every block is laid into, kept in half
/// precision (18 MB instead of 37 for Whisper base; the keyword separations of
/// tests/speech.rs moved by ≤ 0.06 nats: +0.49 / +1.18 / +1.62 with the int8 graphs).
#[derive(Debug, Clone)]
pub struct Silence {
    k: Vec<f16>,
    v: Vec<f16>,
    /// `[L, H, dh, N]`, as [`Encoded::dims`].
    dims: [usize; 4],
}

impl Silence {
    fn of(enc: &Encoded) -> Self {
        let half = |x: &[f32]| x.iter().map(|&v| f16::from_f32(v)).collect();
        Self {
            k: half(&enc.cross_k),
            v: half(&enc.cross_v),
            dims: enc.dims,
        }
    }
}

/// A word to spot, as the model reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotWord {
    /// The word's tokens (without a leading space).
    pub tokens: Vec<u32>,
    /// Written characters (the score's divisor).
    pub chars: usize,
    /// The language token of its prompt.
    pub language: u32,
}

/// Where a word fits best in a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spot {
    /// Log-probability of the word's tokens per written character, at the best block.
    pub logprob: f32,
    /// The best block's own audio, seconds from the window's start.
    pub start_s: f64,
    pub end_s: f64,
}

/// Block starts (encoder positions) over the first `frames` positions of real audio: every
/// `HOP`, the last one flush with the end of the audio; one block when the audio is short.
pub fn block_starts(frames: usize, slice: usize, hop: usize) -> Vec<usize> {
    if frames <= slice {
        return vec![0];
    }
    let mut starts: Vec<usize> = (0..=frames - slice).step_by(hop.max(1)).collect();
    if starts.last().is_some_and(|&s| s + slice < frames) {
        starts.push(frames - slice);
    }
    starts
}

/// One layer's keys or values of a batch of blocks, appended to `out`.
///
/// `win` and `silence` hold one layer of a window's encoding: keys `[H·dh, N]` (positions
/// last) or values `[H, N, dh]`. A block starting at `s` covers positions
/// `origin .. origin + width` (`origin` = `s − CONTEXT`, kept inside the window), taken from
/// the window for `s .. s + slice` and from the silence encoding elsewhere; the result is
/// `[b, H·dh, width]` or `[b, H, width, dh]`.
#[allow(clippy::too_many_arguments)]
fn blocks(
    win: &[f32],
    silence: &[f16],
    keys: bool,
    heads: usize,
    head_dim: usize,
    n: usize,
    starts: &[usize],
    slice: usize,
    width: usize,
    out: &mut Vec<f32>,
) {
    for &s in starts {
        let origin = s.saturating_sub(CONTEXT).min(n - width);
        let own = |pos: usize| pos >= s && pos < s + slice;
        if keys {
            for row in 0..heads * head_dim {
                let base = row * n + origin;
                for j in 0..width {
                    out.push(if own(origin + j) {
                        win[base + j]
                    } else {
                        silence[base + j].to_f32()
                    });
                }
            }
        } else {
            for h in 0..heads {
                for j in 0..width {
                    let at = (h * n + origin + j) * head_dim;
                    if own(origin + j) {
                        out.extend_from_slice(&win[at..at + head_dim]);
                    } else {
                        out.extend(silence[at..at + head_dim].iter().map(|v| v.to_f32()));
                    }
                }
            }
        }
    }
}

/// A batch's self-attention cache: per layer, keys `[b, H, dh, p]` and values
/// `[b, H, p, dh]`, and `p`.
type Past<'a> = (&'a [Vec<f32>], &'a [Vec<f32>], usize);

/// What one batched decoder call returns.
struct Batch {
    /// `[b, t, V]`.
    logits: Vec<f32>,
    /// Per layer, `[b, H, dh, p + t]` and `[b, H, p + t, dh]` (empty unless asked for).
    new_k: Vec<Vec<f32>>,
    new_v: Vec<Vec<f32>>,
}

impl Whisper {
    /// `word` as [`Whisper::spot_keywords`] takes it, prompted in `language` (a code).
    pub fn spot_word(&self, word: &str, language: &str) -> Result<SpotWord, ModelError> {
        let language = self
            .language_token(language)
            .ok_or_else(|| self.err(format!("unknown language {language:?}")))?;
        let tokens = self.encode_text(word)?;
        if tokens.is_empty() {
            return Err(self.err(format!("keyword {word:?} has no tokens")));
        }
        let chars = word.chars().filter(|c| !c.is_whitespace()).count().max(1);
        Ok(SpotWord {
            tokens,
            chars,
            language,
        })
    }

    /// Compute the encoding of silence that spotting lays each block into, if not done
    /// yet: called before a window is encoded, the encoder's working memory is not stacked
    /// on top of a window's encoding (the speech stage's peak: −60 MB).
    pub fn prepare_spotting(&mut self) -> Result<(), ModelError> {
        if self.silence.is_none() {
            self.silence = Some(Silence::of(&self.encode(&[])?));
        }
        Ok(())
    }

    /// Where each of `words` fits best in the window `enc` (module docs), same order.
    pub fn spot_keywords(
        &mut self,
        enc: &Encoded,
        words: &[SpotWord],
    ) -> Result<Vec<Spot>, ModelError> {
        if words.is_empty() {
            return Ok(Vec::new());
        }
        // The encoding of 30 s of digital silence, computed once per model.
        self.prepare_spotting()?;
        let silence = self
            .silence
            .take()
            .ok_or_else(|| self.err("no silence encoding"))?;
        let spots = self.spot_in(enc, &silence, words);
        self.silence = Some(silence);
        spots
    }

    fn spot_in(
        &mut self,
        enc: &Encoded,
        silence: &Silence,
        words: &[SpotWord],
    ) -> Result<Vec<Spot>, ModelError> {
        let [layers, heads, head_dim, n] = enc.dims;
        if silence.dims != enc.dims {
            return Err(self.err("window and silence encodings differ in shape"));
        }
        let secs_per_pos = mel::CHUNK_SAMPLES as f64 / mel::SAMPLE_RATE as f64 / n as f64;
        let slice = SLICE.min(n);
        let width = (slice + 2 * CONTEXT).min(n);
        let frames = ((enc.duration_s / secs_per_pos).ceil() as usize).clamp(1, n);
        let starts = block_starts(frames, slice, HOP);
        let prompt_len = 4;
        let cache_len = heads * head_dim * prompt_len;
        let mut spots: Vec<Option<Spot>> = vec![None; words.len()];

        let mut languages: Vec<u32> = words.iter().map(|w| w.language).collect();
        languages.sort_unstable();
        languages.dedup();
        for lang in languages {
            let sp = &self.specials;
            let prompt = [sp.sot, lang, sp.transcribe, sp.no_timestamps].map(i64::from);
            let mine: Vec<usize> = (0..words.len())
                .filter(|&i| words[i].language == lang)
                .collect();
            // Stage 1: first-token log-probabilities and the prompt's cache, per block.
            let mut first = vec![vec![0f64; starts.len()]; words.len()];
            let mut cache_k = vec![Vec::with_capacity(starts.len() * cache_len); layers];
            let mut cache_v = vec![Vec::with_capacity(starts.len() * cache_len); layers];
            for (c, chunk) in starts.chunks(BATCH).enumerate() {
                let (ck, cv) = self.block_batch(enc, silence, chunk, slice, width);
                let tokens: Vec<i64> = chunk.iter().flat_map(|_| prompt).collect();
                let out = self.run_batch(&tokens, chunk.len(), None, &ck, &cv, width, true)?;
                for r in 0..chunk.len() {
                    let row = &out.logits[((r + 1) * prompt_len - 1) * self.vocab..][..self.vocab];
                    let lse = decode::log_sum_exp(row);
                    for &i in &mine {
                        let tok = words[i].tokens[0] as usize;
                        first[i][c * BATCH + r] =
                            f64::from(row.get(tok).copied().unwrap_or(decode::DISABLED)) - lse;
                    }
                }
                for l in 0..layers {
                    cache_k[l].extend_from_slice(&out.new_k[l]);
                    cache_v[l].extend_from_slice(&out.new_v[l]);
                }
            }
            // Stage 2: the rest of each word on its best blocks.
            for &i in &mine {
                let word = &words[i];
                let mut rows: Vec<usize> = (0..starts.len()).collect();
                if word.tokens.len() > 1 && rows.len() > TOP {
                    rows.sort_by(|&a, &b| first[i][b].total_cmp(&first[i][a]).then(a.cmp(&b)));
                    rows.truncate(TOP);
                    rows.sort_unstable();
                }
                let mut totals: Vec<f64> = rows.iter().map(|&r| first[i][r]).collect();
                let rest = &word.tokens[..word.tokens.len() - 1];
                if word.tokens.len() > 1 {
                    for (batch, chunk) in rows.chunks(BATCH).enumerate() {
                        let chunk_starts: Vec<usize> = chunk.iter().map(|&r| starts[r]).collect();
                        let (ck, cv) = self.block_batch(enc, silence, &chunk_starts, slice, width);
                        let gather = |cache: &[Vec<f32>]| -> Vec<Vec<f32>> {
                            cache
                                .iter()
                                .map(|layer| {
                                    chunk
                                        .iter()
                                        .flat_map(|&r| &layer[r * cache_len..(r + 1) * cache_len])
                                        .copied()
                                        .collect()
                                })
                                .collect()
                        };
                        let (pk, pv) = (gather(&cache_k), gather(&cache_v));
                        let tokens: Vec<i64> = chunk
                            .iter()
                            .flat_map(|_| rest.iter().map(|&t| i64::from(t)))
                            .collect();
                        let past = Some((&pk[..], &pv[..], prompt_len));
                        let out =
                            self.run_batch(&tokens, chunk.len(), past, &ck, &cv, width, false)?;
                        for r in 0..chunk.len() {
                            for (j, &tok) in word.tokens[1..].iter().enumerate() {
                                let at = (r * rest.len() + j) * self.vocab;
                                let row = &out.logits[at..at + self.vocab];
                                let logit =
                                    row.get(tok as usize).copied().unwrap_or(decode::DISABLED);
                                totals[batch * BATCH + r] +=
                                    f64::from(logit) - decode::log_sum_exp(row);
                            }
                        }
                    }
                }
                let best = (0..rows.len())
                    .max_by(|&a, &b| totals[a].total_cmp(&totals[b]).then(b.cmp(&a)))
                    .unwrap_or(0);
                let s = starts[rows[best]];
                spots[i] = Some(Spot {
                    logprob: (totals[best] / word.chars as f64) as f32,
                    start_s: s as f64 * secs_per_pos,
                    end_s: ((s + slice).min(frames)) as f64 * secs_per_pos,
                });
            }
        }
        spots
            .into_iter()
            .map(|s| s.ok_or_else(|| self.err("a keyword was not scored")))
            .collect()
    }

    /// Keys and values of every layer for the blocks at `starts`.
    fn block_batch(
        &self,
        enc: &Encoded,
        silence: &Silence,
        starts: &[usize],
        slice: usize,
        width: usize,
    ) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        let [layers, heads, head_dim, n] = enc.dims;
        let len = heads * head_dim * n;
        let per_layer = |all_win: &[f32], all_sil: &[f16], keys: bool| -> Vec<Vec<f32>> {
            (0..layers)
                .map(|l| {
                    let mut out = Vec::with_capacity(starts.len() * heads * head_dim * width);
                    let r = l * len..(l + 1) * len;
                    blocks(
                        &all_win[r.clone()],
                        &all_sil[r],
                        keys,
                        heads,
                        head_dim,
                        n,
                        starts,
                        slice,
                        width,
                        &mut out,
                    );
                    out
                })
                .collect()
        };
        (
            per_layer(&enc.cross_k, &silence.k, true),
            per_layer(&enc.cross_v, &silence.v, false),
        )
    }

    /// One decoder call on a batch of `b` sequences of `tokens.len() / b` tokens each, after
    /// `past` (per-layer caches of `p` positions) or from the start, over `n` encoder
    /// positions.
    #[allow(clippy::too_many_arguments)]
    fn run_batch(
        &mut self,
        tokens: &[i64],
        b: usize,
        past: Option<Past<'_>>,
        cross_k: &[Vec<f32>],
        cross_v: &[Vec<f32>],
        n: usize,
        keep_cache: bool,
    ) -> Result<Batch, ModelError> {
        let lay = &self.layout;
        let (layers, h, dh) = (lay.layers, lay.heads, lay.head_dim);
        let t = tokens.len() / b.max(1);
        let name = &self.name;
        let err = |e: ort::Error| ModelError::inference(name, e);
        let p = past.map_or(0, |(_, _, p)| p);
        let mut inputs: Vec<(&str, SessionInputValue<'_>)> = Vec::with_capacity(1 + 4 * layers);
        inputs.push((
            "tokens",
            TensorRef::from_array_view(([b, t], tokens))
                .map_err(err)?
                .into(),
        ));
        let empty: &[f32] = &[];
        for l in 0..layers {
            let (k, v) = past.map_or((empty, empty), |(k, v, _)| (&k[l][..], &v[l][..]));
            inputs.push((
                &lay.self_k[l],
                TensorRef::from_array_view(([b, h, dh, p], k))
                    .map_err(err)?
                    .into(),
            ));
            inputs.push((
                &lay.self_v[l],
                TensorRef::from_array_view(([b, h, p, dh], v))
                    .map_err(err)?
                    .into(),
            ));
        }
        for l in 0..layers {
            inputs.push((
                &lay.cross_k[l],
                TensorRef::from_array_view(([b, h, dh, n], &cross_k[l][..]))
                    .map_err(err)?
                    .into(),
            ));
            inputs.push((
                &lay.cross_v[l],
                TensorRef::from_array_view(([b, h, n, dh], &cross_v[l][..]))
                    .map_err(err)?
                    .into(),
            ));
        }
        let outputs = self.decoder.run(inputs).map_err(err)?;
        let (_, logits) = output(&outputs, "logits", name)?;
        if logits.len() != b * t * self.vocab {
            return Err(ModelError::inference(
                name,
                format!(
                    "decoder outputs {} logits, expected {b} × {t} × {}",
                    logits.len(),
                    self.vocab
                ),
            ));
        }
        let mut batch = Batch {
            logits: logits.to_vec(),
            new_k: Vec::new(),
            new_v: Vec::new(),
        };
        if keep_cache {
            for l in 0..layers {
                let (_, k) = output(&outputs, &lay.new_self_k[l], name)?;
                let (_, v) = output(&outputs, &lay.new_self_v[l], name)?;
                batch.new_k.push(k.to_vec());
                batch.new_v.push(v.to_vec());
            }
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_start_every_hop_and_the_last_is_flush_with_the_audio() {
        assert_eq!(block_starts(100, 250, 25), vec![0]);
        assert_eq!(block_starts(250, 250, 25), vec![0]);
        assert_eq!(block_starts(300, 250, 25), vec![0, 25, 50]);
        assert_eq!(block_starts(310, 250, 25), vec![0, 25, 50, 60]);
        let full = block_starts(1500, 250, 25);
        assert_eq!(full.len(), 51);
        assert_eq!(*full.last().unwrap(), 1250);
    }

    #[test]
    fn a_block_is_the_slice_inside_silence_at_its_own_positions() {
        // One head of width 1, 10 positions; the window's values are 1.., silence's −1...
        let (h, dh, n) = (1, 1, 10);
        let win: Vec<f32> = (0..n).map(|i| i as f32 + 1.0).collect();
        let sil: Vec<f16> = (0..n).map(|i| f16::from_f32(-(i as f32) - 1.0)).collect();
        let mut out = Vec::new();
        // slice 3 wide at 4, width 3 + 2·CONTEXT is more than n: the block is all of n.
        blocks(&win, &sil, true, h, dh, n, &[4], 3, n, &mut out);
        assert_eq!(out, vec![-1., -2., -3., -4., 5., 6., 7., -8., -9., -10.]);
        // Values (layout [H, N, dh]) give the same with dh = 1.
        let mut vals = Vec::new();
        blocks(&win, &sil, false, h, dh, n, &[4], 3, n, &mut vals);
        assert_eq!(vals, out);
    }
}
