//! What kind of moment a highlight is, and the tags an editor or a publishing script uses:
//! the SKU that sold, the dominant comment keyword classes, the emotion in the room.
//!
//! Types follow what happened, not which signal is loudest (the evidence is listed in
//! `type_evidence` of each highlight):
//! - `flash_sale`: closing the sale — a sale card on screen (秒杀/上链接/price), purchase
//!   comments (抢/买了/链接), an order spike, closing words spoken;
//! - `interaction`: the audience's climax — lottery calls (扣1/1111), laughter (comments or
//!   the soundtrack), cheering and applause, and, whatever words the room uses, a crowd
//!   answering at once: first-time commenters arriving at many times the session's usual
//!   rate without buying words (a lottery's 抽我/选我, a laugh's 草/蚌埠住了);
//! - `product`: a product reveal or demonstration — product questions (多少钱/尺码/
//!   什么颜色), the host's hands and product moving, orders of one SKU without a sale
//!   card. Motion and a trickle of orders are product evidence only while the room is not
//!   reacting (a crowd of newcomers, laughter or lottery comments): a host waving at a
//!   prize wheel, or doubled over laughing, while a few orders come in, is still an
//!   interaction;
//! - `moment`: none of these stands out (a loud or busy moment).
//!
//! Audience and sales evidence is read in the reaction window (the span shifted by the lag
//! fusion estimated), on-screen and sound evidence in the span itself.

use serde::{Deserialize, Serialize};

use crate::fuse::Curve;
use crate::select::Highlight;
use crate::signals::{SignalSet, Track};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HighlightType {
    Product,
    FlashSale,
    Interaction,
    #[default]
    Moment,
}

impl HighlightType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::FlashSale => "flash_sale",
            Self::Interaction => "interaction",
            Self::Moment => "moment",
        }
    }
}

/// Smallest evidence score that names a type; below it the highlight is a `moment`.
const MIN_TYPE_SCORE: f64 = 0.25;
/// Share of the window's comments a keyword class needs to become a tag.
const KEYWORD_TAG_SHARE: f64 = 0.15;
/// Seconds after the span's end (beyond the estimated lag) in which orders still count.
const ORDER_TAIL_S: f64 = 10.0;
/// First-time commenters per second in the reaction window, as a multiple of the session's
/// mean, at which a crowd reaction starts to count, and at which it counts in full.
const CROWD_SURGE: (f64, f64) = (2.5, 6.0);
/// Share of lottery and laughter comments at which the room counts as reacting (not
/// watching a demonstration).
const ROOM_REACTING_SHARE: f64 = 0.3;
/// Orders of one SKU in the order window (and their share) that say that SKU is selling.
const SKU_FOCUS: (f64, f64) = (4.0, 0.6);

/// Sum of a track's values with times in `[a, b)`.
fn sum_in(t: &Track, a: f64, b: f64) -> f64 {
    t.times_s
        .iter()
        .zip(&t.values)
        .filter(|(x, v)| **x >= a && **x < b && v.is_finite())
        .map(|(_, v)| f64::from(*v))
        .sum()
}

/// Mean of a track's values in `[a, b)` (0 when it has none there).
fn mean_in(t: &Track, a: f64, b: f64) -> f64 {
    let (s, n) = t
        .times_s
        .iter()
        .zip(&t.values)
        .filter(|(x, v)| **x >= a && **x < b && v.is_finite())
        .fold((0.0, 0usize), |(s, n), (_, v)| (s + f64::from(*v), n + 1));
    if n == 0 {
        0.0
    } else {
        s / n as f64
    }
}

/// Evidence gathered for one highlight.
struct Evidence {
    /// Share of each keyword class among the window's comments.
    keywords: Vec<(String, f64)>,
    /// Share of the highlight's score per fused signal.
    reasons: Vec<(String, f64)>,
    sale_card: bool,
    laughter_audio: f64,
    cheer_audio: f64,
    /// (sku, orders) in the order window, most first.
    skus: Vec<(String, f64)>,
    orders: f64,
    /// Most spoken keywords of each class heard in one second of the span
    /// (`speech_kw_<class>` tracks; 0 without the speech stage).
    spoken: Vec<(String, f64)>,
    /// First-time commenters per second in the reaction window over the session's mean
    /// (0 without a comment export).
    newcomer_surge: f64,
}

