//! PP-OCRv4 (Chinese) on-screen text: DB text detection, then CTC line recognition.
//!
//! Detection (`ppocrv4_det`): input `[1,3,H,W]` BGR, `(x/255 − 0.5)/0.5`, H and W multiples
//! of 32; output a text probability map `[1,1,H,W]`. DB post-processing: threshold 0.3,
//! 2×2 dilation, 8-connected components, box score = mean probability inside the box
//! (≥ 0.5), unclip ratio 1.6. Boxes are axis-aligned (on-screen overlay text is horizontal).
//!
//! Recognition (`ppocrv4_rec`): line crops resized to height 48 keeping the aspect ratio,
//! normalised like detection, padded to a common width (at least 320) per batch; output
//! `[N,T,C]` class probabilities, decoded greedily (CTC: argmax, collapse repeats, drop
//! blanks). Class 0 is the CTC blank, then the dictionary's entries, then (PaddleOCR's
//! `use_space_char`) a space.
//!
//! The steps follow PaddleOCR / RapidOCR 1.4.4 (`limit_type: max` resizing, DB "fast" box
//! score, reading order). Pre- and post-processing are pure functions below; only
//! [`Ocr`] talks to ONNX Runtime.

use std::path::Path;

use ort::session::Session;
use ort::value::TensorRef;
use serde::{Deserialize, Serialize};

use super::{ModelDir, ModelError, Runtime};

/// The name in error messages.
pub const NAME: &str = "ppocrv4";
/// Spec names in `models/`.
pub const DET: &str = "ppocrv4_det";
pub const REC: &str = "ppocrv4_rec";
/// Detection input: longer side at most this many pixels.
pub const DET_MAX_SIDE: u32 = 960;
/// Recognition input height and minimum (padded) width.
pub const REC_HEIGHT: u32 = 48;
pub const REC_MIN_WIDTH: u32 = 320;
/// Lines per recognition batch.
pub const REC_BATCH: usize = 6;
/// Lines read with a lower mean confidence are dropped by [`Ocr::read`].
pub const MIN_CONFIDENCE: f32 = 0.5;

/// A line of text, its box in the input image's pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextLine {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub text: String,
    pub confidence: f32,
}

/// DB post-processing settings (PaddleOCR / RapidOCR defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbParams {
    /// Probability above which a pixel is text.
    pub threshold: f32,
    /// Minimum mean probability inside a box.
    pub box_threshold: f32,
    /// Box growth: distance = area · ratio / perimeter.
    pub unclip_ratio: f32,
    /// Boxes whose shorter side is below this (before unclipping; + 2 after) are dropped.
    pub min_size: f32,
    /// Dilate the binary map with a 2×2 kernel before finding components.
    pub dilate: bool,
    /// At most this many components are considered.
    pub max_candidates: usize,
}

impl Default for DbParams {
    fn default() -> Self {
        Self {
            threshold: 0.3,
            box_threshold: 0.5,
            unclip_ratio: 1.6,
            min_size: 3.0,
            dilate: true,
            max_candidates: 1000,
        }
    }
}

/// A detected text box in image pixels (integer-valued, `x0 < x1`, `y0 < y1`, exclusive
/// right and bottom edges) with its DB score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    pub score: f32,
}

/// What detection found, with facts about the probability map (for tests and logs).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The network's input size (the frame resized).
    pub input_w: u32,
    pub input_h: u32,
    /// Mean and maximum of the probability map.
    pub prob_mean: f32,
    pub prob_max: f32,
    /// Boxes in reading order (top to bottom, left to right).
    pub boxes: Vec<DetBox>,
}

/// An RGB24 image (tightly packed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crop {
    pub rgb: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Recognition classes: index 0 is the CTC blank (an empty string here).
#[derive(Clone, PartialEq, Eq)]
pub struct Dictionary {
    classes: Vec<String>,
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dictionary")
            .field("classes", &self.classes.len())
            .finish()
    }
}

impl Dictionary {
    /// Build the class list from a dictionary text (one entry per line, `\n` or `\r\n`; a
    /// final line break ends the last entry). `blank_in_file`: the file's first entry is the
    /// CTC blank; otherwise one is put in front. `space_class`: a space class follows the
    /// entries; `None` decides from `classes` (the model's class count) when known, else
    /// assumes PaddleOCR's default (yes). When `classes` is known it must match.
    pub fn from_text(
        text: &str,
        blank_in_file: bool,
        space_class: Option<bool>,
        classes: Option<usize>,
    ) -> Result<Self, String> {
        let entries = split_entries(text);
        if entries.is_empty() {
            return Err("the dictionary is empty".into());
        }
        let blank = usize::from(!blank_in_file);
        let space = match (space_class, classes) {
            (Some(s), _) => s,
            (None, Some(c)) => c == blank + entries.len() + 1,
            (None, None) => true,
        };
        let mut out = Vec::with_capacity(blank + entries.len() + usize::from(space));
        // The blank decodes to nothing, whatever the file calls it.
        out.push(String::new());
        out.extend(
            entries[usize::from(blank_in_file)..]
                .iter()
                .map(|s| s.to_string()),
        );
        if space {
            out.push(" ".into());
        }
        if let Some(c) = classes {
            if c != out.len() {
                return Err(format!(
                    "the dictionary gives {} classes ({} entries{}{}), the model has {c}",
                    out.len(),
                    entries.len(),
                    if blank_in_file {
                        ", blank in the file"
                    } else {
                        " + blank"
                    },
                    if space { " + space" } else { "" },
                ));
            }
        }
        Ok(Self { classes: out })
    }

