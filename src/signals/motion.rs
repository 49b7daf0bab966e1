//! Motion energy: mean absolute difference of consecutive grey analysis frames (0–1).

use super::Track;
use crate::media::GrayFrame;

#[derive(Debug)]
pub struct MotionMeter {
    prev: Option<GrayFrame>,
    track: Track,
    host: Track,
}

impl Default for MotionMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl MotionMeter {
    pub fn new() -> Self {
        Self {
            prev: None,
            track: Track::new(
                "motion",
                "fraction",
                "mean absolute luma difference to the previous sampled frame (0 = still, 1 = \
                 every pixel flipped), at the sampled-frame times",
            ),
            host: Track::new(
                "host_motion",
                "fraction",
                "motion inside the host's region (from the largest face: 4 face widths wide, \
                 from the forehead down to 5 face heights below, where the hands and the \
                 product are); NaN while no face has been seen",
            ),
        }
    }

    /// Add a frame; `face` is the latest host face box (centre x, centre y, width, height
    /// as fractions of the frame), when one is known.
    pub fn push(&mut self, frame: &GrayFrame, face: Option<[f32; 4]>) {
        if let Some(prev) = &self.prev {
            if prev.width == frame.width && prev.height == frame.height {
                self.track
                    .push(frame.t, mean_abs_diff(&prev.data, &frame.data));
                let host = match face {
                    Some(f) => region_diff(
                        &prev.data,
                        &frame.data,
                        frame.width,
                        frame.height,
                        host_region(f),
                    ),
                    None => f32::NAN,
                };
                self.host.push(frame.t, host);
            }
        }
        self.prev = Some(frame.clone());
    }

    pub fn finish(self) -> [Track; 2] {
        [self.track, self.host]
    }
}

/// The host's region from a face box: hands and product are below and beside the face.
pub fn host_region([cx, cy, w, h]: [f32; 4]) -> [f32; 4] {
    let x0 = (cx - 2.0 * w).clamp(0.0, 1.0);
    let x1 = (cx + 2.0 * w).clamp(0.0, 1.0);
    let y0 = (cy - h).clamp(0.0, 1.0);
    let y1 = (cy + 5.0 * h).clamp(0.0, 1.0);
    [x0, y0, x1, y1]
}

/// Mean absolute difference (0–1) inside a region given as fractions `[x0, y0, x1, y1]`.
fn region_diff(a: &[u8], b: &[u8], width: u32, height: u32, r: [f32; 4]) -> f32 {
    let (w, h) = (width as usize, height as usize);
    if a.len() != b.len() || a.len() < w * h {
        return f32::NAN;
    }
    let px = |f: f32, n: usize| ((f * n as f32) as usize).min(n);
    let (x0, x1, y0, y1) = (px(r[0], w), px(r[2], w), px(r[1], h), px(r[3], h));
    if x1 <= x0 || y1 <= y0 {
        return f32::NAN;
    }
    let mut sum = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            sum += u64::from(a[y * w + x].abs_diff(b[y * w + x]));
        }
    }
    (sum as f64 / ((x1 - x0) * (y1 - y0)) as f64 / 255.0) as f32
}

/// Mean absolute difference of two equally sized 8-bit buffers, scaled to 0–1.
pub fn mean_abs_diff(a: &[u8], b: &[u8]) -> f32 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    (sum as f64 / a.len() as f64 / 255.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(t: f64, value: u8) -> GrayFrame {
        GrayFrame {
            t,
            width: 4,
            height: 2,
            data: vec![value; 8],
        }
    }

    #[test]
    fn still_frames_have_no_motion_and_changes_do() {
        let mut m = MotionMeter::new();
        m.push(&frame(0.0, 10), None);
        m.push(&frame(0.5, 10), None);
        m.push(&frame(1.0, 255), Some([0.5, 0.5, 0.5, 0.5]));
        let [t, host] = m.finish();
        assert!(host.values[0].is_nan());
        assert!((host.values[1] - 245.0 / 255.0).abs() < 1e-6);
        assert_eq!(t.times_s, vec![0.5, 1.0]);
        assert_eq!(t.values[0], 0.0);
        assert!((t.values[1] - 245.0 / 255.0).abs() < 1e-6);
    }
}
