//! Product clips (`--product-clips`, 商品讲解切片): per product, the best stretch of its
//! explanation (卖点讲解) and its closing moment (上链接/逼单: where its orders surge), each
//! inside the product's own stretch of the timeline.
//!
//! **Explanation.** Every second of a product's stretches gets a score: the host talking
//! ([`TALK`]), a sentence naming the product ([`NAMED`]) or saying its price ([`PRICED`]),
//! its card or caption on screen ([`SHOWN`]), viewers asking about it (问价/怎么买,
//! [`ASKED`] at most), and the fused excitement curve ([`LIVELY`] at the stretch's
//! highest). The clip is the window of the preset's product length (`product_clip_s`, at
//! most the stretch) with the highest sum, its start moved to the start of a sentence and
//! its end to the end of one (within [`SNAP_S`], never out of the stretch, never longer
//! than the preset allows).
//!
//! **Closing moment.** The [`CLOSING_WINDOW_S`] window of the stretch where the most items
//! of the product's SKU sell (order times corrected by the lag), when it holds at least
//! [`CLOSING_MIN_ITEMS`] items and three times the SKU's session-wide rate: the clip runs
//! from [`CLOSING_BEFORE_S`] before the first of those orders to [`CLOSING_AFTER_S`]
//! after it (the link goes up, the host urges, the orders come). When the explanation
//! clip already holds it, no second clip is cut.
//!
//! **Not clipped** (listed with the reason): a product without a stretch, one on air for
//! less than the shortest product clip, or one whose stretch rests on too little
//! evidence ([`MIN_CONFIDENCE`]).

use serde::{Deserialize, Serialize};

use super::{names, per_second, prices, ProductsFile, Stretch};
use crate::signals::{ScreenText, SignalSet};
use crate::speech::Segment;
use crate::time::Span;
use crate::timelines::catalogue::Product;

/// Shortest product clip, seconds (a platform's own minimum, when longer, wins).
pub const MIN_PRODUCT_CLIP_S: f64 = 15.0;
/// Score of a second in which the host talks…
const TALK: f64 = 0.5;
/// …names the product…
const NAMED: f64 = 2.0;
/// …says its price…
const PRICED: f64 = 1.5;
/// …in which its card is on screen (within [`SHOWN_HOLD_S`] of a reading)…
const SHOWN: f64 = 1.0;
const SHOWN_HOLD_S: f64 = 3.0;
/// …in which viewers ask about it (per question, at most this)…
const ASKED: f64 = 0.5;
/// …and of the fused curve at the stretch's highest.
const LIVELY: f64 = 0.5;
/// How far a boundary may move to a sentence's edge, seconds.
const SNAP_S: f64 = 6.0;
/// Window in which a closing moment's orders are counted, seconds.
const CLOSING_WINDOW_S: usize = 20;
/// Fewest items in that window for a closing moment.
const CLOSING_MIN_ITEMS: f64 = 3.0;
/// The closing clip: from this long before its first order…
const CLOSING_BEFORE_S: f64 = 20.0;
/// …to this long after it.
const CLOSING_AFTER_S: f64 = 10.0;
/// Stretches less clear than this are not clipped.
pub const MIN_CONFIDENCE: f64 = 0.05;

/// Which part of a product's story a clip tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The best stretch of its explanation (卖点讲解).
    Explanation,
    /// Its closing moment (上链接/逼单).
    Closing,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Explanation => "explanation",
            Self::Closing => "closing",
        }
    }
}

/// One product clip to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub sku: String,
    pub name: String,
    pub price: Option<f64>,
    pub part: Part,
    /// Recording seconds, inside `stretch`.
    pub span: Span,
    /// Its best second (the thumbnail's, and where a platform's length limit centres).
    pub peak_s: f64,
    /// The product's stretch the clip lies in.
    pub stretch: Span,
    /// Why this span, in words.
    pub why: String,
}

/// What a manifest says of a product clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRef {
    pub sku: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    pub part: Part,
    pub stretch: Span,
    pub why: String,
}

impl Planned {
    pub fn reference(&self) -> ProductRef {
        ProductRef {
            sku: self.sku.clone(),
            name: self.name.clone(),
            price: self.price,
            part: self.part,
            stretch: self.stretch,
            why: self.why.clone(),
        }
    }

