//! Per-second audience and sales features, aggregated while the exports stream past.
//!
//! Memory grows with the recording's length (one bin per second) and the number of distinct
//! users/texts per second, never with the number of rows.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use super::lexicon::{fold, Lexicon};
use super::{Comment, CommentKind, Order};
use crate::select::TopComment;
use crate::signals::Track;
use crate::time::Span;

/// Window of the bot-flood detector, seconds.
const SPAM_WINDOW_S: usize = 10;
/// Per-second user and text sets are kept this many seconds behind the newest row, then
/// condensed (exports are only roughly time-ordered); memory stays bounded by this window.
const LIVE_S: usize = 300;
/// Fewer comments than this in a window are never called a flood.
const SPAM_MIN_COMMENTS: u32 = 8;
/// Window of the fake-order detector, seconds.
const ORDER_SPAM_WINDOW_S: usize = 30;

/// A span where the comment stream looked like a bot flood.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SpamSpan {
    pub start_s: f64,
    pub end_s: f64,
    /// Comments in the span.
    pub comments: u32,
    /// Share of those written by the two most active accounts.
    pub top_user_share: f32,
    /// Share of comments repeating a text already seen in the window.
    pub duplicate_share: f32,
}

#[derive(Debug, Default, Clone)]
struct CommentBin {
    comments: u32,
    /// Per account and per normalised text: comments in this second (dropped once the bin
    /// is condensed into `distinct_users`, `spam` and `spam_stats`).
    users: HashMap<u64, u32>,
    texts: HashMap<u64, u32>,
    distinct_users: u32,
    spam: f32,
    spam_stats: (f32, f32),
    gifts: u32,
    gift_value: f32,
    likes: f32,
    follows: u32,
    enters: u32,
    paid_value: f32,
    classes: Vec<u32>,
    sentiment: f32,
}

/// Streams comments into per-second bins; [`CommentAggregator::finish`] gives the tracks.
#[derive(Debug)]
pub struct CommentAggregator {
    lexicon: Lexicon,
    bins: Vec<CommentBin>,
    first_seen: HashMap<u64, usize>,
    anonymous: u64,
    /// Bins below this have their spam score.
    scored: usize,
    /// Bins below this have been condensed (their sets dropped).
    condensed: usize,
    newest: usize,
    /// Rows that arrived after their second was condensed (counted as a new account each).
    pub late_rows: u64,
}

impl CommentAggregator {
    pub fn new(duration_s: f64, lexicon: Lexicon) -> Self {
        let n = duration_s.ceil().max(1.0) as usize;
        Self {
            bins: vec![CommentBin::default(); n],
            lexicon,
            first_seen: HashMap::new(),
            anonymous: 0,
            scored: 0,
            condensed: 0,
            newest: 0,
            late_rows: 0,
        }
    }

    pub fn push(&mut self, c: &Comment) {
        let n = self.bins.len();
        let i = (c.t.max(0.0) as usize).min(n - 1);
        let user = if c.user.is_empty() {
            // An unnamed row is nobody in particular: never the same account twice.
            self.anonymous += 1;
            hash(&("\u{0}anonymous", self.anonymous))
        } else {
            hash(&c.user)
        };
        let late = i < self.condensed;
        let bin = &mut self.bins[i];
        match c.kind {
            CommentKind::Comment | CommentKind::SuperChat => {
                bin.comments += 1;
                if late {
                    bin.distinct_users += 1;
                    self.late_rows += 1;
                } else {
                    *bin.users.entry(user).or_default() += 1;
                    *bin.texts.entry(hash(&normalise(&c.text))).or_default() += 1;
                }
                let (flags, sentiment) = self.lexicon.classify(&c.text);
                if bin.classes.len() < flags.len() {
                    bin.classes.resize(flags.len(), 0);
                }
                for (k, f) in flags.iter().enumerate() {
                    bin.classes[k] += u32::from(*f);
                }
                bin.sentiment += sentiment;
                let first = self.first_seen.entry(user).or_insert(i);
                *first = (*first).min(i);
                if c.kind == CommentKind::SuperChat {
                    bin.paid_value += c.value.unwrap_or(0.0) as f32;
                }
            }
            CommentKind::Gift => {
                bin.gifts += 1;
                bin.gift_value += c.value.unwrap_or(0.0) as f32;
                bin.paid_value += c.value.unwrap_or(0.0) as f32;
            }
            CommentKind::Membership => bin.paid_value += c.value.unwrap_or(0.0) as f32,
            CommentKind::Like => bin.likes += c.value.unwrap_or(1.0) as f32,
            CommentKind::Follow => bin.follows += 1,
            CommentKind::Enter => bin.enters += 1,
        }
        self.newest = self.newest.max(i);
        self.advance(self.newest.saturating_sub(LIVE_S));
    }

