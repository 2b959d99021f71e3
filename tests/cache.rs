//! The block cache gives back exactly what a fresh computation gives, and
//! re-runs exactly the blocks whose inputs changed. The reference for the
//! first test is an uncached evaluation of the same template (frames
//! compared bit for bit, JSON byte for byte); for the second, which blocks
//! read which input follows from the template below.

use std::path::{Path, PathBuf};

use coweave::pipeline::{self, Request};
use polars::prelude::*;

fn request(template: &Path, out: &Path, cache: bool) -> Request {
    Request {
        template: template.to_path_buf(),
        params: vec![],
        formats: vec![],
        out_dir: out.to_path_buf(),
        cache,
        data: Default::default(),
        exec: true,
    }
}

/// Two frames hold the same columns, dtypes and values; doubles bit for bit.
fn assert_same(a: &DataFrame, b: &DataFrame, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shape");
    for (x, y) in a.columns().iter().zip(b.columns()) {
        assert_eq!(x.name(), y.name(), "{what}: column order");
        assert_eq!(x.dtype(), y.dtype(), "{what}: `{}` dtype", x.name());
        if x.dtype().is_float() {
            let (x, y) = (
                x.cast(&DataType::Float64).unwrap(),
                y.cast(&DataType::Float64).unwrap(),
            );
            for (i, (p, q)) in x
                .f64()
                .unwrap()
                .iter()
                .zip(y.f64().unwrap().iter())
                .enumerate()
            {
                assert_eq!(
                    p.map(f64::to_bits),
                    q.map(f64::to_bits),
                    "{what}: `{}` row {i}: {p:?} vs {q:?}",
                    x.name()
                );
            }
        } else {
            assert!(
                x.as_materialized_series()
                    .equals_missing(y.as_materialized_series()),
                "{what}: `{}` differs",
                x.name()
            );
        }
    }
}

#[test]
fn a_cached_frame_is_the_computed_frame_bit_for_bit() {
    let reports = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    for name in [
        "council-briefing.md",
        "nudge-evaluation.md",
        "replication-appendix.md",
        "first-look.md",
    ] {
        let template = reports.join(name);
        let out = tempfile::tempdir().unwrap();
        // fill the cache, then read everything back from it
        pipeline::render(&request(&template, out.path(), true)).unwrap();
        let cached = pipeline::evaluate(&request(&template, out.path(), true)).unwrap();
        let ran: Vec<&String> = cached
            .evaluated
            .log
            .iter()
            .filter(|l| l.contains(": ran"))
            .collect();
        assert!(
            ran.is_empty(),
            "{name}: not everything came from the cache: {ran:?}"
        );
        let fresh = pipeline::evaluate(&request(&template, out.path(), false)).unwrap();
        let (c, f) = (&cached.evaluated.frames, &fresh.evaluated.frames);
        assert_eq!(
            c.keys().collect::<Vec<_>>(),
            f.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (k, frame) in f {
            assert_same(&c[k], frame, &format!("{name} `{k}`"));
        }
        assert_eq!(
            coweave::render::json::render(&cached.evaluated),
            coweave::render::json::render(&fresh.evaluated),
            "{name}: JSON output"
        );
    }
}

const TEMPLATE: &str = r#"---
title: Cache keys
data: { survey: survey.csv, codebook: codebook.toml, published: published.toml }
---

```{sql}
#| name: pub_areas
SELECT area, respondents FROM published_areas ORDER BY area
```

```{stats}
#| name: levels
levels: { measures: [collective], by: [area] }
```

```{sql}
#| name: from_levels
SELECT area, estimate FROM levels ORDER BY area
```

```{sql}
#| name: extra
SELECT * FROM read_csv('extra.csv')
```

```{recommend}
#| name: recs
rules: rules.toml
```
"#;

const RULES: &str = r#"
[[rule]]
id = "always"
title = "A rule that always fires"
type = "co-design"
when = "SELECT area, estimate FROM from_levels ORDER BY area LIMIT 1"
text = "Look at {{ rows[0].area }}."
evidence = "{{ rows[0].area }}: {{ rows[0].estimate | pct }}"
"#;

/// The blocks that ran, by name, after a render of `dir/t.md`.
fn ran(dir: &Path) -> Vec<String> {
    let outcome = pipeline::render(&request(&dir.join("t.md"), &dir.join("out"), true))
        .unwrap_or_else(|d| panic!("{d}"));
    let mut names: Vec<String> = outcome
        .log
        .iter()
        .filter(|l| l.contains(": ran"))
        .filter_map(|l| Some(l.split('`').nth(1)?.to_string()))
        .collect();
    names.sort();
    names
}

/// A folder with the template above and every input it reads.
fn project() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(root.join("data/survey.csv"), d.join("survey.csv")).unwrap();
    std::fs::copy(root.join("data/codebook.toml"), d.join("codebook.toml")).unwrap();
    std::fs::copy(
        root.join("data/published_tables.toml"),
        d.join("published.toml"),
    )
    .unwrap();
    std::fs::write(d.join("rules.toml"), RULES).unwrap();
    std::fs::write(d.join("extra.csv"), "a,b\n1,x\n").unwrap();
    std::fs::write(d.join("t.md"), TEMPLATE).unwrap();
    dir
}

