//! `coweave preview` over raw HTTP: what it serves and refuses, re-renders
//! on edits, the overlay of a failed render, parameters switched from the
//! page, a taken port and Ctrl-C. (The page in a real browser:
//! tests/preview_browser.rs.)

use crate::common::preview;

use std::path::Path;

use preview::{Preview, template};

const MARKER: &str = "coweave preview: from here to </body>";

fn project(prose: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("project/img")).unwrap();
    std::fs::write(dir.path().join("project/t.md"), template(prose)).unwrap();
    std::fs::write(
        dir.path().join("project/img/logo.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    std::fs::write(dir.path().join("secret.txt"), "TOP SECRET").unwrap();
    dir
}

/// The version of the first good page, once it is there.
fn first_render(p: &Preview) -> u64 {
    let mut ev = p.events();
    ev.until("reload", |v| v != "0").parse().unwrap()
}

#[test]
fn it_serves_the_page_and_project_files_and_refuses_everything_outside() {
    let dir = project("First words.");
    let root = dir.path().join("project");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
    }
    let p = Preview::start(&root, "t.md", &[]);
    assert_eq!(first_render(&p), 1);

    let (status, page) = p.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("<title>Preview test: Bristol</title>"));
    assert!(page.contains("First words."));
    assert!(page.contains(MARKER));
    assert!(page.contains("new EventSource('/__coweave/events')"));
    // the area select, Bristol chosen
    assert!(page.contains("<option value=\"Bristol\" selected>Bristol</option>"));

    let (status, svg) = p.get("/img/logo.svg");
    assert_eq!(
        (status, svg.as_str()),
        (200, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>")
    );
    let (status, _) = p.get("/t.md");
    assert_eq!(status, 200);

    for target in [
        "/../secret.txt",
        "/img/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/img/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "//etc/passwd",
        "/C:/Windows/win.ini",
        "/./t.md",
        "/t.md%00.png",
    ] {
        let (status, body) = p.get(target);
        assert_eq!(status, 403, "{target}: {body}");
        assert!(!body.contains("TOP SECRET"), "{target}");
    }
    // an absolute-form target names the same path
    let (status, body) = p.get(&format!("http://127.0.0.1:{}/../secret.txt", p.port));
    assert_eq!(status, 403, "{body}");
    #[cfg(unix)]
    for target in ["/link.txt", "/up/secret.txt"] {
        let (status, body) = p.get(target);
        assert_eq!(status, 403, "{target}: {body}");
        assert!(!body.contains("TOP SECRET"));
    }
    // no listing of folders; absolute paths of the machine are not the project's
    for target in ["/img", "/etc/passwd", "/.coweave-cache", "/nothing.png"] {
        let (status, body) = p.get(target);
        assert_eq!(status, 404, "{target}: {body}");
    }
    let (status, body) = p.get("/img/");
    assert!(status == 403 || status == 404, "{status} {body}");
    assert!(!body.contains("logo.svg"));
    // another host name for this address (DNS rebinding) gets nothing
    let (status, body) = p.request("GET", "/", "Host: evil.example\r\n");
    assert_eq!(status, 403);
    assert!(!body.contains("First words."));
    // only reading
    let (status, _) = p.request("DELETE", "/t.md", "");
    assert_eq!(status, 405);
    assert!(root.join("t.md").exists());
}