    /// Score bins below `upto` for spam and condense the ones no window needs any more.
    fn advance(&mut self, upto: usize) {
        let half = SPAM_WINDOW_S / 2;
        let n = self.bins.len();
        while self.scored < upto.min(n) {
            let i = self.scored;
            let window = &self.bins[i.saturating_sub(half)..(i + half + 1).min(n)];
            let (score, stats) = spam_score(window);
            self.bins[i].spam = score;
            self.bins[i].spam_stats = stats;
            self.scored += 1;
        }
        let limit = if self.scored >= n {
            n
        } else {
            self.scored.saturating_sub(half)
        };
        while self.condensed < limit {
            let b = &mut self.bins[self.condensed];
            b.distinct_users += b.users.len() as u32;
            b.users = HashMap::new();
            b.texts = HashMap::new();
            self.condensed += 1;
        }
    }

    /// Per-second tracks and the detected bot-flood spans.
    pub fn finish(mut self) -> (Vec<Track>, Vec<SpamSpan>) {
        let n = self.bins.len();
        self.advance(n);
        let mut first_time = vec![0f32; n];
        for &i in self.first_seen.values() {
            first_time[i] += 1.0;
        }
        let spam: Vec<f32> = self.bins.iter().map(|b| b.spam).collect();
        let spans = spam_spans(&self.bins);
        let col = |f: &dyn Fn(&CommentBin) -> f32| self.bins.iter().map(f).collect::<Vec<f32>>();
        let mut tracks = vec![
            per_second(
                "comments",
                "1/s",
                "comments (and super chats) per second",
                col(&|b| b.comments as f32),
            ),
            per_second(
                "comment_users",
                "1/s",
                "distinct commenting accounts per second: one account flooding counts once",
                col(&|b| b.distinct_users as f32),
            ),
            per_second(
                "first_time_users",
                "1/s",
                "accounts commenting for the first time in this recording, per second",
                first_time,
            ),
            per_second(
                "gifts",
                "1/s",
                "gift events per second",
                col(&|b| b.gifts as f32),
            ),
            per_second(
                "likes",
                "1/s",
                "likes per second (a like row's value is its count)",
                col(&|b| b.likes),
            ),
            per_second(
                "follows",
                "1/s",
                "new followers per second",
                col(&|b| b.follows as f32),
            ),
            per_second(
                "enters",
                "1/s",
                "viewers entering per second",
                col(&|b| b.enters as f32),
            ),
            per_second(
                "paid_value",
                "CNY/s",
                "super chat, gift and membership value per second, as the export states it",
                col(&|b| b.paid_value),
            ),
            per_second(
                "sentiment",
                "score",
                "mean lexicon sentiment of the second's comments (-1..1, 0 when none)",
                col(&|b| {
                    if b.comments > 0 {
                        b.sentiment / b.comments as f32
                    } else {
                        0.0
                    }
                }),
            ),
            per_second(
                "spam",
                "0-1",
                "bot-flood likelihood over a 10 s window: few accounts writing most comments, \
                 mostly repeated text; fusion discounts the comment signals by it",
                spam,
            ),
        ];
        for (k, class) in self.lexicon.classes.iter().enumerate() {
            tracks.push(per_second(
                &format!("kw_{class}"),
                "1/s",
                &format!("comments per second matching the lexicon class '{class}'"),
                col(&|b| b.classes.get(k).copied().unwrap_or(0) as f32),
            ));
        }
        (tracks, spans)
    }
}