    /// The classes of a model whose output has `model_classes` classes (when known), from
    /// the dictionary text and the spec's [`ClassLayout`]. The file holds the blank only when
    /// the spec's counts say so (`num_classes` = entries + space).
    pub fn for_model(
        text: &str,
        layout: &ClassLayout,
        model_classes: Option<usize>,
    ) -> Result<Self, String> {
        let spec_classes = layout.num_classes.and_then(|c| usize::try_from(c).ok());
        if let (Some(m), Some(s)) = (model_classes, spec_classes) {
            if m != s {
                return Err(format!("the spec says {s} classes, the model has {m}"));
            }
        }
        if let Some(b) = layout.blank_index.filter(|&b| b != 0) {
            return Err(format!(
                "blank_index = {b}: livecut's CTC decoder needs the blank at class 0"
            ));
        }
        let classes = model_classes.or(spec_classes);
        let space = layout.space_index.map(|_| true);
        let blank_in_file = match (layout.dictionary_entries, classes) {
            (Some(e), Some(c)) => {
                usize::try_from(e).ok() == c.checked_sub(usize::from(space == Some(true)))
            }
            _ => false,
        };
        let dict = Self::from_text(text, blank_in_file, space, classes)?;
        if let Some(e) = layout.dictionary_entries {
            let found = split_entries(text).len();
            if usize::try_from(e).ok() != Some(found) {
                return Err(format!(
                    "the spec says {e} dictionary entries, the file has {found}"
                ));
            }
        }
        if let Some(i) = layout.space_index {
            if usize::try_from(i).ok() != Some(dict.len() - 1) {
                return Err(format!(
                    "space_index = {i}, but the space is class {} ({} classes)",
                    dict.len() - 1,
                    dict.len()
                ));
            }
        }
        Ok(dict)
    }

    /// Number of classes, blank included.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The text of class `i` (empty for the blank and out-of-range classes).
    pub fn get(&self, i: usize) -> &str {
        self.classes.get(i).map_or("", String::as_str)
    }
}

