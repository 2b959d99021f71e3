//! `coweave render`: the parameter matrix (`--each`, `--params FILE.csv`,
//! `--param`), its shard, and the renders run in parallel with progress.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{RenderArgs, report};
use crate::diag::{Diagnostic, Diagnostics};
use crate::pipeline::{self, Outcome, Request};
use crate::render::Format;

/// One output of the matrix: a template and its parameters, in the order
/// its file name carries them.
type Job = (PathBuf, Vec<(String, String)>);

/// `--shard I/N`, 1-based.
pub(super) fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{s}` is not I/N (e.g. 2/8: the second of eight slices)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(format!(
            "`{s}`: I must be between 1 and N, and N at least 1"
        ));
    }
    Ok((i, n))
}

/// The I-th of N contiguous slices of `len` items, sizes differing by at
/// most one; the N slices partition `0..len`.
pub fn shard_range(len: usize, (i, n): (usize, usize)) -> std::ops::Range<usize> {
    (i - 1) * len / n..i * len / n
}

/// Rows of a `--params` CSV file: header = parameter names; an empty cell
/// leaves the parameter out (its default).
fn read_params_file(path: &Path) -> Result<Vec<Vec<(String, String)>>, Diagnostics> {
    let at = |msg: String, line: Option<usize>| {
        Diagnostics::from(Diagnostic::error(msg).at(path, line, None))
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| at(format!("cannot read the parameters file: {e}"), None))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| {
            at(
                format!("cannot read the parameters file's header: {e}"),
                Some(1),
            )
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.is_empty() || header.iter().any(String::is_empty) {
        return Err(at(
            "the header names the parameters and has no empty names".into(),
            Some(1),
        ));
    }
    if let Some(twice) = header
        .iter()
        .enumerate()
        .find(|(i, h)| header[..*i].contains(h))
    {
        return Err(at(format!("parameter `{}` named twice", twice.1), Some(1)));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            at(format!("malformed row: {e}"), line)
        })?;
        let row: Vec<(String, String)> = header
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.trim().to_string()))
            .collect();
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(at("the parameters file has no rows".into(), None));
    }
    Ok(rows)
}

/// Every output to render: for each template, each row of `--params` (or
/// the `--param` values alone) times every combination of the `--each`
/// parameters' values. Templates found in `reports/` (none named) skip the
/// varying parameters they do not declare; a named template must declare
/// them all.
fn matrix(
    args: &RenderArgs,
    templates: &[PathBuf],
    named: bool,
    data: &crate::document::DataSpec,
) -> Result<Vec<Job>, Diagnostics> {
    let rows = match &args.params_file {
        Some(path) => read_params_file(path)?,
        None => vec![Vec::new()],
    };
    for (i, param) in args.each.iter().enumerate() {
        if args.each[..i].contains(param) {
            return Err(Diagnostic::error(format!("--each {param} is given twice")).into());
        }
    }
    let mut jobs: Vec<Job> = Vec::new();
    // what some template declares, to catch a misspelt parameter
    let mut known: Vec<String> = Vec::new();
    for template in templates {
        let doc = match pipeline::parse_template(template) {
            Ok(doc) => doc,
            // a template that does not parse renders once, which reports
            // every problem it has
            Err(_) => {
                jobs.push((template.clone(), args.params.clone()));
                continue;
            }
        };
        let declared: Vec<String> = doc.front.params.keys().cloned().collect();
        known.extend(declared.iter().cloned());
        let mut axes: Vec<(String, Vec<String>)> = Vec::new();
        for param in &args.each {
            if !named && !declared.contains(param) {
                continue;
            }
            axes.push((param.clone(), pipeline::each_values_of(&doc, param, data)?));
        }
        for row in &rows {
            let row: Vec<&(String, String)> = row
                .iter()
                .filter(|(k, _)| named || declared.contains(k))
                .collect();
            for combo in product(&axes) {
                // --param, then the row's, then --each's: later ones win
                let varying: Vec<(String, String)> =
                    row.iter().map(|p| (*p).clone()).chain(combo).collect();
                let mut params: Vec<(String, String)> = args
                    .params
                    .iter()
                    .filter(|(k, _)| !varying.iter().any(|(v, _)| v == k))
                    .cloned()
                    .collect();
                params.extend(varying);
                // a parameter set twice (a CSV column also given to --each)
                // keeps its last value, which is the one the render takes
                let mut kept: Vec<(String, String)> = Vec::new();
                for (k, v) in params.into_iter().rev() {
                    if !kept.iter().any(|(seen, _)| *seen == k) {
                        kept.push((k, v));
                    }
                }
                kept.reverse();
                let job = (template.clone(), kept);
                // rows that differ only in what this template does not declare
                if !jobs.contains(&job) {
                    jobs.push(job);
                }
            }
        }
    }
    if !named {
        known.sort();
        known.dedup();
        let names: Vec<&str> = known.iter().map(String::as_str).collect();
        let csv_columns = rows.iter().flatten().map(|(k, _)| k);
        for param in args.each.iter().chain(csv_columns) {
            if !known.contains(param) {
                return Err(Diagnostic::error(format!(
                    "no template in reports/ has a parameter `{param}`"
                ))
                .hint(match crate::diag::closest(param, &names) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("parameters: {}", known.join(", ")),
                })
                .into());
            }
        }
    }
    Ok(jobs)
}

/// Every combination of the axes' values, the first axis slowest.
fn product(axes: &[(String, Vec<String>)]) -> Vec<Vec<(String, String)>> {
    let mut out = vec![Vec::new()];
    for (name, values) in axes {
        out = out
            .into_iter()
            .flat_map(|prefix: Vec<(String, String)>| {
                values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push((name.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    out
}

/// `template (k=v, ...)`, for messages.
fn describe(template: &Path, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return template.display().to_string();
    }
    let p: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{} ({})", template.display(), p.join(", "))
}

pub(super) fn run_render(args: &RenderArgs) -> Result<ExitCode, Diagnostics> {
    let mut formats = Vec::new();
    for f in args.to.split(',').filter(|f| !f.trim().is_empty()) {
        match Format::parse(f) {
            Some(fmt) => formats.push(fmt),
            None => {
                return Err(
                    Diagnostic::error(format!("unknown output format `{}`", f.trim()))
                        .hint("formats: html, json, pdf, typ, ipynb, docx")
                        .into(),
                );
            }
        }
    }
    if args.jobs == Some(0) {
        return Err(
            Diagnostic::error("--jobs 0: at least one output has to render at a time").into(),
        );
    }
    let named = !args.templates.is_empty();
    let templates: Vec<PathBuf> = if named {
        args.templates.clone()
    } else {
        let mut found: Vec<PathBuf> = std::fs::read_dir("reports")
            .map_err(|e| {
                Diagnostics::from(Diagnostic::error(format!(
                    "no templates given and cannot read reports/: {e}"
                )))
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        found.sort();
        found
    };
    let data = args.sources.spec();
    let jobs = matrix(args, &templates, named, &data)?;
    let requests: Vec<Request> = jobs
        .iter()
        .map(|(template, params)| Request {
            template: template.clone(),
            params: params.clone(),
            formats: formats.clone(),
            out_dir: args.out.clone(),
            cache: !args.no_cache,
            data: data.clone(),
            exec: !args.no_exec,
        })
        .collect();
    // outputs never overwrite each other: names carry the values
    let mut owner: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for (i, req) in requests.iter().enumerate() {
        let path = pipeline::output_path(req, formats.first().copied().unwrap_or(Format::Html));
        if let Some(&j) = owner.get(&path) {
            let (a, b) = (&jobs[j], &jobs[i]);
            return Err(Diagnostic::error(format!(
                "two outputs would both be written to {}: {} and {}",
                path.display(),
                describe(&a.0, &a.1),
                describe(&b.0, &b.1)
            ))
            .hint(
                "a parameter value appears twice, or two values differ only in case or punctuation",
            )
            .into());
        }
        owner.insert(path, i);
    }
    let slice = match args.shard {
        Some(shard) => shard_range(requests.len(), shard),
        None => 0..requests.len(),
    };
    let requests = &requests[slice.clone()];
    let jobs_here = &jobs[slice];
    if let Some((i, n)) = args.shard {
        eprintln!(
            "shard {i}/{n}: {} of the {} outputs",
            requests.len(),
            jobs.len()
        );
    }
    let threads = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    // a bar on a terminal; plain lines in logs (CI, job arrays)
    let bar = (std::io::stderr().is_terminal() && !args.verbose && requests.len() > 1).then(|| {
        let bar = indicatif::ProgressBar::new(requests.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} outputs, {elapsed} elapsed, about {eta} to go",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let started = std::time::Instant::now();
    let done = |i: usize, result: &Result<Outcome, Diagnostics>| {
        let (template, params) = &jobs_here[i];
        let print = || {
            let mut err = std::io::stderr().lock();
            match result {
                Ok(outcome) => {
                    if args.verbose {
                        for line in &outcome.log {
                            let _ = writeln!(err, "  {line}");
                        }
                    }
                    for w in &outcome.warnings {
                        let _ = write!(err, "{w}");
                    }
                    if bar.is_none() {
                        let files: Vec<String> = outcome
                            .files
                            .iter()
                            .map(|f| f.display().to_string())
                            .collect();
                        let _ = writeln!(
                            err,
                            "rendered {} -> {}",
                            describe(template, params),
                            files.join(", ")
                        );
                    }
                }
                Err(d) => {
                    drop(err);
                    report(d);
                    eprintln!(
                        "failed: {} (previous outputs left untouched)",
                        describe(template, params)
                    );
                }
            }
        };
        match &bar {
            Some(bar) => {
                if result.is_err() || result.as_ref().is_ok_and(|o| !o.warnings.is_empty()) {
                    bar.suspend(print);
                }
                bar.inc(1);
            }
            None => print(),
        }
    };
    let results = pipeline::render_batch(requests, threads, &done);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let failed: Vec<String> = results
        .iter()
        .zip(jobs_here)
        .filter(|(r, _)| r.is_err())
        .map(|(_, (t, p))| describe(t, p))
        .collect();
    if requests.len() > 1 || args.verbose {
        eprintln!(
            "{} of {} outputs rendered in {:.1} s ({} at a time){}",
            requests.len() - failed.len(),
            requests.len(),
            started.elapsed().as_secs_f64(),
            threads.min(requests.len().max(1)),
            if failed.is_empty() {
                String::new()
            } else {
                format!("; failed: {}", failed.join("; "))
            }
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_matrix() {
        for len in 0..40 {
            for n in 1..12 {
                let mut next = 0;
                for i in 1..=n {
                    let r = shard_range(len, (i, n));
                    assert_eq!(r.start, next, "len {len}, {i}/{n}");
                    assert!(r.len() == len / n || r.len() == len / n + 1);
                    next = r.end;
                }
                assert_eq!(next, len);
            }
        }
    }

    #[test]
    fn shard_arguments_are_checked() {
        assert_eq!(parse_shard("2/8"), Ok((2, 8)));
        for bad in ["0/3", "4/3", "1/0", "x/2", "2", "1/2/3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn product_varies_the_last_axis_fastest() {
        let axes = vec![
            ("a".to_string(), vec!["1".to_string(), "2".to_string()]),
            (
                "b".to_string(),
                vec!["x".to_string(), "y".to_string(), "z".to_string()],
            ),
        ];
        let p = product(&axes);
        assert_eq!(p.len(), 6);
        assert_eq!(
            p[1],
            vec![("a".into(), "1".into()), ("b".into(), "y".into())]
        );
        assert_eq!(product(&[]), vec![Vec::<(String, String)>::new()]);
    }
}