/// Bot-flood score of the middle second of `window` (the bins of a 10 s window) and the
/// (top-two-accounts share, repeated-text share) it was computed from.
fn spam_score(window: &[CommentBin]) -> (f32, (f32, f32)) {
    let total: u32 = window.iter().map(|b| b.comments).sum();
    if total < SPAM_MIN_COMMENTS {
        return (0.0, (0.0, 0.0));
    }
    let mut users: HashMap<u64, u32> = HashMap::new();
    let mut texts: HashMap<u64, u32> = HashMap::new();
    for b in window {
        for (k, v) in &b.users {
            *users.entry(*k).or_default() += v;
        }
        for (k, v) in &b.texts {
            *texts.entry(*k).or_default() += v;
        }
    }
    let (mut top1, mut top2) = (0u32, 0u32);
    for &v in users.values() {
        if v > top1 {
            top2 = top1;
            top1 = v;
        } else if v > top2 {
            top2 = v;
        }
    }
    let top_share = (top1 + top2) as f32 / total as f32;
    let dup_share = 1.0 - texts.len() as f32 / total as f32;
    let concentration = ((top_share - 0.25) / 0.35).clamp(0.0, 1.0);
    let repetition = ((dup_share - 0.3) / 0.4).clamp(0.0, 1.0);
    (concentration * repetition, (top_share, dup_share))
}

/// Runs of seconds whose spam score is at least 0.5.
fn spam_spans(bins: &[CommentBin]) -> Vec<SpamSpan> {
    let n = bins.len();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < n {
        if bins[i].spam < 0.5 {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && bins[i].spam >= 0.5 {
            i += 1;
        }
        let comments = bins[start..i].iter().map(|b| b.comments).sum();
        // Shares as seen from the middle of the span (its edges mix in normal chatter).
        let (top, dup) = bins[(start + i) / 2].spam_stats;
        spans.push(SpamSpan {
            start_s: start as f64,
            end_s: i as f64,
            comments,
            top_user_share: round3(top),
            duplicate_share: round3(dup),
        });
    }
    spans
}

#[derive(Debug, Default, Clone)]
struct OrderBin {
    orders: u32,
    quantity: u32,
    gmv: f64,
    /// (buyer, amount in cents) → orders, only when the export names buyers.
    buyer_amounts: HashMap<u64, u32>,
    with_buyer: u32,
}

/// Streams orders into per-second bins.
#[derive(Debug)]
pub struct OrderAggregator {
    bins: Vec<OrderBin>,
    /// Per SKU: quantity sold per second (sparse).
    skus: HashMap<String, BTreeMap<usize, u32>>,
}

/// How many SKUs get a track of their own (the best sellers).
pub const SKU_TRACKS: usize = 20;

impl OrderAggregator {
    pub fn new(duration_s: f64) -> Self {
        let n = duration_s.ceil().max(1.0) as usize;
        Self {
            bins: vec![OrderBin::default(); n],
            skus: HashMap::new(),
        }
    }

    pub fn push(&mut self, o: &Order) {
        let n = self.bins.len();
        let i = (o.t.max(0.0) as usize).min(n - 1);
        let bin = &mut self.bins[i];
        bin.orders += 1;
        bin.quantity += o.quantity;
        bin.gmv += o.amount;
        if let Some(buyer) = &o.buyer {
            bin.with_buyer += 1;
            *bin.buyer_amounts
                .entry(hash(&(buyer, (o.amount * 100.0).round() as i64)))
                .or_default() += 1;
        }
        if let Some(sku) = &o.sku {
            *self
                .skus
                .entry(sku.clone())
                .or_default()
                .entry(i)
                .or_default() += o.quantity;
        }
    }

    pub fn finish(self) -> Vec<Track> {
        let n = self.bins.len();
        let col = |f: &dyn Fn(&OrderBin) -> f32| self.bins.iter().map(f).collect::<Vec<f32>>();
        // New SKUs: SKUs whose first sale lies in the last 60 s.
        let mut first_sale = vec![0i32; n + 60];
        for sales in self.skus.values() {
            if let Some((&first, _)) = sales.iter().next() {
                first_sale[first] += 1;
            }
        }
        let mut new_sku = vec![0f32; n];
        let mut running = 0i32;
        for i in 0..n {
            running += first_sale[i];
            if i >= 60 {
                running -= first_sale[i - 60];
            }
            new_sku[i] = running as f32;
        }
        let mut tracks =
            vec![
            per_second("orders", "1/s", "paid orders per second", col(&|b| b.orders as f32)),
            per_second("quantity", "items/s", "items sold per second", col(&|b| b.quantity as f32)),
            per_second("gmv", "CNY/s", "paid amount per second", col(&|b| b.gmv as f32)),
            per_second("new_sku", "count", "SKUs whose first sale was in the last 60 s", new_sku),
            per_second(
                "order_spam",
                "0-1",
                "fake-order likelihood over a 30 s window: one buyer placing most orders at one \
                 amount (needs a buyer column); fusion discounts the order signal by it",
                order_spam(&self.bins),
            ),
        ];
        let mut skus: Vec<(String, u32, BTreeMap<usize, u32>)> = self
            .skus
            .into_iter()
            .map(|(k, v)| (k, v.values().sum(), v))
            .collect();
        skus.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (sku, _, sales) in skus.into_iter().take(SKU_TRACKS) {
            let mut values = vec![0f32; n];
            for (i, q) in sales {
                values[i] = q as f32;
            }
            tracks.push(per_second(
                &format!("sku:{sku}"),
                "items/s",
                &format!("items of SKU {sku} sold per second"),
                values,
            ));
        }
        tracks
    }
}

fn order_spam(bins: &[OrderBin]) -> Vec<f32> {
    let n = bins.len();
    let half = ORDER_SPAM_WINDOW_S / 2;
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(n);
            let with_buyer: u32 = bins[lo..hi].iter().map(|b| b.with_buyer).sum();
            if with_buyer < 5 {
                return 0.0;
            }
            let mut merged: HashMap<u64, u32> = HashMap::new();
            for b in &bins[lo..hi] {
                for (k, v) in &b.buyer_amounts {
                    *merged.entry(*k).or_default() += v;
                }
            }
            let top = merged.values().copied().max().unwrap_or(0);
            let share = top as f32 / with_buyer as f32;
            ((share - 0.3) / 0.4).clamp(0.0, 1.0)
        })
        .collect()
}

