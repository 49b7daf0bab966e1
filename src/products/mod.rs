//! The product timeline (过款): which product is on air when.
//!
//! A live-commerce session sells its products one after another. Each second gets, for
//! every product, an amount of evidence that the product is on air:
//! - **orders** of its SKU (per-second items sold, from the order export): the buyers
//!   decide while it is explained, so an item sold at `t` (already corrected for the
//!   order lag) speaks for `[t − 30 s, t + 10 s]`, less twice the SKU's session-wide
//!   rate (old links in the cart sell a trickle all session); one product's evidence is
//!   divided by the square root of its items, so a flash sale's hundred orders do not
//!   drown a product that sold five;
//! - **speech**: a transcript sentence naming the product (name or alias) speaks for
//!   `[start − 5 s, end + 60 s]` (a host names the product, then explains it), one that
//!   says its catalogue price for `[start − 5 s, end + 30 s]`;
//! - **screen text**: a card or caption naming it speaks for `[t − 5 s, t + 25 s]`.
//!
//! A mention fades from its moment to the ends of its window; orders count evenly. A
//! dynamic programme (Viterbi) then picks one state per second — a product (its evidence,
//! at most 1, at least a carry of [`CARRY_LEVEL`] fading since its last clear evidence)
//! or "no product" (greetings, lotteries, breaks:
//! [`NONE_LEVEL`]) — and pays [`SWITCH_COST`] at each change (a session opens and closes
//! with no product on air: greetings, goodbyes), so a stray mention does not split a stretch and a
//! stretch needs sustained evidence. Each stretch says which evidence it rests on, in
//! words, and how clear it is (`confidence`: how strong its product's evidence is, and
//! how much of all evidence is for it rather than for the others).

pub mod clips;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::signals::{ScreenText, SignalSet};
use crate::speech::Segment;
use crate::timelines::catalogue::Product;
use crate::timelines::ParseReport;

/// File name of the product timeline in a recording's output folder.
pub const PRODUCTS_FILE: &str = "products.json";
/// Orders "after" a product's stretch: within this long of its end.
pub const AFTER_S: f64 = 300.0;

/// Evidence per second that "no product" is on air.
pub const NONE_LEVEL: f64 = 0.15;
/// What a product earns per second without evidence right after its last clear evidence
/// (fading with [`CARRY_FADE_S`]): a little less than "no product", so a product stays on
/// air through a short quiet stretch (the host explains on without naming it, selling, or
/// showing a card) and the next product takes over where its own evidence starts, while
/// a long quiet end (goodbyes) becomes "no product".
pub const CARRY_LEVEL: f64 = 0.10;
/// Time constant of the carry's fade, seconds: a product explained for minutes stays on
/// air through up to ~50 s without evidence (the host talks on without naming it), while a
/// longer break (a lottery, a pause) becomes "no product". (20 s ended products 40 s into
/// their explanation on generated sessions: 89 vs 95 of 104 boundaries within ±15 s over
/// 12 sessions, 29 vs 30 of 32 on the 4 held-out ones, seeds 7 and 8.)
pub const CARRY_FADE_S: f64 = 60.0;
/// Evidence per second that counts as "clear" for the carry.
const CLEAR_EVIDENCE: f64 = 0.2;
/// Cost of changing state (in seconds of full evidence).
pub const SWITCH_COST: f64 = 4.0;
/// Order evidence window around a (lag-corrected) sale: from this long before…
const ORDER_BEFORE_S: f64 = 30.0;
/// …to this long after.
const ORDER_AFTER_S: f64 = 10.0;
const SPEECH_BEFORE_S: f64 = 5.0;
const NAME_AFTER_S: f64 = 60.0;
const PRICE_AFTER_S: f64 = 30.0;
const SCREEN_BEFORE_S: f64 = 5.0;
const SCREEN_AFTER_S: f64 = 25.0;
/// Weight of one mention (per second of its window) by kind.
const NAME_WEIGHT: f64 = 0.8;
const PRICE_WEIGHT: f64 = 0.6;
const SCREEN_WEIGHT: f64 = 1.2;
/// Weight of one product's orders in all (per second of a sale's window, before the
/// square-root normalisation).
const ORDER_WEIGHT: f64 = 1.2;