/// Dictionary lines (`\n` or `\r\n`; a final line break ends the last entry, a BOM is
/// skipped). Lines are not trimmed: an entry may be a space.
fn split_entries(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    if body.is_empty() {
        return Vec::new();
    }
    body.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

/// PP-OCRv4 detection + recognition sessions and the recognition dictionary.
#[derive(Debug)]
pub struct Ocr {
    det: Session,
    rec: Session,
    dict: Dictionary,
    /// Detection input: longer side at most this many pixels ([`DET_MAX_SIDE`]).
    pub max_side: u32,
    /// DB post-processing settings.
    pub db: DbParams,
    /// [`Ocr::read`] drops lines below this mean confidence ([`MIN_CONFIDENCE`]).
    pub min_confidence: f32,
    /// Lines per recognition batch ([`REC_BATCH`]; 1 = each line alone).
    pub rec_batch: usize,
    /// Recognition inputs are padded to at least this width ([`REC_MIN_WIDTH`], as
    /// PaddleOCR trains and runs; 0 = no padding beyond the batch's widest line).
    pub rec_min_width: u32,
}

impl Ocr {
    /// Load both models (checksums verified) and the dictionary named by the recognition
    /// spec (`dictionary`, `dictionary_sha256`; the class layout from its optional
    /// `blank_index`, `space_index`, `num_classes`, `dictionary_entries`, see
    /// [`ClassLayout`]). Without a `dictionary` key, the recognition model's own metadata
    /// (`character`) is used.
    pub fn new(rt: &Runtime, dir: &ModelDir) -> Result<Self, ModelError> {
        let (_, det_path) = dir.verified(DET)?;
        let (rec_spec, rec_path) = dir.verified(REC)?;
        let det = rt.session(DET, &det_path)?;
        let rec = rt.session(REC, &rec_path)?;
        let classes = rec
            .outputs()
            .first()
            .and_then(|o| o.dtype().tensor_shape())
            .and_then(|s| s.last().copied())
            .and_then(|c| usize::try_from(c).ok())
            .filter(|&c| c > 0);
        let spec_path = dir.0.join(format!("{REC}.toml"));
        let layout = ClassLayout::from_spec(&spec_path);
        let (text, source) = match &rec_spec.dictionary {
            Some(file) => {
                let path = dir.companion(file, rec_spec.dictionary_sha256.as_deref())?;
                let text = std::fs::read_to_string(&path).map_err(|e| ModelError::Spec {
                    path: path.clone(),
                    message: format!("cannot read the recognition dictionary: {e}"),
                })?;
                (text, path)
            }
            None => {
                let meta = rec.metadata().map_err(|e| ModelError::inference(REC, e))?;
                let text = meta.custom("character").ok_or_else(|| ModelError::Spec {
                    path: spec_path.clone(),
                    message: "no `dictionary` in the spec and no `character` metadata in the \
                              model"
                        .into(),
                })?;
                (text, rec_path.clone())
            }
        };
        let dict =
            Dictionary::for_model(&text, &layout, classes).map_err(|message| ModelError::Spec {
                path: source,
                message,
            })?;
        tracing::debug!(
            "PP-OCRv4 loaded: {} recognition classes (model says {classes:?})",
            dict.len()
        );
        Ok(Self {
            det,
            rec,
            dict,
            max_side: DET_MAX_SIDE,
            db: DbParams::default(),
            min_confidence: MIN_CONFIDENCE,
            rec_batch: REC_BATCH,
            rec_min_width: REC_MIN_WIDTH,
        })
    }

    /// The recognition classes.
    pub fn dictionary(&self) -> &Dictionary {
        &self.dict
    }

    /// Text lines in an RGB24 frame (`width`×`height`, tightly packed), in reading order.
    /// Lines read as empty or below [`Ocr::min_confidence`] are left out.
    pub fn read(
        &mut self,
        rgb: &[u8],
        width: u32,
        height: u32,
    ) -> Result<Vec<TextLine>, ModelError> {
        let det = self.detect(rgb, width, height)?;
        let lines = self.recognize(rgb, width, height, &det.boxes)?;
        Ok(lines
            .into_iter()
            .filter(|l| !l.text.is_empty() && l.confidence >= self.min_confidence)
            .collect())
    }

    /// Detection only: the text boxes in image pixels.
    pub fn detect(&mut self, rgb: &[u8], width: u32, height: u32) -> Result<Detection, ModelError> {
        check_frame(rgb, width, height)?;
        let err = |e: ort::Error| ModelError::inference(NAME, e);
        let (iw, ih) = det_input_size(width, height, self.max_side);
        let input = det_preprocess(rgb, width, height, iw, ih)
            .ok_or_else(|| ModelError::inference(NAME, "frame buffer has the wrong size"))?;
        let x = TensorRef::from_array_view(([1usize, 3, ih as usize, iw as usize], &input[..]))
            .map_err(err)?;
        let outputs = self.det.run(ort::inputs![x]).map_err(err)?;
        let map = outputs[0].try_extract_array::<f32>().map_err(err)?;
        let shape = map.shape().to_vec();
        if shape.len() != 4 || shape[0] != 1 || shape[1] != 1 {
            return Err(ModelError::inference(
                NAME,
                format!("unexpected detection output shape {shape:?}"),
            ));
        }
        let (mh, mw) = (shape[2], shape[3]);
        let prob: Vec<f32> = map.iter().copied().collect();
        let (mut sum, mut max) = (0f64, f32::MIN);
        for &p in &prob {
            sum += f64::from(p);
            max = max.max(p);
        }
        let boxes = db_postprocess(&prob, mw, mh, width, height, &self.db);
        Ok(Detection {
            input_w: iw,
            input_h: ih,
            prob_mean: (sum / prob.len().max(1) as f64) as f32,
            prob_max: max,
            boxes,
        })
    }

    /// Recognition only: one line per box, in the boxes' order (empty text included).
    pub fn recognize(
        &mut self,
        rgb: &[u8],
        width: u32,
        height: u32,
        boxes: &[DetBox],
    ) -> Result<Vec<TextLine>, ModelError> {
        check_frame(rgb, width, height)?;
        let err = |e: ort::Error| ModelError::inference(NAME, e);
        let crops: Vec<Crop> = boxes
            .iter()
            .map(|b| crop(rgb, width, height, b))
            .collect::<Option<_>>()
            .ok_or_else(|| ModelError::inference(NAME, "text box outside the frame"))?;
        // Similar aspect ratios together: less padding per batch.
        let mut order: Vec<usize> = (0..crops.len()).collect();
        order.sort_by(|&a, &b| aspect(&crops[a]).total_cmp(&aspect(&crops[b])));
        let mut read = vec![(String::new(), 0f32); crops.len()];
        for batch in order.chunks(self.rec_batch.max(1)) {
            let items: Vec<&Crop> = batch.iter().map(|&i| &crops[i]).collect();
            let (input, bw) = rec_preprocess(&items, self.rec_min_width);
            let x = TensorRef::from_array_view((
                [items.len(), 3, REC_HEIGHT as usize, bw as usize],
                &input[..],
            ))
            .map_err(err)?;
            let outputs = self.rec.run(ort::inputs![x]).map_err(err)?;
            let probs = outputs[0].try_extract_array::<f32>().map_err(err)?;
            let shape = probs.shape().to_vec();
            if shape.len() != 3 || shape[0] != items.len() || shape[2] != self.dict.len() {
                return Err(ModelError::inference(
                    NAME,
                    format!(
                        "unexpected recognition output shape {shape:?} ({} lines, {} classes)",
                        items.len(),
                        self.dict.len()
                    ),
                ));
            }
            let (steps, classes) = (shape[1], shape[2]);
            let flat: Vec<f32> = probs.iter().copied().collect();
            for (k, &i) in batch.iter().enumerate() {
                let one = &flat[k * steps * classes..(k + 1) * steps * classes];
                read[i] = ctc_greedy(one, steps, classes, &self.dict);
            }
        }
        Ok(boxes
            .iter()
            .zip(read)
            .map(|(b, (text, confidence))| TextLine {
                x: b.x0,
                y: b.y0,
                w: b.x1 - b.x0,
                h: b.y1 - b.y0,
                text,
                confidence,
            })
            .collect())
    }
}

/// The recognition classes as the spec describes them (every key optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClassLayout {
    /// `blank_index`: the CTC blank's class (livecut's decoder needs 0).
    pub blank_index: Option<i64>,
    /// `space_index`: a space class that is not in the file (PaddleOCR's `use_space_char`).
    pub space_index: Option<i64>,
    /// `num_classes`: the model's output classes.
    pub num_classes: Option<i64>,
    /// `dictionary_entries`: lines in the dictionary file.
    pub dictionary_entries: Option<i64>,
}

