//! One Rust evaluation session through evcxr: cells run in order in a child
//! process (this binary again, see `main`), sharing variables and items like
//! notebook cells. Used by `{rust}` blocks and by `coweave notebook run`.
//!
//! What a cell printed is collected beside what it displayed (evcxr's
//! `EVCXR_BEGIN_CONTENT` protocol: a final expression's `evcxr_display`, or
//! its `Debug` text). A panic is reported through a hook installed at the
//! start, on standard output, which evcxr delivers in order with the cell.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use evcxr::{CommandContext, Error};

/// Marks a panic message on standard output (one line, escaped newlines).
const PANIC_MARK: &str = "COWEAVE_CELL_PANIC ";

/// A live session.
pub struct Session {
    ctx: CommandContext,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// What a cell produced.
#[derive(Debug, Default, Clone)]
pub struct CellRun {
    /// What it printed on standard output.
    pub stdout: String,
    /// What it printed on standard error (best effort: the child's standard
    /// error is not ordered with the cell's end).
    pub stderr: String,
    /// What it displayed, by MIME type (`text/plain`, `text/html`, `image/svg+xml`).
    pub content: BTreeMap<String, String>,
}

/// Why a cell failed.
#[derive(Debug, Clone)]
pub enum Failure {
    /// rustc rejected it.
    Compile(Vec<RustcError>),
    /// It panicked, with this message.
    Panic(String),
    /// The session could not run it (the child died, a `:dep` failed).
    Other(String),
}

/// One rustc error in a cell.
#[derive(Debug, Clone)]
pub struct RustcError {
    /// rustc's message (`mismatched types`).
    pub message: String,
    /// Its code (`E0308`).
    pub code: Option<String>,
    /// 1-based line and column in the cell's code, when rustc points into it.
    pub at: Option<(usize, usize)>,
    /// rustc's labels on the code and its help lines.
    pub notes: Vec<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Compile(errors) => {
                let lines: Vec<String> = errors.iter().map(RustcError::headline).collect();
                write!(f, "{}", lines.join("; "))
            }
            Failure::Panic(m) => write!(f, "the cell panicked: {m}"),
            Failure::Other(m) => write!(f, "{m}"),
        }
    }
}

impl RustcError {
    /// `error[E0308]: mismatched types`.
    pub fn headline(&self) -> String {
        match &self.code {
            Some(c) => format!("error[{c}]: {}", self.message),
            None => format!("error: {}", self.message),
        }
    }
}

impl Session {
    /// Starts the child process and installs the panic hook.
    pub fn start() -> Result<Session, String> {
        let failed = |e: &dyn std::fmt::Display| {
            format!(
                "could not start the Rust session (evcxr, with the rustc and cargo on PATH): {e}"
            )
        };
        let exe = std::env::current_exe().map_err(|e| failed(&e))?;
        let mut child = std::process::Command::new(exe);
        // cells are built as dylibs against the toolchain's libstd; their
        // relative rpath breaks when the build folder shares a prefix with
        // the toolchain (both under $HOME), so the child is told where it is
        if let Some(dir) = std_dylib_dir() {
            let mut path = std::ffi::OsString::from(dir);
            if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
                path.push(":");
                path.push(old);
            }
            child.env("LD_LIBRARY_PATH", path);
        }
        let (eval, outputs) =
            evcxr::EvalContext::with_subprocess_command(child).map_err(|e| failed(&e))?;
        let ctx = CommandContext::with_eval_context(eval);
        let stdout = collect(outputs.stdout);
        let stderr = collect(outputs.stderr);
        let mut session = Session {
            ctx,
            stdout,
            stderr,
        };
        let hook = format!(
            "std::panic::set_hook(Box::new(|info: &std::panic::PanicHookInfo<'_>| {{ \
                let m = info.payload().downcast_ref::<&str>().map(|s| s.to_string()) \
                    .or_else(|| info.payload().downcast_ref::<String>().cloned()) \
                    .unwrap_or_else(|| \"a panic without a message\".to_string()); \
                println!(\"{PANIC_MARK}{{}}\", m.replace('\\\\', \"\\\\\\\\\").replace('\\n', \"\\\\n\")); \
            }}));"
        );
        match session.run(&hook) {
            (_, None) => Ok(session),
            (_, Some(f)) => Err(format!("could not prepare the Rust session: {f}")),
        }
    }

    /// Runs one cell (Rust code, or evcxr commands such as `:dep`).
    pub fn run(&mut self, code: &str) -> (CellRun, Option<Failure>) {
        if code.lines().any(|l| l.trim_start().starts_with(":dep")) {
            seed_lock();
        }
        let result = self.ctx.execute(code);
        // evcxr returns once its stdout channel is drained; the collector
        // holds its lock from taking a line to storing it, so this sees all
        let lines = std::mem::take(&mut *lock(&self.stdout));
        let stderr = std::mem::take(&mut *lock(&self.stderr));
        let mut run = CellRun {
            stderr: join(&stderr),
            ..CellRun::default()
        };
        let mut panic = None;
        let mut out = Vec::new();
        for line in lines {
            match line.strip_prefix(PANIC_MARK) {
                Some(m) => panic = Some(unescape(m)),
                None => out.push(line),
            }
        }
        run.stdout = join(&out);
        let failure = match result {
            Ok(o) => {
                run.content = o.content_by_mime_type.into_iter().collect();
                panic.map(Failure::Panic)
            }
            Err(Error::CompilationErrors(errors)) => {
                let mut list: Vec<RustcError> = errors
                    .iter()
                    .filter(|e| e.level() == "error")
                    .map(rustc_error)
                    .collect();
                if list.is_empty() {
                    list = errors.iter().map(rustc_error).collect();
                }
                Some(Failure::Compile(list))
            }
            Err(e) => Some(Failure::Other(e.to_string())),
        };
        (run, failure)
    }
}

