//! Tracks from the pretrained models, computed while the recording streams past: speech
//! probability (Silero VAD), audio events (YAMNet) and faces (CenterFace).

use super::Track;
use crate::media::{AudioBlock, RgbFrame};
use serde::{Deserialize, Serialize};

use crate::models::faces::{Face, FaceDetector};
use crate::models::ocr::{self, Ocr};
use crate::models::vad::{self, Vad};
use crate::models::yamnet::{self, Yamnet};
use crate::models::ModelError;

/// The models; any of them may be absent (`--no-models`). With a [`ModelLoader`] they are
/// loaded when a stage needs them: the media models ([`ModelSet::load_media`]) for the
/// media tracks, the speech model ([`ModelSet::load_speech`]) for the speech stage, each
/// letting the other go first, so the peak memory is the larger of the two, not the sum.
#[derive(Debug, Default)]
pub struct ModelSet {
    pub vad: Option<Vad>,
    pub yamnet: Option<Yamnet>,
    pub faces: Option<FaceDetector>,
    pub ocr: Option<Ocr>,
    /// The speech recogniser (Whisper), run by the speech stage after the media tracks.
    pub speech: Option<Box<dyn crate::speech::Recognizer + Send>>,
    /// Longer side of the frames given to the face model, pixels.
    pub face_max_side: u32,
    /// Seconds spent per model (pre/post-processing included) and per cheap track, for
    /// benchmarks; `decode_wait` is time the analysis thread waited for the decoder.
    pub seconds: std::collections::BTreeMap<String, f64>,
    /// Loads the models on demand (`None`: the set holds all there is).
    pub loader: Option<ModelLoader>,
}

/// Where and how to load the models of a [`ModelSet`] when a stage needs them.
#[derive(Debug, Clone)]
pub struct ModelLoader {
    pub runtime: crate::models::Runtime,
    /// The speech model's runtime: it runs alone, on every core.
    pub speech_runtime: crate::models::Runtime,
    pub dir: crate::models::ModelDir,
    /// The speech model's spec name (`None`: no transcription).
    pub speech_model: Option<String>,
    /// Which of its graphs (`--speech-weights`).
    pub speech_weights: crate::models::whisper::Weights,
}

impl ModelSet {
    /// Load the media models (VAD, YAMNet, faces, OCR) that are not loaded yet, after
    /// letting the speech model go. Without a loader, nothing changes.
    pub fn load_media(&mut self) -> Result<(), ModelError> {
        let Some(l) = &self.loader else {
            return Ok(());
        };
        self.speech = None;
        crate::models::runtime::map_blocks_from(crate::models::runtime::MMAP_THRESHOLD);
        let (rt, dir) = (&l.runtime, &l.dir);
        if self.vad.is_none() {
            self.vad = Some(Vad::new(rt, dir)?);
        }
        if self.yamnet.is_none() {
            self.yamnet = Some(Yamnet::new(rt, dir)?);
        }
        if self.faces.is_none() {
            self.faces = Some(FaceDetector::new(rt, dir)?);
        }
        if self.ocr.is_none() {
            self.ocr = Some(Ocr::new(rt, dir)?);
        }
        Ok(())
    }

    /// The speech recogniser, loaded (after letting the media models go) when the set has
    /// a loader with a speech model; `None` when there is none.
    pub fn load_speech(
        &mut self,
    ) -> Result<Option<&mut (dyn crate::speech::Recognizer + Send + 'static)>, ModelError> {
        if let Some(l) = &self.loader {
            if let (None, Some(name)) = (&self.speech, &l.speech_model) {
                self.vad = None;
                self.yamnet = None;
                self.faces = None;
                self.ocr = None;
                // The media stage's freed blocks go back, and from here on blocks of 1 MiB
                // and more (Whisper's 3–12 MB activations) are mapped and unmapped each
                // time instead of fragmenting the heap: the speech stage's peak on the
                // 10-minute benchmark recording 374 → 341 MB. Decoded frames, which made
                // a low threshold slow, are done by now.
                crate::models::runtime::trim_freed_memory();
                crate::models::runtime::map_blocks_from(
                    crate::models::runtime::SPEECH_MMAP_THRESHOLD,
                );
                let w = crate::models::whisper::Whisper::load(
                    &l.speech_runtime,
                    &l.dir,
                    name,
                    l.speech_weights,
                )?;
                self.speech = Some(Box::new(w));
            }
        }
        Ok(self.speech.as_deref_mut())
    }
}

impl ModelSet {
    /// Add the time since `since` to `name`'s cost.
    pub fn time(&mut self, name: &str, since: std::time::Instant) {
        *self.seconds.entry(name.to_string()).or_default() += since.elapsed().as_secs_f64();
    }
}

impl ModelSet {
    pub fn is_empty(&self) -> bool {
        self.vad.is_none() && self.yamnet.is_none() && self.faces.is_none() && self.ocr.is_none()
    }

    /// Whether any model needs RGB frames.
    pub fn needs_frames(&self) -> bool {
        self.faces.is_some() || self.ocr.is_some()
    }

