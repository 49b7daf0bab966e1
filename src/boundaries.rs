//! Clean clip boundaries: a highlight starts and ends between transcribed sentences when
//! the speech stage heard them, else in a pause of speech (never mid-word; at a shot cut
//! inside the pause when there is one), else where it was. No boundary ever falls inside a
//! transcribed sentence.

use serde::{Deserialize, Serialize};

use crate::signals::SignalSet;
use crate::time::Span;

/// Speech probability below which the host is not talking.
const SPEECH: f32 = 0.5;
/// Shortest pause a boundary may sit in, seconds.
const MIN_PAUSE_S: f64 = 0.2;

/// Where boundaries may go.
#[derive(Debug, Clone, Default)]
pub struct Boundaries {
    /// Pauses in speech (empty when the VAD did not run).
    pub pauses: Vec<Span>,
    /// Shot cuts.
    pub cuts: Vec<f64>,
    /// Whether a speech track was available at all.
    pub have_speech: bool,
    /// Spans no clip may contain (glitches, intermissions).
    pub avoid: Vec<Span>,
    /// Spans the analysis cascade did not examine in detail: no clip peaks or reaches
    /// there, and they do not count towards the typical level of the curve.
    pub unexamined: Vec<Span>,
    /// Transcribed sentences (the speech stage's segments), sorted by start.
    pub sentences: Vec<Span>,
}

/// Seconds a boundary keeps from a sentence it does not belong to.
const SENTENCE_GUARD_S: f64 = 0.1;

/// What a boundary was snapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Snap {
    /// Between transcribed sentences (just before one starts, just after one ends).
    Sentence,
    /// A shot cut inside a pause (or with no speech data).
    Cut,
    /// A pause in speech.
    Pause,
    /// Nothing clean nearby: left where selection put it.
    #[default]
    None,
}

impl Boundaries {
    pub fn from_signals(set: &SignalSet) -> Self {
        let mut b = Self::default();
        if let Some(speech) = set.get("speech") {
            b.have_speech = !speech.is_empty();
            // Each VAD value covers ±16 ms around its time.
            let half = 0.016;
            let mut start: Option<f64> = None;
            let mut last_end = 0.0;
            let mut prev_t = f64::NEG_INFINITY;
            for (&t, &p) in speech.times_s.iter().zip(&speech.values) {
                // A jump in time is a stretch the VAD did not hear (between the cascade's
                // windows): a pause does not run across it.
                if t - prev_t > 0.1 {
                    if let Some(s) = start.take() {
                        if last_end - s >= MIN_PAUSE_S {
                            b.pauses.push(Span::new(s, last_end));
                        }
                    }
                }
                prev_t = t;
                if p < SPEECH {
                    start.get_or_insert(t - half);
                    last_end = t + half;
                } else if let Some(s) = start.take() {
                    if last_end - s >= MIN_PAUSE_S {
                        b.pauses.push(Span::new(s, last_end));
                    }
                }
            }
            if let Some(s) = start {
                if last_end - s >= MIN_PAUSE_S {
                    b.pauses.push(Span::new(s, last_end));
                }
            }
        }
        if let Some(cuts) = set.get("shot_cut") {
            b.cuts = cuts
                .times_s
                .iter()
                .zip(&cuts.values)
                .filter(|(_, v)| **v > 0.0)
                .map(|(t, _)| *t)
                .collect();
        }
        b
    }

    fn in_pause(&self, t: f64) -> bool {
        !self.have_speech || self.pauses.iter().any(|p| p.start_s <= t && t <= p.end_s)
    }

    /// Whether `t` falls inside speech (for reports and tests).
    pub fn inside_speech(&self, t: f64) -> bool {
        self.have_speech && !self.in_pause(t)
    }

    /// Whether `t` falls inside a transcribed sentence (away from its edges).
    pub fn inside_sentence(&self, t: f64) -> bool {
        self.sentences
            .iter()
            .any(|s| s.start_s + SENTENCE_GUARD_S < t && t < s.end_s - SENTENCE_GUARD_S)
    }

