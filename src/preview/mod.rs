//! `coweave preview`: the HTML renderer behind a loopback server. A render
//! thread re-renders (through the block cache, so only the blocks whose
//! inputs changed run) when the template, its data, its codebook or a file
//! its blocks read changes, or when a parameter is switched from the page;
//! open pages hear about it by server-sent events and reload. A failed
//! render keeps the last good page and shows its diagnostics over it.
//!
//! Routes: `/` the page, `/__coweave/events` the event stream,
//! `/__coweave/params?name=value` (POST) switches a parameter,
//! `/__coweave/status` the state as JSON; any other path is a file of the
//! project (the template's folder), checked by [`paths::resolve`].

pub mod page;
pub mod paths;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use notify::Watcher as _;
use tokio::sync::{broadcast, watch};

use crate::diag::{Diagnostic, Diagnostics};
use crate::pipeline::{self, Request as RenderRequest};
use crate::render::Format;
use page::Choice;

/// What to preview and where.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The render: template, parameters, data, cache folder; its formats
    /// are ignored (the preview renders HTML).
    pub request: RenderRequest,
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Open the page in the default browser.
    pub open: bool,
}

/// What open pages are told.
#[derive(Debug, Clone)]
enum News {
    /// A render started.
    Rendering,
    /// The page of this version is the newest good one.
    Reload(u64),
    /// The latest render failed: the overlay's HTML.
    Failed(String),
}

impl News {
    fn event(&self) -> Event {
        match self {
            News::Rendering => Event::default().event("rendering").data(""),
            News::Reload(v) => Event::default().event("reload").data(v.to_string()),
            News::Failed(html) => Event::default().event("failed").data(html.as_str()),
        }
    }
}

/// The preview's state, shared by the render thread and the server.
#[derive(Debug, Default)]
struct Preview {
    /// Version of the last good page (0: none yet).
    version: u64,
    /// The last good page, as the HTML renderer wrote it.
    page: Option<String>,
    /// The overlay, when the latest render failed.
    failure: Option<String>,
    /// A render is under way.
    rendering: bool,
    /// The parameters asked for (command line, then the page's selects).
    params: Vec<(String, String)>,
    /// The parameters the page can switch.
    choices: Vec<Choice>,
}

struct Shared {
    state: Mutex<Preview>,
    news: broadcast::Sender<News>,
    renders: mpsc::Sender<()>,
    stop: watch::Receiver<bool>,
    /// The project: the template's folder, canonical.
    root: PathBuf,
    /// Host headers the server answers (`127.0.0.1:PORT`, `localhost:PORT`).
    hosts: [String; 2],
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, Preview> {
        // a panic while holding the lock leaves plain data behind: go on
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What a page that just connected needs to hear.
    fn current(&self) -> News {
        let s = self.state();
        match &s.failure {
            Some(html) => News::Failed(html.clone()),
            None => News::Reload(s.version),
        }
    }
}

/// Runs the preview until Ctrl-C.
pub fn run(settings: Settings) -> Result<(), Diagnostics> {
    let template = &settings.request.template;
    if !template.is_file() {
        return Err(Diagnostic::error("cannot read template: no such file")
            .at(template, None, None)
            .into());
    }
    let listener = bind(settings.port)?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let root = template
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .canonicalize()
        .map_err(|e| {
            Diagnostic::error(format!("cannot open the template's folder: {e}"))
                .at(template, None, None)
        })?;
    let (news, _) = broadcast::channel(64);
    let (renders, wake) = mpsc::channel();
    let (stop_tx, stop) = watch::channel(false);
    let shared = Arc::new(Shared {
        state: Mutex::new(Preview {
            params: settings.request.params.clone(),
            ..Preview::default()
        }),
        news,
        renders,
        stop,
        root,
        hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
    });
    let url = format!("http://127.0.0.1:{port}/");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "coweave preview of {} at {url} (Ctrl-C to stop)",
        template.display()
    );
    let _ = out.flush();
    drop(out);