    /// Names of the models that will run.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.vad.is_some() {
            v.push(vad::NAME);
        }
        if self.yamnet.is_some() {
            v.push(yamnet::NAME);
        }
        if self.faces.is_some() {
            v.push(crate::models::faces::NAME);
        }
        if self.ocr.is_some() {
            v.push(ocr::NAME);
        }
        v
    }
}

/// YAMNet classes whose probability marks an excited audience or host.
const EXCITED: &[&str] = &[
    "shout",
    "yell",
    "laughter",
    "giggle",
    "belly_laugh",
    "clapping",
    "cheering",
    "applause",
    "crowd",
];

/// Words of on-screen sale cards (flash sale, link, price, countdown, giveaway).
pub const SCREEN_KEYWORDS: &[&str] = &[
    "秒杀",
    "上链接",
    "链接",
    "抢",
    "限时",
    "福利",
    "到手价",
    "¥",
    "￥",
    "元",
    "折",
    "买一送一",
    "倒计时",
    "库存",
    "抽奖",
    "红包",
    "福袋",
    "优惠",
    "下单",
];

/// Re-read the screen when the picture changed this much (mean absolute difference of a
/// 64×36 grey thumbnail, 0–255) or this long after the last reading.
const OCR_CHANGE: f32 = 6.0;
const OCR_MAX_GAP_S: f64 = 30.0;

/// A line of on-screen text read at `t` (box as fractions of the frame).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenText {
    pub t: f64,
    pub text: String,
    pub confidence: f32,
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

/// Accumulates model tracks for one recording.
#[derive(Debug)]
pub struct ModelTracks {
    audio_t0: Option<f64>,
    vad_chunks: usize,
    patches: usize,
    speech: Track,
    events: Vec<Track>,
    excitement: Track,
    face_count: Track,
    face_score: Track,
    face_boxes: [Track; 4],
    screen_keywords: Track,
    screen_text: Vec<ScreenText>,
    last_ocr: Option<(f64, Vec<u8>)>,
}

impl Default for ModelTracks {
    fn default() -> Self {
        Self::new()
    }
}

impl ModelTracks {
    pub fn new() -> Self {
        let face_box = |name: &str, what: &str| {
            Track::new(
                name,
                "fraction",
                &format!("{what} of the largest face, as a fraction of the frame (NaN: no face)"),
            )
        };
        Self {
            audio_t0: None,
            vad_chunks: 0,
            patches: 0,
            speech: Track::new(
                "speech",
                "probability",
                "Silero VAD v6 speech probability per 32 ms chunk (stamped at the chunk centre)",
            ),
            events: yamnet::KEPT
                .iter()
                .map(|(i, name)| {
                    Track::new(
                        &format!("audio_{name}"),
                        "probability",
                        &format!(
                            "YAMNet probability of AudioSet class {i} ({name}) per 0.975 s patch \
                             every 0.48 s (stamped at the patch centre)"
                        ),
                    )
                })
                .collect(),
            excitement: Track::new(
                "audio_excitement",
                "probability",
                "largest YAMNet probability among shout, yell, laughter, giggle, belly laugh, \
                 clapping, cheering, applause and crowd, per patch",
            ),
            face_count: Track::new(
                "face_count",
                "faces",
                "CenterFace detections (score ≥ 0.5) per analysed frame",
            ),
            face_score: Track::new(
                "face_score",
                "probability",
                "best CenterFace score per analysed frame (0: none)",
            ),
            face_boxes: [
                face_box("face_cx", "horizontal centre"),
                face_box("face_cy", "vertical centre"),
                face_box("face_w", "width"),
                face_box("face_h", "height"),
            ],
            screen_keywords: Track::new(
                "screen_keywords",
                "count",
                "sale-card words (秒杀, 上链接, prices, countdowns, …) in the on-screen text read by \
                 PP-OCRv4; read again only when the picture changes, so the value holds until then",
            ),
            screen_text: Vec::new(),
            last_ocr: None,
        }
    }

    pub fn push_audio(
        &mut self,
        models: &mut ModelSet,
        block: &AudioBlock,
    ) -> Result<(), ModelError> {
        let t0 = *self.audio_t0.get_or_insert(block.t);
        let start = std::time::Instant::now();
        if let Some(v) = models.vad.as_mut() {
            for p in v.push(&block.samples)? {
                let t = t0 + (self.vad_chunks as f64 + 0.5) * vad::STEP_S;
                self.speech.push(t, p);
                self.vad_chunks += 1;
            }
            models.time(vad::NAME, start);
        }
        let start = std::time::Instant::now();
        if let Some(y) = models.yamnet.as_mut() {
            let patches = y.front.push(&block.samples);
            if !patches.is_empty() {
                for scores in y.scores(&patches)? {
                    let t = t0
                        + self.patches as f64 * yamnet::PATCH_STEP_S
                        + yamnet::PATCH_SPAN_S / 2.0;
                    let mut excited = 0f32;
                    for (track, (idx, name)) in self.events.iter_mut().zip(yamnet::KEPT) {
                        let p = scores.get(*idx).copied().unwrap_or(0.0);
                        track.push(t, p);
                        if EXCITED.contains(name) {
                            excited = excited.max(p);
                        }
                    }
                    self.excitement.push(t, excited);
                    self.patches += 1;
                }
            }
            models.time(yamnet::NAME, start);
        }
        Ok(())
    }

