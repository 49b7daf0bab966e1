//! The few raw libav* accesses that ffmpeg-next has no safe API for.
#![allow(unsafe_code)]

use ffmpeg_next as ffmpeg;

/// Clear a stream's codec tag so a stream copied from another container muxes cleanly
/// (MP4 rejects some tags that MOV/MKV use).
pub fn clear_codec_tag(stream: &mut ffmpeg::StreamMut<'_>) {
    // SAFETY: `parameters()` returns the stream's own AVCodecParameters, which lives as long
    // as the stream; `codec_tag` is a plain integer field that the muxer reads in
    // write_header, after this call.
    unsafe {
        (*stream.parameters().as_mut_ptr()).codec_tag = 0;
    }
}
