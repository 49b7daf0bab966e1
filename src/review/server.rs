//! `livecut review`: the local web app editors decide in, and its JSON API.
//!
//! Every request is treated as hostile: the server binds 127.0.0.1 unless told otherwise,
//! and then requires a token (printed at start; `Authorization: Bearer …` or `?token=`,
//! compared in constant time); on loopback it accepts only loopback `Host` headers (no DNS
//! rebinding); it serves files only from inside the recordings' output folders (paths
//! are resolved, symlinks followed, and anything that lands outside is refused) plus each
//! recording's own source file; request bodies are limited to [`MAX_BODY`] bytes; a
//! malformed body is a 400 with the parser's message, an unknown recording or highlight a
//! 404, a change based on an old version a 409 with the current state. Pages run only
//! their own scripts (Content-Security-Policy) and put every text in with `textContent`.
//!
//! Endpoints (README, "Review"): `GET /api/recordings`, `GET /api/recordings/<key>`,
//! `POST /api/recordings/<key>/highlights/<rank>`, `POST /api/recordings/<key>/moments`,
//! `POST /api/recordings/<key>/subtitles/<index>`, `POST /api/recordings/<key>/render`,
//! `GET /api/jobs`, `GET /api/jobs/<id>`; files under `/files/<key>/…`, the recording at
//! `/api/recordings/<key>/source`; pages `/` and `/r/<key>`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use tower::ServiceExt as _;

use super::{ReviewError, ReviewFile};
use crate::report;

/// Largest request body, bytes.
pub const MAX_BODY: usize = 64 * 1024;

const INDEX_HTML: &str = include_str!("index.html");
const PAGE_HTML: &str = include_str!("review.html");
const PAGE_JS: &str = include_str!("review.js");
const PAGE_CSS: &str = include_str!("review.css");
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   media-src 'self'; connect-src 'self'; frame-src 'self'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

/// What `livecut review` serves.
#[derive(Debug, Clone)]
pub struct ReviewOptions {
    /// Output folders (each holds `<stem>/highlights.json`).
    pub dirs: Vec<PathBuf>,
    pub bind: IpAddr,
    /// 0: any free port.
    pub port: u16,
    /// How background renders cut (approved only).
    pub cut: crate::pipeline::CutSettings,
}

