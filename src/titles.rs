//! Suggested titles from what a highlight said and showed: the product (the SKU that
//! sold, or the product word heard), the price (heard, else read on screen), the moment's
//! type and its strongest spoken phrase — deterministic templates, no language model.
//!
//! [`candidates`] gives every title the highlight supports, best first; [`fit`] keeps
//! those within a platform's length (counted in characters, as the apps count them) and
//! without a forbidden claim ([`crate::claims`]), up to [`MAX_CANDIDATES`]. The type's
//! plain title ([`crate::classify::suggested_title`]) and the same without the SKU (at most
//! 10 characters, the shortest `title_max_chars` a preset may have) come last, so every
//! platform gets at least one.

use crate::claims::ClaimsLexicon;
use crate::classify::HighlightType;
use crate::select::Highlight;
use crate::signals::ScreenText;
use crate::speech::Segment;

/// Titles offered per clip (for A/B tests).
pub const MAX_CANDIDATES: usize = 5;

/// The longest spoken phrase quoted in a title, characters.
const PHRASE_MAX_CHARS: usize = 14;
/// The shortest phrase worth quoting, characters.
const PHRASE_MIN_CHARS: usize = 4;

/// What a title can be made of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ingredients {
    /// The SKU that sold, else the product word heard.
    pub product: Option<String>,
    /// `99元`: heard, else read on screen.
    pub price: Option<String>,
    /// The strongest spoken phrase (no forbidden claim).
    pub phrase: Option<String>,
}

/// Characters as the apps count them.
pub fn length(title: &str) -> usize {
    title.chars().count()
}

/// The ingredients of highlight `h`: `segments` and `screen` are the whole recording's
/// transcript and on-screen text (those inside the highlight are used).
pub fn ingredients(
    h: &Highlight,
    segments: &[Segment],
    screen: &[ScreenText],
    claims: &ClaimsLexicon,
) -> Ingredients {
    let tag = |prefix: &str| {
        h.tags
            .iter()
            .find_map(|t| t.strip_prefix(prefix))
            .map(str::to_string)
    };
    let product = tag("sku:").or_else(|| tag("product:"));
    let inside: Vec<&Segment> = segments
        .iter()
        .filter(|s| s.end_s > h.start_s && s.start_s < h.end_s)
        .collect();
    let heard: String = inside.iter().map(|s| s.text.as_str()).collect();
    let price = crate::speech::keywords::prices_in(&heard)
        .into_iter()
        .next()
        .or_else(|| tag("price:"))
        .or_else(|| {
            screen
                .iter()
                .filter(|l| l.t >= h.start_s && l.t < h.end_s)
                .find_map(|l| {
                    crate::speech::keywords::prices_in(&l.text)
                        .into_iter()
                        .next()
                })
        });
    let phrase = strongest_phrase(h, &inside, claims);
    Ingredients {
        product,
        price,
        phrase,
    }
}