    let watcher = Watch::new(shared.renders.clone())?;
    {
        let shared = shared.clone();
        let request = settings.request.clone();
        std::thread::Builder::new()
            .name("coweave-render".into())
            .spawn(move || render_loop(&shared, &request, watcher, &wake))
            .map_err(|e| Diagnostic::error(format!("cannot start the render thread: {e}")))?;
    }
    let _ = shared.renders.send(());
    if settings.open {
        open_browser(&url);
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Diagnostic::error(format!("cannot start the server: {e}")))?;
    runtime.block_on(serve(listener, shared, stop_tx))?;
    eprintln!("coweave preview: stopped");
    Ok(())
}

/// Binds 127.0.0.1:`port`; a taken port is an error that names a free one.
fn bind(port: u16) -> Result<std::net::TcpListener, Diagnostics> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match std::net::TcpListener::bind(addr) {
        Ok(l) => {
            l.set_nonblocking(true).map_err(|e| {
                Diagnostics::from(Diagnostic::error(format!("cannot listen on {addr}: {e}")))
            })?;
            Ok(l)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let free = (port.saturating_add(1)..=port.saturating_add(100))
                .find(|p| std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, *p)).is_ok());
            let hint = match free {
                Some(p) => format!("try --port {p}, which is free (or --port 0 for any free port)"),
                None => "try --port 0 for any free port".to_string(),
            };
            Err(Diagnostic::error(format!(
                "port {port} on 127.0.0.1 is taken (is another preview running?)"
            ))
            .hint(hint)
            .into())
        }
        Err(e) => Err(Diagnostic::error(format!("cannot listen on {addr}: {e}")).into()),
    }
}

async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
) -> Result<(), Diagnostics> {
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|e| Diagnostic::error(format!("cannot start the server: {e}")))?;
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(shared.clone());
    let mut stopped = shared.stop.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        interrupted().await;
        // event streams end, so open pages let the server stop
        let _ = stop.send(true);
    });
    tokio::select! {
        r = server => r.map_err(|e| Diagnostic::error(format!("the server failed: {e}")).into()),
        // a client that holds on does not keep the preview alive
        () = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        } => Ok(()),
    }
}

/// Ctrl-C (or, on Unix, SIGTERM).
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    if let Some(host) = req.headers().get(header::HOST)
        && !shared.hosts.iter().any(|h| host.as_bytes() == h.as_bytes())
    {
        // another name for this address (DNS rebinding): not ours to answer
        return text(StatusCode::FORBIDDEN, "unknown host\n");
    }
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let readable = method == Method::GET || method == Method::HEAD;
    match path.as_str() {
        "/" | "/index.html" if readable => index(&shared),
        "/__coweave/events" if readable => events(&shared).into_response(),
        "/__coweave/status" if readable => status(&shared),
        "/__coweave/params" if method == Method::POST => {
            params(&shared, req.headers(), req.uri().query().unwrap_or(""))
        }
        "/" | "/index.html" | "/__coweave/events" | "/__coweave/status" | "/__coweave/params" => {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        }
        _ if !readable => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        _ => file(&shared, &path).await,
    }
}

