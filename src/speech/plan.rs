//! Where to listen: the stretches worth transcribing, cut into recogniser windows.
//!
//! Whisper reads at most 30 s at a time and costs the same for 3 s as for 30 s, so the
//! stretches are gated by the voice-activity track (nothing is sent where the VAD heard no
//! speech), merged across short pauses and cut into windows of at most 30 s at the
//! quietest point near the limit.

use crate::signals::Track;
use crate::time::Span;

/// How windows are planned (from [`super::SpeechSettings`]).
#[derive(Debug, Clone, Copy)]
pub struct PlanSettings {
    /// Speech probability at which the VAD counts a 32 ms chunk as speech.
    pub vad_threshold: f32,
    /// Audio kept on each side of heard speech, seconds.
    pub pad_s: f64,
    /// Pauses shorter than this do not split a stretch, seconds.
    pub merge_gap_s: f64,
    /// Longest window, seconds (Whisper: 30).
    pub max_window_s: f64,
    /// Shortest speech worth a window, seconds.
    pub min_speech_s: f64,
}

/// Sort and merge overlapping spans.
pub fn union(spans: &[Span]) -> Vec<Span> {
    let mut v: Vec<Span> = spans
        .iter()
        .copied()
        .filter(|s| s.duration() > 0.0)
        .collect();
    v.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut out: Vec<Span> = Vec::new();
    for s in v {
        match out.last_mut() {
            Some(last) if s.start_s <= last.end_s => last.end_s = last.end_s.max(s.end_s),
            _ => out.push(s),
        }
    }
    out
}

/// `a` minus `b` (both sorted unions).
pub fn subtract(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    for s in a {
        let mut pieces = vec![*s];
        for cut in b {
            pieces = pieces
                .into_iter()
                .flat_map(|p| {
                    if cut.end_s <= p.start_s || cut.start_s >= p.end_s {
                        vec![p]
                    } else {
                        [
                            Span::new(p.start_s, cut.start_s),
                            Span::new(cut.end_s, p.end_s),
                        ]
                        .into_iter()
                        .filter(|x| x.duration() > 0.05)
                        .collect()
                    }
                })
                .collect();
        }
        out.extend(pieces);
    }
    out
}

/// Heard speech inside `spans`, from the VAD track: `None` when the VAD did not run there
/// (then the spans are taken whole and the recogniser's own no-speech guard decides).
fn speech_within(span: &Span, vad: &Track, s: &PlanSettings) -> Option<Vec<Span>> {
    let lo = vad.times_s.partition_point(|&t| t < span.start_s);
    let hi = vad.times_s.partition_point(|&t| t < span.end_s);
    if hi <= lo || ((hi - lo) as f64) < 0.5 * span.duration() / 0.032 {
        return None;
    }
    let half = 0.016;
    let mut out: Vec<Span> = Vec::new();
    for i in lo..hi {
        if vad.values[i] >= s.vad_threshold {
            let t = vad.times_s[i];
            let piece = Span::new(
                (t - half - s.pad_s).max(span.start_s),
                (t + half + s.pad_s).min(span.end_s),
            );
            match out.last_mut() {
                Some(last) if piece.start_s <= last.end_s + s.merge_gap_s => {
                    last.end_s = last.end_s.max(piece.end_s)
                }
                _ => out.push(piece),
            }
        }
    }
    Some(out)
}

/// The quietest VAD time in `[a, b]` (the split point of an over-long stretch), or `b`.
fn quietest(vad: Option<&Track>, a: f64, b: f64) -> f64 {
    let Some(vad) = vad else { return b };
    let lo = vad.times_s.partition_point(|&t| t < a);
    let hi = vad.times_s.partition_point(|&t| t <= b);
    (lo..hi)
        .min_by(|&i, &j| {
            vad.values[i]
                .total_cmp(&vad.values[j])
                // Among equally quiet points prefer the latest (longest window).
                .then(vad.times_s[j].total_cmp(&vad.times_s[i]))
        })
        .map_or(b, |i| vad.times_s[i])
}