/// Clauses of a sentence (split at punctuation), trimmed.
fn clauses(text: &str) -> Vec<String> {
    text.split(|c: char| "，。！？、；：,.!?;:…\n".contains(c))
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

/// At most `max` characters of `clause`, ended at a line-break opportunity (never inside a
/// Latin word or a number); `None` when no break leaves at least the minimum.
fn shorten(clause: &str, max: usize) -> Option<String> {
    if length(clause) <= max {
        return Some(clause.to_string());
    }
    // The widest first line (UAX #14 breaks, words never broken) of at most `max` characters.
    let first_line = |columns: usize| -> Option<String> {
        let options = textwrap::Options::new(columns)
            .word_separator(textwrap::WordSeparator::UnicodeBreakProperties)
            .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
            .break_words(false);
        let line = textwrap::wrap(clause, options).into_iter().next()?;
        Some(line.trim().to_string())
    };
    (max..=2 * max)
        .rev()
        .filter_map(first_line)
        .find(|l| length(l) <= max)
        .filter(|l| length(l) >= PHRASE_MIN_CHARS)
}

/// The clause said in `h` that carries the most: the highlight's own tag words (product,
/// closing and lottery words, prices), an exclamation, and nearness to the peak decide;
/// clauses with a forbidden claim are never quoted.
fn strongest_phrase(h: &Highlight, inside: &[&Segment], claims: &ClaimsLexicon) -> Option<String> {
    let tag_words: Vec<String> = h
        .tags
        .iter()
        .filter_map(|t| t.split_once(':'))
        .filter(|(k, _)| matches!(*k, "said" | "product" | "price" | "sku"))
        .map(|(_, w)| crate::speech::keywords::normalise(w))
        .filter(|w| !w.is_empty())
        .collect();
    let mut best: Option<(f64, String)> = None;
    for s in inside {
        let exclaimed = s.text.contains('!') || s.text.contains('！');
        let mid = 0.5 * (s.start_s + s.end_s);
        let near = 1.0 / (1.0 + (mid - h.peak_s).abs() / 10.0);
        for clause in clauses(&s.text) {
            let Some(text) = shorten(&clause, PHRASE_MAX_CHARS) else {
                continue;
            };
            if length(&text) < PHRASE_MIN_CHARS || claims.flags(&text) {
                continue;
            }
            let folded = crate::speech::keywords::normalise(&text);
            let words = tag_words
                .iter()
                .filter(|w| folded.contains(w.as_str()))
                .count();
            let score = words as f64 * 2.0 + f64::from(u8::from(exclaimed)) + near;
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, text));
            }
        }
    }
    best.map(|(_, t)| t)
}

/// Every title the ingredients support for `h`'s type, best first, none with a forbidden
/// claim (a SKU name can carry one).
pub fn candidates(h: &Highlight, ing: &Ingredients, claims: &ClaimsLexicon) -> Vec<String> {
    let has = |tag: &str| h.tags.iter().any(|t| t == tag);
    // Templates: `{p}` product, `{price}`, `{phrase}`; one is used only when the highlight
    // has every ingredient it names.
    let templates: &[&str] = match h.kind {
        HighlightType::FlashSale => &[
            "{phrase}！{p}限时秒杀",
            "{p}到手{price} 手慢无",
            "限时秒杀！{p}只要{price}",
            "到手价{price}！{phrase}",
            "限时秒杀：{phrase}",
        ],
        HighlightType::Product => &[
            "{p}实拍：{phrase}",
            "{p}到手价{price} 细节实拍",
            "{phrase}｜{p}细节展示",
            "{p}细节实拍：{phrase}",
            "实拍：{phrase}",
        ],
        HighlightType::Interaction if has("kw:lottery") => &[
            "直播间抽奖：{phrase}",
            "{phrase}｜抽奖名场面",
            "{p}免费抽！直播间抽奖",
        ],
        HighlightType::Interaction if has("emotion:laughter") => &[
            "笑场了：{phrase}",
            "{phrase}（主播笑场）",
            "直播间笑疯了：{phrase}",
        ],
        HighlightType::Interaction => &["{phrase}｜直播互动高能", "直播间互动：{phrase}"],
        HighlightType::Moment => &["{phrase}", "{p}：{phrase}", "直播精彩：{phrase}"],
    };
    let mut out: Vec<String> = Vec::new();
    for t in templates {
        let mut title = t.to_string();
        let slots = [
            ("{p}", &ing.product),
            ("{price}", &ing.price),
            ("{phrase}", &ing.phrase),
        ];
        let mut complete = true;
        for (slot, value) in slots {
            if title.contains(slot) {
                match value {
                    Some(v) => title = title.replace(slot, v),
                    None => complete = false,
                }
            }
        }
        if complete && !out.contains(&title) && !claims.flags(&title) {
            out.push(title);
        }
    }
    // The type's plain title, then the same without the SKU (at most 10 characters).
    let without_sku = Highlight {
        tags: h
            .tags
            .iter()
            .filter(|t| !t.starts_with("sku:"))
            .cloned()
            .collect(),
        ..h.clone()
    };
    for plain in [
        crate::classify::suggested_title(h),
        crate::classify::suggested_title(&without_sku),
    ] {
        if !out.contains(&plain) && !claims.flags(&plain) {
            out.push(plain);
        }
    }
    out
}

