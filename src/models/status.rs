//! `livecut models`: each model's spec, file and checksum status, and the runtime.

use std::path::Path;

use super::{Device, ModelDir, Runtime};

/// The models livecut runs, in pipeline order.
pub const ALL: &[&str] = &[
    "silero_vad",
    "yamnet",
    "centerface",
    "ppocrv4_det",
    "ppocrv4_rec",
    "whisper_base",
];

/// Print one line per model and one for the runtime; true when everything is usable.
pub fn print_status(dir: Option<&Path>, ort_lib: Option<&Path>, device: Device) -> bool {
    let dir = ModelDir::locate(dir);
    println!("models in {}", dir.0.display());
    let mut ok = true;
    for name in ALL {
        match dir.spec(name) {
            Err(e) => {
                ok = false;
                println!("  {name:<12} MISSING SPEC  {e}");
            }
            Ok(spec) => {
                let status = match dir.verified(name) {
                    Ok(_) => "ok".to_string(),
                    Err(e) => {
                        ok = false;
                        format!("NOT USABLE: {e}")
                    }
                };
                println!(
                    "  {name:<12} {:<22} {}=={} ({}) sha256 {}…  {status}",
                    spec.file,
                    spec.source.package,
                    spec.source.version,
                    spec.licence,
                    &spec.sha256.get(..12).unwrap_or(&spec.sha256),
                );
            }
        }
    }
    match Runtime::init(ort_lib, device, 1) {
        Ok(rt) => println!(
            "runtime: ONNX Runtime {} on {:?}",
            rt.library.display(),
            rt.device
        ),
        Err(e) => {
            ok = false;
            println!("runtime: NOT USABLE: {e}");
        }
    }
    ok
}