/// Items of one SKU sold per second of the recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Sales {
    pub sku: String,
    pub per_second: Vec<f64>,
}

/// What the timeline is built from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub duration_s: f64,
    pub products: &'a [Product],
    pub sales: &'a [Sales],
    /// How long after a moment its orders arrive (the fusion's estimate).
    pub order_lag_s: f64,
    pub speech: &'a [Segment],
    pub screen: &'a [ScreenText],
}

/// One stretch of the session: a product on air, or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stretch {
    /// None: no product (greetings, lottery, a break).
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub start_s: f64,
    pub end_s: f64,
    /// 0–1: per second, the product's own evidence (at most 1) times its share of all
    /// products' evidence, averaged over the stretch (for "no product": 1 less the
    /// products' evidence per second).
    pub confidence: f64,
    /// What the stretch rests on, in words.
    pub evidence: Vec<String>,
}

/// Per-product evidence counts inside a span (for the stretch's words).
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    items: f64,
    named: usize,
    priced: usize,
    on_screen: usize,
}

/// Whether `text` names `p` (name or an alias; case-insensitive, spaces ignored).
fn names(text: &str, p: &Product) -> bool {
    let t = squash(text);
    std::iter::once(&p.name)
        .chain(&p.aliases)
        .map(|n| squash(n))
        .any(|n| n.chars().count() >= 2 && t.contains(&n))
}

/// Whether `text` says `p`'s price (the number not inside a longer number).
fn prices(text: &str, p: &Product) -> bool {
    let Some(price) = p.price else {
        return false;
    };
    let want = if price.fract() == 0.0 {
        format!("{price:.0}")
    } else {
        format!("{price}")
    };
    let t = squash(text);
    let mut from = 0;
    while let Some(i) = t[from..].find(&want) {
        let a = from + i;
        let b = a + want.len();
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit() || c == '.');
        if !digit(t[..a].chars().next_back()) && !digit(t[b..].chars().next()) {
            return true;
        }
        from = b;
    }
    false
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn add(ev: &mut [f64], from_s: f64, to_s: f64, w: f64) {
    let n = ev.len();
    let a = from_s.floor().max(0.0) as usize;
    let b = (to_s.ceil().max(0.0) as usize).min(n);
    for v in ev.iter_mut().take(b).skip(a.min(n)) {
        *v += w;
    }
}

/// `w` at `at_s`, fading linearly to 0 at `from_s` and `to_s` (a mention speaks most for
/// the seconds around it).
fn add_fading(ev: &mut [f64], from_s: f64, at_s: f64, to_s: f64, w: f64) {
    let n = ev.len();
    let a = from_s.floor().max(0.0) as usize;
    let b = (to_s.ceil().max(0.0) as usize).min(n);
    for (i, v) in ev.iter_mut().enumerate().take(b).skip(a.min(n)) {
        let t = i as f64 + 0.5;
        let f = if t < at_s {
            (t - from_s) / (at_s - from_s).max(1.0)
        } else {
            (to_s - t) / (to_s - at_s).max(1.0)
        };
        *v += w * f.clamp(0.0, 1.0);
    }
}