impl Evidence {
    fn keyword(&self, class: &str) -> f64 {
        self.keywords
            .iter()
            .find(|(c, _)| c == class)
            .map_or(0.0, |(_, s)| *s)
    }

    /// Spoken keywords of `class` as evidence, 0–1 (two or more at once: 1).
    fn said(&self, class: &str) -> f64 {
        self.spoken
            .iter()
            .find(|(c, _)| c == class)
            .map_or(0.0, |(_, n)| (n / 2.0).clamp(0.0, 1.0))
    }

    /// A crowd answering at once, 0–1: the surge of first-time commenters
    /// (`CROWD_SURGE`).
    fn crowd(&self) -> f64 {
        let (lo, hi) = CROWD_SURGE;
        ((self.newcomer_surge - lo) / (hi - lo)).clamp(0.0, 1.0)
    }

    /// The crowd not explained by buying: a rush to buy is a flash sale's, not an
    /// interaction's (purchase comments, a sale card).
    fn crowd_not_buying(&self) -> f64 {
        let card = if self.sale_card { 0.5 } else { 0.0 };
        self.crowd() * (1.0 - 2.0 * self.keyword("purchase") - card).clamp(0.0, 1.0)
    }

    /// One SKU selling: at least `SKU_FOCUS` orders of it, and that share of the window's.
    fn sku_focus(&self) -> bool {
        self.skus
            .first()
            .is_some_and(|(_, n)| *n >= SKU_FOCUS.0 && *n >= SKU_FOCUS.1 * self.orders)
    }

    fn reason(&self, signal: &str) -> f64 {
        self.reasons
            .iter()
            .find(|(s, _)| s == signal)
            .map_or(0.0, |(_, v)| *v)
    }
}

fn gather(h: &Highlight, set: &SignalSet, curve: &Curve) -> Evidence {
    let (a, b) = (h.start_s, h.end_s);
    let lag_c = curve.lag_of("comments");
    let (ca, cb) = (a + lag_c, b + lag_c);
    let total_comments = set.get("comments").map_or(0.0, |t| sum_in(t, ca, cb));
    let keywords = set
        .tracks
        .iter()
        .filter_map(|t| {
            let class = t.name.strip_prefix("kw_")?;
            let share = if total_comments > 0.0 {
                sum_in(t, ca, cb) / total_comments
            } else {
                0.0
            };
            Some((class.to_string(), share))
        })
        .collect();
    let total: f64 = h.reasons.iter().map(|r| r.contribution).sum();
    let reasons = h
        .reasons
        .iter()
        .map(|r| {
            let share = if total > 0.0 {
                r.contribution / total
            } else {
                0.0
            };
            (r.signal.clone(), share)
        })
        .collect();
    let audio = |names: &[&str]| {
        names
            .iter()
            .filter_map(|n| set.get(&format!("audio_{n}")))
            .map(|t| mean_in(t, a, b))
            .fold(0.0, f64::max)
    };
    let (oa, ob) = (a, b + curve.lag_of("orders") + ORDER_TAIL_S);
    let mut skus: Vec<(String, f64)> = set
        .tracks
        .iter()
        .filter_map(|t| Some((t.name.strip_prefix("sku:")?.to_string(), sum_in(t, oa, ob))))
        .filter(|(_, n)| *n > 0.0)
        .collect();
    skus.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let newcomer_surge = set
        .get("first_time_users")
        .filter(|t| !t.is_empty())
        .map_or(0.0, |t| {
            let total: f64 = t
                .values
                .iter()
                .filter(|v| v.is_finite())
                .map(|v| f64::from(*v))
                .sum();
            let usual = total / t.len().max(1) as f64;
            let here = sum_in(t, ca, cb) / (cb - ca).max(1.0);
            here / usual.max(0.02)
        });
    Evidence {
        newcomer_surge,
        keywords,
        reasons,
        sale_card: set
            .get("screen_keywords")
            .is_some_and(|t| sum_in(t, a, b) > 0.0),
        laughter_audio: audio(&["laughter", "giggle", "belly_laugh"]),
        cheer_audio: audio(&["cheering", "applause", "clapping", "crowd"]),
        orders: set.get("orders").map_or(0.0, |t| sum_in(t, oa, ob)),
        skus,
        spoken: set
            .tracks
            .iter()
            .filter_map(|t| {
                let class = t.name.strip_prefix(crate::speech::keywords::TRACK_PREFIX)?;
                let most = t
                    .times_s
                    .iter()
                    .zip(&t.values)
                    .filter(|(x, v)| **x >= a && **x < b && v.is_finite())
                    .map(|(_, v)| f64::from(*v))
                    .fold(0.0, f64::max);
                Some((class.to_string(), most))
            })
            .collect(),
    }
}