/// Longest comment text kept in `top_comments`, characters.
const TOP_COMMENT_MAX_CHARS: usize = 80;

/// The comments sent inside a few windows (the highlights), grouped by normalised text:
/// [`TopComments::finish`] gives, per window, the texts the most distinct accounts sent.
/// Memory grows with the comments inside the windows only.
#[derive(Debug)]
pub struct TopComments {
    windows: Vec<Span>,
    groups: Vec<HashMap<String, TextGroup>>,
}

#[derive(Debug)]
struct TextGroup {
    text: String,
    users: std::collections::HashSet<u64>,
    count: u32,
}

impl TopComments {
    pub fn new(windows: Vec<Span>) -> Self {
        let groups = windows.iter().map(|_| HashMap::new()).collect();
        Self { windows, groups }
    }

    pub fn push(&mut self, c: &Comment) {
        if !matches!(c.kind, CommentKind::Comment | CommentKind::SuperChat) {
            return;
        }
        self.push_text(c.t, hash(&c.user), &c.text);
    }

    fn push_text(&mut self, t: f64, user: u64, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        for (w, groups) in self.windows.iter().zip(self.groups.iter_mut()) {
            if !w.contains(t) {
                continue;
            }
            let mut key = normalise(text);
            if key.is_empty() {
                key = text.to_string(); // emoji or punctuation only
            }
            let g = groups.entry(key).or_insert_with(|| TextGroup {
                text: text.chars().take(TOP_COMMENT_MAX_CHARS).collect(),
                users: Default::default(),
                count: 0,
            });
            g.users.insert(user);
            g.count += 1;
        }
    }

    /// Per window, at most `top` texts: most distinct accounts first, then most sent.
    pub fn finish(self, top: usize) -> Vec<Vec<TopComment>> {
        self.groups
            .into_iter()
            .map(|groups| {
                let mut all: Vec<TopComment> = groups
                    .into_values()
                    .map(|g| TopComment {
                        text: g.text,
                        users: g.users.len() as u32,
                        count: g.count,
                    })
                    .collect();
                all.sort_by(|a, b| {
                    (b.users, b.count)
                        .cmp(&(a.users, a.count))
                        .then_with(|| a.text.cmp(&b.text))
                });
                all.truncate(top);
                all
            })
            .collect()
    }
}

/// The text comments of an export kept compactly while it is read (time, account hash,
/// interned text), so the comments of each highlight can be gathered after the analysis
/// without reading the export a second time.
#[derive(Debug, Default)]
pub struct CommentLog {
    rows: Vec<(f64, u64, u32)>,
    texts: Vec<String>,
    index: HashMap<String, u32>,
}

