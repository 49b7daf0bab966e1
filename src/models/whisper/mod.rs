//! Whisper speech recognition (multilingual Whisper base from a faster-whisper / CTranslate2
//! conversion, as two ONNX graphs): log-mel front end, encoder, KV-cached decoder, greedy
//! decoding that reproduces CTranslate2's `Whisper.generate(beam_size=1)` token for token,
//! language detection, segments on timestamp pairs, and keyword scoring by forced decoding.
//!
//! Files (all listed with their sha256 in `models/<name>.toml`): the encoder (`file`),
//! `decoder`, `tokenizer` (Hugging Face tokenizer.json) and `config` (CTranslate2's
//! config.json: `suppress_ids`, `suppress_ids_begin`, `lang_ids`). The graphs' contract is in
//! `models/whisper_base.toml` (`[io]`), one tensor per decoder layer l = 0 .. L−1 (H heads of
//! dh = D/H): encoder `mel` [B,n_mels,3000] → `cross_k_l` [B,H,dh,1500] (keys, transposed
//! per head), `cross_v_l` [B,H,1500,dh]; decoder `tokens` [B,T], `self_k_l` [B,H,dh,P],
//! `self_v_l` [B,H,P,dh], `cross_k_l`, `cross_v_l` → `logits` [B,T,V], `new_self_k_l`
//! [B,H,dh,P+T], `new_self_v_l` [B,H,P+T,dh].
//!
//! The prompt goes through the decoder in one call with an empty cache (P = 0: ONNX Runtime
//! takes the zero-length tensors), then one call per generated token. A step copies only the
//! graph's Concat of each layer's cache with the new position and the logits row: the
//! cross-attention tensors are handed to ONNX Runtime as views of the [`Encoded`] buffers
//! (already in the layout the decoder's MatMuls read), and each step's `new_self_*_l` outputs
//! are fed back as the next `self_*_l` inputs as they are.
//! Measured on the 2-core CPU machines (ONNX Runtime 1.32, optimised build, quiet machine):
//! encoder ≈ 1.1 s per 30-s window on one thread, ≈ 0.6 s on two; decoder ≈ 13 ms per
//! token on one thread, ≈ 8 ms on two (≈ 21 and ≈ 13–16 ms with the earlier stacked
//! [L,B,N,D] tensors, which ONNX Runtime copied and transposed at every step). What is left
//! is reading the weights (the tied 51,865-word output projection ≈ 106 MB, the layers
//! ≈ 88 MB) and the 37 MB of cross-attention keys/values, and ≈ 0.3–0.6 ms of logit rules;
//! log-mel ≈ 10 ms. An [`Encoded`] window holds 2 × 18 MB of cross-attention keys/values.

pub mod decode;
pub mod mel;
pub mod spot;
pub mod text;

use std::path::Path;
use std::time::Instant;

use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, TensorRef};
use serde::Deserialize;
use tokenizers::Tokenizer;

pub use decode::Specials;
pub use mel::{log_mel, LogMel};
pub use spot::{Spot, SpotWord};

use super::{Device, ModelDir, ModelError, ModelSpec, Runtime};

pub const NAME: &str = "whisper_base";
/// Decoder positions (learned positional embedding): prompt + generated tokens.
pub const MAX_POSITIONS: usize = 448;
/// CTranslate2's default `max_length`.
pub const DEFAULT_MAX_LENGTH: usize = 448;

/// What the spec file adds to [`ModelSpec`] for Whisper.
#[derive(Debug, Clone, Deserialize)]
struct Files {
    decoder: String,
    decoder_sha256: String,
    /// The graphs with 8-bit weights (optional: converted models made before them lack
    /// them, and then the float32 graphs run).
    #[serde(default)]
    encoder_int8: Option<String>,
    #[serde(default)]
    encoder_int8_sha256: Option<String>,
    #[serde(default)]
    decoder_int8: Option<String>,
    #[serde(default)]
    decoder_int8_sha256: Option<String>,
    tokenizer: String,
    tokenizer_sha256: String,
    config: String,
    config_sha256: String,
}

/// Which graphs of a Whisper spec run (`--speech-weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Weights {
    /// The int8 graphs on the CPU when the spec has them, else the float32 ones.
    #[default]
    Auto,
    /// The float32 graphs: CTranslate2's greedy tokens exactly (the reference tests), and
    /// what runs on CUDA.
    Float32,
    /// 8-bit weights (MatMulNBits, int8 products): a quarter of the weights' memory
    /// (87 MB of files instead of 290 MB), decoder steps ~3× faster on the CPU; tokens
    /// differ from the float32 graphs' on hard audio (see models/whisper_base.toml).
    Int8,
}

/// The graphs [`Weights`] picks: (encoder file, its sha256, decoder file, its sha256,
/// whether they are the int8 ones).
struct Graphs {
    encoder: String,
    encoder_sha256: String,
    decoder: String,
    decoder_sha256: String,
    int8: bool,
}

/// CTranslate2's config.json (the parts decoding needs).
#[derive(Debug, Clone, Deserialize)]
struct Config {
    suppress_ids: Vec<u32>,
    suppress_ids_begin: Vec<u32>,
    lang_ids: Vec<u32>,
}