/// Type, tags and the evidence behind the type, for a highlight of `curve`.
pub fn classify(
    h: &Highlight,
    set: &SignalSet,
    curve: &Curve,
) -> (HighlightType, Vec<String>, Vec<String>) {
    let e = gather(h, set, curve);
    let card = if e.sale_card { 1.0 } else { 0.0 };
    let flash =
        0.6 * card + e.keyword("purchase") + 0.8 * e.reason("orders") + 0.8 * e.said("purchase");
    let crowd = e.crowd_not_buying();
    let cheers = e.keyword("lottery") + e.keyword("laughter");
    let interaction = 1.5 * cheers
        + (2.0 * e.laughter_audio).min(1.0)
        + (2.0 * e.cheer_audio).min(1.0)
        + 0.6 * e.said("lottery")
        + 0.8 * crowd;
    // Moving hands and a few orders say "product" only while the room is not answering
    // in a crowd, laughing or calling for the lottery.
    let calm_room = 1.0 - e.crowd().max((cheers / ROOM_REACTING_SHARE).min(1.0));
    let product = e.keyword("question")
        + 0.3 * e.said("product")
        + 0.2 * e.said("price")
        + calm_room * (1.5 * e.reason("host_motion") + 0.5 * e.reason("motion"))
        + if e.sale_card {
            0.0
        } else {
            calm_room * 0.5 * e.reason("orders") + if e.sku_focus() { 0.2 } else { 0.0 }
        };
    let scored = [
        (HighlightType::FlashSale, flash),
        (HighlightType::Interaction, interaction),
        (HighlightType::Product, product),
    ];
    let (kind, best) =
        scored
            .iter()
            .copied()
            .fold((HighlightType::Moment, MIN_TYPE_SCORE), |acc, (k, s)| {
                if s > acc.1 {
                    (k, s)
                } else {
                    acc
                }
            });
    let mut evidence = Vec::new();
    let pct = |x: f64| format!("{:.0} %", 100.0 * x);
    match kind {
        HighlightType::FlashSale => {
            if e.sale_card {
                evidence.push("sale words on screen".to_string());
            }
            evidence.push(format!("purchase comments {}", pct(e.keyword("purchase"))));
            if e.said("purchase") > 0.0 {
                evidence.push("closing words spoken (秒杀/上链接/最后几单...)".to_string());
            }
            evidence.push(format!("orders {} of the score", pct(e.reason("orders"))));
        }
        HighlightType::Interaction => {
            evidence.push(format!("lottery comments {}", pct(e.keyword("lottery"))));
            evidence.push(format!("laughter comments {}", pct(e.keyword("laughter"))));
            if e.said("lottery") > 0.0 {
                evidence.push("lottery words spoken (抽奖/福袋...)".to_string());
            }
            if crowd > 0.0 {
                evidence.push(format!(
                    "first-time commenters at {:.1}× the session's rate",
                    e.newcomer_surge
                ));
            }
            if e.laughter_audio > 0.1 || e.cheer_audio > 0.1 {
                evidence.push(format!(
                    "laughter/cheering in the sound {:.2}/{:.2}",
                    e.laughter_audio, e.cheer_audio
                ));
            }
        }
        HighlightType::Product => {
            evidence.push(format!(
                "host's hands/product moving {} of the score",
                pct(e.reason("host_motion"))
            ));
            evidence.push(format!("product questions {}", pct(e.keyword("question"))));
            if e.said("product") + e.said("price") > 0.0 {
                evidence.push("product or price words spoken".to_string());
            }
            if e.orders > 0.0 {
                evidence.push(format!("{} orders in the window", e.orders));
            }
            if e.sku_focus() {
                evidence.push(format!("{} selling", e.skus[0].0));
            }
        }
        HighlightType::Moment => evidence.push(format!("no type scored {MIN_TYPE_SCORE} or more")),
    }
    if kind != HighlightType::Moment {
        evidence.push(format!("type score {best:.2}"));
    }
    evidence.push(format!(
        "scores: flash_sale {flash:.2}, interaction {interaction:.2}, product {product:.2}"
    ));
    (kind, tags(&e), evidence)
}

