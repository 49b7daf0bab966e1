//! CenterFace face detection: host presence and box per sampled frame.
//!
//! Input `[1,3,H,W]` RGB 0–255 float (H, W multiples of 32); outputs at stride 4: a heatmap
//! `[1,1,h,w]`, box scale `[1,2,h,w]` (log size / 4), centre offset `[1,2,h,w]` and five
//! landmarks `[1,10,h,w]`. Decoding and NMS are pure functions below.

use ort::session::Session;
use ort::value::TensorRef;
use serde::{Deserialize, Serialize};

use super::{ModelDir, ModelError, Runtime};

pub const NAME: &str = "centerface";
pub const THRESHOLD: f32 = 0.5;
pub const NMS_IOU: f32 = 0.3;

/// A face in the frame's own pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    pub score: f32,
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}

impl Face {
    pub fn area(&self) -> f32 {
        (self.x2 - self.x1).max(0.0) * (self.y2 - self.y1).max(0.0)
    }

    pub fn iou(&self, o: &Face) -> f32 {
        let w = (self.x2.min(o.x2) - self.x1.max(o.x1)).max(0.0);
        let h = (self.y2.min(o.y2) - self.y1.max(o.y1)).max(0.0);
        let inter = w * h;
        let union = self.area() + o.area() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

#[derive(Debug)]
pub struct FaceDetector {
    session: Session,
}

impl FaceDetector {
    pub fn new(rt: &Runtime, dir: &ModelDir) -> Result<Self, ModelError> {
        let (_, path) = dir.verified(NAME)?;
        Ok(Self {
            session: rt.session(NAME, &path)?,
        })
    }

    /// Faces in an RGB24 frame (`width`×`height`, tightly packed). The frame is resized to
    /// the nearest multiples of 32 (at most `max_side` on its longer side) and boxes are
    /// mapped back to the frame's pixels.
    pub fn detect(
        &mut self,
        rgb: &[u8],
        width: u32,
        height: u32,
        max_side: u32,
    ) -> Result<Vec<Face>, ModelError> {
        let err = |e: ort::Error| ModelError::inference(NAME, e);
        let (iw, ih) = input_size(width, height, max_side);
        let input = preprocess(rgb, width, height, iw, ih)
            .ok_or_else(|| ModelError::inference(NAME, "frame buffer has the wrong size"))?;
        let x = TensorRef::from_array_view(([1usize, 3, ih as usize, iw as usize], &input[..]))
            .map_err(err)?;
        let outputs = self.session.run(ort::inputs![x]).map_err(err)?;
        let get = |i: usize| -> Result<(Vec<usize>, Vec<f32>), ModelError> {
            let a = outputs[i].try_extract_array::<f32>().map_err(err)?;
            Ok((a.shape().to_vec(), a.iter().copied().collect()))
        };
        let (hshape, heat) = get(0)?;
        let (_, scale) = get(1)?;
        let (_, offset) = get(2)?;
        if hshape.len() != 4 {
            return Err(ModelError::inference(
                NAME,
                format!("unexpected heatmap shape {hshape:?}"),
            ));
        }
        let (h, w) = (hshape[2], hshape[3]);
        let faces = decode(
            &heat, &scale, &offset, h, w, iw as f32, ih as f32, THRESHOLD,
        );
        let (sx, sy) = (width as f32 / iw as f32, height as f32 / ih as f32);
        Ok(nms(faces, NMS_IOU)
            .into_iter()
            .map(|f| Face {
                score: f.score,
                x1: f.x1 * sx,
                y1: f.y1 * sy,
                x2: f.x2 * sx,
                y2: f.y2 * sy,
            })
            .collect())
    }
}

/// Model input size: the frame scaled down to at most `max_side`, sides rounded down to
/// multiples of 32 (at least 32).
pub fn input_size(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let scale = (max_side as f32 / width.max(height).max(1) as f32).min(1.0);
    let round = |v: f32| ((v as u32) / 32 * 32).max(32);
    (round(width as f32 * scale), round(height as f32 * scale))
}

/// RGB24 → resized NCHW float 0–255 (CenterFace takes raw pixel values).
pub fn preprocess(rgb: &[u8], width: u32, height: u32, iw: u32, ih: u32) -> Option<Vec<f32>> {
    let img = image::RgbImage::from_raw(width, height, rgb.to_vec())?;
    let resized = if (iw, ih) == (width, height) {
        img
    } else {
        image::imageops::resize(&img, iw, ih, image::imageops::FilterType::Triangle)
    };
    let plane = (iw * ih) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, p) in resized.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = f32::from(p[c]);
        }
    }
    Some(out)
}