/// The encoder's output for one window: cross-attention keys and values of every decoder
/// layer, one layer after the other: keys `[1, H, dh, N]` (transposed per head), values
/// `[1, H, N, dh]`.
#[derive(Clone)]
pub struct Encoded {
    cross_k: Vec<f32>,
    cross_v: Vec<f32>,
    /// `[L, H, dh, N]`.
    dims: [usize; 4],
    /// Seconds of audio in the window (≤ 30).
    pub duration_s: f64,
}

impl std::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoded")
            .field("dims", &self.dims)
            .field("duration_s", &self.duration_s)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TranscribeOptions {
    /// Language code (`"zh"`, `"en"`, …); `None` detects it.
    pub language: Option<String>,
    /// Predict timestamps (segments inside the window) instead of `<|notimestamps|>`.
    pub timestamps: bool,
    /// Convert Chinese output (language `zh`) from Traditional to Simplified script.
    pub simplified_chinese: bool,
    /// At most this many generated tokens (CTranslate2 caps greedy decoding at 224).
    pub max_tokens: usize,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        Self {
            language: None,
            timestamps: false,
            simplified_chinese: true,
            max_tokens: DEFAULT_MAX_LENGTH / 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WindowTranscript {
    pub language: String,
    /// Probability of `language` among the languages at the start of the transcript.
    pub language_prob: f32,
    /// Probability of `<|nospeech|>` right after `<|startoftranscript|>` (CTranslate2's).
    pub no_speech_prob: f32,
    /// Sum of the generated tokens' log-probabilities (EOT included) / (tokens + 1), as
    /// faster-whisper's `avg_logprob`.
    pub avg_logprob: f32,
    /// faster-whisper's compression ratio of the text (before script conversion).
    pub compression_ratio: f32,
    pub segments: Vec<WindowSegment>,
    /// The whole window's text, trimmed.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WindowSegment {
    /// Seconds from the window start.
    pub start_s: f64,
    pub end_s: f64,
    /// Trimmed text.
    pub text: String,
    /// Mean log-probability of the segment's tokens (timestamps included).
    pub avg_logprob: f32,
    /// The text in pieces of whole characters, each with the estimated time it starts
    /// (seconds from the window start, non-decreasing); their texts joined are `text`
    /// before trimming. Empty without timestamps.
    pub pieces: Vec<(f64, String)>,
}

/// Raw greedy output.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// Generated tokens, prompt and EOT excluded (as CTranslate2's `sequences_ids`).
    pub tokens: Vec<u32>,
    pub no_speech_prob: f32,
    /// Sum of log-probabilities of every chosen token, EOT included (CTranslate2's score
    /// before length normalisation: `score = sum_logprob / tokens.len()`).
    pub sum_logprob: f32,
    /// Log-probability of each token in `tokens`.
    pub logprobs: Vec<f32>,
    /// Where in the window each token of `tokens` was said, seconds from the window's
    /// start, as the decoder's most likely timestamp at the step that produced it (a
    /// timestamp token's own time); empty without timestamps. Approximate (±0.5 s on
    /// clear speech): good for splitting a long segment at a pause, not for word timing.
    pub token_times: Vec<f64>,
}

/// Wall-clock seconds of the last calls (for benchmarks and logs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Last `encode`: log-mel, then the encoder graph.
    pub mel_s: f64,
    pub encoder_s: f64,
    /// Last generation: the prompt call, then the one-token steps.
    pub prompt_s: f64,
    pub steps: usize,
    pub steps_s: f64,
}

/// Self-attention cache: the last decoder call's `new_self_k_l` `[1, H, dh, len]` and
/// `new_self_v_l` `[1, H, len, dh]` of every layer, ONNX Runtime's own tensors, fed back as
/// the next call's inputs without a copy (empty when `len` is 0).
#[derive(Debug, Default)]
struct KvCache {
    k: Vec<DynValue>,
    v: Vec<DynValue>,
    len: usize,
}

/// The graphs' per-layer tensor names and sizes (read from the decoder's inputs).
#[derive(Debug)]
struct Layout {
    /// Decoder layers L, heads H, head width dh, encoder positions N.
    layers: usize,
    heads: usize,
    head_dim: usize,
    positions: usize,
    self_k: Vec<String>,
    self_v: Vec<String>,
    cross_k: Vec<String>,
    cross_v: Vec<String>,
    new_self_k: Vec<String>,
    new_self_v: Vec<String>,
}

