//! livecut: turn long recorded livestreams into ready-to-publish short clips.
//!
//! One module per pipeline stage; follow a recording through [`pipeline::analyze`] and
//! [`pipeline::cut`]:
//! `media` (decode) → `signals` (tracks) + `timelines` (comments, orders) → `cascade` →
//! `fuse` → `select` → `speech` (what the host says) → `classify` → `cut`/`render` (+ `subtitles`,
//! `titles`, `claims`) → `report`. Each domain has its own error enum; [`pipeline::PipelineError`] gathers the
//! stages' errors and the binary maps them to exit codes.

pub mod batch;
pub mod boundaries;
pub mod cascade;
pub mod claims;
pub mod classify;
pub mod cli;
pub mod cut;
pub mod eval;
pub mod fsutil;
pub mod fuse;
pub mod media;
pub mod models;
pub mod pipeline;
pub mod products;
pub mod profile;
pub mod render;
pub mod report;
pub mod review;
pub mod select;
pub mod session;
pub mod signals;
pub mod speech;
pub mod subtitles;
pub mod time;
pub mod timelines;
pub mod titles;
pub mod tune;
