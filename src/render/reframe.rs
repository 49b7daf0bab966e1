//! Crop path that follows the host (filled in by the reframe work).