/// Gives evcxr's build folder coweave's own Cargo.lock before a cell with
/// `:dep` builds (every build without the crates prunes the lock), so that
/// `:dep coweave` builds polars and the rest with exactly the versions
/// coweave is tested with, not whatever is newest that day. Crates a
/// notebook adds resolve on top of it.
fn seed_lock() {
    let Some(dir) = std::env::var_os("EVCXR_TMPDIR").map(std::path::PathBuf::from) else {
        return;
    };
    let lock = crate::bundled::CARGO_LOCK;
    let path = dir.join("Cargo.lock");
    if std::fs::read_to_string(&path).is_ok_and(|l| l == lock) {
        return;
    }
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = crate::fsio::write_atomic(&path, |w| std::io::Write::write_all(w, lock.as_bytes()));
    }
}

/// The folder of the toolchain's `libstd-*.so`.
fn std_dylib_dir() -> Option<std::path::PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = |args: &[&str]| {
        std::process::Command::new(&rustc)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
    };
    let sysroot = output(&["--print", "sysroot"])?;
    let host = output(&["-vV"])?
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))?;
    let dir = std::path::Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(host.trim())
        .join("lib");
    dir.is_dir().then_some(dir)
}

fn rustc_error(e: &evcxr::CompilationError) -> RustcError {
    let primary = e.primary_spanned_message();
    let at = primary
        .and_then(|m| m.span)
        .map(|s| (s.start_line, s.start_column));
    let mut notes: Vec<String> = e
        .spanned_messages()
        .iter()
        .map(|m| m.label.clone())
        .filter(|l| !l.is_empty() && !l.starts_with("error: "))
        .collect();
    notes.extend(e.help().into_iter().map(|h| format!("help: {h}")));
    if let Some(h) = e.evcxr_extra_hint() {
        notes.push(h.to_string());
    }
    RustcError {
        message: e.message(),
        code: e.code().map(str::to_string),
        at,
        notes,
    }
}

fn lock(m: &Mutex<Vec<String>>) -> std::sync::MutexGuard<'_, Vec<String>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A thread that moves lines from evcxr's channel into a buffer, holding
/// the buffer's lock from the moment a line leaves the channel until it is
/// stored (so that an empty channel means every line is in the buffer).
fn collect(rx: crossbeam_channel::Receiver<String>) -> Arc<Mutex<Vec<String>>> {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&buffer);
    std::thread::spawn(move || {
        loop {
            let mut select = crossbeam_channel::Select::new();
            select.recv(&rx);
            select.ready();
            let mut held = lock(&sink);
            loop {
                match rx.try_recv() {
                    Ok(line) => held.push(line),
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => return,
                }
            }
        }
    });
    buffer
}

fn join(lines: &[String]) -> String {
    let mut s = lines.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

/// The folder evcxr builds in: `EVCXR_TMPDIR` when set; otherwise the
/// first free slot under the user's cache folder, so that a notebook's
/// `:dep` crates are compiled once and reused by later runs, and two
/// coweave processes never build in the same folder. Call before any thread
/// starts (it sets the environment variable evcxr reads).
pub fn claim_build_dir() {
    if std::env::var_os("EVCXR_TMPDIR").is_some() {
        return;
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache")));
    let Some(base) = base.map(|b| b.join("coweave").join("evcxr")) else {
        return;
    };
    if std::fs::create_dir_all(&base).is_err() {
        return;
    }
    for slot in 0..16 {
        let Ok(file) = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(base.join(format!("slot-{slot}.lock")))
        else {
            return;
        };
        if file.try_lock().is_ok() {
            // held until the process ends
            std::mem::forget(file);
            let dir = base.join(format!("slot-{slot}"));
            // SAFETY: called from `main` before any other thread exists
            unsafe { std::env::set_var("EVCXR_TMPDIR", dir) };
            return;
        }
    }
}
