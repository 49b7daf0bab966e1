//! Motion energy: mean absolute difference of consecutive grey analysis frames (0–1).

use super::Track;
use crate::media::GrayFrame;

#[derive(Debug)]
pub struct MotionMeter {
    prev: Option<GrayFrame>,
    track: Track,
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
        }
    }

    pub fn push(&mut self, frame: &GrayFrame) {
        if let Some(prev) = &self.prev {
            if prev.width == frame.width && prev.height == frame.height {
                self.track
                    .push(frame.t, mean_abs_diff(&prev.data, &frame.data));
            }
        }
        self.prev = Some(frame.clone());
    }

    pub fn finish(self) -> Track {
        self.track
    }
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
        m.push(&frame(0.0, 10));
        m.push(&frame(0.5, 10));
        m.push(&frame(1.0, 255));
        let t = m.finish();
        assert_eq!(t.times_s, vec![0.5, 1.0]);
        assert_eq!(t.values[0], 0.0);
        assert!((t.values[1] - 245.0 / 255.0).abs() < 1e-6);
    }
}