/// The evidence per product and second, and each product's counted events per second
/// (for the words).
fn evidence(inp: &Inputs) -> (Vec<Vec<f64>>, Vec<Vec<Counts>>) {
    let n = inp.duration_s.ceil().max(0.0) as usize;
    let mut ev = vec![vec![0.0; n]; inp.products.len()];
    let mut counts = vec![vec![Counts::default(); n]; inp.products.len()];
    let at = |t: f64| (t.max(0.0) as usize).min(n.saturating_sub(1));
    for (k, p) in inp.products.iter().enumerate() {
        if n == 0 {
            break;
        }
        if let Some(s) = inp.sales.iter().find(|s| s.sku == p.sku) {
            let total: f64 = s.per_second.iter().sum();
            if total > 0.0 {
                // Items in each second's window, less twice what the SKU's session-wide
                // rate puts there: a cart's old links keep selling a trickle all session,
                // which says nothing about what is on air.
                let window = ORDER_BEFORE_S + ORDER_AFTER_S;
                let background = 2.0 * total / n as f64 * window;
                let mut near = vec![0.0; n];
                for (i, q) in s.per_second.iter().enumerate().filter(|(_, q)| **q > 0.0) {
                    let t = i as f64 + 0.5 - inp.order_lag_s;
                    add(&mut near, t - ORDER_AFTER_S, t + ORDER_BEFORE_S, *q);
                    counts[k][at(t)].items += q;
                }
                let w = ORDER_WEIGHT / total.sqrt();
                for (e, v) in ev[k].iter_mut().zip(&near) {
                    *e += w * (v - background).max(0.0);
                }
            }
        }
        for seg in inp.speech {
            if names(&seg.text, p) {
                let (a, b) = (seg.start_s - SPEECH_BEFORE_S, seg.end_s + NAME_AFTER_S);
                add_fading(&mut ev[k], a, seg.end_s, b, NAME_WEIGHT);
                counts[k][at(seg.start_s)].named += 1;
            }
            if prices(&seg.text, p) {
                let (a, b) = (seg.start_s - SPEECH_BEFORE_S, seg.end_s + PRICE_AFTER_S);
                add_fading(&mut ev[k], a, seg.end_s, b, PRICE_WEIGHT);
                counts[k][at(seg.start_s)].priced += 1;
            }
        }
        for s in inp.screen {
            if names(&s.text, p) {
                let (a, b) = (s.t - SCREEN_BEFORE_S, s.t + SCREEN_AFTER_S);
                add_fading(&mut ev[k], a, s.t, b, SCREEN_WEIGHT);
                counts[k][at(s.t)].on_screen += 1;
            }
        }
    }
    (ev, counts)
}

/// One state per second (0: no product, k + 1: product k) maximising the evidence minus
/// [`SWITCH_COST`] per change.
fn viterbi(ev: &[Vec<f64>], n: usize) -> Vec<usize> {
    let states = ev.len() + 1;
    // Per product and second: the carry left since its last clear evidence.
    let carry: Vec<Vec<f64>> = ev
        .iter()
        .map(|e| {
            let mut last = f64::NEG_INFINITY;
            (0..n)
                .map(|t| {
                    if e[t] >= CLEAR_EVIDENCE {
                        last = t as f64;
                    }
                    CARRY_LEVEL * (-(t as f64 - last) / CARRY_FADE_S).exp()
                })
                .collect()
        })
        .collect();
    let gain = |s: usize, t: usize| {
        if s == 0 {
            NONE_LEVEL
        } else {
            // Saturating: one product's pile of evidence is not worth more than a clear
            // second of it; without evidence a product on air stays on air a while.
            ev[s - 1][t].min(1.0).max(carry[s - 1][t])
        }
    };
    // The session opens with no product on air (greetings).
    let mut score: Vec<f64> = (0..states)
        .map(|s| gain(s, 0) - if s == 0 { 0.0 } else { SWITCH_COST })
        .collect();
    let mut back = vec![vec![0usize; states]; n];
    for (t, back_t) in back.iter_mut().enumerate().skip(1) {
        let (best_s, best) =
            score
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |acc, (s, v)| {
                    if *v > acc.1 {
                        (s, *v)
                    } else {
                        acc
                    }
                });
        let mut next = vec![0.0; states];
        // A change costs a hair more the earlier it is, so that among equally good
        // timelines the changes come as late as they can: a product stays on air until
        // the next one shows.
        let cost = SWITCH_COST + 1e-6 * (n - t) as f64;
        for s in 0..states {
            let (from, v) = if score[s] >= best - cost {
                (s, score[s])
            } else {
                (best_s, best - cost)
            };
            back_t[s] = from;
            next[s] = v + gain(s, t);
        }
        score = next;
    }
    let mut path = vec![0; n];
    if n == 0 {
        return path;
    }
    // …and closes with none (goodbyes): ending on a product costs a change too.
    let closing = |s: usize, v: f64| if s == 0 { v } else { v - SWITCH_COST };
    let mut s = score
        .iter()
        .enumerate()
        .map(|(s, v)| (s, closing(s, *v)))
        .fold(
            (0, f64::NEG_INFINITY),
            |acc, (s, v)| {
                if v > acc.1 {
                    (s, v)
                } else {
                    acc
                }
            },
        )
        .0;
    for t in (0..n).rev() {
        path[t] = s;
        s = back[t][s];
    }
    path
}