/// Decode CenterFace outputs (`h`×`w` cells, stride 4) into boxes in input pixels.
#[allow(clippy::too_many_arguments)]
pub fn decode(
    heat: &[f32],
    scale: &[f32],
    offset: &[f32],
    h: usize,
    w: usize,
    in_w: f32,
    in_h: f32,
    threshold: f32,
) -> Vec<Face> {
    let plane = h * w;
    if heat.len() < plane || scale.len() < 2 * plane || offset.len() < 2 * plane {
        return Vec::new();
    }
    let mut faces = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let s = heat[i];
            if s <= threshold {
                continue;
            }
            let bh = scale[i].exp() * 4.0;
            let bw = scale[plane + i].exp() * 4.0;
            let (oy, ox) = (offset[i], offset[plane + i]);
            let x1 = ((x as f32 + ox + 0.5) * 4.0 - bw / 2.0).clamp(0.0, in_w);
            let y1 = ((y as f32 + oy + 0.5) * 4.0 - bh / 2.0).clamp(0.0, in_h);
            faces.push(Face {
                score: s,
                x1,
                y1,
                x2: (x1 + bw).min(in_w),
                y2: (y1 + bh).min(in_h),
            });
        }
    }
    faces
}

/// Greedy non-maximum suppression, best score first.
pub fn nms(mut faces: Vec<Face>, iou: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| k.iou(&f) <= iou) {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_size_is_multiple_of_32() {
        assert_eq!(input_size(512, 512, 640), (512, 512));
        assert_eq!(input_size(1280, 720, 640), (640, 352));
        assert_eq!(input_size(20, 20, 640), (32, 32));
    }

    #[test]
    fn decode_places_a_box_at_the_peak() {
        let (h, w) = (8, 8);
        let mut heat = vec![0.0; 64];
        heat[3 * 8 + 4] = 0.9;
        let mut scale = vec![0.0; 128];
        scale[3 * 8 + 4] = (16.0f32 / 4.0).ln(); // height 16
        scale[64 + 3 * 8 + 4] = (8.0f32 / 4.0).ln(); // width 8
        let offset = vec![0.0; 128];
        let faces = decode(&heat, &scale, &offset, h, w, 32.0, 32.0, 0.5);
        assert_eq!(faces.len(), 1);
        let f = faces[0];
        // centre (4.5*4, 3.5*4) = (18, 14)
        assert!(
            (f.x1 - 14.0).abs() < 1e-4 && (f.x2 - 22.0).abs() < 1e-4,
            "{f:?}"
        );
        assert!(
            (f.y1 - 6.0).abs() < 1e-4 && (f.y2 - 22.0).abs() < 1e-4,
            "{f:?}"
        );
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let f = |s, x1| Face {
            score: s,
            x1,
            y1: 0.0,
            x2: x1 + 10.0,
            y2: 10.0,
        };
        let kept = nms(vec![f(0.6, 1.0), f(0.9, 0.0), f(0.8, 50.0)], 0.3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        assert_eq!(kept[1].score, 0.8);
    }

    #[test]
    fn preprocess_is_planar_rgb() {
        let rgb = vec![10, 20, 30, 40, 50, 60];
        let x = preprocess(&rgb, 2, 1, 2, 1).unwrap();
        assert_eq!(x, vec![10.0, 40.0, 20.0, 50.0, 30.0, 60.0]);
    }
}