/// One recording the app serves.
#[derive(Debug, Clone)]
struct Recording {
    /// URL key: the folder's name (`~2`, `~3` … for the same name in another DIR).
    key: String,
    /// The recording's output folder, canonical.
    dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

/// A background render of one recording's approved highlights.
#[derive(Debug, Clone, Serialize)]
struct Job {
    id: usize,
    recording: String,
    state: JobState,
    /// The pipeline stage running now.
    stage: Option<String>,
    clips: usize,
    error: Option<String>,
    queued_at: String,
    finished_at: Option<String>,
}

struct AppState {
    recordings: Vec<Recording>,
    /// Per recording, the middles of its speech pauses and its shot cuts (from
    /// signals.json, read once: they do not change while editors review).
    edge_snaps: Vec<std::sync::OnceLock<Vec<f64>>>,
    /// One lock per recording: changes to its review are read-modify-write.
    locks: Vec<Mutex<()>>,
    token: Option<String>,
    /// `Host` headers accepted on a loopback bind (empty: any, the token guards).
    hosts: Vec<String>,
    jobs: Arc<Mutex<Vec<Job>>>,
    queue: Mutex<mpsc::Sender<usize>>,
}

impl AppState {
    fn find(&self, key: &str) -> Option<(usize, &Recording)> {
        self.recordings
            .iter()
            .enumerate()
            .find(|(_, r)| r.key == key)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}: not a folder")]
    NotAFolder(PathBuf),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the review server stopped: {0}")]
    Server(std::io::Error),
}

/// Every `DIR/*/highlights.json`, keyed by folder name.
fn discover(dirs: &[PathBuf]) -> Result<Vec<Recording>, ServeError> {
    let mut out: Vec<Recording> = Vec::new();
    for d in dirs {
        let root = d
            .canonicalize()
            .ok()
            .filter(|p| p.is_dir())
            .ok_or_else(|| ServeError::NotAFolder(d.clone()))?;
        let mut subs: Vec<PathBuf> = std::fs::read_dir(&root)
            .map_err(|_| ServeError::NotAFolder(d.clone()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join(report::HIGHLIGHTS_FILE).is_file())
            .filter_map(|p| p.canonicalize().ok())
            .filter(|p| p.starts_with(&root))
            .collect();
        subs.sort();
        for dir in subs {
            // A save killed half-way leaves its temporary file; the review is whole.
            crate::fsutil::remove_stale_parts(&dir);
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut key = name.clone();
            let mut n = 1;
            while out.iter().any(|r| r.key == key) {
                n += 1;
                key = format!("{name}~{n}");
            }
            out.push(Recording { key, dir });
        }
    }
    Ok(out)
}

/// A random token of 32 hex digits.
fn new_token() -> String {
    let mut bytes = [0u8; 16];
    // The OS's generator; if it fails the clock is a poor but unique stand-in.
    if getrandom::fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = t.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Serve until interrupted. `ready` is told the address and the token (when one is
/// required) once the socket listens.
pub fn serve(
    opts: ReviewOptions,
    ready: impl FnOnce(SocketAddr, Option<&str>),
) -> Result<(), ServeError> {
    let recordings = discover(&opts.dirs)?;
    let loopback = opts.bind.is_loopback();
    let token = (!loopback).then(new_token);
    let addr = SocketAddr::new(opts.bind, opts.port);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServeError::Server)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let local = listener.local_addr().map_err(ServeError::Server)?;
        let hosts = if loopback {
            let p = local.port();
            vec![
                format!("127.0.0.1:{p}"),
                format!("localhost:{p}"),
                format!("[::1]:{p}"),
            ]
        } else {
            Vec::new()
        };
        let jobs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        spawn_worker(rx, jobs.clone(), recordings.clone(), opts.cut.clone());
        let state = Arc::new(AppState {
            locks: recordings.iter().map(|_| Mutex::new(())).collect(),
            edge_snaps: recordings
                .iter()
                .map(|_| std::sync::OnceLock::new())
                .collect(),
            recordings,
            token: token.clone(),
            hosts,
            jobs,
            queue: Mutex::new(tx),
        });
        ready(local, token.as_deref());
        axum::serve(listener, app(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(ServeError::Server)
    })
}

fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(|| async { page(INDEX_HTML) }))
        .route("/r/{key}", get(|| async { page(PAGE_HTML) }))
        .route(
            "/assets/review.js",
            get(|| async { asset(PAGE_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/assets/review.css",
            get(|| async { asset(PAGE_CSS, "text/css; charset=utf-8") }),
        )
        .route("/api/recordings", get(list_recordings))
        .route("/api/recordings/{key}", get(get_recording))
        .route("/api/recordings/{key}/source", get(get_source))
        .route(
            "/api/recordings/{key}/highlights/{rank}",
            post(post_highlight),
        )
        .route("/api/recordings/{key}/moments", post(post_moment))
        .route(
            "/api/recordings/{key}/subtitles/{index}",
            post(post_subtitle),
        )
        .route("/api/recordings/{key}/render", post(post_render))
        .route("/api/jobs", get(list_jobs))
        .route("/api/jobs/{id}", get(get_job))
        .route("/files/{key}/{*path}", get(get_file))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such page") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

fn page(html: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

/// Host and token checks before, security headers after every request.
async fn guard(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if !st.hosts.is_empty() {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !st.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return error(StatusCode::FORBIDDEN, "unexpected Host header");
        }
    }
    if let Some(token) = &st.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::to_string)
            .or_else(|| {
                req.uri().query().and_then(|q| {
                    q.split('&')
                        .find_map(|kv| kv.strip_prefix("token="))
                        .map(str::to_string)
                })
            })
            .unwrap_or_default();
        use subtle::ConstantTimeEq as _;
        let ok: bool = given.as_bytes().ct_eq(token.as_bytes()).into();
        if !ok {
            return error(StatusCode::UNAUTHORIZED, "a valid token is required");
        }
    }
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    if api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// `rel` inside `root` (canonical), or `None` when it is not a plain relative path or
/// resolves (symlinks followed) outside `root` or to something that is not a file.
fn resolve(root: &Path, rel: &str) -> Option<PathBuf> {
    if rel.is_empty() || rel.contains(['\0', '\\']) {
        return None;
    }
    let p = Path::new(rel);
    if !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let full = root.join(p).canonicalize().ok()?;
    (full.starts_with(root) && full.is_file()).then_some(full)
}

async fn serve_file(path: PathBuf, req: Request) -> Response {
    match tower_http::services::ServeFile::new(path)
        .oneshot(req)
        .await
    {
        Ok(res) => res.into_response(),
        Err(e) => match e {},
    }
}

async fn get_file(
    State(st): State<Arc<AppState>>,
    UrlPath((key, path)): UrlPath<(String, String)>,
    req: Request,
) -> Response {
    let Some((_, rec)) = st.find(&key) else {
        return error(StatusCode::NOT_FOUND, format!("no recording {key:?}"));
    };
    match resolve(&rec.dir, &path) {
        Some(p) => serve_file(p, req).await,
        None => error(
            StatusCode::NOT_FOUND,
            "no such file in the recording's folder",
        ),
    }
}

async fn get_source(
    State(st): State<Arc<AppState>>,
    UrlPath(key): UrlPath<String>,
    req: Request,
) -> Response {
    let Some((_, rec)) = st.find(&key) else {
        return error(StatusCode::NOT_FOUND, format!("no recording {key:?}"));
    };
    let file = match report::read_highlights(&rec.dir.join(report::HIGHLIGHTS_FILE)) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    // Exactly the recording the analysis read (no other path is reachable here).
    match file.source.path.canonicalize() {
        Ok(p) if p.is_file() => serve_file(p, req).await,
        _ => error(StatusCode::NOT_FOUND, "the source recording is not there"),
    }
}

/// The body as `T`, or the message of a 400 answer.
fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("malformed JSON body: {e}"))
}

fn review_error(e: ReviewError, review: Option<&ReviewFile>) -> Response {
    match e {
        ReviewError::Stale { .. } => (
            StatusCode::CONFLICT,
            Json(json!({ "error": e.to_string(), "review": review })),
        )
            .into_response(),
        ReviewError::Invalid(_) => error(StatusCode::BAD_REQUEST, e),
        ReviewError::NotFound(_) => error(StatusCode::NOT_FOUND, e),
        ReviewError::Parse { .. } | ReviewError::Io { .. } => {
            error(StatusCode::INTERNAL_SERVER_ERROR, e)
        }
    }
}

/// How far the recording goes (spans may not pass it).
fn duration_of(file: &report::HighlightsFile) -> f64 {
    file.source.duration_s.max(file.analysed_until_s)
}

async fn list_recordings(State(st): State<Arc<AppState>>) -> Response {
    let rows: Vec<Value> = st
        .recordings
        .iter()
        .map(|r| {
            let file = report::read_highlights(&r.dir.join(report::HIGHLIGHTS_FILE));
            let review = super::load(&r.dir);
            let count = |d: super::Decision| {
                review
                    .as_ref()
                    .map(|v| v.highlights.iter().filter(|h| h.decision == d).count())
                    .unwrap_or(0)
            };
            json!({
                "key": r.key,
                "name": file.as_ref().ok().and_then(|f| f.source.path.file_name()).map(|n| n.to_string_lossy().into_owned()),
                "duration_s": file.as_ref().ok().map(duration_of),
                "highlights": file.as_ref().map(|f| f.highlights.len()).unwrap_or(0),
                "approved": count(super::Decision::Approve),
                "rejected": count(super::Decision::Reject),
                "added": review.as_ref().map(|v| v.added.len()).unwrap_or(0),
                "error": file.err().map(|e| e.to_string()).or(review.err().map(|e| e.to_string())),
            })
        })
        .collect();
    Json(json!({ "recordings": rows })).into_response()
}

async fn get_recording(State(st): State<Arc<AppState>>, UrlPath(key): UrlPath<String>) -> Response {
    let Some((i, rec)) = st.find(&key) else {
        return error(StatusCode::NOT_FOUND, format!("no recording {key:?}"));
    };
    match recording_state(&st, i, rec) {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

fn file_href(key: &str, rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .map(|c| percent(&c.as_os_str().to_string_lossy()))
        .collect();
    format!("/files/{}/{}", percent(key), parts.join("/"))
}

/// `s` with everything but unreserved URL characters percent-encoded.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Everything the workspace shows for one recording.
/// Pause middles and shot cuts of the recording in `dir` (empty without signals.json).
fn pause_and_cut_snaps(dir: &Path) -> Vec<f64> {
    let Some(signals) = report::read_signals(&dir.join(report::SIGNALS_FILE)) else {
        return Vec::new();
    };
    let b = crate::boundaries::Boundaries::from_signals(&signals.media);
    b.pauses
        .iter()
        .map(|p| 0.5 * (p.start_s + p.end_s))
        .chain(b.cuts.iter().copied())
        .collect()
}

fn recording_state(
    st: &AppState,
    index: usize,
    rec: &Recording,
) -> Result<Value, report::ReportError> {
    let file = report::read_highlights(&rec.dir.join(report::HIGHLIGHTS_FILE))?;
    let manifest = report::read_manifest(&rec.dir.join(report::MANIFEST_FILE));
    let (transcript, transcript_error) =
        match crate::speech::read_transcript(&rec.dir.join(crate::speech::TRANSCRIPT_FILE)) {
            Ok(t) => (t, None),
            Err(e) => (None, Some(e.to_string())),
        };
    let (review, review_error) = match super::load(&rec.dir) {
        Ok(r) => (r, None),
        Err(e) => (ReviewFile::default(), Some(e.to_string())),
    };
    let segments = transcript
        .as_ref()
        .map(|t| t.segments.as_slice())
        .unwrap_or_default();
    // The product timeline (a lane on the page); a broken file is named, not fatal.
    let products_path = rec.dir.join(crate::products::PRODUCTS_FILE);
    let (products, products_error) = match std::fs::read(&products_path) {
        Ok(bytes) => match serde_json::from_slice::<crate::products::ProductsFile>(&bytes) {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(format!("{}: {e}", products_path.display()))),
        },
        Err(_) => (None, None),
    };
    let claims = crate::claims::ClaimsLexicon::default();
    let highlights: Vec<Value> = file
        .highlights
        .iter()
        .map(|h| {
            let clips: Vec<&report::ManifestClip> = manifest
                .as_ref()
                .map(|m| m.clips.iter().filter(|c| c.rank == h.rank).collect())
                .unwrap_or_default();
            let mut titles = clips
                .iter()
                .map(|c| c.titles.clone())
                .max_by_key(|t| t.len())
                .unwrap_or_default();
            if titles.is_empty() {
                let ing = crate::titles::ingredients(h, segments, &[], &claims);
                titles = crate::titles::fit(&crate::titles::candidates(h, &ing, &claims), 30);
            }
            json!({
                "rank": h.rank,
                "start_s": h.start_s,
                "end_s": h.end_s,
                "peak_s": h.peak_s,
                "score": h.score,
                "type": h.kind,
                "tags": h.tags,
                "transcript": h.transcript,
                "reasons": h.reasons,
                "titles": titles,
                "warnings": clips.first().map(|c| c.warnings.clone()).unwrap_or_default(),
                "clips": clips.iter().map(|c| json!({
                    "platform": c.platform,
                    "href": file_href(&rec.key, &c.path),
                    "vtt": c.subtitles.as_ref().map(|s| file_href(&rec.key, &s.vtt)),
                    "burned": c.subtitles.as_ref().is_some_and(|s| s.burned),
                    "span": c.span,
                    "duration_s": c.duration_s,
                    "approved": c.approved,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    // Where a trimmed edge may snap: sentence starts and ends, pauses, shot cuts.
    let mut snaps: Vec<f64> = segments
        .iter()
        .flat_map(|s| [s.start_s, s.end_s])
        .chain(
            st.edge_snaps[index]
                .get_or_init(|| pause_and_cut_snaps(&rec.dir))
                .iter()
                .copied(),
        )
        .map(|t| (t * 1000.0).round() / 1000.0)
        .collect();
    snaps.sort_by(f64::total_cmp);
    snaps.dedup();
    let jobs: Vec<Job> = st
        .jobs
        .lock()
        .map(|j| {
            j.iter()
                .filter(|j| j.recording == rec.key)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({
        "key": rec.key,
        "name": file.source.path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "duration_s": duration_of(&file),
        "source": format!("/api/recordings/{}/source", percent(&rec.key)),
        "preview": rec.dir.join(report::PREVIEW_FILE).is_file().then(|| file_href(&rec.key, Path::new(report::PREVIEW_FILE))),
        "highlights": highlights,
        "transcript": segments.iter().enumerate().map(|(i, s)| json!({
            "index": i, "start_s": s.start_s, "end_s": s.end_s, "text": s.text, "edited": s.edited,
        })).collect::<Vec<_>>(),
        "transcript_error": transcript_error,
        "products": products.as_ref().map(|p| json!({
            "source": p.source,
            "stretches": p.stretches,
            "products": p.products,
        })),
        "products_error": products_error,
        "snaps": snaps,
        "weights": file.fusion_weights,
        "review": review,
        "review_error": review_error,
        "jobs": jobs,
    }))
}

/// Run `change` on the recording's review under its lock; answers the new review.
fn with_review(
    st: &AppState,
    key: &str,
    change: impl FnOnce(
        &Recording,
        &report::HighlightsFile,
        &mut ReviewFile,
    ) -> Result<Value, ReviewError>,
) -> Response {
    let Some((i, rec)) = st.find(key) else {
        return error(StatusCode::NOT_FOUND, format!("no recording {key:?}"));
    };
    let _guard = st.locks[i].lock().unwrap_or_else(|p| p.into_inner());
    let file = match report::read_highlights(&rec.dir.join(report::HIGHLIGHTS_FILE)) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let mut review = match super::load(&rec.dir) {
        Ok(r) => r,
        Err(e) => return review_error(e, None),
    };
    let before = review.clone();
    match change(rec, &file, &mut review) {
        Ok(extra) => match super::save(&rec.dir, &review) {
            Ok(()) => {
                let mut body = json!({ "review": review });
                if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
                    b.extend(e);
                }
                Json(body).into_response()
            }
            Err(e) => review_error(e, Some(&before)),
        },
        Err(e) => review_error(e, Some(&before)),
    }
}

async fn post_highlight(
    State(st): State<Arc<AppState>>,
    UrlPath((key, rank)): UrlPath<(String, String)>,
    body: Bytes,
) -> Response {
    let change: super::HighlightChange = match parse_body(&body) {
        Ok(c) => c,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    let Ok(rank) = rank.parse::<usize>() else {
        return error(StatusCode::NOT_FOUND, format!("no highlight {rank:?}"));
    };
    with_review(&st, &key, |_, file, review| {
        let h = file
            .highlights
            .iter()
            .find(|h| h.rank == rank)
            .ok_or_else(|| ReviewError::NotFound(format!("no highlight #{rank}")))?;
        super::apply_highlight(review, h, &change, duration_of(file))?;
        Ok(json!({}))
    })
}

async fn post_moment(
    State(st): State<Arc<AppState>>,
    UrlPath(key): UrlPath<String>,
    body: Bytes,
) -> Response {
    let change: super::MomentChange = match parse_body(&body) {
        Ok(c) => c,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    with_review(&st, &key, |_, file, review| {
        let id = super::add_moment(review, &change, duration_of(file))?;
        Ok(json!({ "id": id }))
    })
}

async fn post_subtitle(
    State(st): State<Arc<AppState>>,
    UrlPath((key, index)): UrlPath<(String, String)>,
    body: Bytes,
) -> Response {
    let change: super::SubtitleChange = match parse_body(&body) {
        Ok(c) => c,
        Err(m) => return error(StatusCode::BAD_REQUEST, m),
    };
    let Ok(index) = index.parse::<usize>() else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no transcript segment {index:?}"),
        );
    };
    with_review(&st, &key, |rec, _, review| {
        let path = rec.dir.join(crate::speech::TRANSCRIPT_FILE);
        let mut transcript = crate::speech::read_transcript(&path)
            .map_err(|e| ReviewError::Invalid(e.to_string()))?
            .ok_or_else(|| ReviewError::NotFound("this recording has no transcript".into()))?;
        super::edit_subtitle(review, &mut transcript, index, &change)?;
        report::write_json(&path, &transcript).map_err(|e| ReviewError::Io {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        Ok(json!({ "segment": transcript.segments[index] }))
    })
}

async fn post_render(State(st): State<Arc<AppState>>, UrlPath(key): UrlPath<String>) -> Response {
    let Some((_, rec)) = st.find(&key) else {
        return error(StatusCode::NOT_FOUND, format!("no recording {key:?}"));
    };
    let job = {
        let mut jobs = st.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let job = Job {
            id: jobs.len() + 1,
            recording: rec.key.clone(),
            state: JobState::Queued,
            stage: None,
            clips: 0,
            error: None,
            queued_at: super::now(),
            finished_at: None,
        };
        jobs.push(job.clone());
        job
    };
    let sent = st
        .queue
        .lock()
        .map(|q| q.send(job.id).is_ok())
        .unwrap_or(false);
    if !sent {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the render queue has stopped",
        );
    }
    (StatusCode::ACCEPTED, Json(json!({ "job": job }))).into_response()
}

async fn list_jobs(State(st): State<Arc<AppState>>) -> Response {
    let jobs = st.jobs.lock().map(|j| j.clone()).unwrap_or_default();
    Json(json!({ "jobs": jobs })).into_response()
}

async fn get_job(State(st): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Response {
    let jobs = st.jobs.lock().map(|j| j.clone()).unwrap_or_default();
    match id
        .parse::<usize>()
        .ok()
        .and_then(|id| jobs.into_iter().find(|j| j.id == id))
    {
        Some(job) => Json(json!({ "job": job })).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no job {id:?}")),
    }
}

/// One render at a time, in the order asked: `cut --approved` for the job's recording.
fn spawn_worker(
    rx: mpsc::Receiver<usize>,
    jobs: Arc<Mutex<Vec<Job>>>,
    recordings: Vec<Recording>,
    settings: crate::pipeline::CutSettings,
) {
    let update = move |jobs: &Mutex<Vec<Job>>, id: usize, f: &dyn Fn(&mut Job)| {
        if let Ok(mut j) = jobs.lock() {
            if let Some(job) = j.iter_mut().find(|j| j.id == id) {
                f(job);
            }
        }
    };
    std::thread::spawn(move || {
        let settings = crate::pipeline::CutSettings {
            approved: true,
            ..settings
        };
        for id in rx {
            let key = jobs
                .lock()
                .ok()
                .and_then(|j| j.iter().find(|j| j.id == id).map(|j| j.recording.clone()));
            let Some(rec) = key.and_then(|k| recordings.iter().find(|r| r.key == k)) else {
                continue;
            };
            update(&jobs, id, &|j| j.state = JobState::Running);
            let progress_jobs = jobs.clone();
            let progress = move |p: crate::pipeline::Progress<'_>| {
                if let crate::pipeline::Progress::Stage(s) = p {
                    let s = s.to_string();
                    update(&progress_jobs, id, &|j| j.stage = Some(s.clone()));
                }
            };
            let result =
                crate::pipeline::cut(&rec.dir.join(report::HIGHLIGHTS_FILE), &settings, &progress);
            update(&jobs, id, &|j| {
                match &result {
                    Ok(m) => {
                        j.state = JobState::Done;
                        j.clips = m.clips.len();
                    }
                    Err(e) => {
                        j.state = JobState::Failed;
                        j.error = Some(e.to_string());
                    }
                }
                j.stage = None;
                j.finished_at = Some(super::now());
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_inside_the_folder_resolve() {
        let root = std::env::temp_dir().join(format!("livecut-resolve-{}", std::process::id()));
        let inside = root.join("rec");
        std::fs::create_dir_all(inside.join("clips")).unwrap();
        std::fs::write(inside.join("clips/1_douyin.mp4"), b"x").unwrap();
        std::fs::write(root.join("secret.txt"), b"s").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("secret.txt"), inside.join("link.txt")).unwrap();
        let base = inside.canonicalize().unwrap();
        assert!(resolve(&base, "clips/1_douyin.mp4").is_some());
        for bad in [
            "../secret.txt",
            "clips/../../secret.txt",
            "/etc/passwd",
            "clips\\..\\..\\secret.txt",
            "",
            "clips",
            "link.txt",
        ] {
            assert_eq!(resolve(&base, bad), None, "{bad}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn urls_are_percent_encoded() {
        assert_eq!(
            file_href("直播 1", Path::new("clips/a b.mp4")),
            "/files/%E7%9B%B4%E6%92%AD%201/clips/a%20b.mp4"
        );
        assert_eq!(new_token().len(), 32);
    }
}
