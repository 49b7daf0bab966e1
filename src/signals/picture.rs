//! What the picture itself says, from the grey analysis frames: shot cuts, broken frames
//! (black, white, single-colour, torn) and a static picture (a "be right back" card
//! or a frozen decode: no change, not even sensor noise).

use super::Track;
use crate::media::GrayFrame;

/// Mean absolute difference (0–1) below which two sampled frames are "the same picture"
/// (H.264 repeats an unchanged picture exactly; any live camera differs by more).
/// A live camera never gets this low: sensor noise alone is above it.
pub const STATIC_DIFF: f32 = 0.25 / 255.0;
/// Luma-histogram distance (half the L1 distance of normalised 32-bin histograms, 0–1) above
/// which two consecutive sampled frames belong to different shots.
pub const CUT_DISTANCE: f32 = 0.45;

#[derive(Debug)]
pub struct PictureMeter {
    prev: Option<(Vec<u8>, [f32; 32], Vec<f32>)>,
    broken: Track,
    still: Track,
    cuts: Track,
    /// The last histogram distance, and the one before it (a cut is decided one frame
    /// late: it must stand out from both neighbours).
    pending: Option<(f64, f32)>,
    prev_distance: f32,
}

impl Default for PictureMeter {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a frame is broken (None: it looks like a picture).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    Black,
    White,
    Flat,
}

impl PictureMeter {
    pub fn new() -> Self {
        Self {
            prev: None,
            broken: Track::new(
                "picture_broken",
                "0/1",
                "1 where the sampled frame is black, white, a single colour, or torn (a new \
                 full-width row discontinuity)",
            ),
            still: Track::new(
                "picture_static",
                "0/1",
                "1 where the sampled frame is identical to the previous one within 0.25/255 \
                 (no motion and no sensor noise: a card, a still image or a frozen decode)",
            ),
            pending: None,
            prev_distance: 0.0,
            cuts: Track::new(
                "shot_cut",
                "0/1",
                "1 where the luma histogram jumps from the previous sampled frame and the jump \
                 stands out from the neighbouring frames' (a cut or a full-frame overlay \
                 change; dissolves and fades are not cuts)",
            ),
        }
    }

    pub fn push(&mut self, frame: &GrayFrame) {
        let hist = histogram(&frame.data);
        let seams = seams(frame);
        // Torn: a new full-width seam, with one side of it still showing the previous
        // picture and the other side not (a cut changes both sides; a steady edge such as
        // a table is in the previous frame too).
        let torn = self.prev.as_ref().is_some_and(|(prev, _, prev_seams)| {
            prev_seams.len() == seams.len()
                && prev.len() == frame.data.len()
                && seams
                    .iter()
                    .zip(prev_seams)
                    .enumerate()
                    .any(|(row, (&s, &p))| {
                        s >= 0.75
                            && p < 0.4
                            && is_tear(prev, &frame.data, frame.width as usize, row + 1)
                    })
        });
        let broken = torn || classify(frame).is_some();
        self.broken.push(frame.t, f32::from(u8::from(broken)));
        if let Some((prev, prev_hist, _)) = &self.prev {
            if prev.len() == frame.data.len() {
                let diff = super::motion::mean_abs_diff(prev, &frame.data);
                self.still
                    .push(frame.t, f32::from(u8::from(diff < STATIC_DIFF)));
                let d: f32 = hist
                    .iter()
                    .zip(prev_hist)
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f32>()
                    / 2.0;
                self.decide_cut(Some((frame.t, d)));
            }
        }
        self.prev = Some((frame.data.clone(), hist, seams));
    }

    /// Settle the pending frame now that the next distance is known (`None`: end).
    /// A cut is a jump that stands out from both neighbours; a dissolve or fade changes
    /// the histogram over several frames and is not a run of cuts.
    fn decide_cut(&mut self, next: Option<(f64, f32)>) {
        if let Some((t, d)) = self.pending {
            let after = next.map_or(0.0, |(_, n)| n);
            let (lo, hi) = if self.prev_distance < after {
                (self.prev_distance, after)
            } else {
                (after, self.prev_distance)
            };
            // Far above one neighbour and clearly above the other: a dissolve or fade has
            // steps of similar size on at least one side.
            let cut = d > CUT_DISTANCE && d > 2.5 * lo && d > 1.5 * hi;
            self.cuts.push(t, f32::from(u8::from(cut)));
            self.prev_distance = d;
        }
        self.pending = next;
    }

    pub fn finish(mut self) -> [Track; 3] {
        self.decide_cut(None);
        [self.broken, self.still, self.cuts]
    }
}

/// Normalised 32-bin luma histogram.
fn histogram(data: &[u8]) -> [f32; 32] {
    let mut h = [0f32; 32];
    for &v in data {
        h[usize::from(v >> 3)] += 1.0;
    }
    let n = data.len().max(1) as f32;
    h.iter_mut().for_each(|v| *v /= n);
    h
}