/// Tags from what was said in a highlight (`transcript`): `said:<word>` for the closing
/// and lottery words, `price:<N>元` for prices, `product:<word>` for product words.
pub fn add_speech_tags(
    h: &mut Highlight,
    transcript: &str,
    lexicon: &crate::timelines::SpeechLexicon,
) {
    use crate::speech::keywords;
    let mut add = |tag: String| {
        if !h.tags.contains(&tag) {
            h.tags.push(tag);
        }
    };
    for (class, word) in keywords::classes_in(transcript, lexicon) {
        let prefix = match class.as_str() {
            "product" => "product",
            "price" => continue,
            _ => "said",
        };
        if !word.contains('?') {
            add(format!("{prefix}:{word}"));
        }
    }
    for p in keywords::prices_in(transcript).into_iter().take(3) {
        add(format!("price:{p}"));
    }
}

/// A short Chinese title for publishing, from the type and tags (editors refine it).
pub fn suggested_title(h: &Highlight) -> String {
    let sku = h.tags.iter().find_map(|t| t.strip_prefix("sku:"));
    let has = |tag: &str| h.tags.iter().any(|t| t == tag);
    match h.kind {
        HighlightType::FlashSale => match sku {
            Some(s) => format!("限时秒杀！{s} 手慢无"),
            None => "限时秒杀 上链接".into(),
        },
        HighlightType::Interaction if has("kw:lottery") => "直播间抽奖 全场沸腾".into(),
        HighlightType::Interaction if has("emotion:laughter") => "主播笑场名场面".into(),
        HighlightType::Interaction => "直播互动高能时刻".into(),
        HighlightType::Product => match sku {
            Some(s) => format!("{s} 细节实拍展示"),
            None => "产品细节实拍展示".into(),
        },
        HighlightType::Moment => "直播精彩片段".into(),
    }
}