impl ClassLayout {
    /// The keys found in a spec file (none when it cannot be read).
    pub fn from_spec(spec: &Path) -> Self {
        let Some(table) = std::fs::read_to_string(spec)
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
        else {
            return Self::default();
        };
        let int = |key: &str| table.get(key).and_then(toml::Value::as_integer);
        Self {
            blank_index: int("blank_index"),
            space_index: int("space_index"),
            num_classes: int("num_classes"),
            dictionary_entries: int("dictionary_entries"),
        }
    }
}

fn check_frame(rgb: &[u8], width: u32, height: u32) -> Result<(), ModelError> {
    let expected = width as usize * height as usize * 3;
    if width == 0 || height == 0 || rgb.len() != expected {
        return Err(ModelError::inference(
            NAME,
            format!(
                "frame buffer has {} bytes, a {width}×{height} RGB24 frame has {expected}",
                rgb.len()
            ),
        ));
    }
    Ok(())
}

fn aspect(c: &Crop) -> f64 {
    f64::from(c.width) / f64::from(c.height.max(1))
}

/// Detection input size: scaled down so the longer side is at most `max_side`, each side
/// rounded to the nearest multiple of 32 (at least 32).
pub fn det_input_size(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let longest = width.max(height).max(1);
    let ratio = if longest > max_side {
        f64::from(max_side) / f64::from(longest)
    } else {
        1.0
    };
    let side = |v: u32| {
        let scaled = (f64::from(v) * ratio).floor();
        (((scaled / 32.0).round_ties_even() as u32) * 32).max(32)
    };
    (side(width), side(height))
}

/// Bilinear resize of an RGB24 image with OpenCV's `INTER_LINEAR` geometry (pixel centres
/// aligned, edge pixels repeated, no anti-aliasing), kept in float (0–255, not rounded).
/// An empty or short source gives zeros.
pub fn resize_bilinear(rgb: &[u8], width: u32, height: u32, new_w: u32, new_h: u32) -> Vec<f32> {
    let (w, h) = (width as usize, height as usize);
    let (nw, nh) = (new_w as usize, new_h as usize);
    if w == 0 || h == 0 || rgb.len() < w * h * 3 {
        return vec![0.0; nw * nh * 3];
    }
    if (w, h) == (nw, nh) {
        return rgb[..w * h * 3].iter().map(|&v| f32::from(v)).collect();
    }
    // Source index and weight of the right/bottom neighbour along one axis.
    let taps = |n_out: usize, n_in: usize| -> Vec<(usize, usize, f32)> {
        let scale = n_in as f64 / n_out as f64;
        (0..n_out)
            .map(|d| {
                let f = (d as f64 + 0.5) * scale - 0.5;
                let mut i = f.floor();
                let mut t = f - i;
                if i < 0.0 {
                    i = 0.0;
                    t = 0.0;
                }
                let mut i = i as usize;
                if i >= n_in - 1 {
                    i = n_in - 1;
                    t = 0.0;
                }
                (i, (i + 1).min(n_in - 1), t as f32)
            })
            .collect()
    };
    let xs = taps(nw, w);
    let ys = taps(nh, h);
    let mut out = vec![0f32; nw * nh * 3];
    for (dy, &(y0, y1, ty)) in ys.iter().enumerate() {
        let (r0, r1) = (
            &rgb[y0 * w * 3..(y0 + 1) * w * 3],
            &rgb[y1 * w * 3..(y1 + 1) * w * 3],
        );
        let row = &mut out[dy * nw * 3..(dy + 1) * nw * 3];
        for (dx, &(x0, x1, tx)) in xs.iter().enumerate() {
            for c in 0..3 {
                let top = f32::from(r0[x0 * 3 + c]) * (1.0 - tx) + f32::from(r0[x1 * 3 + c]) * tx;
                let bot = f32::from(r1[x0 * 3 + c]) * (1.0 - tx) + f32::from(r1[x1 * 3 + c]) * tx;
                row[dx * 3 + c] = top * (1.0 - ty) + bot * ty;
            }
        }
    }
    out
}

/// `(x/255 − 0.5)/0.5` of one sample (0–255).
fn normalise(v: f32) -> f32 {
    (v / 255.0 - 0.5) / 0.5
}

/// RGB24 frame → detection input: resized to `iw`×`ih`, BGR planes, `(x/255 − 0.5)/0.5`.
/// `None` when the buffer does not hold a `width`×`height` frame.
pub fn det_preprocess(rgb: &[u8], width: u32, height: u32, iw: u32, ih: u32) -> Option<Vec<f32>> {
    if width == 0 || height == 0 || rgb.len() != width as usize * height as usize * 3 {
        return None;
    }
    let resized = resize_bilinear(rgb, width, height, iw, ih);
    let plane = iw as usize * ih as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, px) in resized.chunks_exact(3).enumerate() {
        // Plane 0 is blue: the network was trained on OpenCV's BGR images.
        out[i] = normalise(px[2]);
        out[plane + i] = normalise(px[1]);
        out[2 * plane + i] = normalise(px[0]);
    }
    Some(out)
}

/// A connected component's bounding box in map pixels (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Component {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

/// 8-connected components of a binary map, in raster order of their first pixel.
fn components(mask: &[bool], w: usize, h: usize, max: usize) -> Vec<Component> {
    let mut seen = vec![false; mask.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !mask[start] || seen[start] {
            continue;
        }
        if out.len() >= max {
            break;
        }
        let mut c = Component {
            x0: start % w,
            y0: start / w,
            x1: start % w,
            y1: start / w,
        };
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            c.x0 = c.x0.min(x);
            c.x1 = c.x1.max(x);
            c.y0 = c.y0.min(y);
            c.y1 = c.y1.max(y);
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(c);
    }
    out
}