    pub fn push_frame(
        &mut self,
        models: &mut ModelSet,
        frame: &RgbFrame,
    ) -> Result<(), ModelError> {
        self.read_screen(models, frame)?;
        let Some(det) = models.faces.as_mut() else {
            return Ok(());
        };
        let start = std::time::Instant::now();
        let faces = det.detect(&frame.data, frame.width, frame.height, models.face_max_side)?;
        models.time(crate::models::faces::NAME, start);
        self.face_count.push(frame.t, faces.len() as f32);
        self.face_score
            .push(frame.t, faces.iter().map(|f| f.score).fold(0.0, f32::max));
        let largest = faces
            .iter()
            .copied()
            .max_by(|a, b| a.area().total_cmp(&b.area()));
        let (w, h) = (frame.width as f32, frame.height as f32);
        let values = match largest {
            Some(Face { x1, y1, x2, y2, .. }) => [
                (x1 + x2) / 2.0 / w,
                (y1 + y2) / 2.0 / h,
                (x2 - x1) / w,
                (y2 - y1) / h,
            ],
            None => [f32::NAN; 4],
        };
        for (track, v) in self.face_boxes.iter_mut().zip(values) {
            track.push(frame.t, v);
        }
        Ok(())
    }

    /// OCR the frame when the picture changed since the last reading.
    fn read_screen(&mut self, models: &mut ModelSet, frame: &RgbFrame) -> Result<(), ModelError> {
        let Some(reader) = models.ocr.as_mut() else {
            return Ok(());
        };
        let thumb = thumbnail(frame);
        let changed = match &self.last_ocr {
            None => true,
            Some((t, prev)) => {
                frame.t - t >= OCR_MAX_GAP_S || mean_abs_diff(prev, &thumb) >= OCR_CHANGE
            }
        };
        if !changed {
            return Ok(());
        }
        let start = std::time::Instant::now();
        let lines = reader.read(&frame.data, frame.width, frame.height)?;
        models.time(ocr::NAME, start);
        let (w, h) = (frame.width as f32, frame.height as f32);
        let mut hits = 0usize;
        for l in &lines {
            hits += SCREEN_KEYWORDS
                .iter()
                .filter(|k| l.text.contains(*k))
                .count();
            self.screen_text.push(ScreenText {
                t: frame.t,
                text: l.text.clone(),
                confidence: l.confidence,
                x: l.x / w,
                y: l.y / h,
                w: l.w / w,
                h: l.h / h,
            });
        }
        self.screen_keywords.push(frame.t, hits as f32);
        self.last_ocr = Some((frame.t, thumb));
        Ok(())
    }

    /// The latest face box seen (centre x, centre y, width, height as fractions).
    pub fn host_face(&self) -> Option<[f32; 4]> {
        let [cx, cy, w, h] = &self.face_boxes;
        let last = |t: &Track| t.values.iter().rev().find(|v| v.is_finite()).copied();
        Some([last(cx)?, last(cy)?, last(w)?, last(h)?])
    }

    /// The on-screen text read so far.
    pub fn screen_text(&self) -> &[ScreenText] {
        &self.screen_text
    }

    /// The tracks of the models that ran.
    pub fn finish(self, models: &ModelSet) -> Vec<Track> {
        let mut out = Vec::new();
        if models.vad.is_some() {
            out.push(self.speech);
        }
        if models.yamnet.is_some() {
            out.extend(self.events);
            out.push(self.excitement);
        }
        if models.faces.is_some() {
            out.push(self.face_count);
            out.push(self.face_score);
            out.extend(self.face_boxes);
        }
        if models.ocr.is_some() {
            out.push(self.screen_keywords);
        }
        out
    }
}

/// 64×36 grey thumbnail (box average) for cheap change detection.
fn thumbnail(frame: &RgbFrame) -> Vec<u8> {
    const TW: usize = 64;
    const TH: usize = 36;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let mut sum = vec![0u32; TW * TH];
    let mut count = vec![0u32; TW * TH];
    for y in 0..h {
        let ty = y * TH / h.max(1);
        for x in 0..w {
            let i = (y * w + x) * 3;
            let Some(px) = frame.data.get(i..i + 3) else {
                continue;
            };
            let g =
                (u32::from(px[0]) * 299 + u32::from(px[1]) * 587 + u32::from(px[2]) * 114) / 1000;
            let k = ty * TW + x * TW / w.max(1);
            sum[k] += g;
            count[k] += 1;
        }
    }
    sum.iter()
        .zip(&count)
        .map(|(s, c)| (s / (*c).max(1)) as u8)
        .collect()
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return f32::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| f32::from(x.abs_diff(*y)))
        .sum::<f32>()
        / a.len() as f32
}