/// Recogniser windows covering the speech inside `spans` (sorted, disjoint, ≤
/// `max_window_s` each).
pub fn windows(spans: &[Span], vad: Option<&Track>, s: &PlanSettings) -> Vec<Span> {
    let mut stretches = Vec::new();
    for span in union(spans) {
        match vad.and_then(|v| speech_within(&span, v, s)) {
            Some(heard) => stretches.extend(heard),
            None => stretches.push(span),
        }
    }
    let mut out = Vec::new();
    for st in union(&stretches) {
        if st.duration() < s.min_speech_s {
            continue;
        }
        let mut start = st.start_s;
        while st.end_s - start > s.max_window_s {
            // Split in the quietest moment of the window's last third.
            let limit = start + s.max_window_s;
            let cut = quietest(vad, start + s.max_window_s * 2.0 / 3.0, limit).min(limit);
            let cut = if cut <= start + 1.0 { limit } else { cut };
            out.push(Span::new(start, cut));
            start = cut;
        }
        if st.end_s - start >= s.min_speech_s.min(0.5) {
            out.push(Span::new(start, st.end_s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PlanSettings {
        PlanSettings {
            vad_threshold: 0.5,
            pad_s: 0.3,
            merge_gap_s: 1.5,
            max_window_s: 30.0,
            min_speech_s: 0.3,
        }
    }

    fn vad(talking: &[(f64, f64)], secs: f64) -> Track {
        let mut t = Track::new("speech", "probability", "");
        let mut x = 0.016;
        while x < secs {
            let speaking = talking.iter().any(|(a, b)| (*a..*b).contains(&x));
            t.push(x, if speaking { 0.9 } else { 0.05 });
            x += 0.032;
        }
        t
    }

    #[test]
    fn only_heard_speech_is_sent_and_short_pauses_do_not_split() {
        let v = vad(&[(10.0, 14.0), (14.8, 18.0), (40.0, 41.0)], 60.0);
        let w = windows(&[Span::new(0.0, 60.0)], Some(&v), &settings());
        assert_eq!(w.len(), 2, "{w:?}");
        assert!((w[0].start_s - 9.7).abs() < 0.05 && (w[0].end_s - 18.3).abs() < 0.05);
        assert!((w[1].start_s - 39.7).abs() < 0.05);
    }

    #[test]
    fn long_speech_is_cut_at_a_pause_into_windows_of_at_most_30_s() {
        // Talking 0-70 s with one clear pause at 25-25.4 s.
        let v = vad(&[(0.0, 25.0), (25.4, 70.0)], 70.0);
        let w = windows(&[Span::new(0.0, 70.0)], Some(&v), &settings());
        assert!(w.iter().all(|x| x.duration() <= 30.0 + 1e-9), "{w:?}");
        assert!(
            (25.0..25.45).contains(&w[0].end_s),
            "cut in the pause: {w:?}"
        );
        let covered: f64 = w.iter().map(Span::duration).sum();
        assert!((covered - 70.0).abs() < 0.01);
    }

    #[test]
    fn without_a_vad_the_spans_are_taken_whole() {
        let w = windows(
            &[Span::new(5.0, 20.0), Span::new(15.0, 50.0)],
            None,
            &settings(),
        );
        assert_eq!(w.first().map(|s| s.start_s), Some(5.0));
        assert_eq!(w.last().map(|s| s.end_s), Some(50.0));
        assert!(w.iter().all(|x| x.duration() <= 30.0));
    }

    #[test]
    fn subtract_leaves_what_is_not_yet_done() {
        let left = subtract(
            &[Span::new(0.0, 100.0)],
            &[Span::new(10.0, 20.0), Span::new(50.0, 120.0)],
        );
        assert_eq!(left, vec![Span::new(0.0, 10.0), Span::new(20.0, 50.0)]);
    }
}