/// Whether the rows on one side of `seam` match the previous frame and the other side does
/// not.
fn is_tear(prev: &[u8], cur: &[u8], width: usize, seam: usize) -> bool {
    let split = (seam * width).min(cur.len());
    let top = super::motion::mean_abs_diff(&prev[..split], &cur[..split]);
    let bottom = super::motion::mean_abs_diff(&prev[split..], &cur[split..]);
    let (same, changed) = if top < bottom {
        (top, bottom)
    } else {
        (bottom, top)
    };
    same < 0.03 && changed > 0.08 && changed > 4.0 * same
}

/// Per row boundary: the share of columns whose luma jumps by more than 25 across it.
pub fn seams(frame: &GrayFrame) -> Vec<f32> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let d = &frame.data;
    if w == 0 || d.len() < w * h {
        return Vec::new();
    }
    (1..h)
        .map(|y| {
            let jumps = (0..w)
                .filter(|&x| d[y * w + x].abs_diff(d[(y - 1) * w + x]) > 25)
                .count();
            jumps as f32 / w as f32
        })
        .collect()
}

/// Is this frame broken on its own (black, white, flat)? Tears need the previous
/// frame and are found by [`PictureMeter`].
pub fn classify(frame: &GrayFrame) -> Option<Broken> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let d = &frame.data;
    if w < 8 || h < 8 || d.len() < w * h {
        return None;
    }
    let n = d.len() as f64;
    let mean = d.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = d
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    let std = var.sqrt();
    if std < 4.0 {
        return Some(if mean < 24.0 {
            Broken::Black
        } else if mean > 232.0 {
            Broken::White
        } else {
            Broken::Flat
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(t: f64, f: impl Fn(usize, usize) -> u8) -> GrayFrame {
        let (w, h) = (64usize, 36usize);
        let mut data = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                data.push(f(x, y));
            }
        }
        GrayFrame {
            t,
            width: w as u32,
            height: h as u32,
            data,
        }
    }

    /// A plausible picture: a gradient with pseudo-random sensor noise.
    fn scene(t: f64, seed: u32) -> GrayFrame {
        frame(t, |x, y| {
            let noise = ((x as u32 * 7919 + y as u32 * 104_729 + seed * 31) % 9) as u8;
            (60 + x * 2 + y) as u8 + noise
        })
    }

    #[test]
    fn classifies_broken_frames() {
        assert_eq!(classify(&frame(0.0, |_, _| 3)), Some(Broken::Black));
        assert_eq!(classify(&frame(0.0, |_, _| 250)), Some(Broken::White));
        assert_eq!(classify(&frame(0.0, |_, _| 120)), Some(Broken::Flat));
        assert_eq!(classify(&scene(0.0, 1)), None);
    }

    #[test]
    fn a_new_full_width_seam_is_a_tear() {
        let mut m = PictureMeter::new();
        let base = |x: usize, y: usize| (60 + x * 2 + y) as u8;
        m.push(&frame(0.0, base));
        // The bottom half of the next frame lost (dark): the top still shows the picture.
        m.push(&frame(0.5, |x, y| if y < 18 { base(x, y) } else { 12 }));
        // Back to normal, then a cut to a shot with a full-width horizon: not tears.
        m.push(&frame(1.0, base));
        m.push(&frame(1.5, |x, y| {
            if y < 20 {
                (40 + x) as u8
            } else {
                (200 - x / 2) as u8
            }
        }));
        let [broken, _, _] = m.finish();
        assert_eq!(broken.values, vec![0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn a_dissolve_is_not_a_run_of_cuts() {
        let mut m = PictureMeter::new();
        let a = |x: usize, _y: usize| (20 + x) as u8;
        let b = |x: usize, _y: usize| (230 - x) as u8;
        m.push(&frame(0.0, a));
        m.push(&frame(0.5, a));
        for k in 1..=5 {
            let w = k as f32 / 5.0;
            m.push(&frame(0.5 + k as f64 * 0.5, move |x, y| {
                ((1.0 - w) * f32::from(a(x, y)) + w * f32::from(b(x, y))) as u8
            }));
        }
        m.push(&frame(3.5, b));
        m.push(&frame(4.0, a)); // and a hard cut back
        m.push(&frame(4.5, a));
        let [_, _, cuts] = m.finish();
        let at: Vec<f64> = cuts
            .times_s
            .iter()
            .zip(&cuts.values)
            .filter(|(_, v)| **v > 0.0)
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(at, vec![4.0]);
    }

    #[test]
    fn static_card_cut_and_live_picture() {
        let mut m = PictureMeter::new();
        m.push(&scene(0.0, 1));
        m.push(&scene(0.5, 2)); // live: noise differs
        let card = |t| {
            frame(t, |x, y| {
                if (20..44).contains(&x) && (10..26).contains(&y) {
                    240
                } else {
                    30
                }
            })
        };
        m.push(&card(1.0)); // cut to a card
        m.push(&card(1.5)); // card again: static
        let [broken, still, cuts] = m.finish();
        assert_eq!(broken.values, vec![0.0, 0.0, 0.0, 0.0]);
        assert_eq!(still.values, vec![0.0, 0.0, 1.0]);
        assert_eq!(cuts.values, vec![0.0, 1.0, 0.0]);
    }
}