    /// The clip's file stem before `_<platform>`: `product_<sku>` (explanation) or
    /// `product_<sku>_closing`, the SKU with anything but ASCII letters, digits, `-` and
    /// `_` replaced by `_`.
    pub fn stem(&self) -> String {
        let sku: String = self
            .sku
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        match self.part {
            Part::Explanation => format!("product_{sku}"),
            Part::Closing => format!("product_{sku}_closing"),
        }
    }

    /// Title candidates, best first: the name with its live price, then the name alone.
    pub fn titles(&self) -> Vec<String> {
        let price = self.price.map(|p| {
            if p.fract() == 0.0 {
                format!("{p:.0}")
            } else {
                format!("{p}")
            }
        });
        let mut out = Vec::new();
        match (self.part, &price) {
            (Part::Explanation, Some(p)) => out.push(format!("{} 直播价{p}元", self.name)),
            (Part::Closing, Some(p)) => out.push(format!("{} {p}元 上链接", self.name)),
            (Part::Closing, None) => out.push(format!("{} 上链接", self.name)),
            _ => {}
        }
        out.push(self.name.clone());
        out
    }
}

/// A product that gets no clip, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotClipped {
    pub sku: String,
    pub name: String,
    pub reason: String,
}

/// What the plan reads besides products.json.
#[derive(Debug, Clone, Copy)]
pub struct PlanInputs<'a> {
    pub file: &'a ProductsFile,
    /// The transcript's sentences (empty: speech was not transcribed).
    pub speech: &'a [Segment],
    pub screen: &'a [ScreenText],
    /// The analysis' timeline tracks (`sku:<SKU>` orders, `kw_question`).
    pub tracks: &'a SignalSet,
    /// The fused curve per second (empty without one).
    pub curve: &'a [f64],
    pub duration_s: f64,
}

/// Clip lengths: the preset's product length and the shortest a clip may be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lengths {
    pub target_s: f64,
    pub min_s: f64,
}

/// Plan every product's clips (catalogue order), and list those that get none.
pub fn plan(inp: &PlanInputs, len: Lengths) -> (Vec<Planned>, Vec<NotClipped>) {
    let n = inp.duration_s.ceil().max(0.0) as usize;
    let questions = per_second(inp.tracks, "kw_question", n);
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for fig in &inp.file.products {
        let product = Product {
            sku: fig.sku.clone(),
            name: fig.name.clone(),
            price: fig.price,
            aliases: fig.aliases.clone(),
            category: None,
        };
        let skip = |reason: String| NotClipped {
            sku: fig.sku.clone(),
            name: fig.name.clone(),
            reason,
        };
        let mine: Vec<&Stretch> = inp
            .file
            .stretches
            .iter()
            .filter(|s| s.sku.as_deref() == Some(fig.sku.as_str()))
            .collect();
        if mine.is_empty() {
            let why = inp
                .file
                .not_found
                .iter()
                .find(|f| f.sku == fig.sku)
                .map_or("no stretch of its own on the timeline", |f| &f.reason);
            skipped.push(skip(format!("not on air: {why}")));
            continue;
        }
        let longest = mine.iter().map(|s| s.end_s - s.start_s).fold(0.0, f64::max);
        if longest < len.min_s {
            skipped.push(skip(format!(
                "on air {longest:.0} s at most, shorter than the shortest product clip \
                 ({:.0} s)",
                len.min_s
            )));
            continue;
        }
        let clear: Vec<&Stretch> = mine
            .iter()
            .copied()
            .filter(|s| s.end_s - s.start_s >= len.min_s && s.confidence >= MIN_CONFIDENCE)
            .collect();
        if clear.is_empty() {
            let best = mine.iter().map(|s| s.confidence).fold(0.0, f64::max);
            skipped.push(skip(format!(
                "too little evidence: its clearest stretch has confidence {best:.2} \
                 (below {MIN_CONFIDENCE})"
            )));
            continue;
        }
        let score = seconds_score(inp, &product, &questions, n);
        // The best explanation window over all of its clear stretches.
        let mut best: Option<(f64, Span, &Stretch)> = None;
        for s in &clear {
            let (w, sum) = best_window(&score, s.start_s, s.end_s, len.target_s);
            if best.as_ref().is_none_or(|b| sum > b.0 + 1e-9) {
                best = Some((sum, w, s));
            }
        }
        let Some((_, window, stretch)) = best else {
            continue;
        };
        let stretch_span = Span::new(stretch.start_s, stretch.end_s);
        let span = sentence_clean(window, stretch_span, inp.speech, len);
        let peak_s = peak(&score, span);
        let (named, priced) = inp
            .speech
            .iter()
            .filter(|s| s.end_s > span.start_s && s.start_s < span.end_s)
            .fold((0, 0), |(a, b), s| {
                (
                    a + usize::from(names(&s.text, &product)),
                    b + usize::from(prices(&s.text, &product)),
                )
            });
        let shown = inp
            .screen
            .iter()
            .filter(|s| span.contains(s.t) && names(&s.text, &product))
            .count();
        let mut why = format!(
            "best {:.0} s of its stretch {:.0}–{:.0} s: name said {named}×, price said \
             {priced}×, card read {shown}×",
            span.duration(),
            stretch.start_s,
            stretch.end_s
        );
        let closing = closing_moment(inp, &fig.sku, &clear, n);
        let mut planned = vec![Planned {
            sku: fig.sku.clone(),
            name: fig.name.clone(),
            price: fig.price,
            part: Part::Explanation,
            span,
            peak_s,
            stretch: stretch_span,
            why: String::new(),
        }];
        if let Some((onset, items, within)) = closing {
            if span.contains(onset) {
                why.push_str(&format!(
                    "; holds its closing moment ({items:.0} items from {onset:.0} s)"
                ));
            } else {
                let want = Span::new(onset - CLOSING_BEFORE_S, onset + CLOSING_AFTER_S);
                let shifted = fit_inside(want, within, len.min_s);
                let closing_len = Lengths {
                    target_s: shifted.duration(),
                    min_s: len.min_s.min(shifted.duration()),
                };
                let cspan = sentence_clean(shifted, within, inp.speech, closing_len);
                planned.push(Planned {
                    sku: fig.sku.clone(),
                    name: fig.name.clone(),
                    price: fig.price,
                    part: Part::Closing,
                    span: cspan,
                    peak_s: onset.clamp(cspan.start_s, cspan.end_s),
                    stretch: within,
                    why: format!(
                        "its orders surge: {items:.0} items in {CLOSING_WINDOW_S} s from \
                         {onset:.0} s (lag-corrected)"
                    ),
                });
            }
        }
        planned[0].why = why;
        out.extend(planned);
    }
    (out, skipped)
}