fn tags(e: &Evidence) -> Vec<String> {
    let mut tags = Vec::new();
    // The SKU that sold: most orders in the window, at least two, and at least 40 % of them.
    if let Some((sku, n)) = e.skus.first() {
        if *n >= 2.0 && *n >= 0.4 * e.orders {
            tags.push(format!("sku:{sku}"));
        }
    }
    let mut classes: Vec<&(String, f64)> = e
        .keywords
        .iter()
        .filter(|(_, s)| *s >= KEYWORD_TAG_SHARE)
        .collect();
    classes.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.extend(classes.iter().map(|(c, _)| format!("kw:{c}")));
    if e.keyword("laughter") >= 0.2 || e.laughter_audio >= 0.2 {
        tags.push("emotion:laughter".into());
    }
    if e.cheer_audio >= 0.2 || e.reason("audio_events") >= 0.25 || e.reason("loudness") >= 0.35 {
        tags.push("emotion:excitement".into());
    }
    if e.sale_card {
        tags.push("sale_card".into());
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::select::Reason;

    fn per_second(name: &str, n: usize, f: impl Fn(usize) -> f32) -> Track {
        let mut t = Track::new(name, "", "");
        for i in 0..n {
            t.push(i as f64, f(i));
        }
        t
    }

    fn highlight(reasons: &[(&str, f64)]) -> Highlight {
        Highlight {
            rank: 1,
            start_s: 100.0,
            end_s: 130.0,
            peak_s: 110.0,
            score: 0.5,
            reasons: reasons
                .iter()
                .map(|(s, c)| Reason {
                    signal: s.to_string(),
                    contribution: *c,
                })
                .collect(),
            ..Default::default()
        }
    }

    fn curve() -> Curve {
        Curve {
            step_s: 1.0,
            score: vec![0.0; 300],
            contributions: Vec::new(),
            lags: Vec::new(),
        }
    }

    fn inside(i: usize) -> bool {
        (100..130).contains(&i)
    }

    #[test]
    fn sale_card_purchase_comments_and_orders_make_a_flash_sale() {
        let n = 300;
        let set = SignalSet {
            tracks: vec![
                per_second("comments", n, |i| if inside(i) { 10.0 } else { 1.0 }),
                per_second("kw_purchase", n, |i| if inside(i) { 6.0 } else { 0.0 }),
                per_second("kw_question", n, |_| 0.0),
                // A rush of new viewers, as a lottery's: buying words make it a sale's.
                per_second("first_time_users", n, |i| if inside(i) { 6.0 } else { 0.2 }),
                per_second("screen_keywords", n, |i| if i == 110 { 3.0 } else { 0.0 }),
                per_second(
                    "orders",
                    n,
                    |i| if (105..140).contains(&i) { 1.0 } else { 0.0 },
                ),
                per_second(
                    "sku:B",
                    n,
                    |i| if (105..140).contains(&i) { 1.0 } else { 0.0 },
                ),
                per_second("sku:A", n, |i| if i % 50 == 0 { 1.0 } else { 0.0 }),
            ],
            ..Default::default()
        };
        let h = highlight(&[("comments", 0.2), ("orders", 0.2), ("screen_text", 0.05)]);
        let (kind, tags, why) = classify(&h, &set, &curve());
        assert_eq!(kind, HighlightType::FlashSale, "{why:?}");
        assert!(tags.contains(&"sku:B".to_string()), "{tags:?}");
        assert!(!tags.contains(&"sku:A".to_string()), "{tags:?}");
        assert!(tags.contains(&"kw:purchase".to_string()), "{tags:?}");
        assert!(tags.contains(&"sale_card".to_string()), "{tags:?}");
    }

    #[test]
    fn lottery_calls_make_an_interaction_and_hand_motion_a_product_demo() {
        let n = 300;
        let set = SignalSet {
            tracks: vec![
                per_second("comments", n, |i| if inside(i) { 20.0 } else { 1.0 }),
                per_second("kw_lottery", n, |i| if inside(i) { 12.0 } else { 0.0 }),
                per_second("kw_laughter", n, |i| if inside(i) { 5.0 } else { 0.0 }),
            ],
            ..Default::default()
        };
        let h = highlight(&[("comments", 0.3), ("loudness", 0.1)]);
        let (kind, tags, _) = classify(&h, &set, &curve());
        assert_eq!(kind, HighlightType::Interaction);
        assert!(tags.contains(&"kw:lottery".to_string()), "{tags:?}");
        assert!(tags.contains(&"emotion:laughter".to_string()), "{tags:?}");

        let set = SignalSet {
            tracks: vec![
                per_second("comments", n, |i| if inside(i) { 3.0 } else { 1.0 }),
                per_second("kw_question", n, |i| if inside(i) { 1.0 } else { 0.0 }),
                per_second(
                    "orders",
                    n,
                    |i| if i == 120 || i == 128 { 1.0 } else { 0.0 },
                ),
                per_second("sku:A", n, |i| if i == 120 || i == 128 { 1.0 } else { 0.0 }),
            ],
            ..Default::default()
        };
        let h = highlight(&[("host_motion", 0.15), ("orders", 0.08), ("comments", 0.05)]);
        let (kind, tags, why) = classify(&h, &set, &curve());
        assert_eq!(kind, HighlightType::Product, "{why:?}");
        assert!(tags.contains(&"sku:A".to_string()), "{tags:?}");
    }

    #[test]
    fn a_lottery_with_a_moving_host_and_trickling_orders_is_an_interaction() {
        let n = 300;
        // 20 comments/s, 8 of them from first-time commenters, in words mostly outside the
        // lexicon (抽我/选我/求中...: 1 in 10 matches `lottery`); the host waves at the prize
        // wheel (host motion leads the score) and three orders of three SKUs come in.
        let orders = |i: usize| [112, 121, 133].contains(&i);
        let set = SignalSet {
            tracks: vec![
                per_second("comments", n, |i| if inside(i) { 20.0 } else { 0.5 }),
                per_second("first_time_users", n, |i| if inside(i) { 8.0 } else { 0.2 }),
                per_second("kw_lottery", n, |i| if inside(i) { 2.0 } else { 0.0 }),
                per_second("kw_purchase", n, |_| 0.0),
                per_second("kw_question", n, |i| if i % 40 == 0 { 1.0 } else { 0.0 }),
                per_second("orders", n, |i| if orders(i) { 1.0 } else { 0.0 }),
                per_second("sku:A", n, |i| if i == 112 { 1.0 } else { 0.0 }),
                per_second("sku:B", n, |i| if i == 121 { 1.0 } else { 0.0 }),
                per_second("sku:C", n, |i| if i == 133 { 1.0 } else { 0.0 }),
            ],
            ..Default::default()
        };
        let h = highlight(&[
            ("host_motion", 0.2),
            ("motion", 0.1),
            ("comments", 0.15),
            ("orders", 0.05),
        ]);
        let (kind, tags, why) = classify(&h, &set, &curve());
        assert_eq!(kind, HighlightType::Interaction, "{why:?}");
        assert!(
            why.iter()
                .any(|w| w.starts_with("first-time commenters at")),
            "{why:?}"
        );
        assert!(!tags.iter().any(|t| t.starts_with("sku:")), "{tags:?}");

        // A laugh the same way: the room's own words (草/蚌埠住了), laughter in the sound,
        // the host doubled over.
        let mut set = set;
        set.tracks.retain(|t| t.name != "kw_lottery");
        set.tracks.push(per_second("audio_laughter", n, |i| {
            if inside(i) {
                0.3
            } else {
                0.0
            }
        }));
        let (kind, _, why) = classify(&h, &set, &curve());
        assert_eq!(kind, HighlightType::Interaction, "{why:?}");
    }

    #[test]
    fn a_product_needs_product_evidence_questions_and_its_sku_selling() {
        let n = 300;
        // A demonstration: the host's hands move, a few regulars ask (1 in 4 comments a
        // question), 6 orders of SKU A and one of B; no rush of new viewers.
        let set = SignalSet {
            tracks: vec![
                per_second("comments", n, |i| if inside(i) { 4.0 } else { 0.5 }),
                per_second("first_time_users", n, |i| if inside(i) { 0.3 } else { 0.2 }),
                per_second("kw_question", n, |i| if inside(i) { 1.0 } else { 0.0 }),
                per_second("kw_purchase", n, |i| if i == 115 { 1.0 } else { 0.0 }),
                per_second("orders", n, |i| {
                    if (110..140).step_by(5).any(|x| x == i) || i == 137 {
                        1.0
                    } else {
                        0.0
                    }
                }),
                per_second("sku:A", n, |i| {
                    if (110..140).step_by(5).any(|x| x == i) {
                        1.0
                    } else {
                        0.0
                    }
                }),
                per_second("sku:B", n, |i| if i == 137 { 1.0 } else { 0.0 }),
            ],
            ..Default::default()
        };
        let h = highlight(&[("host_motion", 0.1), ("comments", 0.1), ("orders", 0.1)]);
        let (kind, tags, why) = classify(&h, &set, &curve());
        assert_eq!(kind, HighlightType::Product, "{why:?}");
        assert!(tags.contains(&"sku:A".to_string()), "{tags:?}");
        assert!(why.contains(&"A selling".to_string()), "{why:?}");
        // Without the hands moving, the questions and the SKU selling still say product.
        let h = highlight(&[("comments", 0.1), ("orders", 0.1)]);
        let (kind, _, why) = classify(&h, &set, &curve());
        assert_eq!(kind, HighlightType::Product, "{why:?}");
    }

    #[test]
    fn nothing_distinctive_is_a_moment() {
        let h = highlight(&[("loudness", 0.3)]);
        let (kind, tags, _) = classify(&h, &SignalSet::default(), &curve());
        assert_eq!(kind, HighlightType::Moment);
        assert_eq!(tags, vec!["emotion:excitement".to_string()]);
    }
}