/// The product timeline of `inp`: stretches covering `[0, duration]`, in order.
pub fn timeline(inp: &Inputs) -> Vec<Stretch> {
    let n = inp.duration_s.ceil().max(0.0) as usize;
    if n == 0 {
        return Vec::new();
    }
    let (ev, counts) = evidence(inp);
    let path = viterbi(&ev, n);
    let mut out = Vec::new();
    let mut a = 0;
    while a < n {
        let s = path[a];
        let mut b = a;
        while b < n && path[b] == s {
            b += 1;
        }
        let (start_s, end_s) = (a as f64, (b as f64).min(inp.duration_s));
        let total: f64 = ev.iter().map(|e| e[a..b].iter().sum::<f64>()).sum();
        out.push(match s {
            0 => Stretch {
                sku: None,
                name: None,
                start_s,
                end_s,
                confidence: if total > 0.0 {
                    (1.0 - total / (b - a) as f64).clamp(0.0, 1.0)
                } else {
                    1.0
                },
                evidence: vec!["no product's evidence stands out".into()],
            },
            k => {
                let p = &inp.products[k - 1];
                // Per second, its own evidence (at most 1) times its share of all
                // products' evidence: faint evidence or a close rival is little
                // confidence.
                let own: f64 = (a..b)
                    .map(|t| {
                        let all: f64 = ev.iter().map(|e| e[t]).sum();
                        let mine = ev[k - 1][t];
                        if all > 0.0 {
                            mine.min(1.0) * mine / all
                        } else {
                            0.0
                        }
                    })
                    .sum::<f64>()
                    / (b - a) as f64;
                let c = counts[k - 1][a..b]
                    .iter()
                    .fold(Counts::default(), |acc, c| Counts {
                        items: acc.items + c.items,
                        named: acc.named + c.named,
                        priced: acc.priced + c.priced,
                        on_screen: acc.on_screen + c.on_screen,
                    });
                Stretch {
                    sku: Some(p.sku.clone()),
                    name: Some(p.name.clone()),
                    start_s,
                    end_s,
                    confidence: (own * 100.0).round() / 100.0,
                    evidence: words(&c, inp.order_lag_s),
                }
            }
        });
        a = b;
    }
    out
}

fn words(c: &Counts, lag_s: f64) -> Vec<String> {
    let mut w = Vec::new();
    if c.items > 0.0 {
        w.push(format!(
            "{} items of its SKU sold (order lag {lag_s:.0} s)",
            c.items
        ));
    }
    if c.named > 0 {
        w.push(format!("its name said {}×", c.named));
    }
    if c.priced > 0 {
        w.push(format!("its price said {}×", c.priced));
    }
    if c.on_screen > 0 {
        w.push(format!("its name read on screen {}×", c.on_screen));
    }
    if w.is_empty() {
        w.push("between its own evidence (no change of product)".into());
    }
    w
}

