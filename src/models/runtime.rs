//! ONNX Runtime, loaded at run time (`ort` with `load-dynamic`): finding the library,
//! choosing the device, and building one session per model per worker.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::{builder::GraphOptimizationLevel, Session};

use super::ModelError;

/// Where models run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// CUDA when this build and machine support it, else CPU (the log says which).
    #[default]
    Auto,
    Cpu,
    /// CUDA or an error: never a silent CPU fallback.
    Cuda,
}

/// ONNX Runtime allows exactly one environment per process (and `ort` refuses a second
/// one even after the first is dropped), so the environment is shared by every
/// [`Runtime`] of the process. This is the one piece of process-wide state in livecut,
/// imposed by the library it wraps.
static ENVIRONMENT: Mutex<Option<(ort::environment::Environment, PathBuf)>> = Mutex::new(None);

/// The process's ONNX Runtime environment, loading `library` on first use.
fn environment(library: &Path) -> Result<ort::environment::Environment, ModelError> {
    let mut slot = ENVIRONMENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((env, loaded)) = slot.as_ref() {
        if loaded != library {
            return Err(ModelError::Runtime {
                path: library.to_path_buf(),
                message: format!(
                    "this process already loaded ONNX Runtime from {}",
                    loaded.display()
                ),
            });
        }
        return Ok(env.clone());
    }
    let runtime_err = |message: String| ModelError::Runtime {
        path: library.to_path_buf(),
        message,
    };
    let env = ort::init_from(library)
        .map_err(|e| runtime_err(e.to_string()))?
        .with_name("livecut")
        .build()
        .map_err(|e| runtime_err(e.to_string()))?;
    *slot = Some((env.clone(), library.to_path_buf()));
    Ok(env)
}

/// A loaded ONNX Runtime and the device its sessions run on. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Runtime {
    env: ort::environment::Environment,
    /// The library that was loaded.
    pub library: PathBuf,
    /// The device sessions are built for (never `Auto`).
    pub device: Device,
    /// Intra-op threads per session.
    pub threads: usize,
}

/// The library to load: `--ort-lib`, then `ORT_DYLIB_PATH`, then the copy set-up puts in
/// `.local/onnxruntime/` of the repository the binary was built in, then `./.local/…`.
pub fn find_library(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return PathBuf::from(p);
    }
    const LOCAL: &str = ".local/onnxruntime/libonnxruntime.so";
    let candidates = [
        std::env::current_exe().ok().and_then(|exe| {
            exe.parent()?
                .parent()?
                .parent()
                .map(|root| root.join(LOCAL))
        }),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(LOCAL)),
        std::env::current_dir().ok().map(|d| d.join(LOCAL)),
    ];
    candidates
        .iter()
        .flatten()
        .find(|c| c.is_file())
        .cloned()
        .unwrap_or_else(|| PathBuf::from(LOCAL))
}

impl Runtime {
    /// Load ONNX Runtime and settle the device.
    pub fn init(
        library: Option<&Path>,
        device: Device,
        threads: usize,
    ) -> Result<Self, ModelError> {
        let library = find_library(library);
        let library = std::fs::canonicalize(&library).unwrap_or(library);
        if !library.is_file() {
            return Err(ModelError::Runtime {
                path: library,
                message: "no such file".into(),
            });
        }
        let env = environment(&library)?;
        let mut rt = Self {
            env,
            library,
            device: Device::Cpu,
            threads: threads.max(1),
        };
        rt.device = match device {
            Device::Cpu => Device::Cpu,
            Device::Cuda => {
                rt.check_cuda()?;
                Device::Cuda
            }
            Device::Auto => match rt.check_cuda() {
                Ok(()) => Device::Cuda,
                Err(e) => {
                    tracing::info!("models run on the CPU ({e})");
                    Device::Cpu
                }
            },
        };
        tracing::info!(
            "ONNX Runtime {} on {:?} ({} threads per session)",
            rt.library.display(),
            rt.device,
            rt.threads
        );
        Ok(rt)
    }

    #[cfg(feature = "cuda")]
    fn check_cuda(&self) -> Result<(), ModelError> {
        use ort::ep::ExecutionProvider;
        match ort::ep::CUDA::is_available() {
            Ok(true) => Ok(()),
            Ok(false) => Err(ModelError::Cuda(format!(
                "the ONNX Runtime at {} has no CUDA execution provider (use the onnxruntime-gpu \
                 library with --ort-lib)",
                self.library.display()
            ))),
            Err(e) => Err(ModelError::Cuda(e.to_string())),
        }
    }