impl Layout {
    fn of(encoder: &Session, decoder: &Session) -> Result<Self, String> {
        let names = |stem: &str, n: usize| (0..n).map(|l| format!("{stem}_{l}")).collect();
        let inputs = decoder.inputs();
        if inputs.iter().any(|o| o.name() == "cross_k") {
            return Err(
                "the decoder has the stacked cross_k/self_k inputs of an earlier \
                        conversion; convert the model again (scripts/fetch_models.py, \
                        scripts/whisper_convert.py)"
                    .into(),
            );
        }
        let layers = inputs
            .iter()
            .filter(|o| o.name().starts_with("cross_k_"))
            .count();
        let static_dim = |outlets: &[ort::value::Outlet], name: &str, axis: usize| {
            dim(outlets, name, axis)
                .ok_or_else(|| format!("{name} has no static dimension {axis} (or is missing)"))
        };
        if layers == 0 {
            return Err("the decoder has no cross_k_0 input".into());
        }
        let heads = static_dim(inputs, "cross_k_0", 1)?;
        let head_dim = static_dim(inputs, "cross_k_0", 2)?;
        // The decoder takes any number of encoder positions (keyword scoring feeds blocks
        // of a window); a window's encoding has the encoder's.
        let positions = static_dim(encoder.outputs(), "cross_k_0", 3)?;
        let layout = Self {
            layers,
            heads,
            head_dim,
            positions,
            self_k: names("self_k", layers),
            self_v: names("self_v", layers),
            cross_k: names("cross_k", layers),
            cross_v: names("cross_v", layers),
            new_self_k: names("new_self_k", layers),
            new_self_v: names("new_self_v", layers),
        };
        let has =
            |outlets: &[ort::value::Outlet], name: &str| outlets.iter().any(|o| o.name() == name);
        for l in 0..layers {
            for (graph, outlets, name) in [
                ("decoder input", inputs, &layout.self_k[l]),
                ("decoder input", inputs, &layout.self_v[l]),
                ("decoder input", inputs, &layout.cross_v[l]),
                ("decoder output", decoder.outputs(), &layout.new_self_k[l]),
                ("decoder output", decoder.outputs(), &layout.new_self_v[l]),
                ("encoder output", encoder.outputs(), &layout.cross_k[l]),
                ("encoder output", encoder.outputs(), &layout.cross_v[l]),
            ] {
                if !has(outlets, name) {
                    return Err(format!("no {graph} {name} ({layers} decoder layers)"));
                }
            }
        }
        Ok(layout)
    }

    /// Values in one layer's cross-attention keys (or values) of one window.
    fn cross_len(&self) -> usize {
        self.heads * self.head_dim * self.positions
    }
}

pub struct Whisper {
    name: String,
    spec: ModelSpec,
    /// The sha256 of the encoder file that runs (the float32 or the int8 one).
    encoder_sha256: String,
    /// Before the sessions: the decoder's output tensors are dropped first.
    kv: KvCache,
    encoder: Session,
    decoder: Session,
    tokenizer: Tokenizer,
    config: Config,
    specials: Specials,
    front: LogMel,
    layout: Layout,
    /// The last decoder call's logits, `[T, V]`.
    logits: Vec<f32>,
    /// Working copy of one row.
    row: Vec<f32>,
    tokens_in: Vec<i64>,
    vocab: usize,
    timings: Timings,
    /// The encoding of digital silence (keyword spotting), once computed.
    silence: Option<spot::Silence>,
}

impl std::fmt::Debug for Whisper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Whisper")
            .field("name", &self.name)
            .field("n_mels", &self.front.n_mels())
            .field("vocab", &self.vocab)
            .field("specials", &self.specials)
            .finish()
    }
}