    /// Boundary points between sentences: before each start (a clip start) or after each
    /// end (a clip end), moved into a VAD pause within 0.5 s when there is one; never inside
    /// another sentence nor where the VAD hears speech.
    pub fn sentence_points(&self, is_start: bool) -> Vec<f64> {
        self.sentence_points_where(is_start, true)
    }

    /// As [`Boundaries::sentence_points`], and also where the VAD hears speech
    /// (`in_pause` false): the last resort when a host talks on without a pause.
    pub fn sentence_edges(&self, is_start: bool) -> Vec<f64> {
        self.sentence_points_where(is_start, false)
    }

    fn sentence_points_where(&self, is_start: bool, in_pause: bool) -> Vec<f64> {
        self.sentences
            .iter()
            .map(|s| {
                let edge = if is_start { s.start_s } else { s.end_s };
                let pause = self.pauses.iter().find(|p| {
                    p.start_s - 0.5 <= edge && edge <= p.end_s + 0.5 && p.duration() > 0.0
                });
                match pause {
                    Some(p) if is_start => (p.end_s - (p.duration() / 2.0).min(0.15)).min(edge),
                    Some(p) => (p.start_s + (p.duration() / 2.0).min(0.15)).max(edge),
                    None if is_start => edge - SENTENCE_GUARD_S,
                    None => edge + SENTENCE_GUARD_S,
                }
            })
            // Whisper's sentence edges are coarse: a point the VAD hears as speech is a
            // word cut, not a sentence end.
            .filter(|&x| !self.inside_sentence(x) && (!in_pause || self.in_pause(x)))
            .collect()
    }

    /// Move a start (`is_start`) or end boundary at `t` to the best clean point within
    /// `window` seconds: a shot cut that is not mid-speech, else the edge of a pause next to
    /// the speech it frames (a start just before speech resumes, an end just after it stops).
    pub fn snap(&self, t: f64, is_start: bool, window: f64) -> (f64, Snap) {
        self.snap_within(t, is_start, window, false)
    }

