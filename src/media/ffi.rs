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

/// Feed `frame` to a buffer source without giving up the caller's reference, so one
/// decoded frame can go into several filter graphs (one per platform) without a copy.
pub fn buffersrc_add_keep_ref(
    src: &mut ffmpeg::filter::Context,
    frame: &ffmpeg::Frame,
) -> Result<(), ffmpeg::Error> {
    // SAFETY: both pointers come from live ffmpeg-next wrappers borrowed for this call;
    // with AV_BUFFERSRC_FLAG_KEEP_REF libavfilter takes a new reference to the frame's
    // buffers and leaves `frame` untouched (it is only read).
    let ret = unsafe {
        ffmpeg::ffi::av_buffersrc_add_frame_flags(
            src.as_mut_ptr(),
            frame.as_ptr() as *mut _,
            ffmpeg::ffi::AV_BUFFERSRC_FLAG_KEEP_REF as i32,
        )
    };
    if ret < 0 {
        Err(ffmpeg::Error::from(ret))
    } else {
        Ok(())
    }
}