    #[cfg(not(feature = "cuda"))]
    fn check_cuda(&self) -> Result<(), ModelError> {
        Err(ModelError::Cuda(
            "this livecut was built without CUDA support (cargo build --features cuda)".into(),
        ))
    }

    /// A session for `model` on the runtime's device. CUDA registration errors are errors,
    /// never a silent CPU fallback.
    pub fn session(&self, name: &str, model: &Path) -> Result<Session, ModelError> {
        self.build_session(name, model, false, true)
    }

    /// As [`Runtime::session`], without ONNX Runtime's CPU memory arena: for a model whose
    /// inputs change shape call after call (Whisper's decoder: the cache grows by a token,
    /// keyword blocks come in batches), where the arena keeps the largest of every shape it
    /// has seen (≈ 0.1–0.3 GB for Whisper base); freed memory goes back at once instead.
    /// `prepack: false` also keeps ONNX Runtime from holding a second, repacked copy of the
    /// weights (Whisper base's decoder: −0.13 GB; its one-row matrix products barely
    /// gain from packed weights).
    pub fn session_without_arena(
        &self,
        name: &str,
        model: &Path,
        prepack: bool,
    ) -> Result<Session, ModelError> {
        self.build_session(name, model, false, prepack)
    }

    fn build_session(
        &self,
        name: &str,
        model: &Path,
        arena: bool,
        prepack: bool,
    ) -> Result<Session, ModelError> {
        let err = |e: String| ModelError::inference(name, format!("{}: {e}", model.display()));
        let builder = Session::builder(&self.env)
            .map_err(|e| err(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| err(e.to_string()))?
            .with_intra_threads(self.threads)
            .map_err(|e| err(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| err(e.to_string()))?;
        #[cfg(feature = "cuda")]
        let builder = if self.device == Device::Cuda {
            builder
                .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
                .map_err(|e| err(e.to_string()))?
        } else {
            builder
        };
        let mut builder = if arena || self.device != Device::Cpu {
            builder
        } else {
            builder
                .with_execution_providers([ort::ep::CPU::default()
                    .with_arena_allocator(false)
                    .build()])
                .map_err(|e| err(e.to_string()))?
                .with_prepacking(prepack)
                .map_err(|e| err(e.to_string()))?
        };
        builder
            .commit_from_file(model)
            .map_err(|e| err(e.to_string()))
    }
}

/// Make the C allocator give large freed blocks back to the system at once. ONNX Runtime
/// (no arena here: [`Runtime::session_without_arena`]) and FFmpeg allocate through glibc's
/// `malloc`, whose adaptive threshold otherwise serves blocks of up to 32 MiB from heaps it
/// keeps: Whisper's per-window tensors then stay resident after use, and the peak memory
/// grows with the work done instead of the work in hand. Blocks of 4 MiB and more are
/// mapped and unmapped each time (a lower threshold, 128 KiB, saved another 70 MiB but
/// made the 4-hour survey 18 s slower: every decoded frame's buffers became fresh page
/// faults); two heaps at most. Measured (10-minute / 4-hour benchmark recordings, peak
/// RSS): 805 / 970 MiB without this, 675 / 701 MiB with it. Call once, before the work.
#[allow(unsafe_code)]
pub fn release_freed_memory_promptly() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any other
    // thread of this process allocates.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as i32);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// The C allocator's mmap threshold for decoding and the media models (see
/// [`release_freed_memory_promptly`]).
pub const MMAP_THRESHOLD: usize = 4 << 20;
/// The threshold while Whisper runs (see `ModelSet::load_speech`).
pub const SPEECH_MMAP_THRESHOLD: usize = 1 << 20;

/// Serve blocks from `bytes` up by their own mappings, unmapped when freed:
/// [`SPEECH_MMAP_THRESHOLD`] for the speech stage, [`MMAP_THRESHOLD`] again for the stages
/// that decode frames.
#[allow(unsafe_code)]
pub fn map_blocks_from(bytes: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; blocks already handed out keep
    // the way they were allocated.
    unsafe {
        libc::mallopt(
            libc::M_MMAP_THRESHOLD,
            i32::try_from(bytes).unwrap_or(i32::MAX),
        );
    }
}

/// Give the freed pages of the C allocator's heaps back to the system, between stages: what
/// one stage freed in blocks under the mmap threshold (decoded frames, the media models'
/// tensors) otherwise stays resident under the next stage's peak. Measured before the
/// speech stage of the 10-minute benchmark recording: 208 → 147 MiB.
#[allow(unsafe_code)]
pub fn trim_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the allocator's heaps to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