fn index(shared: &Shared) -> Response {
    let s = shared.state();
    let html = match &s.page {
        Some(page) => page::inject(page, s.version, &s.choices, s.failure.as_deref()),
        None => page::waiting(&s.choices, s.failure.as_deref()),
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

fn status(shared: &Shared) -> Response {
    let s = shared.state();
    let body = serde_json::json!({
        "version": s.version,
        "ok": s.failure.is_none(),
        "rendering": s.rendering,
        "params": s.params.iter().map(|(k, v)| serde_json::json!([k, v])).collect::<Vec<_>>(),
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn events(
    shared: &Arc<Shared>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>> + use<>> {
    let first = shared.current();
    let news = shared.news.subscribe();
    let stop = shared.stop.clone();
    let shared = shared.clone();
    let stream = futures_util::stream::unfold(
        (Some(first), news, stop, shared),
        |(first, mut news, mut stop, shared)| async move {
            if let Some(n) = first {
                return Some((Ok(n.event()), (None, news, stop, shared)));
            }
            if *stop.borrow() {
                return None;
            }
            let next = tokio::select! {
                n = news.recv() => match n {
                    Ok(n) => n,
                    // missed some: the current state says all that matters
                    Err(broadcast::error::RecvError::Lagged(_)) => shared.current(),
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = stop.wait_for(|s| *s) => return None,
            };
            Some((Ok(next.event()), (None, news, stop, shared)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `POST /__coweave/params?name=value`: switches parameters the page
/// offers, to values they allow, and asks for a render.
fn params(shared: &Shared, headers: &HeaderMap, query: &str) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ours = shared
            .hosts
            .iter()
            .any(|h| origin.as_bytes() == format!("http://{h}").as_bytes());
        if !ours {
            return text(StatusCode::FORBIDDEN, "not from the preview page\n");
        }
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
    };
    let mut s = shared.state();
    let mut changed = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Ok(name), Ok(value)) = (decode(k), decode(v)) else {
            return text(StatusCode::BAD_REQUEST, "not percent-encoded UTF-8\n");
        };
        let Some(choice) = s.choices.iter().find(|c| c.name == name) else {
            return text(
                StatusCode::BAD_REQUEST,
                format!("the page offers no parameter `{name}`\n"),
            );
        };
        if !choice.values.contains(&value) {
            return text(
                StatusCode::BAD_REQUEST,
                format!(
                    "`{value}` is not a value of `{name}` ({})\n",
                    choice.values.join(", ")
                ),
            );
        }
        changed.push((name, value));
    }
    for (name, value) in changed {
        match s.params.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => s.params.push((name, value)),
        }
    }
    drop(s);
    let _ = shared.renders.send(());
    text(StatusCode::ACCEPTED, "rendering\n")
}

/// A file of the project, if [`paths::resolve`] allows it.
async fn file(shared: &Shared, raw: &str) -> Response {
    let path = match paths::resolve(&shared.root, raw) {
        Ok(p) => p,
        Err(paths::Refusal::Outside) => {
            return text(StatusCode::FORBIDDEN, "outside the project\n");
        }
        Err(paths::Refusal::NotFound) => return text(StatusCode::NOT_FOUND, "not found\n"),
        Err(paths::Refusal::Malformed) => {
            return text(StatusCode::BAD_REQUEST, "malformed path\n");
        }
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, paths::content_type(&path)),
                (header::CACHE_CONTROL, "no-store"),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Err(_) => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// Watches the files a render read; any change of one asks for a render.
/// Folders are watched (not files), so that editors which save by writing
/// a new file and renaming it over the old one are seen.
struct Watch {
    watcher: notify::RecommendedWatcher,
    files: Arc<Mutex<BTreeSet<PathBuf>>>,
    dirs: BTreeSet<PathBuf>,
}

impl Watch {
    fn new(renders: mpsc::Sender<()>) -> Result<Self, Diagnostics> {
        let files: Arc<Mutex<BTreeSet<PathBuf>>> = Arc::default();
        let watched = files.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(event) = res else { return };
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            let files = watched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if event.paths.iter().any(|p| files.contains(p)) {
                let _ = renders.send(());
            }
        })
        .map_err(|e| Diagnostic::error(format!("cannot watch files: {e}")))?;
        Ok(Watch {
            watcher,
            files,
            dirs: BTreeSet::new(),
        })
    }

    /// Watches these files too (a file once read stays watched).
    fn add(&mut self, files: impl IntoIterator<Item = PathBuf>) {
        for file in files {
            let Ok(file) = std::path::absolute(&file) else {
                continue;
            };
            if let Some(dir) = file.parent()
                && !self.dirs.contains(dir)
            {
                match self.watcher.watch(dir, notify::RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        self.dirs.insert(dir.to_path_buf());
                    }
                    Err(e) => eprintln!(
                        "coweave preview: cannot watch {} ({e}); changes to {} need a save of the template",
                        dir.display(),
                        file.display()
                    ),
                }
            }
            self.files
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(file);
        }
    }
}

/// Renders when asked (by the watcher or the page), one render at a time;
/// requests that arrive during a render, or in the same burst of writes,
/// make one more render.
fn render_loop(
    shared: &Shared,
    request: &RenderRequest,
    mut watch: Watch,
    wake: &mpsc::Receiver<()>,
) {
    watch.add([request.template.clone()]);
    while wake.recv().is_ok() {
        // an editor's save is often several writes: let the burst finish
        while wake.recv_timeout(Duration::from_millis(30)).is_ok() {}
        let params = {
            let mut s = shared.state();
            s.rendering = true;
            s.params.clone()
        };
        let _ = shared.news.send(News::Rendering);
        let started = Instant::now();
        let req = RenderRequest {
            params,
            formats: vec![Format::Html],
            ..request.clone()
        };
        let result = pipeline::render_in_memory(&req);
        let seconds = started.elapsed().as_secs_f64();
        let news = match result {
            Ok(rendered) => {
                watch.add(rendered.inputs.iter().cloned());
                let html = rendered
                    .outputs
                    .into_iter()
                    .find(|(f, _, _)| *f == Format::Html)
                    .map(|(_, _, bytes)| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or_default();
                // the log also times the survey load and each renderer
                let blocks = rendered.log.iter().filter(|l| l.starts_with("block "));
                let cached = blocks.clone().filter(|l| l.ends_with(": cached")).count();
                let ran = blocks.count() - cached;
                for w in &rendered.warnings {
                    eprint!("{w}");
                }
                eprintln!(
                    "coweave preview: rendered in {seconds:.2} s ({ran} block{} ran, {cached} cached)",
                    if ran == 1 { "" } else { "s" }
                );
                let choices = choices(&req, &rendered.params);
                let mut s = shared.state();
                s.version += 1;
                s.page = Some(html);
                s.failure = None;
                s.rendering = false;
                s.choices = choices;
                News::Reload(s.version)
            }
            Err(diags) => {
                eprint!("{diags}");
                eprintln!(
                    "coweave preview: the render failed ({} error{}); showing the last good page",
                    diags.error_count(),
                    if diags.error_count() == 1 { "" } else { "s" }
                );
                let overlay = page::overlay(&diags);
                let mut s = shared.state();
                s.failure = Some(overlay.clone());
                s.rendering = false;
                News::Failed(overlay)
            }
        };
        let _ = shared.news.send(news);
    }
}

/// The parameters the page can switch: those with a list of values.
fn choices(
    req: &RenderRequest,
    values: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Vec<Choice> {
    let Ok(source) = std::fs::read_to_string(&req.template) else {
        return Vec::new();
    };
    let (doc, _) = crate::engine::parse(&req.template, &source);
    doc.front
        .params
        .iter()
        .filter_map(|(name, spec)| {
            let allowed = pipeline::param_values(&doc, spec, &req.data)?.ok()?;
            let current = match values.get(name) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            };
            Some(Choice {
                name: name.clone(),
                label: spec.label.clone().unwrap_or_else(|| name.clone()),
                values: allowed,
                current,
            })
        })
        .collect()
}

/// Opens `url` in the default browser, if there is one.
fn open_browser(url: &str) {
    let candidates: Vec<(String, Vec<String>)> = if cfg!(target_os = "macos") {
        vec![("open".into(), vec![url.into()])]
    } else if cfg!(windows) {
        vec![(
            "cmd".into(),
            vec!["/C".into(), "start".into(), String::new(), url.into()],
        )]
    } else {
        let mut c = Vec::new();
        if let Ok(b) = std::env::var("BROWSER") {
            c.push((b, vec![url.to_string()]));
        }
        c.push(("xdg-open".into(), vec![url.to_string()]));
        c
    };
    for (program, args) in candidates {
        let spawned = std::process::Command::new(&program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if spawned.is_ok() {
            return;
        }
    }
    eprintln!("coweave preview: no browser to open; open {url} yourself");
}
