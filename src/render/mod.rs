//! Platform clips: exact re-encoded cuts through libav* for every platform preset, with
//! 9:16 reframing that follows the host, loudness normalisation, covers and titles.

pub mod presets;
pub mod reframe;
