//! Which file a request path names, if the preview may serve it: files in
//! the project (the template's folder) and nothing else. The path is
//! percent-decoded once, then refused if any segment could climb out or
//! name something outside (`..`, `.`, empty segments from `//`, drive
//! letters, backslashes, NUL), if a segment is hidden (`.git`, the block
//! cache), or if the file, symlinks resolved, lies outside the project.
//! Folders are never listed.

use std::path::{Path, PathBuf};

/// Why a path is not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It would leave the project or is not a plain relative path (403).
    Outside,
    /// No such file in the project, a folder, or a hidden file (404).
    NotFound,
    /// Not valid percent-encoded UTF-8 (400).
    Malformed,
}

/// The file under `root` (canonical) that the raw request path `raw` (as
/// sent, percent-encoded, without the query) names.
pub fn resolve(root: &Path, raw: &str) -> Result<PathBuf, Refusal> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| Refusal::Malformed)?;
    let Some(rest) = decoded.strip_prefix('/') else {
        // an absolute-form or authority-form target, or a bare name
        return Err(Refusal::Outside);
    };
    if rest.contains(['\\', '\0']) {
        return Err(Refusal::Outside);
    }
    let mut path = root.to_path_buf();
    for segment in rest.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains(':') {
            return Err(Refusal::Outside);
        }
        if segment.starts_with('.') {
            return Err(Refusal::NotFound);
        }
        path.push(segment);
    }
    // symlinks resolved: the file itself must be inside the project
    let real = path.canonicalize().map_err(|_| Refusal::NotFound)?;
    if !real.starts_with(root) {
        return Err(Refusal::Outside);
    }
    if !real.is_file() {
        return Err(Refusal::NotFound);
    }
    Ok(real)
}

/// The content type of a file the preview serves, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("json") => "application/json",
        Some("csv") => "text/csv; charset=utf-8",
        Some("md" | "txt" | "toml") => "text/plain; charset=utf-8",
        Some("pdf") => "application/pdf",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        std::fs::create_dir_all(root.join("img")).unwrap();
        std::fs::write(root.join("img/logo.svg"), "<svg/>").unwrap();
        std::fs::write(root.join(".secret"), "x").unwrap();
        std::fs::write(dir.path().join("outside.txt"), "x").unwrap();
        let root = root.canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn a_file_in_the_project_is_served() {
        let (_d, root) = project();
        assert_eq!(
            resolve(&root, "/img/logo.svg").unwrap(),
            root.join("img/logo.svg")
        );
        assert_eq!(
            resolve(&root, "/img/%6Cogo.svg").unwrap(),
            root.join("img/logo.svg")
        );
    }

    #[test]
    fn climbing_out_is_refused_however_spelled() {
        let (_d, root) = project();
        for raw in [
            "/../outside.txt",
            "/img/../../outside.txt",
            "/%2e%2e/outside.txt",
            "/%2E%2E%2Foutside.txt",
            "/img/..%2f..%2foutside.txt",
            "/..%5coutside.txt",
            "//etc/passwd",
            "/C:/Windows/win.ini",
            "/./img/logo.svg",
            "/img/logo.svg%00.png",
            "http://example.com/img/logo.svg",
        ] {
            assert_eq!(resolve(&root, raw), Err(Refusal::Outside), "{raw}");
        }
    }

    #[test]
    fn folders_hidden_files_and_missing_files_are_not_found() {
        let (_d, root) = project();
        for raw in ["/img", "/img/", "/.secret", "/nothing.png"] {
            assert!(resolve(&root, raw).is_err(), "{raw}");
        }
        assert_eq!(resolve(&root, "/img"), Err(Refusal::NotFound));
        assert_eq!(resolve(&root, "/.secret"), Err(Refusal::NotFound));
        assert_eq!(resolve(&root, "/%ff"), Err(Refusal::Malformed));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_out_of_the_project_is_refused() {
        let (dir, root) = project();
        std::os::unix::fs::symlink(dir.path().join("outside.txt"), root.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
        assert_eq!(resolve(&root, "/link.txt"), Err(Refusal::Outside));
        assert_eq!(resolve(&root, "/up/outside.txt"), Err(Refusal::Outside));
        // a symlink that stays inside is fine
        std::os::unix::fs::symlink(root.join("img/logo.svg"), root.join("logo.svg")).unwrap();
        assert_eq!(
            resolve(&root, "/logo.svg").unwrap(),
            root.join("img/logo.svg")
        );
    }
}