#[test]
fn a_rendered_file_never_carries_the_preview() {
    let dir = project("Words.");
    let out = dir.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_coweave"))
        .args(["render", "project/t.md", "--out", "out", "--to", "html"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("t.html")).unwrap();
    assert!(html.contains("Words."));
    assert!(!html.contains("__coweave"));
    assert!(!html.contains("EventSource"));
    assert!(!html.contains("coweave preview"));
}

fn edit(root: &Path, prose: &str) {
    std::fs::write(root.join("t.md"), template(prose)).unwrap();
}

#[test]
fn edits_rerender_and_a_failed_render_keeps_the_last_good_page() {
    let dir = project("Version one.");
    let root = dir.path().join("project");
    let p = Preview::start(&root, "t.md", &[]);
    let v1 = first_render(&p);

    // pages that connect and go away do not disturb it
    for _ in 0..20 {
        drop(p.events());
    }
    for _ in 0..30 {
        assert_eq!(p.get("/").0, 200);
    }

    let mut ev = p.events();
    edit(&root, "Version two.");
    let v2: u64 = ev.until("reload", |v| v != v1.to_string()).parse().unwrap();
    assert_eq!(v2, v1 + 1);
    let page = p.get("/").1;
    assert!(page.contains("Version two."));
    assert!(!page.contains("Version one."));
    // the second render reused the blocks: only the prose changed
    assert!(
        p.stderr().contains("(0 blocks ran, 4 cached)"),
        "{}",
        p.stderr()
    );

    // a template saved half-written: the overlay, over the last good page
    let full = template("Version three.");
    std::fs::write(root.join("t.md"), &full[..full.len() / 2]).unwrap();
    let overlay = ev.until("failed", |_| true);
    assert!(overlay.contains("The last render failed"), "{overlay}");
    let page = p.get("/").1;
    assert!(page.contains("Version two."));
    assert!(page.contains("<div id=\"coweave-overlay\" role=\"alert\"><h2>"));

    // a broken chart kind: the overlay has the CLI's diagnostic
    std::fs::write(root.join("t.md"), full.replace("kind: bar", "kind: bra")).unwrap();
    let overlay = loop {
        let o = ev.until("failed", |_| true);
        if o.contains("bra") {
            break o;
        }
    };
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_coweave"))
        .args(["render", "t.md", "--out", "out2"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(!cli.status.success());
    let printed = String::from_utf8_lossy(&cli.stderr);
    // the CLI's diagnostic, without the count after it
    let first = printed.split("\n1 error").next().unwrap().trim_end();
    assert!(first.contains("--> t.md:"), "{printed}");
    let escaped = first
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    assert!(
        overlay.contains(&escaped),
        "overlay {overlay}\ndoes not hold {escaped}"
    );
    assert_eq!(p.get("/").0, 200);

    // fixed: a new page without the overlay
    std::fs::write(root.join("t.md"), &full).unwrap();
    let v3: u64 = ev.until("reload", |_| true).parse().unwrap();
    assert_eq!(v3, v2 + 1);
    let page = p.get("/").1;
    assert!(page.contains("Version three."));
    assert!(page.contains("<div id=\"coweave-overlay\" role=\"alert\" hidden></div>"));
}

#[test]
fn a_parameter_switched_from_the_page_rerenders_in_place() {
    let dir = project("Words.");
    let root = dir.path().join("project");
    let p = Preview::start(&root, "t.md", &["--param", "area=Swansea"]);
    let v1 = first_render(&p);
    assert!(
        p.get("/")
            .1
            .contains("<title>Preview test: Swansea</title>")
    );

    // refused: values the parameter does not allow, parameters the page
    // does not offer, requests from other sites, reading
    let (status, body) = p.request("POST", "/__coweave/params?area=Atlantis", "");
    assert_eq!(status, 400);
    assert!(
        body.contains("`Atlantis` is not a value of `area`"),
        "{body}"
    );
    assert_eq!(
        p.request("POST", "/__coweave/params?zone=Wolverhampton", "")
            .0,
        400
    );
    let (status, _) = p.request(
        "POST",
        "/__coweave/params?area=Wolverhampton",
        "Origin: http://evil.example\r\n",
    );
    assert_eq!(status, 403);
    assert_eq!(p.get("/__coweave/params?area=Wolverhampton").0, 405);

    let mut ev = p.events();
    let origin = format!("Origin: http://127.0.0.1:{}\r\n", p.port);
    let (status, _) = p.request("POST", "/__coweave/params?area=Wolverhampton", &origin);
    assert_eq!(status, 202);
    ev.until("reload", |v| v != v1.to_string());
    let page = p.get("/").1;
    assert!(page.contains("<title>Preview test: Wolverhampton</title>"));
    assert!(page.contains("<option value=\"Wolverhampton\" selected>Wolverhampton</option>"));
}

#[test]
fn a_taken_port_is_named_with_a_free_one() {
    let dir = project("Words.");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_coweave"))
        .args(["preview", "project/t.md", "--port", &port])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("error: port {port} on 127.0.0.1 is taken")),
        "{err}"
    );
    assert!(err.contains("hint: try --port "), "{err}");
}

#[test]
fn a_missing_template_is_an_error_before_anything_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_coweave"))
        .args(["preview", "nothing.md", "--port", "0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--> nothing.md"), "{err}");
    assert!(o.stdout.is_empty());
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_it_cleanly_with_a_page_connected() {
    let dir = project("Words.");
    let mut p = Preview::start(&dir.path().join("project"), "t.md", &[]);
    first_render(&p);
    let mut ev = p.events();
    ev.until("reload", |_| true);
    let sent = std::process::Command::new("kill")
        .args(["-INT", &p.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // the open stream ends, and so does the process, successfully
    while ev.next().is_some() {}
    let (status, stderr) = p.wait();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("coweave preview: stopped"), "{stderr}");
}