fn spec_err(path: &Path, message: impl std::fmt::Display) -> ModelError {
    ModelError::Spec {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// A named f32 output: its shape and data.
fn output<'a>(
    outputs: &'a ort::session::SessionOutputs<'_>,
    key: &str,
    model: &str,
) -> Result<(&'a ort::value::Shape, &'a [f32]), ModelError> {
    outputs
        .get(key)
        .ok_or_else(|| ModelError::inference(model, format!("the graph has no output {key:?}")))?
        .try_extract_tensor::<f32>()
        .map_err(|e| ModelError::inference(model, format!("output {key}: {e}")))
}

/// Whether an output's shape is `want`.
fn same_shape(shape: &ort::value::Shape, want: &[usize]) -> bool {
    shape.len() == want.len() && shape.iter().zip(want).all(|(&a, &b)| a == b as i64)
}

/// A static dimension of a session input or output (`None` when dynamic or absent).
fn dim(outlets: &[ort::value::Outlet], name: &str, axis: usize) -> Option<usize> {
    let o = outlets.iter().find(|o| o.name() == name)?;
    let d = *o.dtype().tensor_shape()?.get(axis)?;
    usize::try_from(d).ok().filter(|&d| d > 0)
}

impl Whisper {
    /// Load the model `name` (spec `models/<name>.toml`), checking every file's sha256.
    /// Whether `name`'s spec is a Whisper spec and every file it lists is present (the
    /// checksums are verified when the model is loaded): a missing file fails before the
    /// analysis, not after the media tracks.
    pub fn check(
        dir: &ModelDir,
        name: &str,
        weights: Weights,
        device: Device,
    ) -> Result<(), ModelError> {
        let spec = dir.spec(name)?;
        let files = Self::files(dir, name)?;
        let graphs = Self::graphs(&spec, &files, weights, device, dir)?;
        for (file, sha256) in [
            (&graphs.encoder, &graphs.encoder_sha256),
            (&graphs.decoder, &graphs.decoder_sha256),
            (&files.tokenizer, &files.tokenizer_sha256),
            (&files.config, &files.config_sha256),
        ] {
            let path = dir.0.join(file);
            if !path.is_file() {
                return Err(ModelError::Missing {
                    path,
                    expected: sha256.clone(),
                });
            }
        }
        Ok(())
    }

    /// `name==sha256` of the encoder that [`Whisper::load`] would run (for the models list
    /// of highlights.json and the transcript's cache key).
    pub fn id(
        dir: &ModelDir,
        name: &str,
        weights: Weights,
        device: Device,
    ) -> Result<String, ModelError> {
        let spec = dir.spec(name)?;
        let files = Self::files(dir, name)?;
        let graphs = Self::graphs(&spec, &files, weights, device, dir)?;
        Ok(format!("{}=={}", spec.name, graphs.encoder_sha256))
    }

    /// The graphs to run: `Auto` takes the int8 ones on the CPU when the spec lists them.
    fn graphs(
        spec: &ModelSpec,
        files: &Files,
        weights: Weights,
        device: Device,
        dir: &ModelDir,
    ) -> Result<Graphs, ModelError> {
        let int8 = match (
            &files.encoder_int8,
            &files.encoder_int8_sha256,
            &files.decoder_int8,
            &files.decoder_int8_sha256,
        ) {
            (Some(e), Some(es), Some(d), Some(ds)) => Some(Graphs {
                encoder: e.clone(),
                encoder_sha256: es.clone(),
                decoder: d.clone(),
                decoder_sha256: ds.clone(),
                int8: true,
            }),
            _ => None,
        };
        let float32 = Graphs {
            encoder: spec.file.clone(),
            encoder_sha256: spec.sha256.clone(),
            decoder: files.decoder.clone(),
            decoder_sha256: files.decoder_sha256.clone(),
            int8: false,
        };
        match (weights, int8) {
            (Weights::Float32, _) => Ok(float32),
            (Weights::Auto, Some(g)) if device == Device::Cpu => Ok(g),
            (Weights::Auto, _) => Ok(float32),
            (Weights::Int8, Some(g)) => Ok(g),
            (Weights::Int8, None) => Err(spec_err(
                &dir.0.join(format!("{}.toml", spec.name)),
                "lists no int8 graphs (encoder_int8, decoder_int8 and their sha256; \
                 scripts/whisper_convert.py writes them)",
            )),
        }
    }

    fn files(dir: &ModelDir, name: &str) -> Result<Files, ModelError> {
        let spec_path = dir.0.join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&spec_path).map_err(|e| spec_err(&spec_path, e))?;
        toml::from_str(&text).map_err(|e| {
            spec_err(
                &spec_path,
                format!(
                    "not a Whisper spec (decoder, tokenizer, config and their sha256): {}",
                    e.message()
                ),
            )
        })
    }

    /// The float32 graphs of `name` (see [`Whisper::load`]).
    pub fn new(rt: &Runtime, dir: &ModelDir, name: &str) -> Result<Self, ModelError> {
        Self::load(rt, dir, name, Weights::Float32)
    }

    /// Load the model `name` (spec `models/<name>.toml`) with the graphs `weights` picks for
    /// the runtime's device, checking every file's sha256.
    pub fn load(
        rt: &Runtime,
        dir: &ModelDir,
        name: &str,
        weights: Weights,
    ) -> Result<Self, ModelError> {
        let spec = dir.spec(name)?;
        let files = Self::files(dir, name)?;
        let graphs = Self::graphs(&spec, &files, weights, rt.device, dir)?;
        let encoder_path = dir.companion(&graphs.encoder, Some(&graphs.encoder_sha256))?;
        let decoder_path = dir.companion(&graphs.decoder, Some(&graphs.decoder_sha256))?;
        let tokenizer_path = dir.companion(&files.tokenizer, Some(&files.tokenizer_sha256))?;
        let config_path = dir.companion(&files.config, Some(&files.config_sha256))?;

        let config: Config = std::fs::read_to_string(&config_path)
            .map_err(|e| spec_err(&config_path, e))
            .and_then(|t| serde_json::from_str(&t).map_err(|e| spec_err(&config_path, e)))?;
        let tokenizer =
            Tokenizer::from_file(&tokenizer_path).map_err(|e| spec_err(&tokenizer_path, e))?;
        let id = |token: &str| {
            tokenizer
                .token_to_id(token)
                .ok_or_else(|| spec_err(&tokenizer_path, format!("no token {token}")))
        };
        let no_timestamps = id("<|notimestamps|>")?;
        let no_speech = id("<|nospeech|>").or_else(|_| id("<|nocaptions|>"))?;
        let eot = id("<|endoftext|>")?;
        let sot = id("<|startoftranscript|>")?;
        let translate = id("<|translate|>")?;
        let transcribe = id("<|transcribe|>")?;

        // Prepacking: the float32 encoder's 1500-row products gain from packed weights, the
        // decoder's one-row products barely (and a packed copy costs 0.13 GB); the int8
        // decoder's MatMulNBits needs its packed blocks (105 instead of 2.6 ms a step), the
        // int8 encoder does not (the same speed, 17 MB less).
        let encoder = rt.session_without_arena(name, &encoder_path, !graphs.int8)?;
        let decoder =
            rt.session_without_arena(&format!("{name} decoder"), &decoder_path, graphs.int8)?;
        let layout = Layout::of(&encoder, &decoder)
            .map_err(|e| ModelError::inference(name, format!("{}: {e}", decoder_path.display())))?;
        let n_mels = dim(encoder.inputs(), "mel", 1).unwrap_or(80);
        // Whisper has 1501 timestamp tokens (0.00 … 30.00 s) after <|notimestamps|>.
        let vocab =
            dim(decoder.outputs(), "logits", 2).unwrap_or(no_timestamps as usize + 1 + 1501);
        let specials = Specials {
            eot,
            sot,
            translate,
            transcribe,
            no_speech,
            no_timestamps,
            timestamp_begin: no_timestamps + 1,
            timestamp_end: u32::try_from(vocab - 1).unwrap_or(u32::MAX),
        };
        Ok(Self {
            name: name.to_string(),
            spec,
            encoder_sha256: graphs.encoder_sha256,
            kv: KvCache::default(),
            encoder,
            decoder,
            tokenizer,
            config,
            specials,
            front: LogMel::new(n_mels),
            layout,
            logits: Vec::new(),
            row: Vec::new(),
            tokens_in: Vec::new(),
            vocab,
            timings: Timings::default(),
            silence: None,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The sha256 of the encoder file that runs (from the spec; every other file is checked
    /// too).
    pub fn sha256(&self) -> &str {
        &self.encoder_sha256
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn specials(&self) -> &Specials {
        &self.specials
    }

    pub fn n_mels(&self) -> usize {
        self.front.n_mels()
    }

    pub fn timings(&self) -> Timings {
        self.timings
    }

    fn err(&self, e: impl std::fmt::Display) -> ModelError {
        ModelError::inference(&self.name, e)
    }

    /// Log-mel and encoder for one window of at most 30 s of 16 kHz mono samples (longer
    /// input: only the first 30 s are used).
    pub fn encode(&mut self, samples_16k: &[f32]) -> Result<Encoded, ModelError> {
        let t0 = Instant::now();
        let mel = self.front.compute(samples_16k);
        self.timings.mel_s = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let n_mels = self.front.n_mels();
        let name = self.name.clone();
        let err = |e: ort::Error| ModelError::inference(&name, e);
        let data = mel
            .as_slice()
            .ok_or_else(|| self.err("log-mel is not contiguous"))?;
        let x = TensorRef::from_array_view(([1usize, n_mels, mel::FRAMES], data)).map_err(err)?;
        let mut outputs = self.encoder.run(ort::inputs!["mel" => x]).map_err(err)?;
        let lay = &self.layout;
        let (h, dh, n) = (lay.heads, lay.head_dim, lay.positions);
        let mut cross_k = Vec::with_capacity(lay.layers * lay.cross_len());
        let mut cross_v = Vec::with_capacity(lay.layers * lay.cross_len());
        for l in 0..lay.layers {
            for (key, want, all) in [
                (&lay.cross_k[l], [1, h, dh, n], &mut cross_k),
                (&lay.cross_v[l], [1, h, n, dh], &mut cross_v),
            ] {
                // Taken out of the outputs and dropped once copied: the window's encoding
                // is never held twice (−36 MB at the encoder's peak).
                let value = outputs.remove(key.as_str()).ok_or_else(|| {
                    ModelError::inference(&name, format!("the graph has no output {key:?}"))
                })?;
                let (shape, data) = value
                    .try_extract_tensor::<f32>()
                    .map_err(|e| ModelError::inference(&name, format!("output {key}: {e}")))?;
                if !same_shape(shape, &want) {
                    return Err(ModelError::inference(
                        &name,
                        format!("{key} has shape {shape:?}, expected {want:?}"),
                    ));
                }
                all.extend_from_slice(data);
            }
        }
        let enc = Encoded {
            cross_k,
            cross_v,
            dims: [lay.layers, h, dh, n],
            duration_s: samples_16k.len().min(mel::CHUNK_SAMPLES) as f64 / mel::SAMPLE_RATE as f64,
        };
        self.timings.encoder_s = t1.elapsed().as_secs_f64();
        Ok(enc)
    }

    /// Start a new sequence (empty self-attention cache).
    fn reset(&mut self) {
        self.kv.k.clear();
        self.kv.v.clear();
        self.kv.len = 0;
    }

    /// One decoder call on `tokens` (positions `kv.len ..`): fills `self.logits` with
    /// `[T, V]` and appends the tokens' keys and values to the cache. The inputs are views
    /// (tokens, `enc`'s cross-attention buffers) and the previous call's cache tensors: ONNX
    /// Runtime reads them where they are.
    fn forward(&mut self, enc: &Encoded, tokens: &[u32]) -> Result<(), ModelError> {
        let lay = &self.layout;
        let (l, h, dh, n) = (lay.layers, lay.heads, lay.head_dim, lay.positions);
        let name = &self.name;
        if enc.dims != [l, h, dh, n] {
            return Err(ModelError::inference(
                name,
                format!(
                    "encoded window of shape {:?} (layers, heads, head width, positions); this \
                     decoder takes {:?}",
                    enc.dims,
                    [l, h, dh, n]
                ),
            ));
        }
        let (p, t) = (self.kv.len, tokens.len());
        if t == 0 || p + t > MAX_POSITIONS {
            return Err(ModelError::inference(
                name,
                format!("decoder positions {p} + {t} tokens: must be 1 ..= {MAX_POSITIONS}"),
            ));
        }
        self.tokens_in.clear();
        self.tokens_in.extend(tokens.iter().map(|&x| i64::from(x)));
        let err = |e: ort::Error| ModelError::inference(name, e);
        let mut inputs: Vec<(&str, SessionInputValue<'_>)> = Vec::with_capacity(1 + 4 * l);
        let toks = TensorRef::from_array_view(([1usize, t], &self.tokens_in[..])).map_err(err)?;
        inputs.push(("tokens", toks.into()));
        let empty: &[f32] = &[];
        for i in 0..l {
            if p == 0 {
                let k = TensorRef::from_array_view(([1usize, h, dh, 0], empty)).map_err(err)?;
                let v = TensorRef::from_array_view(([1usize, h, 0, dh], empty)).map_err(err)?;
                inputs.push((&lay.self_k[i], k.into()));
                inputs.push((&lay.self_v[i], v.into()));
            } else {
                let (Some(k), Some(v)) = (self.kv.k.get(i), self.kv.v.get(i)) else {
                    return Err(ModelError::inference(
                        name,
                        "self-attention cache incomplete",
                    ));
                };
                inputs.push((&lay.self_k[i], k.into()));
                inputs.push((&lay.self_v[i], v.into()));
            }
        }
        let len = lay.cross_len();
        for i in 0..l {
            let range = i * len..(i + 1) * len;
            let k = TensorRef::from_array_view(([1usize, h, dh, n], &enc.cross_k[range.clone()]))
                .map_err(err)?;
            let v = TensorRef::from_array_view(([1usize, h, n, dh], &enc.cross_v[range]))
                .map_err(err)?;
            inputs.push((&lay.cross_k[i], k.into()));
            inputs.push((&lay.cross_v[i], v.into()));
        }
        let mut outputs = self.decoder.run(inputs).map_err(err)?;
        // The old cache is released here; until the new one is complete, the cache is empty.
        self.kv.k.clear();
        self.kv.v.clear();
        self.kv.len = 0;
        let (_, logits) = output(&outputs, "logits", name)?;
        if logits.len() != t * self.vocab {
            return Err(ModelError::inference(
                name,
                format!(
                    "decoder outputs {} logits, expected {t} × {}",
                    logits.len(),
                    self.vocab
                ),
            ));
        }
        self.logits.clear();
        self.logits.extend_from_slice(logits);
        for i in 0..l {
            for (key, want, cache) in [
                (&lay.new_self_k[i], [1, h, dh, p + t], &mut self.kv.k),
                (&lay.new_self_v[i], [1, h, p + t, dh], &mut self.kv.v),
            ] {
                let value = outputs.remove(key).ok_or_else(|| {
                    ModelError::inference(name, format!("the graph has no output {key:?}"))
                })?;
                let (shape, _) = value
                    .try_extract_tensor::<f32>()
                    .map_err(|e| ModelError::inference(name, format!("output {key}: {e}")))?;
                if !same_shape(shape, &want) {
                    return Err(ModelError::inference(
                        name,
                        format!("{key} has shape {shape:?}, expected {want:?}"),
                    ));
                }
                cache.push(value);
            }
        }
        self.kv.len = p + t;
        Ok(())
    }

    fn logits_row(&self, i: usize) -> &[f32] {
        &self.logits[i * self.vocab..(i + 1) * self.vocab]
    }

    fn language_code(&self, id: u32) -> String {
        let token = self.tokenizer.id_to_token(id).unwrap_or_default();
        token
            .trim_start_matches("<|")
            .trim_end_matches("|>")
            .to_string()
    }

    /// The token of a language code (`"zh"` → `<|zh|>`), if the model knows the language.
    pub fn language_token(&self, code: &str) -> Option<u32> {
        self.tokenizer
            .token_to_id(&format!("<|{code}|>"))
            .filter(|id| self.config.lang_ids.contains(id))
    }

    fn language_probs(&self, row: &[f32]) -> Vec<(String, f32)> {
        let probs = decode::softmax_of(row, &self.config.lang_ids);
        let mut out: Vec<(String, f32)> = self
            .config
            .lang_ids
            .iter()
            .zip(probs)
            .map(|(&id, p)| (self.language_code(id), p))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }

    /// Language probabilities after `<|startoftranscript|>`, highest first (CTranslate2's
    /// `detect_language`: softmax over the language tokens' logits).
    pub fn detect_language(&mut self, enc: &Encoded) -> Result<Vec<(String, f32)>, ModelError> {
        self.reset();
        self.forward(enc, &[self.specials.sot])?;
        Ok(self.language_probs(self.logits_row(0)))
    }

    /// Raw greedy decoding of `prompt` (previous-text tokens, `<|startoftranscript|>`, then
    /// task tokens up to `<|notimestamps|>`; no forced text prefix), with CTranslate2's
    /// limits: at most `min(max_len / 2, max_len − (prompt.len() − 1))` generated tokens.
    pub fn generate_tokens(
        &mut self,
        enc: &Encoded,
        prompt: &[u32],
        max_len: usize,
    ) -> Result<Generated, ModelError> {
        let max_len = max_len.min(MAX_POSITIONS);
        let start_step = prompt.len().saturating_sub(1);
        let steps = (max_len / 2).min(max_len.saturating_sub(start_step));
        self.greedy(enc, prompt, steps, false).map(|(g, _)| g)
    }

    fn check_prompt(&self, prompt: &[u32]) -> Result<(usize, bool), ModelError> {
        let sp = &self.specials;
        let sot_index = prompt
            .iter()
            .position(|&t| t == sp.sot)
            .ok_or_else(|| self.err("the prompt has no <|startoftranscript|>"))?;
        let task_end = prompt[sot_index..]
            .iter()
            .position(|&t| !(sp.sot..=sp.no_timestamps).contains(&t))
            .map_or(prompt.len(), |i| sot_index + i);
        if task_end != prompt.len() {
            return Err(self.err(
                "the prompt must end with the task tokens (forced text prefixes are not supported)",
            ));
        }
        let timestamps = prompt.last() != Some(&sp.no_timestamps);
        Ok((sot_index, timestamps))
    }

    /// Greedy decoding; also returns the language probabilities at the SOT position.
    fn greedy(
        &mut self,
        enc: &Encoded,
        prompt: &[u32],
        max_steps: usize,
        stop_on_loop: bool,
    ) -> Result<(Generated, Vec<(String, f32)>), ModelError> {
        let (sot_index, timestamps) = self.check_prompt(prompt)?;
        let t0 = Instant::now();
        self.reset();
        self.forward(enc, prompt)?;
        self.timings.prompt_s = t0.elapsed().as_secs_f64();
        let sot_row = self.logits_row(sot_index);
        let no_speech_prob = decode::prob(sot_row, self.specials.no_speech);
        let languages = self.language_probs(sot_row);
        let specials = self.specials.clone();
        // Cloned (90 ids) so the rules can borrow them while `forward` borrows `self`.
        let suppress = self.config.suppress_ids.clone();
        let suppress_begin = self.config.suppress_ids_begin.clone();
        let rules = decode::Rules {
            suppress: &suppress,
            suppress_begin: &suppress_begin,
            timestamps: timestamps.then_some(&specials),
        };
        let mut tokens = Vec::new();
        let mut logprobs = Vec::new();
        let mut token_times = Vec::new();
        let mut sum = 0f32;
        let mut row_index = prompt.len() - 1;
        let t1 = Instant::now();
        let mut steps = 0;
        for step in 0..max_steps {
            let mut row = std::mem::take(&mut self.row);
            row.clear();
            row.extend_from_slice(self.logits_row(row_index));
            // Before the rules mask them: where the decoder would put a timestamp now.
            let now_s = timestamps.then(|| decode::likeliest_time(&row, &specials));
            let lse = decode::process(&mut row, step, &tokens, &rules);
            let (token, lp) = decode::best_with(&row, lse);
            self.row = row;
            sum += lp;
            if token == specials.eot {
                break;
            }
            tokens.push(token);
            logprobs.push(lp);
            if let Some(now_s) = now_s {
                token_times.push(if specials.is_timestamp(token) {
                    f64::from(token - specials.timestamp_begin) / Specials::TIMESTAMPS_PER_SECOND
                } else {
                    now_s
                });
            }
            if step + 1 == max_steps {
                break;
            }
            if stop_on_loop && decode::looping(&tokens, specials.timestamp_begin) {
                // A repetition loop (the same few tokens over and over): what follows is
                // more of it; the window's compression ratio tells the caller.
                break;
            }
            self.forward(enc, &[token])?;
            steps += 1;
            row_index = 0;
        }
        self.timings.steps = steps;
        self.timings.steps_s = t1.elapsed().as_secs_f64();
        let generated = Generated {
            tokens,
            no_speech_prob,
            sum_logprob: sum,
            logprobs,
            token_times,
        };
        Ok((generated, languages))
    }

    /// Detokenise text tokens (special tokens and timestamps skipped).
    pub fn decode_text(&self, tokens: &[u32]) -> Result<String, ModelError> {
        let text = text::text_tokens(tokens, &self.specials);
        self.tokenizer.decode(&text, true).map_err(|e| self.err(e))
    }

    /// A segment's text tokens grouped into pieces that decode to whole characters (a
    /// CJK character may take two byte-level tokens), each with the estimated time of its
    /// first token, made non-decreasing. Empty when `times` does not cover `tokens`.
    fn pieces(&self, tokens: &[u32], times: &[f64]) -> Result<Vec<(f64, String)>, ModelError> {
        let mut out: Vec<(f64, String)> = Vec::new();
        if times.len() != tokens.len() {
            return Ok(out);
        }
        let mut group: Vec<u32> = Vec::new();
        let mut group_at = 0.0;
        let mut latest = 0f64;
        for (&tok, &at) in tokens.iter().zip(times) {
            latest = latest.max(at);
            if tok >= self.specials.eot {
                continue;
            }
            if group.is_empty() {
                group_at = latest;
            }
            group.push(tok);
            let piece = self
                .tokenizer
                .decode(&group, true)
                .map_err(|e| self.err(e))?;
            if !piece.contains('\u{FFFD}') || group.len() >= 4 {
                out.push((group_at, piece));
                group.clear();
            }
        }
        if !group.is_empty() {
            let piece = self
                .tokenizer
                .decode(&group, true)
                .map_err(|e| self.err(e))?;
            out.push((group_at, piece));
        }
        Ok(out)
    }

    /// Tokenise text (no special tokens added).
    pub fn encode_text(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        self.tokenizer
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| self.err(e))
    }

    /// Transcribe one encoded window.
    pub fn transcribe(
        &mut self,
        enc: &Encoded,
        opts: &TranscribeOptions,
    ) -> Result<WindowTranscript, ModelError> {
        let language = match &opts.language {
            Some(l) => l.clone(),
            None => self
                .detect_language(enc)?
                .first()
                .map(|(l, _)| l.clone())
                .ok_or_else(|| self.err("no languages in config.json"))?,
        };
        let lang = self
            .language_token(&language)
            .ok_or_else(|| self.err(format!("unknown language {language:?}")))?;
        let sp = self.specials.clone();
        let mut prompt = vec![sp.sot, lang, sp.transcribe];
        if !opts.timestamps {
            prompt.push(sp.no_timestamps);
        }
        let start_step = prompt.len() - 1;
        // At most ~12 tokens per second of audio (fast Mandarin with timestamps is ~9).
        let by_length = (12.0 * enc.duration_s).ceil() as usize + 16;
        let steps = opts
            .max_tokens
            .min(by_length)
            .min(DEFAULT_MAX_LENGTH / 2)
            .min(DEFAULT_MAX_LENGTH - start_step);
        let (g, languages) = self.greedy(enc, &prompt, steps, true)?;
        let language_prob = languages
            .iter()
            .find(|(l, _)| *l == language)
            .map_or(0.0, |(_, p)| *p);
        let raw_text = self.decode_text(&g.tokens)?.trim().to_string();
        let compression_ratio = text::compression_ratio(&raw_text);
        let convert = opts.simplified_chinese && language == "zh";
        let finish = |s: &str| {
            let s = s.trim();
            if convert {
                text::to_simplified(s)
            } else {
                s.to_string()
            }
        };
        let mut segments = Vec::new();
        for s in text::split_segments(&g.tokens, &g.logprobs, &g.token_times, &sp, enc.duration_s) {
            let t = self.decode_text(&s.tokens)?;
            if t.trim().is_empty() {
                continue;
            }
            let pieces = self
                .pieces(&s.tokens, &s.token_times)?
                .into_iter()
                .map(|(at, p)| (at, if convert { text::to_simplified(&p) } else { p }))
                .collect();
            segments.push(WindowSegment {
                start_s: s.start_s,
                end_s: s.end_s,
                text: finish(&t),
                avg_logprob: s.avg_logprob,
                pieces,
            });
        }
        Ok(WindowTranscript {
            language,
            language_prob,
            no_speech_prob: g.no_speech_prob,
            avg_logprob: g.sum_logprob / (g.tokens.len() + 1) as f32,
            compression_ratio,
            segments,
            text: finish(&raw_text),
        })
    }

    /// Mean log-probability of `text`'s tokens forced after `[SOT, language, transcribe,
    /// notimestamps]` (raw logits, no suppression), in one decoder call.
    pub fn keyword_logprob(
        &mut self,
        enc: &Encoded,
        language: &str,
        text: &str,
    ) -> Result<f32, ModelError> {
        let lang = self
            .language_token(language)
            .ok_or_else(|| self.err(format!("unknown language {language:?}")))?;
        let tokens = self.encode_text(text)?;
        if tokens.is_empty() {
            return Err(self.err(format!("keyword {text:?} has no tokens")));
        }
        let sp = &self.specials;
        let mut seq = vec![sp.sot, lang, sp.transcribe, sp.no_timestamps];
        let first = seq.len() - 1;
        seq.extend_from_slice(&tokens);
        seq.pop(); // the last token's own logits are not needed
        self.reset();
        self.forward(enc, &seq)?;
        let sum: f64 = tokens
            .iter()
            .enumerate()
            .map(|(i, &tok)| {
                let row = self.logits_row(first + i);
                let logit = row.get(tok as usize).copied().unwrap_or(decode::DISABLED);
                f64::from(logit) - decode::log_sum_exp(row)
            })
            .sum();
        Ok((sum / tokens.len() as f64) as f32)
    }
}