fn append(path: PathBuf, text: &str) {
    let mut s = std::fs::read_to_string(&path).unwrap();
    s.push_str(text);
    std::fs::write(path, s).unwrap();
}

#[test]
fn each_input_reruns_exactly_the_blocks_that_read_it() {
    let dir = project();
    let d = dir.path();
    let all = ["extra", "from_levels", "levels", "pub_areas", "recs"];
    assert_eq!(ran(d), all, "first render");
    assert!(ran(d).is_empty(), "nothing changed");

    // the rules file: only the block that reads it
    append(d.join("rules.toml"), "# edited\n");
    assert_eq!(ran(d), ["recs"]);
    // a file read from SQL
    std::fs::write(d.join("extra.csv"), "a,b\n2,y\n").unwrap();
    assert_eq!(ran(d), ["extra", "recs"]);
    // the published tables: what reads them (recommendations may read any result)
    append(d.join("published.toml"), "\n# edited\n");
    assert_eq!(ran(d), ["pub_areas", "recs"]);
    // the codebook and the data: what reads the survey, directly or not
    append(d.join("codebook.toml"), "\n# edited\n");
    assert_eq!(ran(d), ["from_levels", "levels", "recs"]);
    let survey = std::fs::read_to_string(d.join("survey.csv")).unwrap();
    let mut lines: Vec<&str> = survey.lines().collect();
    let last = lines.pop().unwrap();
    std::fs::write(d.join("survey.csv"), lines.join("\n") + "\n").unwrap();
    assert!(!last.is_empty());
    assert_eq!(ran(d), ["from_levels", "levels", "recs"]);
    // a block's own code: it and what reads it
    let t = std::fs::read_to_string(d.join("t.md")).unwrap().replace(
        "SELECT area, estimate FROM levels",
        "SELECT area, estimate, n FROM levels",
    );
    std::fs::write(d.join("t.md"), t).unwrap();
    assert_eq!(ran(d), ["from_levels", "recs"]);
    assert!(ran(d).is_empty());
}

#[test]
fn verbose_says_why_a_block_ran() {
    let dir = project();
    let d = dir.path();
    ran(d);
    std::fs::write(d.join("extra.csv"), "a,b\n3,z\n").unwrap();
    let outcome = pipeline::render(&request(&d.join("t.md"), &d.join("out"), true)).unwrap();
    let line = outcome.log.iter().find(|l| l.contains("`extra`")).unwrap();
    assert!(
        line.contains("input changed: file") && line.contains("extra.csv"),
        "{line}"
    );
}
