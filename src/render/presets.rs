//! Platform presets (filled in by the presets work).