/// DB post-processing of a `w`×`h` probability map into text boxes in the pixels of a
/// `dest_w`×`dest_h` image, in reading order.
pub fn db_postprocess(
    prob: &[f32],
    w: usize,
    h: usize,
    dest_w: u32,
    dest_h: u32,
    p: &DbParams,
) -> Vec<DetBox> {
    if w == 0 || h == 0 || prob.len() < w * h {
        return Vec::new();
    }
    let mut mask: Vec<bool> = prob[..w * h].iter().map(|&v| v > p.threshold).collect();
    if p.dilate {
        // OpenCV's 2×2 kernel anchored at (1,1): a pixel is set when it, its left, upper
        // or upper-left neighbour is.
        let src = mask.clone();
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                mask[i] = src[i]
                    || (x > 0 && src[i - 1])
                    || (y > 0 && src[i - w])
                    || (x > 0 && y > 0 && src[i - w - 1]);
            }
        }
    }
    let (sx, sy) = (dest_w as f32 / w as f32, dest_h as f32 / h as f32);
    let mut boxes = Vec::new();
    for c in components(&mask, w, h, p.max_candidates) {
        // Contour extents, as OpenCV's minAreaRect sees the outline's pixel centres.
        let (bw, bh) = ((c.x1 - c.x0) as f32, (c.y1 - c.y0) as f32);
        if bw.min(bh) < p.min_size {
            continue;
        }
        let mut sum = 0f64;
        for y in c.y0..=c.y1 {
            sum += prob[y * w + c.x0..=y * w + c.x1]
                .iter()
                .map(|&v| f64::from(v))
                .sum::<f64>();
        }
        let score = (sum / ((c.x1 - c.x0 + 1) * (c.y1 - c.y0 + 1)) as f64) as f32;
        if score < p.box_threshold {
            continue;
        }
        // Offsetting a rectangle by d grows each side by 2d.
        let d = bw * bh * p.unclip_ratio / (2.0 * (bw + bh));
        if bw.min(bh) + 2.0 * d < p.min_size + 2.0 {
            continue;
        }
        let map_x = |v: f32| (v * sx).round_ties_even().clamp(0.0, dest_w as f32 - 1.0);
        let map_y = |v: f32| (v * sy).round_ties_even().clamp(0.0, dest_h as f32 - 1.0);
        let b = DetBox {
            x0: map_x(c.x0 as f32 - d),
            y0: map_y(c.y0 as f32 - d),
            x1: map_x(c.x1 as f32 + d),
            y1: map_y(c.y1 as f32 + d),
            score,
        };
        if b.x1 - b.x0 <= 3.0 || b.y1 - b.y0 <= 3.0 {
            continue;
        }
        boxes.push(b);
    }
    reading_order(&mut boxes);
    boxes
}

/// Top to bottom, then left to right among boxes whose tops are within 10 pixels.
fn reading_order(boxes: &mut [DetBox]) {
    boxes.sort_by(|a, b| a.y0.total_cmp(&b.y0).then(a.x0.total_cmp(&b.x0)));
    for i in 0..boxes.len().saturating_sub(1) {
        for j in (0..=i).rev() {
            if (boxes[j + 1].y0 - boxes[j].y0).abs() < 10.0 && boxes[j + 1].x0 < boxes[j].x0 {
                boxes.swap(j, j + 1);
            } else {
                break;
            }
        }
    }
}

/// The box's pixels (`x0..x1`, `y0..y1`) of an RGB24 frame; a crop at least 1.5 times as
/// tall as wide (vertical text) is turned a quarter counter-clockwise. `None` when the box
/// is empty or outside the frame.
pub fn crop(rgb: &[u8], width: u32, height: u32, b: &DetBox) -> Option<Crop> {
    let (x0, y0) = (b.x0.max(0.0) as usize, b.y0.max(0.0) as usize);
    let (x1, y1) = (b.x1.max(0.0) as usize, b.y1.max(0.0) as usize);
    let (w, h) = (width as usize, height as usize);
    if x1 <= x0 || y1 <= y0 || x1 > w || y1 > h || rgb.len() < w * h * 3 {
        return None;
    }
    let (cw, ch) = (x1 - x0, y1 - y0);
    let mut out = Vec::with_capacity(cw * ch * 3);
    for y in y0..y1 {
        out.extend_from_slice(&rgb[(y * w + x0) * 3..(y * w + x1) * 3]);
    }
    if ch as f32 / cw as f32 >= 1.5 {
        // numpy's rot90: new row r is old column (cw − 1 − r).
        let mut rot = Vec::with_capacity(out.len());
        for r in 0..cw {
            let sx = cw - 1 - r;
            for y in 0..ch {
                rot.extend_from_slice(&out[(y * cw + sx) * 3..(y * cw + sx) * 3 + 3]);
            }
        }
        return Some(Crop {
            rgb: rot,
            width: ch as u32,
            height: cw as u32,
        });
    }
    Some(Crop {
        rgb: out,
        width: cw as u32,
        height: ch as u32,
    })
}