    /// As [`Boundaries::snap`], but only outwards (a start earlier, an end later) when
    /// `outward`, so the clip never gets shorter.
    pub fn snap_within(&self, t: f64, is_start: bool, window: f64, outward: bool) -> (f64, Snap) {
        let near = |x: f64| {
            (x - t).abs() <= window && (!outward || (is_start && x <= t) || (!is_start && x >= t))
        };
        let nearest = |v: &mut dyn Iterator<Item = f64>| {
            v.min_by(|a: &f64, b: &f64| (a - t).abs().total_cmp(&(b - t).abs()))
        };
        if let Some(x) = nearest(
            &mut self
                .sentence_points(is_start)
                .into_iter()
                .filter(|&x| near(x)),
        ) {
            return (x, Snap::Sentence);
        }
        let cut = self
            .cuts
            .iter()
            .copied()
            .filter(|&c| near(c) && self.in_pause(c) && !self.inside_sentence(c))
            .min_by(|a, b| (a - t).abs().total_cmp(&(b - t).abs()));
        if let Some(c) = cut {
            return (c, Snap::Cut);
        }
        if !self.have_speech {
            return (t, Snap::None);
        }
        let pause = self
            .pauses
            .iter()
            .map(|p| {
                // Keep a little silence inside the clip at both ends.
                let margin = (p.duration() / 2.0).min(0.15);
                if is_start {
                    p.end_s - margin
                } else {
                    p.start_s + margin
                }
            })
            .filter(|&x| near(x) && !self.inside_sentence(x))
            .min_by(|a, b| (a - t).abs().total_cmp(&(b - t).abs()));
        match pause {
            Some(x) => (x, Snap::Pause),
            None => (t, Snap::None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::Track;

    fn speech_track(talking: &[(f64, f64)], secs: f64) -> Track {
        let mut t = Track::new("speech", "probability", "");
        let mut x = 0.016;
        while x < secs {
            let p = if talking.iter().any(|(a, b)| (*a..*b).contains(&x)) {
                0.9
            } else {
                0.05
            };
            t.push(x, p);
            x += 0.032;
        }
        t
    }

    #[test]
    fn a_pause_does_not_run_across_a_stretch_the_vad_did_not_hear() {
        // Heard 0..10 s and 50..60 s (two cascade windows), silent at both inner edges.
        let mut t = speech_track(&[(0.0, 8.0)], 10.0);
        let later = speech_track(&[(52.0, 60.0)], 60.0);
        for (&x, &p) in later.times_s.iter().zip(&later.values) {
            if x >= 50.0 {
                t.push(x, p);
            }
        }
        let set = SignalSet {
            tracks: vec![t],
            ..Default::default()
        };
        let b = Boundaries::from_signals(&set);
        assert_eq!(b.pauses.len(), 2, "{:?}", b.pauses);
        assert!(b.pauses[0].end_s < 10.1 && b.pauses[1].start_s > 49.9);
        assert!(b.inside_speech(30.0), "unheard is not a pause");
    }

    #[test]
    fn sentence_ends_come_first_and_no_boundary_cuts_a_sentence() {
        // VAD: talking 0-10, 10.6-20.2 and 21.0-40 s; the transcript has the same three
        // sentences; a shot cut at 20.6 s sits in the second pause.
        let mut set = SignalSet {
            tracks: vec![speech_track(
                &[(0.0, 10.0), (10.6, 20.2), (21.0, 40.0)],
                40.0,
            )],
            ..Default::default()
        };
        let mut cuts = Track::new("shot_cut", "0/1", "");
        cuts.push(20.6, 1.0);
        set.tracks.push(cuts);
        let mut b = Boundaries::from_signals(&set);
        b.sentences = vec![
            Span::new(0.0, 10.0),
            Span::new(10.6, 20.2),
            Span::new(21.0, 40.0),
        ];
        // An end at 19 s goes just after the sentence ends (in the pause), before the cut.
        let (e, how) = b.snap(19.0, false, 3.0);
        assert_eq!(how, Snap::Sentence);
        assert!((20.2..20.45).contains(&e), "{e}");
        // A start at 11 s goes just before the sentence that starts at 10.6 s.
        let (s, how) = b.snap(11.0, true, 3.0);
        assert_eq!(how, Snap::Sentence);
        assert!((10.3..=10.6).contains(&s), "{s}");
        // Far from any sentence edge: nothing; and never inside a sentence.
        assert_eq!(b.snap(30.0, true, 2.0), (30.0, Snap::None));
        assert!(b.inside_sentence(30.0) && !b.inside_sentence(20.4));
        // A sentence edge the VAD hears as speech (Whisper's timing is coarse) is no
        // boundary.
        b.sentences = vec![Span::new(0.0, 15.0)];
        assert_ne!(b.snap(14.0, false, 3.0).1, Snap::Sentence);
    }

    #[test]
    fn boundaries_move_into_pauses_and_onto_cuts() {
        let mut cuts = Track::new("shot_cut", "0/1", "");
        cuts.push(30.5, 1.0); // inside a pause
        cuts.push(12.0, 1.0); // mid-sentence: not a boundary
        let set = SignalSet {
            tracks: vec![
                speech_track(
                    &[(0.0, 10.0), (10.6, 20.0), (21.0, 30.0), (31.0, 40.0)],
                    40.0,
                ),
                cuts,
            ],
            ..Default::default()
        };
        let b = Boundaries::from_signals(&set);
        assert_eq!(b.pauses.len(), 3, "{:?}", b.pauses);
        // A start at 11.0 (mid-sentence) moves to just before speech resumes at 10.6.
        let (s, how) = b.snap(11.0, true, 3.0);
        assert_eq!(how, Snap::Pause);
        assert!((10.3..10.6).contains(&s), "{s}");
        assert!(!b.inside_speech(s));
        // An end at 19.0 moves to just after speech stops at 20.0.
        let (e, how) = b.snap(19.0, false, 3.0);
        assert_eq!(how, Snap::Pause);
        assert!((20.0..20.3).contains(&e), "{e}");
        // Near the cut in a pause, the cut wins.
        assert_eq!(b.snap(29.0, false, 3.0), (30.5, Snap::Cut));
        // Nothing clean within reach: unchanged.
        assert_eq!(b.snap(5.0, true, 1.0), (5.0, Snap::None));
        assert!(b.inside_speech(5.0));
    }
}