impl CommentLog {
    pub fn push(&mut self, c: &Comment) {
        if !matches!(c.kind, CommentKind::Comment | CommentKind::SuperChat) {
            return;
        }
        let text = c.text.trim();
        if text.is_empty() {
            return;
        }
        let id = match self.index.get(text) {
            Some(&id) => id,
            None => {
                let id = self.texts.len() as u32;
                self.texts.push(text.to_string());
                self.index.insert(text.to_string(), id);
                id
            }
        };
        self.rows.push((c.t, hash(&c.user), id));
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Per window, at most `top` texts (as [`TopComments`]).
    pub fn top(&self, windows: Vec<Span>, top: usize) -> Vec<Vec<TopComment>> {
        let mut t = TopComments::new(windows);
        for &(at, user, id) in &self.rows {
            t.push_text(at, user, &self.texts[id as usize]);
        }
        t.finish(top)
    }
}

/// Text as a flood repeats it: folded, without spaces/punctuation, runs collapsed
/// ("哈哈哈哈" ≡ "哈哈哈", "1111" ≡ "11111").
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = None;
    for c in fold(text).chars().filter(|c| c.is_alphanumeric()) {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

fn hash<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

fn per_second(name: &str, unit: &str, description: &str, values: Vec<f32>) -> Track {
    Track {
        name: name.into(),
        unit: unit.into(),
        description: description.into(),
        times_s: (0..values.len()).map(|i| i as f64).collect(),
        values,
    }
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn comment(t: f64, user: &str, text: &str) -> Comment {
        Comment {
            t,
            user: user.into(),
            text: text.into(),
            kind: CommentKind::Comment,
            value: None,
        }
    }

    #[test]
    fn top_comments_rank_texts_by_distinct_accounts_per_window() {
        let mut top = TopComments::new(vec![Span::new(10.0, 20.0), Span::new(30.0, 40.0)]);
        for (i, u) in ["a", "b", "c"].iter().enumerate() {
            top.push(&comment(11.0 + i as f64, u, "上链接！"));
        }
        top.push(&comment(12.0, "d", "上链接"));
        for _ in 0..6 {
            top.push(&comment(13.0, "bot", "<b>spam</b>"));
        }
        top.push(&comment(25.0, "e", "outside"));
        top.push(&comment(31.0, "f", "  hello  "));
        let got = top.finish(5);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0][0].text, "上链接！");
        assert_eq!((got[0][0].users, got[0][0].count), (4, 4));
        assert_eq!(got[0][1].text, "<b>spam</b>");
        assert_eq!((got[0][1].users, got[0][1].count), (1, 6));
        assert_eq!(got[1].len(), 1);
        assert_eq!(got[1][0].text, "hello");
    }

    /// Background chatter, a bot flood at 100–120 s (2 accounts, same text, 9/s) and a
    /// genuine burst at 200–220 s (200 accounts, varied text, 6/s).
    pub fn flood_and_burst() -> Vec<Comment> {
        let mut out = Vec::new();
        for s in 0..300 {
            if s % 2 == 0 {
                out.push(comment(
                    s as f64 + 0.3,
                    &format!("bg{}", s % 37),
                    &format!("聊天 {s}"),
                ));
            }
        }
        for k in 0..180 {
            let t = 100.0 + k as f64 / 9.0;
            out.push(comment(
                t,
                if k % 2 == 0 { "bot1" } else { "bot2" },
                "关注主播领红包",
            ));
        }
        let texts = [
            "太好看了",
            "多少钱",
            "买了买了",
            "链接在哪",
            "哈哈哈",
            "这个颜色绝了",
            "已拍",
            "冲冲冲",
        ];
        for k in 0..120 {
            let t = 200.0 + k as f64 / 6.0;
            out.push(comment(
                t,
                &format!("fan{}", k * 7 % 200),
                &format!("{} {}", texts[k % texts.len()], k),
            ));
        }
        // Exports come roughly in time order.
        out.sort_by(|a, b| a.t.total_cmp(&b.t));
        out
    }