/// Each second's explanation score for `p` (see the module's documentation).
fn seconds_score(inp: &PlanInputs, p: &Product, questions: &[f64], n: usize) -> Vec<f64> {
    let mut score = vec![0.0; n];
    let mut add = |from: f64, to: f64, w: f64| {
        let a = from.floor().max(0.0) as usize;
        let b = (to.ceil().max(0.0) as usize).min(n);
        for v in score.iter_mut().take(b).skip(a.min(n)) {
            *v += w;
        }
    };
    for s in inp.speech {
        add(s.start_s, s.end_s, TALK);
        if names(&s.text, p) {
            add(s.start_s, s.end_s, NAMED);
        }
        if prices(&s.text, p) {
            add(s.start_s, s.end_s, PRICED);
        }
    }
    for s in inp.screen.iter().filter(|s| names(&s.text, p)) {
        add(s.t - SHOWN_HOLD_S, s.t + SHOWN_HOLD_S, SHOWN);
    }
    let top = inp.curve.iter().copied().fold(0.0, f64::max);
    for (i, v) in score.iter_mut().enumerate() {
        *v += ASKED * questions.get(i).copied().unwrap_or(0.0).min(1.0);
        if top > 0.0 {
            *v += LIVELY * inp.curve.get(i).copied().unwrap_or(0.0).max(0.0) / top;
        }
    }
    score
}

/// The window of `len_s` (at most the stretch) inside `[a, b)` with the highest sum of
/// `score` (whole seconds; the earliest of equals).
fn best_window(score: &[f64], a: f64, b: f64, len_s: f64) -> (Span, f64) {
    let len = len_s.min(b - a).max(0.0);
    let w = len.round().max(1.0) as usize;
    let first = a.ceil().max(0.0) as usize;
    let last = ((b - len).floor().max(0.0) as usize).max(first);
    let at = |i: usize| score.get(i).copied().unwrap_or(0.0);
    let mut sum: f64 = (first..first + w).map(at).sum();
    let (mut best, mut best_at) = (sum, first);
    for i in first + 1..=last {
        sum += at(i + w - 1) - at(i - 1);
        if sum > best + 1e-9 {
            (best, best_at) = (sum, i);
        }
    }
    let start = (best_at as f64).max(a);
    (Span::new(start, (start + len).min(b)), best)
}

