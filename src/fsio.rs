//! Writing outputs atomically: a failed write never destroys the previous
//! good file (write to a temporary file beside it, then rename).

use std::io::{self, Write};
use std::path::Path;

/// Writes `path` through `fill`; the file appears only if `fill` succeeds.
pub fn write_atomic<T>(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".coweave-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let value = {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        let v = fill(&mut w)?;
        w.flush()?;
        v
    };
    // temporary files are private (0600); outputs are ordinary files
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(value)
}

/// `rel` (a path a template names) resolved against `base` (the template's
/// folder), when it lies inside the project: the template's folder or the
/// folder coweave runs in, symbolic links followed. A template someone
/// else wrote cannot read (and publish) a file from elsewhere on the
/// machine; a path typed on the command line may be anywhere.
pub fn inside_project(base: &Path, rel: &str) -> Result<std::path::PathBuf, String> {
    let path = base.join(rel);
    let cwd = std::env::current_dir().unwrap_or_else(|_| Path::new(".").to_path_buf());
    let resolve = |p: &Path| -> std::path::PathBuf {
        let absolute = if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        };
        // an existing file or folder with its links followed; a missing one
        // (its read fails later, with its own message) as written, with
        // `.` and `..` taken away
        absolute.canonicalize().unwrap_or_else(|_| {
            let mut out = std::path::PathBuf::new();
            for c in absolute.components() {
                match c {
                    std::path::Component::ParentDir => {
                        out.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => out.push(other),
                }
            }
            out
        })
    };
    let target = resolve(&path);
    let roots = [resolve(base), resolve(&cwd)];
    if roots.iter().any(|r| target.starts_with(r)) {
        Ok(path)
    } else {
        let folders = if roots[0] == roots[1] {
            format!(
                "its own folder ({}), where coweave runs",
                roots[0].display()
            )
        } else {
            format!(
                "its own folder ({}) or the folder coweave runs in ({})",
                roots[0].display(),
                roots[1].display()
            )
        };
        Err(format!(
            "`{rel}` is outside the project: a template reads files only inside {folders}"
        ))
    }
}

/// The hint for a path outside the project.
pub const OUTSIDE_HINT: &str = "copy the file into the project, run coweave from a folder that contains it, or name the data on the command line (--data, --codebook, --published), which may be anywhere";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, |w| w.write_all(b"good")).unwrap();
        let err = write_atomic(&path, |w| {
            w.write_all(b"half")?;
            Err::<(), _>(io::Error::other("boom"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "good");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary file left behind");
    }

    #[test]
    fn paths_outside_the_template_folder_and_the_working_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("reports");
        std::fs::create_dir_all(base.join("data")).unwrap();
        std::fs::write(base.join("data/x.csv"), "a\n1\n").unwrap();
        assert!(inside_project(&base, "data/x.csv").is_ok());
        assert!(inside_project(&base, "./data/../data/x.csv").is_ok());
        assert!(inside_project(&base, "missing.csv").is_ok());
        let err = inside_project(&base, "../../../../../../etc/passwd").unwrap_err();
        assert!(err.contains("outside the project"), "{err}");
        assert!(inside_project(&base, "/etc/passwd").is_err());
        // the working folder counts: the repository, where the tests run
        let cwd = std::env::current_dir().unwrap();
        assert!(inside_project(&base, &cwd.join("Cargo.toml").display().to_string()).is_ok());
        // a link inside the project to a file outside it is outside
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/hostname", base.join("data/link")).unwrap();
            assert!(inside_project(&base, "data/link").is_err());
        }
    }
}