/// The stretch holding time `t` (None outside every stretch).
pub fn on_air(stretches: &[Stretch], t: f64) -> Option<&Stretch> {
    stretches.iter().find(|s| s.start_s <= t && t < s.end_s)
}

/// `span` (peaking at `peak_s`) cut so that it shows one product only: the stretches of
/// every product other than the one on air at the peak (or, with no product at the peak,
/// the one it overlaps most) are cut off, on the side they are on. Spans that touch one
/// product or none come back as they are; a span is never cut below 1 s around its peak.
pub fn one_product(span: (f64, f64), peak_s: f64, stretches: &[Stretch]) -> (f64, f64) {
    let (mut a, mut b) = span;
    let touched: Vec<&Stretch> = stretches
        .iter()
        .filter(|s| s.sku.is_some() && s.start_s < b && s.end_s > a)
        .collect();
    let mut skus: Vec<&str> = touched.iter().filter_map(|s| s.sku.as_deref()).collect();
    skus.sort_unstable();
    skus.dedup();
    if skus.len() <= 1 {
        return span;
    }
    let keep = on_air(stretches, peak_s)
        .and_then(|s| s.sku.as_deref())
        .or_else(|| {
            touched
                .iter()
                .max_by(|x, y| {
                    let o = |s: &Stretch| s.end_s.min(b) - s.start_s.max(a);
                    o(x).total_cmp(&o(y))
                })
                .and_then(|s| s.sku.as_deref())
        });
    for s in &touched {
        if s.sku.as_deref() == keep {
            continue;
        }
        if s.end_s <= peak_s {
            a = a.max(s.end_s);
        } else if s.start_s >= peak_s {
            b = b.min(s.start_s);
        }
    }
    (a.min(peak_s - 0.5), b.max(peak_s + 0.5))
}

/// What one product did over the session (what a team reads to decide which product
/// explanation to reuse).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductFigures {
    pub sku: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// The catalogue's other names for it (what the product clips listen for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Seconds on air (all its stretches) and how many stretches.
    pub air_time_s: f64,
    pub stretches: usize,
    /// Items of its SKU sold during its stretches and within [`AFTER_S`] after them
    /// (order times corrected by the lag), and the sale amount of those when the
    /// catalogue gives a price.
    pub items_during: f64,
    pub items_after: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmv_during: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmv_after: Option<f64>,
    /// Comments and product questions (问价/怎么买: the lexicon's `question` class) per
    /// minute on air.
    pub comments_per_min: f64,
    pub questions_per_min: f64,
}

/// `products.json`: the product timeline of one recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductsFile {
    pub schema_version: u32,
    /// `catalogue` (`--products`) or `orders` (the SKUs sold).
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue_report: Option<ParseReport>,
    /// The order lag used (seconds from a moment to its orders).
    pub order_lag_s: f64,
    pub stretches: Vec<Stretch>,
    pub products: Vec<ProductFigures>,
    /// SKUs sold that the catalogue does not list, and listed ones that sold nothing.
    #[serde(default)]
    pub unknown_skus: Vec<String>,
    #[serde(default)]
    pub unsold_skus: Vec<String>,
    /// Products too weakly evidenced to get a stretch of their own, with the reason.
    #[serde(default)]
    pub not_found: Vec<NotFound>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotFound {
    pub sku: String,
    pub name: String,
    pub reason: String,
}

/// Per-second values of track `name` over `n` seconds (0 where it has none).
fn per_second(set: &SignalSet, name: &str, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    if let Some(t) = set.get(name) {
        for (ts, v) in t.times_s.iter().zip(&t.values) {
            let i = ts.floor().max(0.0) as usize;
            if i < n && v.is_finite() {
                out[i] += f64::from(*v);
            }
        }
    }
    out
}

/// The SKUs with a per-SKU order track in `set` (`sku:<SKU>`), best sellers first.
pub fn skus_sold(set: &SignalSet) -> Vec<String> {
    set.tracks
        .iter()
        .filter_map(|t| t.name.strip_prefix("sku:").map(str::to_string))
        .collect()
}