/// Line crops → one recognition batch `[N,3,48,W]` (BGR, `(x/255 − 0.5)/0.5`, zero padding
/// on the right) and its width W: `max(min_width, ⌈48 · widest aspect ratio⌉)`. Each crop is
/// resized to height 48 and width `⌈48 · aspect ratio⌉` (as PaddleOCR rounds).
pub fn rec_preprocess(crops: &[&Crop], min_width: u32) -> (Vec<f32>, u32) {
    let hh = f64::from(REC_HEIGHT);
    let width_of = |c: &Crop| {
        let ratio = f64::from(c.width) / f64::from(c.height.max(1));
        ((hh * ratio).ceil() as u32).max(1)
    };
    let bw = crops
        .iter()
        .map(|c| width_of(c))
        .fold(min_width.max(1), u32::max);
    let (bwu, hu) = (bw as usize, REC_HEIGHT as usize);
    let plane = bwu * hu;
    let mut out = vec![0f32; crops.len() * 3 * plane];
    for (k, c) in crops.iter().enumerate() {
        if c.width == 0 || c.height == 0 {
            continue;
        }
        let rw = width_of(c).min(bw);
        let resized = resize_bilinear(&c.rgb, c.width, c.height, rw, REC_HEIGHT);
        let rwu = rw as usize;
        let item = &mut out[k * 3 * plane..(k + 1) * 3 * plane];
        for y in 0..hu {
            for x in 0..rwu {
                let px = &resized[(y * rwu + x) * 3..(y * rwu + x) * 3 + 3];
                let i = y * bwu + x;
                item[i] = normalise(px[2]);
                item[plane + i] = normalise(px[1]);
                item[2 * plane + i] = normalise(px[0]);
            }
        }
    }
    (out, bw)
}

