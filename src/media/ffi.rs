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

/// Give an output stream the input stream's display matrix (the rotation a phone
/// recorded), so a stream copy plays upright as the original does. Nothing happens when
/// the input has none.
pub fn copy_display_matrix(
    input: &ffmpeg::format::stream::Stream<'_>,
    output: &mut ffmpeg::StreamMut<'_>,
) -> Result<(), ffmpeg::Error> {
    let Some(side) = input
        .side_data()
        .find(|d| d.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix)
    else {
        return Ok(());
    };
    let bytes = side.data();
    // SAFETY: `output` wraps a live AVStream of an output context that has not written
    // its header yet; av_stream_new_side_data allocates `bytes.len()` bytes owned by the
    // stream (or returns null), and we write exactly that many.
    unsafe {
        let dst = ffmpeg::ffi::av_stream_new_side_data(
            output.as_mut_ptr(),
            ffmpeg::ffi::AVPacketSideDataType::AV_PKT_DATA_DISPLAYMATRIX,
            bytes.len(),
        );
        if dst.is_null() {
            return Err(ffmpeg::Error::Other {
                errno: ffmpeg::error::ENOMEM,
            });
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
    }
    Ok(())
}