/// Everything products.json says, from the catalogue (or the SKUs sold), the tracks of
/// the analysis (`sku:*`, `comments`, `kw_question`), the transcript and the screen text.
#[derive(Debug)]
pub struct Build<'a> {
    pub catalogue: Option<(PathBuf, Vec<Product>, ParseReport)>,
    pub tracks: &'a SignalSet,
    pub duration_s: f64,
    pub order_lag_s: f64,
    pub speech: &'a [Segment],
    pub screen: &'a [ScreenText],
}

impl Build<'_> {
    pub fn run(self) -> ProductsFile {
        let n = self.duration_s.ceil().max(0.0) as usize;
        let sold = skus_sold(self.tracks);
        let (source, catalogue, report, products) = match self.catalogue {
            Some((path, products, report)) => ("catalogue", Some(path), Some(report), products),
            None => (
                "orders",
                None,
                None,
                sold.iter().map(|s| Product::from_sku(s)).collect(),
            ),
        };
        let sales: Vec<Sales> = sold
            .iter()
            .map(|sku| Sales {
                sku: sku.clone(),
                per_second: per_second(self.tracks, &format!("sku:{sku}"), n),
            })
            .collect();
        let inputs = Inputs {
            duration_s: self.duration_s,
            products: &products,
            sales: &sales,
            order_lag_s: self.order_lag_s,
            speech: self.speech,
            screen: self.screen,
        };
        let stretches = timeline(&inputs);
        let comments = per_second(self.tracks, "comments", n);
        let questions = per_second(self.tracks, "kw_question", n);
        let lag = self.order_lag_s;
        let mut figures = Vec::new();
        let mut not_found = Vec::new();
        for p in &products {
            let mine: Vec<&Stretch> = stretches
                .iter()
                .filter(|s| s.sku.as_deref() == Some(p.sku.as_str()))
                .collect();
            let sale = sales.iter().find(|s| s.sku == p.sku);
            if mine.is_empty() {
                not_found.push(NotFound {
                    sku: p.sku.clone(),
                    name: p.name.clone(),
                    reason: if sale.is_none() {
                        "no orders, and its name was neither heard nor read on screen long \
                         enough for a stretch of its own"
                            .into()
                    } else {
                        "its evidence never outweighed the products around it".into()
                    },
                });
            }
            let air: f64 = mine.iter().map(|s| s.end_s - s.start_s).sum::<f64>() + 0.0;
            let inside = |t: f64| mine.iter().any(|s| s.start_s <= t && t < s.end_s);
            let after =
                |t: f64| !inside(t) && mine.iter().any(|s| s.end_s <= t && t < s.end_s + AFTER_S);
            let (mut during, mut later) = (0.0, 0.0);
            if let Some(s) = sale {
                for (i, q) in s.per_second.iter().enumerate().filter(|(_, q)| **q > 0.0) {
                    let t = i as f64 + 0.5 - lag;
                    if inside(t) {
                        during += q;
                    } else if after(t) {
                        later += q;
                    }
                }
            }
            let rate = |v: &[f64]| {
                if air <= 0.0 {
                    return 0.0;
                }
                let sum: f64 = v
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| inside(*i as f64 + 0.5))
                    .map(|(_, x)| x)
                    .sum();
                (sum / air * 60.0 * 100.0).round() / 100.0
            };
            figures.push(ProductFigures {
                sku: p.sku.clone(),
                name: p.name.clone(),
                price: p.price,
                aliases: p.aliases.clone(),
                air_time_s: air,
                stretches: mine.len(),
                items_during: during,
                items_after: later,
                gmv_during: p.price.map(|x| (x * during * 100.0).round() / 100.0),
                gmv_after: p.price.map(|x| (x * later * 100.0).round() / 100.0),
                comments_per_min: rate(&comments),
                questions_per_min: rate(&questions),
            });
        }
        let listed: std::collections::HashSet<&str> =
            products.iter().map(|p| p.sku.as_str()).collect();
        let unknown_skus = sold
            .iter()
            .filter(|s| !listed.contains(s.as_str()))
            .cloned()
            .collect();
        let unsold_skus = products
            .iter()
            .filter(|p| !sold.contains(&p.sku))
            .map(|p| p.sku.clone())
            .collect();
        ProductsFile {
            schema_version: 1,
            source: source.into(),
            catalogue,
            catalogue_report: report,
            order_lag_s: lag,
            stretches,
            products: figures,
            unknown_skus,
            unsold_skus,
            not_found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(sku: &str, name: &str, price: f64) -> Product {
        Product {
            sku: sku.into(),
            name: name.into(),
            price: Some(price),
            aliases: Vec::new(),
            category: None,
        }
    }

    /// Products explained over `spans`; each named at its start and 80 s in, priced 20 s
    /// in, sold an item every 25 s from 30 s in (seen `lag` later) where `with_orders`.
    fn session(
        spans: &[(f64, f64)],
        lag: f64,
        with_orders: &[bool],
    ) -> (Vec<Product>, Vec<Sales>, Vec<Segment>) {
        let names = ["保温杯", "手机壳", "蓝牙耳机", "面膜", "电动牙刷", "帆布包"];
        let prices = [59.0, 19.9, 129.0, 99.0, 199.0, 39.0];
        let n = spans.last().unwrap().1 as usize + 120;
        let mut products = Vec::new();
        let mut sales = Vec::new();
        let mut speech = Vec::new();
        for (k, &(a, b)) in spans.iter().enumerate() {
            let p = product(&format!("SKU-{k}"), names[k], prices[k]);
            speech.push(Segment::said(
                a + 2.0,
                a + 6.0,
                &format!("来看这款{}", p.name),
            ));
            speech.push(Segment::said(
                a + 20.0,
                a + 24.0,
                &format!("今天只要{}元", prices[k]),
            ));
            speech.push(Segment::said(a + 40.0, a + 44.0, "家人们看一下这个质感"));
            speech.push(Segment::said(
                a + 80.0,
                a + 84.0,
                &format!("这个{}真的很好用", p.name),
            ));
            let mut per_second = vec![0.0; n];
            if with_orders[k] {
                let mut t = a + 30.0;
                while t < b {
                    per_second[(t + lag) as usize] += 1.0;
                    t += 25.0;
                }
            }
            sales.push(Sales {
                sku: p.sku.clone(),
                per_second,
            });
            products.push(p);
        }
        (products, sales, speech)
    }

    fn boundaries_within(stretches: &[Stretch], truth: &[(f64, f64)], tol: f64) -> usize {
        truth
            .iter()
            .enumerate()
            .flat_map(|(k, &(a, b))| {
                let sku = format!("SKU-{k}");
                let mine: Vec<&Stretch> = stretches
                    .iter()
                    .filter(|s| s.sku.as_deref() == Some(&sku))
                    .collect();
                let start = mine.iter().map(|s| s.start_s).fold(f64::INFINITY, f64::min);
                let end = mine
                    .iter()
                    .map(|s| s.end_s)
                    .fold(f64::NEG_INFINITY, f64::max);
                [(start - a).abs() <= tol, (end - b).abs() <= tol]
            })
            .filter(|ok| *ok)
            .count()
    }

    #[test]
    fn products_in_sequence_are_found_within_15_s_from_orders_speech_and_screen() {
        let truth = [
            (60.0, 240.0),
            (240.0, 420.0),
            (420.0, 600.0),
            (600.0, 780.0),
            (780.0, 960.0),
        ];
        let (products, sales, speech) = session(&truth, 8.0, &[true; 5]);
        let screen: Vec<ScreenText> = truth
            .iter()
            .zip(&products)
            .map(|(&(a, _), p)| ScreenText {
                t: a + 10.0,
                text: format!("{} 限时价", p.name),
                confidence: 0.9,
                x: 0.1,
                y: 0.1,
                w: 0.5,
                h: 0.1,
            })
            .collect();
        let inp = Inputs {
            duration_s: 1080.0,
            products: &products,
            sales: &sales,
            order_lag_s: 8.0,
            speech: &speech,
            screen: &screen,
        };
        let st = timeline(&inp);
        assert_eq!(boundaries_within(&st, &truth, 15.0), 10, "{st:#?}");
        // Greetings before the first product and the end are no product's.
        assert_eq!(st.first().unwrap().sku, None);
        assert!(st.iter().any(|s| s.sku.as_deref() == Some("SKU-2")
            && s.evidence.iter().any(|e| e.contains("name said"))));
        // Contiguous, in order, covering the session.
        assert!(st.windows(2).all(|w| w[0].end_s == w[1].start_s));
        assert_eq!((st[0].start_s, st.last().unwrap().end_s), (0.0, 1080.0));
        assert_eq!(
            on_air(&st, 500.0).and_then(|s| s.sku.as_deref()),
            Some("SKU-2")
        );
    }

    #[test]
    fn a_product_without_orders_is_found_from_speech_and_a_stray_mention_does_not_split() {
        let truth = [(30.0, 200.0), (200.0, 370.0), (370.0, 540.0)];
        let (products, sales, mut speech) = session(&truth, 5.0, &[true, false, true]);
        // The second product is named once during the third's stretch.
        speech.push(Segment::said(450.0, 453.0, "刚才的手机壳也还有"));
        let inp = Inputs {
            duration_s: 600.0,
            products: &products,
            sales: &sales,
            order_lag_s: 5.0,
            speech: &speech,
            screen: &[],
        };
        let st = timeline(&inp);
        assert!(boundaries_within(&st, &truth, 15.0) >= 5, "{st:#?}");
        let second: Vec<&Stretch> = st
            .iter()
            .filter(|s| s.sku.as_deref() == Some("SKU-1"))
            .collect();
        assert_eq!(second.len(), 1, "{st:#?}");
        assert!(!second[0].evidence.iter().any(|e| e.contains("sold")));
    }

    #[test]
    fn a_span_is_cut_to_the_product_on_air_at_its_peak() {
        let st = |sku: Option<&str>, a: f64, b: f64| Stretch {
            sku: sku.map(str::to_string),
            name: None,
            start_s: a,
            end_s: b,
            confidence: 1.0,
            evidence: Vec::new(),
        };
        let tl = [
            st(None, 0.0, 30.0),
            st(Some("A"), 30.0, 130.0),
            st(Some("B"), 130.0, 230.0),
            st(None, 230.0, 260.0),
            st(Some("C"), 260.0, 400.0),
        ];
        assert_eq!(one_product((110.0, 150.0), 120.0, &tl), (110.0, 130.0));
        assert_eq!(one_product((110.0, 150.0), 140.0, &tl), (130.0, 150.0));
        // One product (and no product) only: unchanged.
        assert_eq!(one_product((10.0, 60.0), 40.0, &tl), (10.0, 60.0));
        assert_eq!(one_product((200.0, 255.0), 240.0, &tl), (200.0, 255.0));
        // Peak on no product: the product it overlaps most stays.
        assert_eq!(one_product((220.0, 280.0), 245.0, &tl), (230.0, 280.0));
    }

    #[test]
    fn price_matching_needs_the_whole_number() {
        let p = product("A", "杯子", 99.0);
        assert!(prices("只要99元", &p));
        assert!(!prices("只要199元", &p) && !prices("99.5", &p) && !prices("990", &p));
        assert!(prices("¥ 99", &p));
        let q = product("B", "壳", 19.9);
        assert!(prices("19.9元", &q) && !prices("119.9", &q));
        // One-character names are too ambiguous to count.
        assert!(!names("壳子", &q));
    }
}