/// Greedy CTC decoding of one line's `[steps, classes]` probabilities: argmax per step,
/// repeats collapsed, blanks (class 0) dropped. Confidence: the mean of the kept steps'
/// maximum probabilities (0 when nothing is kept).
pub fn ctc_greedy(probs: &[f32], steps: usize, classes: usize, dict: &Dictionary) -> (String, f32) {
    let mut text = String::new();
    let (mut sum, mut kept) = (0f32, 0usize);
    let mut prev = usize::MAX;
    for t in 0..steps {
        let Some(row) = probs.get(t * classes..(t + 1) * classes) else {
            break;
        };
        let (best, p) = row
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |a, (i, v)| if v > a.1 { (i, v) } else { a });
        if best != 0 && best != prev {
            text.push_str(dict.get(best));
            sum += p;
            kept += 1;
        }
        prev = best;
    }
    let conf = if kept > 0 { sum / kept as f32 } else { 0.0 };
    (text, conf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(chars: &[&str]) -> Dictionary {
        Dictionary::from_text(&(chars.join("\n") + "\n"), false, Some(true), None).unwrap()
    }

    #[test]
    fn input_size_keeps_multiples_of_32_and_caps_the_longer_side() {
        assert_eq!(det_input_size(736, 416, 960), (736, 416));
        assert_eq!(det_input_size(1280, 720, 960), (960, 544));
        assert_eq!(det_input_size(1920, 1080, 960), (960, 544));
        assert_eq!(det_input_size(1080, 1920, 960), (544, 960));
        assert_eq!(det_input_size(100, 50, 960), (96, 64));
        assert_eq!(det_input_size(10, 10, 960), (32, 32));
    }

    #[test]
    fn det_preprocess_is_planar_bgr_in_minus_one_to_one() {
        let rgb = [255, 0, 51, 0, 255, 102];
        let x = det_preprocess(&rgb, 2, 1, 2, 1).unwrap();
        let b = (51.0 / 255.0 - 0.5) / 0.5;
        let b2 = (102.0 / 255.0 - 0.5) / 0.5;
        let want = [b, b2, -1.0, 1.0, 1.0, -1.0];
        for (got, want) in x.iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{x:?}");
        }
        assert!(det_preprocess(&rgb, 3, 1, 32, 32).is_none());
    }

    #[test]
    fn bilinear_resize_matches_opencv_sampling() {
        // 4×1 → 2×1: centres at 0.5 and 2.5 → means of neighbouring pairs.
        let px = |v: u8| [v, v, v];
        let row: Vec<u8> = [0u8, 100, 200, 255].iter().flat_map(|&v| px(v)).collect();
        let out = resize_bilinear(&row, 4, 1, 2, 1);
        assert_eq!(out, [50.0, 50.0, 50.0, 227.5, 227.5, 227.5]);
        // 2×1 → 4×1: edges repeated, inside 1/4 – 3/4 mixes.
        let row: Vec<u8> = [0u8, 200].iter().flat_map(|&v| px(v)).collect();
        let out = resize_bilinear(&row, 2, 1, 4, 1);
        let out: Vec<f32> = out.chunks(3).map(|p| p[0]).collect();
        assert_eq!(out, [0.0, 50.0, 150.0, 200.0]);
    }

    /// A `w`×`h` map of `bg` with rectangles (x0, y0, x1, y1 exclusive) of value `v`.
    fn map(w: usize, h: usize, bg: f32, rects: &[(usize, usize, usize, usize, f32)]) -> Vec<f32> {
        let mut m = vec![bg; w * h];
        for &(x0, y0, x1, y1, v) in rects {
            for y in y0..y1 {
                for x in x0..x1 {
                    m[y * w + x] = v;
                }
            }
        }
        m
    }

    #[test]
    fn db_finds_a_rectangle_and_unclips_it() {
        let p = DbParams {
            dilate: false,
            ..DbParams::default()
        };
        // Text at columns 10..=49, rows 20..=29 of a 100×60 map.
        let prob = map(100, 60, 0.01, &[(10, 20, 50, 30, 0.9)]);
        let boxes = db_postprocess(&prob, 100, 60, 100, 60, &p);
        assert_eq!(boxes.len(), 1, "{boxes:?}");
        let b = boxes[0];
        assert!((b.score - 0.9).abs() < 1e-5, "{b:?}");
        // Extents 39 × 9: d = 39·9·1.6 / (2·48) = 5.85.
        assert_eq!((b.x0, b.y0, b.x1, b.y1), (4.0, 14.0, 55.0, 35.0), "{b:?}");
        // Twice the resolution in the image: coordinates scale.
        let boxes = db_postprocess(&prob, 100, 60, 200, 120, &p);
        assert_eq!(
            (boxes[0].x0, boxes[0].y0, boxes[0].x1, boxes[0].y1),
            (8.0, 28.0, 110.0, 70.0)
        );
    }

    #[test]
    fn db_dilation_grows_right_and_down() {
        let prob = map(100, 60, 0.0, &[(10, 20, 50, 30, 0.9)]);
        let boxes = db_postprocess(&prob, 100, 60, 100, 60, &DbParams::default());
        assert_eq!(boxes.len(), 1);
        // Extents 40 × 10: d = 400·1.6 / 100 = 6.4; the mean now includes a zero row and column.
        let b = boxes[0];
        assert_eq!((b.x0, b.y0, b.x1, b.y1), (4.0, 14.0, 56.0, 36.0), "{b:?}");
        assert!((b.score - 0.9 * 400.0 / 451.0).abs() < 1e-4, "{b:?}");
    }

    #[test]
    fn db_drops_weak_tiny_and_edge_boxes_and_keeps_reading_order() {
        let p = DbParams::default();
        let prob = map(
            200,
            100,
            0.0,
            &[
                (120, 10, 180, 24, 0.95), // right, top line
                (10, 14, 80, 28, 0.95),   // left, same line (tops 4 px apart)
                (10, 60, 90, 75, 0.95),   // second line
                (100, 60, 160, 75, 0.35), // above threshold but weak: mean < 0.5
                (180, 80, 182, 82, 0.99), // speck
            ],
        );
        let boxes = db_postprocess(&prob, 200, 100, 200, 100, &p);
        let xs: Vec<(f32, f32)> = boxes.iter().map(|b| (b.x0, b.y0)).collect();
        assert_eq!(boxes.len(), 3, "{boxes:?}");
        assert!(
            boxes[0].x0 < 20.0 && boxes[1].x0 > 100.0 && boxes[2].y0 > 40.0,
            "{xs:?}"
        );
        // Clipped to the image.
        let prob = map(50, 20, 0.0, &[(0, 0, 50, 12, 0.9)]);
        let b = db_postprocess(&prob, 50, 20, 50, 20, &p)[0];
        assert_eq!((b.x0, b.y0, b.x1), (0.0, 0.0, 49.0), "{b:?}");
        // Nothing above the threshold, or an empty map: nothing.
        assert!(db_postprocess(&map(32, 32, 0.2, &[]), 32, 32, 32, 32, &p).is_empty());
        assert!(db_postprocess(&[], 0, 0, 32, 32, &p).is_empty());
    }

    #[test]
    fn components_are_eight_connected() {
        // Two diagonal pixels touch; a third one apart.
        let (w, h) = (6, 4);
        let mut m = vec![false; w * h];
        m[0] = true;
        m[w + 1] = true;
        m[3 * w + 5] = true;
        let cs = components(&m, w, h, 100);
        assert_eq!(cs.len(), 2);
        assert_eq!(
            cs[0],
            Component {
                x0: 0,
                y0: 0,
                x1: 1,
                y1: 1
            }
        );
        assert_eq!(components(&m, w, h, 1).len(), 1);
    }

    #[test]
    fn crop_copies_the_box_and_turns_tall_crops() {
        // 3×3 image, pixel value = index.
        let rgb: Vec<u8> = (0..9u8).flat_map(|i| [i, i, i]).collect();
        let b = DetBox {
            x0: 1.0,
            y0: 0.0,
            x1: 3.0,
            y1: 2.0,
            score: 1.0,
        };
        let c = crop(&rgb, 3, 3, &b).unwrap();
        assert_eq!((c.width, c.height), (2, 2));
        assert_eq!(
            c.rgb.chunks(3).map(|p| p[0]).collect::<Vec<_>>(),
            [1, 2, 4, 5]
        );
        // A 1×3 column → a 3×1 row, turned counter-clockwise (top pixel goes left).
        let tall = DetBox {
            x0: 0.0,
            y0: 0.0,
            x1: 1.0,
            y1: 3.0,
            score: 1.0,
        };
        let c = crop(&rgb, 3, 3, &tall).unwrap();
        assert_eq!((c.width, c.height), (3, 1));
        assert_eq!(c.rgb.chunks(3).map(|p| p[0]).collect::<Vec<_>>(), [0, 3, 6]);
        let out = DetBox { x1: 4.0, ..b };
        assert!(crop(&rgb, 3, 3, &out).is_none());
    }

    #[test]
    fn rec_batch_pads_to_a_common_width() {
        let grey = |w: u32, h: u32, v: u8| Crop {
            rgb: vec![v; (w * h * 3) as usize],
            width: w,
            height: h,
        };
        let short = grey(48, 48, 255);
        let (x, bw) = rec_preprocess(&[&short], REC_MIN_WIDTH);
        assert_eq!(bw, 320);
        assert_eq!(x.len(), 3 * 48 * 320);
        // First 48 columns white (1.0), the rest padding (0.0).
        assert_eq!(x[47], 1.0);
        assert_eq!(x[48], 0.0);
        // A long line widens the batch; a 24-px tall crop is scaled ×2.
        let long = grey(400, 24, 0);
        let (x, bw) = rec_preprocess(&[&short, &long], REC_MIN_WIDTH);
        assert_eq!(bw, 800);
        let plane = 48 * 800;
        assert_eq!(x[3 * plane + 799], -1.0);
        assert_eq!(x[48], 0.0);
        // 100×32 → 48·100/32 = 150 columns.
        let odd = grey(100, 32, 255);
        let (x, bw) = rec_preprocess(&[&odd], 0);
        assert_eq!((bw, x[149]), (150, 1.0));
        // Rounded up: the card's line crops (models/refs/ppocrv4.json) are 187 and 257 wide.
        assert_eq!(rec_preprocess(&[&grey(474, 122, 0)], 0).1, 187);
        assert_eq!(rec_preprocess(&[&grey(411, 77, 0)], 0).1, 257);
    }

    #[test]
    fn ctc_collapses_repeats_and_drops_blanks() {
        let d = dict(&["限", "时", "秒", "杀"]);
        assert_eq!(d.len(), 6);
        assert_eq!(d.get(5), " ");
        // Steps: 限 限 blank 时 时 blank 时 秒 杀 blank
        let path = [1usize, 1, 0, 2, 2, 0, 2, 3, 4, 0];
        let classes = d.len();
        let mut probs = vec![0.0; path.len() * classes];
        for (t, &c) in path.iter().enumerate() {
            probs[t * classes..(t + 1) * classes].fill(0.02);
            probs[t * classes + c] = if c == 0 { 0.99 } else { 0.5 + 0.05 * t as f32 };
        }
        let (text, conf) = ctc_greedy(&probs, path.len(), classes, &d);
        assert_eq!(text, "限时时秒杀");
        // Kept steps 0, 3, 6, 7, 8.
        let want = [0, 3, 6, 7, 8]
            .iter()
            .map(|&t| 0.5 + 0.05 * t as f32)
            .sum::<f32>()
            / 5.0;
        assert!((conf - want).abs() < 1e-6, "{conf} vs {want}");
        // All blank: empty, confidence 0.
        let mut blank = vec![0.0; 3 * classes];
        for t in 0..3 {
            blank[t * classes] = 1.0;
        }
        assert_eq!(ctc_greedy(&blank, 3, classes, &d), (String::new(), 0.0));
    }

    #[test]
    fn dictionary_follows_the_spec_layout() {
        let text = "a\nb\nc\n";
        // livecut's spec: blank 0 and a trailing space, neither in the file.
        let spec = ClassLayout {
            blank_index: Some(0),
            space_index: Some(4),
            num_classes: Some(5),
            dictionary_entries: Some(3),
        };
        let d = Dictionary::for_model(text, &spec, Some(5)).unwrap();
        assert_eq!((d.len(), d.get(0), d.get(1), d.get(4)), (5, "", "a", " "));
        // Class count from the spec when the model's is dynamic.
        assert_eq!(Dictionary::for_model(text, &spec, None).unwrap().len(), 5);
        // No spec keys: decided by the model's class count.
        let none = ClassLayout::default();
        assert_eq!(
            Dictionary::for_model(text, &none, Some(4)).unwrap().get(3),
            "c"
        );
        // The blank in the file: entries + space = classes.
        let with_blank = ClassLayout {
            dictionary_entries: Some(4),
            space_index: Some(4),
            num_classes: Some(5),
            blank_index: Some(0),
        };
        let d = Dictionary::for_model("<blank>\na\nb\nc\n", &with_blank, Some(5)).unwrap();
        assert_eq!((d.get(0), d.get(1), d.get(4)), ("", "a", " "));
        // Disagreements are errors that say what disagrees.
        let e = Dictionary::for_model(text, &spec, Some(6)).unwrap_err();
        assert!(e.contains("5") && e.contains("6"), "{e}");
        let e = Dictionary::for_model("a\nb\n", &spec, Some(5)).unwrap_err();
        assert!(e.contains("classes"), "{e}");
        let bad_blank = ClassLayout {
            blank_index: Some(4),
            ..spec
        };
        assert!(Dictionary::for_model(text, &bad_blank, Some(5))
            .unwrap_err()
            .contains("blank_index"));
        let bad_entries = ClassLayout {
            dictionary_entries: Some(7),
            ..ClassLayout::default()
        };
        assert!(Dictionary::for_model(text, &bad_entries, None)
            .unwrap_err()
            .contains("7 dictionary entries"));
    }

    #[test]
    fn dictionary_layouts() {
        let text = "a\r\nb\nc\n";
        // Blank in front, space inferred from the model's class count.
        let d = Dictionary::from_text(text, false, None, Some(5)).unwrap();
        assert_eq!(
            (d.get(0), d.get(1), d.get(3), d.get(4)),
            ("", "a", "c", " ")
        );
        let d = Dictionary::from_text(text, false, None, Some(4)).unwrap();
        assert_eq!((d.len(), d.get(3)), (4, "c"));
        // Blank as the file's first entry.
        let d = Dictionary::from_text("<blank>\nx\ny", true, Some(false), Some(3)).unwrap();
        assert_eq!((d.get(0), d.get(1), d.get(2)), ("", "x", "y"));
        // Mismatches and empty files are errors.
        let e = Dictionary::from_text(text, false, Some(true), Some(6)).unwrap_err();
        assert!(e.contains("5 classes") && e.contains("6"), "{e}");
        assert!(Dictionary::from_text("", false, None, None).is_err());
        // An entry that is a space survives.
        let d = Dictionary::from_text(" \nz\n", false, Some(false), None).unwrap();
        assert_eq!(d.get(1), " ");
    }
}