/// The candidates a platform takes: at most `max_chars` characters, at most
/// [`MAX_CANDIDATES`]; the first is the chosen title.
pub fn fit(candidates: &[String], max_chars: usize) -> Vec<String> {
    candidates
        .iter()
        .filter(|t| length(t) <= max_chars)
        .take(MAX_CANDIDATES)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(a: f64, b: f64, text: &str) -> Segment {
        Segment::said(a, b, text)
    }

    fn highlight(kind: HighlightType, tags: &[&str]) -> Highlight {
        Highlight {
            rank: 1,
            start_s: 100.0,
            end_s: 140.0,
            peak_s: 120.0,
            kind,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_flash_sale_title_names_the_product_the_price_and_what_was_said() {
        let claims = ClaimsLexicon::default();
        let h = highlight(HighlightType::FlashSale, &["sku:A12", "said:上链接"]);
        let segments = [
            seg(90.0, 99.0, "欢迎来到直播间"),
            seg(110.0, 116.0, "家人们全网最低价，三号链接"),
            seg(118.0, 123.0, "到手价99元！上链接了，手慢无"),
        ];
        let ing = ingredients(&h, &segments, &[], &claims);
        assert_eq!(ing.product.as_deref(), Some("A12"));
        assert_eq!(ing.price.as_deref(), Some("99元"));
        // The clause with the tag word, exclaimed, near the peak; never the claim.
        assert_eq!(ing.phrase.as_deref(), Some("上链接了"));
        let all = candidates(&h, &ing, &claims);
        assert_eq!(all[0], "上链接了！A12限时秒杀");
        assert!(all.contains(&"A12到手99元 手慢无".to_string()));
        assert_eq!(
            all[all.len() - 2..],
            ["限时秒杀！A12 手慢无", "限时秒杀 上链接"]
        );
        // A 16-character limit drops the long ones; none carries a claim.
        let short = fit(&all, 12);
        assert!(short.iter().all(|t| length(t) <= 12), "{short:?}");
        assert!(!short.is_empty());
        for t in &all {
            assert!(!claims.flags(t), "{t}");
        }
    }

    #[test]
    fn a_price_read_on_screen_stands_in_for_one_not_heard() {
        let claims = ClaimsLexicon::default();
        let h = highlight(HighlightType::Product, &[]);
        let screen = [ScreenText {
            t: 105.0,
            text: "¥199 限量".into(),
            confidence: 0.9,
            x: 0.0,
            y: 0.0,
            w: 0.1,
            h: 0.1,
        }];
        let ing = ingredients(&h, &[], &screen, &claims);
        assert_eq!(ing.price.as_deref(), Some("199元"));
        assert_eq!(ing.phrase, None);
        // Without a product or a phrase only the plain title is left.
        assert_eq!(candidates(&h, &ing, &claims), ["产品细节实拍展示"]);
    }

    #[test]
    fn long_phrases_are_cut_at_a_break_never_inside_a_word_or_number() {
        let s = shorten("到手价99元 iPhone 15 同款配色全部都有", 14).unwrap();
        assert!(
            length(&s) <= 14 && s.starts_with("到手价99元 iPhone"),
            "{s}"
        );
        assert!(!shorten("到手价99元 iPhone 15 同款配色全部都有", 9)
            .unwrap()
            .contains("iP"));
        assert_eq!(shorten("短句", 14).as_deref(), Some("短句"));
    }

    #[test]
    fn a_claim_in_every_phrase_leaves_the_plain_title() {
        let claims = ClaimsLexicon::default();
        let h = highlight(HighlightType::Interaction, &["kw:lottery"]);
        let ing = ingredients(&h, &[seg(110.0, 115.0, "全网最低价抽奖")], &[], &claims);
        assert_eq!(ing.phrase, None);
        assert_eq!(
            fit(&candidates(&h, &ing, &claims), 30),
            ["直播间抽奖 全场沸腾"]
        );
        // A SKU named with a claim word is never put in a title.
        let h = highlight(HighlightType::FlashSale, &["sku:全网第一神器"]);
        let ing = ingredients(&h, &[], &[], &claims);
        assert_eq!(candidates(&h, &ing, &claims), ["限时秒杀 上链接"]);
    }
}