    #[test]
    fn bot_flood_is_a_spam_span_and_genuine_burst_is_not() {
        let mut agg = CommentAggregator::new(300.0, Lexicon::default());
        for c in flood_and_burst() {
            agg.push(&c);
        }
        let (tracks, spans) = agg.finish();
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert!(
            spans[0].start_s >= 94.0 && spans[0].end_s <= 126.0,
            "{spans:?}"
        );
        assert!(
            spans[0].top_user_share > 0.8 && spans[0].duplicate_share > 0.8,
            "{spans:?}"
        );
        let spam = &tracks.iter().find(|t| t.name == "spam").unwrap().values;
        assert!(spam[110] > 0.9);
        assert!(
            spam[190..230].iter().all(|&s| s == 0.0),
            "genuine burst not spam"
        );
        let users = &tracks
            .iter()
            .find(|t| t.name == "comment_users")
            .unwrap()
            .values;
        assert!(users[110] <= 3.0 && users[210] >= 5.0);
        let first = &tracks
            .iter()
            .find(|t| t.name == "first_time_users")
            .unwrap()
            .values;
        assert!(first[200..221].iter().sum::<f32>() >= 100.0);
        let kw = &tracks
            .iter()
            .find(|t| t.name == "kw_purchase")
            .unwrap()
            .values;
        assert!(kw[200..221].iter().sum::<f32>() > 20.0);
    }

    #[test]
    fn sets_are_condensed_behind_the_newest_row() {
        let mut agg = CommentAggregator::new(3600.0, Lexicon::default());
        for k in 0..36_000 {
            agg.push(&comment(k as f64 / 10.0, &format!("u{}", k % 5000), "hi"));
        }
        let live = agg.bins.iter().filter(|b| !b.users.is_empty()).count();
        assert!(
            live <= LIVE_S + SPAM_WINDOW_S + 2,
            "{live} seconds still hold sets"
        );
        // A row for a second that was already condensed still counts.
        agg.push(&comment(10.5, "late", "x"));
        assert_eq!(agg.late_rows, 1);
        let (tracks, _) = agg.finish();
        let users = &tracks
            .iter()
            .find(|t| t.name == "comment_users")
            .unwrap()
            .values;
        assert_eq!(users[10], 11.0);
        assert_eq!(users[3000], 10.0);
    }

    #[test]
    fn lottery_with_identical_text_from_many_users_is_not_spam() {
        let mut agg = CommentAggregator::new(60.0, Lexicon::default());
        for k in 0..300 {
            agg.push(&comment(
                10.0 + k as f64 / 15.0,
                &format!("u{k}"),
                if k % 3 == 0 { "1111" } else { "扣1" },
            ));
        }
        let (tracks, spans) = agg.finish();
        assert!(spans.is_empty(), "{spans:?}");
        let lottery = &tracks
            .iter()
            .find(|t| t.name == "kw_lottery")
            .unwrap()
            .values;
        assert!(lottery[15] >= 10.0);
    }

    #[test]
    fn orders_tracks_skus_and_fake_orders() {
        let mut agg = OrderAggregator::new(120.0);
        let order = |t: f64, sku: &str, buyer: &str, amount: f64| Order {
            t,
            sku: Some(sku.into()),
            buyer: Some(buyer.into()),
            quantity: 1,
            amount,
        };
        for k in 0..10 {
            agg.push(&order(10.0 + k as f64, "A", &format!("b{k}"), 99.0));
        }
        for k in 0..20 {
            agg.push(&order(80.0 + k as f64 * 0.5, "B", "faker", 0.01));
        }
        let tracks = agg.finish();
        let get = |n: &str| tracks.iter().find(|t| t.name == n).unwrap().values.clone();
        assert_eq!(get("orders")[10], 1.0);
        assert!((get("gmv")[12] - 99.0).abs() < 1e-3);
        assert_eq!(get("new_sku")[10], 1.0);
        assert_eq!(get("new_sku")[75], 0.0);
        assert_eq!(get("new_sku")[80], 1.0);
        assert_eq!(get("sku:A").iter().sum::<f32>(), 10.0);
        assert!(get("order_spam")[85] > 0.9);
        assert_eq!(get("order_spam")[14], 0.0);
    }

    #[test]
    fn normalise_collapses_repeats() {
        assert_eq!(normalise("哈哈哈哈！"), normalise("哈哈哈"));
        assert_eq!(normalise("1111"), normalise("１１１１１"));
    }
}