/// The best second of `span`.
fn peak(score: &[f64], span: Span) -> f64 {
    let a = span.start_s.ceil().max(0.0) as usize;
    let b = (span.end_s.floor().max(0.0) as usize).min(score.len());
    (a..b)
        .max_by(|&i, &j| score[i].total_cmp(&score[j]).then(j.cmp(&i)))
        .map_or((span.start_s + span.end_s) / 2.0, |i| i as f64 + 0.5)
}

/// `want` moved (and cut) to lie inside `within`, at least `min_s` long where it can.
fn fit_inside(want: Span, within: Span, min_s: f64) -> Span {
    let len = want.duration().max(min_s).min(within.duration());
    let start = want.start_s.clamp(within.start_s, within.end_s - len);
    Span::new(start, start + len)
}

/// Whether `t` falls strictly inside a sentence.
fn inside_sentence(speech: &[Segment], t: f64) -> bool {
    speech.iter().any(|s| s.start_s < t && t < s.end_s)
}

/// `span` with both edges between sentences (a sentence's start or end: the nearest
/// within [`SNAP_S`]), inside `within`, between `len.min_s` and `len.target_s` long; an
/// edge with no sentence edge near stays where it is, or, for the end, goes to the last
/// sentence edge that fits.
fn sentence_clean(span: Span, within: Span, speech: &[Segment], len: Lengths) -> Span {
    if speech.is_empty() {
        return span;
    }
    // Every point between two sentences, plus `t` itself when it is one.
    let edges = |t: f64| {
        speech
            .iter()
            .flat_map(|s| [s.start_s, s.end_s])
            .chain(std::iter::once(t))
            .filter(|e| !inside_sentence(speech, *e))
            .collect::<Vec<f64>>()
    };
    let near = |edges: &[f64], t: f64, lo: f64, hi: f64| {
        edges
            .iter()
            .copied()
            .filter(|e| (lo..=hi).contains(e) && (e - t).abs() <= SNAP_S)
            .min_by(|x, y| (x - t).abs().total_cmp(&(y - t).abs()))
    };
    let (lo, hi) = (
        within.start_s,
        (within.end_s - len.min_s).max(within.start_s),
    );
    let start = near(&edges(span.start_s), span.start_s, lo, hi).unwrap_or_else(|| {
        // No sentence edge near: inside the stretch, after the sentence it falls in.
        let t = span.start_s.clamp(lo, hi);
        speech
            .iter()
            .find(|s| s.start_s < t && t < s.end_s && s.end_s <= hi)
            .map_or(t, |s| s.end_s)
    });
    let end_lo = start + len.min_s;
    let end_hi = (start + len.target_s).min(within.end_s);
    let end_want = (span.end_s + (start - span.start_s)).clamp(end_lo.min(end_hi), end_hi);
    let ends = edges(end_want);
    let end = near(&ends, end_want, end_lo, end_hi)
        .or_else(|| {
            ends.iter()
                .copied()
                .filter(|e| (end_lo..=end_hi).contains(e))
                .reduce(f64::max)
        })
        .unwrap_or(end_want);
    Span::new(start, end.max(start))
}

/// The closing moment of `sku` within its stretches: the first order of the
/// [`CLOSING_WINDOW_S`] window with the most items (lag-corrected), the items, and the
/// stretch it lies in; `None` when no window holds enough.
fn closing_moment(
    inp: &PlanInputs,
    sku: &str,
    stretches: &[&Stretch],
    n: usize,
) -> Option<(f64, f64, Span)> {
    let sold = per_second(inp.tracks, &format!("sku:{sku}"), n);
    let total: f64 = sold.iter().sum();
    if total <= 0.0 || n == 0 {
        return None;
    }
    // Items per lag-corrected second.
    let lag = inp.file.order_lag_s;
    let mut at = vec![0.0; n];
    for (i, q) in sold.iter().enumerate().filter(|(_, q)| **q > 0.0) {
        let t = (i as f64 + 0.5 - lag).floor();
        if t >= 0.0 && (t as usize) < n {
            at[t as usize] += q;
        }
    }
    let background = 3.0 * total / n as f64 * CLOSING_WINDOW_S as f64;
    let mut best: Option<(f64, f64, Span)> = None;
    for s in stretches {
        let a = s.start_s.ceil().max(0.0) as usize;
        let b = (s.end_s.floor().max(0.0) as usize).min(n);
        for i in a..b {
            let items: f64 = at[i..(i + CLOSING_WINDOW_S).min(b)].iter().sum();
            if at[i] > 0.0
                && items >= CLOSING_MIN_ITEMS.max(background)
                && best.as_ref().is_none_or(|x| items > x.1 + 1e-9)
            {
                best = Some((i as f64, items, Span::new(s.start_s, s.end_s)));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::{ProductFigures, ProductsFile};
    use crate::signals::Track;

    fn figures(sku: &str, name: &str, price: f64) -> ProductFigures {
        ProductFigures {
            sku: sku.into(),
            name: name.into(),
            price: Some(price),
            aliases: Vec::new(),
            air_time_s: 0.0,
            stretches: 1,
            items_during: 0.0,
            items_after: 0.0,
            gmv_during: None,
            gmv_after: None,
            comments_per_min: 0.0,
            questions_per_min: 0.0,
        }
    }

    fn stretch(sku: Option<&str>, a: f64, b: f64, confidence: f64) -> Stretch {
        Stretch {
            sku: sku.map(str::to_string),
            name: None,
            start_s: a,
            end_s: b,
            confidence,
            evidence: Vec::new(),
        }
    }

    fn file(stretches: Vec<Stretch>, products: Vec<ProductFigures>) -> ProductsFile {
        ProductsFile {
            schema_version: 1,
            source: "catalogue".into(),
            catalogue: None,
            catalogue_report: None,
            order_lag_s: 5.0,
            stretches,
            products,
            unknown_skus: Vec::new(),
            unsold_skus: Vec::new(),
            not_found: Vec::new(),
        }
    }

    /// Sentences of 4 s with 1 s pauses over `[a, b)`; the product named in those at
    /// `named` seconds.
    fn talk(a: f64, b: f64, named: &[f64], name: &str) -> Vec<Segment> {
        let mut out = Vec::new();
        let mut t = a;
        while t + 4.0 <= b {
            let text = if named.iter().any(|&x| (x - t).abs() < 2.5) {
                format!("这款{name}今天只要59元")
            } else {
                "家人们看一下这个质感".to_string()
            };
            out.push(Segment::said(t, t + 4.0, &text));
            t += 5.0;
        }
        out
    }

    /// The plan of a 300-s recording without screen text or curve.
    fn plan_300_s(
        f: &ProductsFile,
        speech: &[Segment],
        tracks: &SignalSet,
    ) -> (Vec<Planned>, Vec<NotClipped>) {
        let inp = PlanInputs {
            file: f,
            speech,
            screen: &[],
            tracks,
            curve: &[],
            duration_s: 300.0,
        };
        plan(&inp, LEN)
    }

    const LEN: Lengths = Lengths {
        target_s: 60.0,
        min_s: 15.0,
    };

    #[test]
    fn the_explanation_clip_is_where_the_product_is_named_with_sentence_clean_edges() {
        let st = vec![
            stretch(None, 0.0, 30.0, 0.9),
            stretch(Some("A"), 30.0, 200.0, 0.6),
            stretch(Some("B"), 200.0, 300.0, 0.6),
        ];
        let f = file(
            st,
            vec![figures("A", "保温杯", 59.0), figures("B", "面膜", 99.0)],
        );
        // Named at 120, 130, 140 s: the best window is around there.
        let speech = talk(30.0, 300.0, &[120.0, 130.0, 140.0], "保温杯");
        let tracks = SignalSet::default();
        let (planned, skipped) = plan_300_s(&f, &speech, &tracks);
        let a = planned.iter().find(|p| p.sku == "A").unwrap();
        assert_eq!(a.part, Part::Explanation);
        assert!(a.span.start_s >= 30.0 && a.span.end_s <= 200.0, "{a:?}");
        assert!(a.span.contains(120.5) && a.span.contains(143.5), "{a:?}");
        assert!(
            a.span.duration() >= 15.0 && a.span.duration() <= 60.0,
            "{a:?}"
        );
        // Sentence-clean: neither edge cuts into a sentence.
        assert!(!inside_sentence(&speech, a.span.start_s), "{a:?}");
        assert!(!inside_sentence(&speech, a.span.end_s), "{a:?}");
        assert!(a.why.contains("name said 3×"), "{}", a.why);
        // B is never named but on air long enough: its clip stays inside its stretch.
        let b = planned.iter().find(|p| p.sku == "B").unwrap();
        assert!(b.span.start_s >= 200.0 && b.span.end_s <= 300.0, "{b:?}");
        assert!(skipped.is_empty());
    }

    #[test]
    fn a_closing_moment_outside_the_explanation_gets_its_own_clip_inside_the_stretch() {
        let st = vec![stretch(Some("A"), 0.0, 240.0, 0.7)];
        let f = file(st, vec![figures("A", "保温杯", 59.0)]);
        let speech = talk(0.0, 240.0, &[10.0, 20.0, 30.0], "保温杯");
        // Orders surge from 200 s (seen 5 s later: the lag); one stray sale at 50 s.
        let mut track = Track::new("sku:A", "items", "orders of A");
        track.push(55.5, 1.0);
        for k in 0..12 {
            track.push(205.5 + k as f64, 1.0);
        }
        let mut tracks = SignalSet::default();
        tracks.tracks.push(track);
        let (planned, _) = plan_300_s(&f, &speech, &tracks);
        assert_eq!(planned.len(), 2, "{planned:#?}");
        let closing = &planned[1];
        assert_eq!(closing.part, Part::Closing);
        assert!(closing.span.contains(200.5), "{closing:?}");
        assert!(closing.span.start_s >= 170.0 && closing.span.end_s <= 240.0);
        assert!(closing.span.duration() >= 15.0, "{closing:?}");
        assert!(closing.why.contains("12 items"), "{}", closing.why);
    }

    #[test]
    fn an_edge_inside_a_sentence_moves_to_the_nearest_point_between_sentences() {
        let speech = vec![
            Segment::said(98.0, 104.0, "第一句"),
            Segment::said(105.0, 110.0, "第二句"),
            Segment::said(150.0, 158.0, "第三句"),
        ];
        let within = Span::new(90.0, 200.0);
        // Start inside the first sentence (3 s from either edge: its start), end inside
        // the third (2 s after it starts: just before it).
        let out = sentence_clean(Span::new(101.0, 155.0), within, &speech, LEN);
        assert_eq!((out.start_s, out.end_s), (98.0, 150.0));
        // Never out of the stretch, never longer than the target.
        let out = sentence_clean(Span::new(92.0, 152.0), Span::new(99.0, 200.0), &speech, LEN);
        assert!(out.start_s >= 99.0 && out.duration() <= 60.0, "{out:?}");
        assert!(!inside_sentence(&speech, out.start_s) && !inside_sentence(&speech, out.end_s));
        // No transcript: unchanged.
        let span = Span::new(101.0, 155.0);
        assert_eq!(sentence_clean(span, within, &[], LEN), span);
    }

    #[test]
    fn products_with_too_little_evidence_are_listed_with_the_reason() {
        let st = vec![
            stretch(None, 0.0, 30.0, 0.9),
            stretch(Some("A"), 30.0, 40.0, 0.6),
            stretch(Some("B"), 40.0, 200.0, 0.01),
            stretch(None, 200.0, 300.0, 0.9),
        ];
        let mut f = file(
            st,
            vec![
                figures("A", "保温杯", 59.0),
                figures("B", "面膜", 99.0),
                figures("C", "手机壳", 19.9),
            ],
        );
        f.not_found.push(crate::products::NotFound {
            sku: "C".into(),
            name: "手机壳".into(),
            reason: "no orders".into(),
        });
        let tracks = SignalSet::default();
        let (planned, skipped) = plan_300_s(&f, &[], &tracks);
        assert!(planned.is_empty(), "{planned:?}");
        let reason = |sku: &str| &skipped.iter().find(|s| s.sku == sku).unwrap().reason;
        assert!(reason("A").contains("on air 10 s"), "{}", reason("A"));
        assert!(
            reason("B").contains("too little evidence"),
            "{}",
            reason("B")
        );
        assert!(reason("C").contains("no orders"), "{}", reason("C"));
    }
}
