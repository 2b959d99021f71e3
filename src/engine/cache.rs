//! The block cache: a block's output is stored under a key made of its
//! code, its options, the keys of the frames it reads (the data and
//! codebook hash for the survey frames, the published file's hash for the
//! published tables, the producing block's key for results), the content of
//! the files it reads (rules files, files named in SQL) and the identity of
//! the coweave build (a hash of its sources, `build.rs`). A changed input
//! thus invalidates exactly the blocks that read it, directly or through
//! other blocks. Frames are stored as Parquet, so a cached frame is the
//! computed frame bit for bit.
//!
//! Entries are found by key alone (a key names one output whatever
//! template, parameter value or render asked for it), so the renders of a
//! batch share the blocks that do not depend on what varies between them,
//! and many renders may use one cache directory at once. The index only
//! remembers, per template block, what its last run depended on, to say why
//! a block runs again. [`Memo`] does the same sharing in memory within one
//! process, for renders without the cache.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

use super::{BlockOutput, CellOut, FigureOut, Handed, Shown, TableOut, frames};
use crate::diag::{Diagnostic, Warned};
use crate::document::Block;

/// A cache directory and what it held when opened.
pub struct Cache {
    dir: PathBuf,
    index: BTreeMap<String, Value>,
    /// Index entries this render wrote (merged into the file's on save).
    written: BTreeSet<String>,
}

/// Serialises index saves within the process (each merges into the file).
static SAVING: Mutex<()> = Mutex::new(());

/// A block run's result as a batch shares it: the output with its warnings,
/// or the engine's error.
pub type Run = Result<Warned<BlockOutput>, Diagnostic>;

/// Block results computed in this process, by key: the renders of one batch
/// compute a block they share once (a render that needs a block another
/// render is computing waits for it).
#[derive(Default)]
pub struct Memo {
    runs: Mutex<HashMap<String, Arc<OnceLock<Run>>>>,
}

impl Memo {
    /// `key`'s result, computed by `run` if no render of this process has
    /// computed it; and whether it was computed here.
    pub fn get_or_run(&self, key: &str, run: impl FnOnce() -> Run) -> (Run, bool) {
        let cell = self
            .runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key.to_string())
            .or_default()
            .clone();
        let mut here = false;
        let out = cell.get_or_init(|| {
            here = true;
            run()
        });
        (out.clone(), here)
    }
}

/// The identity of this build: version and a hash of its sources.
pub const BUILD: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("COWEAVE_BUILD_ID"));

/// The key of a block run.
pub fn block_key(block: &Block, body: &str, inputs: &[(String, String)], min_base: u32) -> String {
    let mut h = blake3::Hasher::new();
    h.update(BUILD.as_bytes());
    h.update(block.engine.as_bytes());
    h.update(body.as_bytes());
    let options: BTreeMap<&String, &Value> =
        block.options.iter().map(|(k, v)| (k, &v.value)).collect();
    h.update(
        serde_json::to_string(&options)
            .unwrap_or_default()
            .as_bytes(),
    );
    h.update(&min_base.to_le_bytes());
    for (name, key) in inputs {
        h.update(name.as_bytes());
        h.update(key.as_bytes());
    }
    h.finalize().to_hex()[..32].to_string()
}

impl Cache {
    /// Opens (or starts) a cache in `dir`.
    pub fn open(dir: &Path) -> Cache {
        let index = std::fs::read_to_string(dir.join("index.json"))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        Cache {
            dir: dir.to_path_buf(),
            index,
            written: BTreeSet::new(),
        }
    }

    /// The stored output under `key`, whichever render stored it.
    pub fn get(&self, key: &str) -> Option<BlockOutput> {
        let text = std::fs::read_to_string(self.dir.join(format!("{key}.json"))).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        let frame = || {
            std::fs::read(self.dir.join(format!("{key}.parquet")))
                .ok()
                .and_then(|b| frames::from_parquet(&b).ok())
        };
        match v.get("kind")?.as_str()? {
            "frame" => Some(BlockOutput::Frame {
                frame: frame()?,
                keys: serde_json::from_value(v.get("keys")?.clone()).ok()?,
            }),
            "table" => Some(BlockOutput::Table(table_from(v.get("table")?)?)),
            "figure" => Some(BlockOutput::Figure(figure_from(v.get("figure")?)?)),
            "prose" => Some(BlockOutput::Prose {
                markdown: v.get("markdown")?.as_str()?.to_string(),
                frame: frame()?,
            }),
            "cell" => {
                let shown: Vec<Shown> = serde_json::from_value(v.get("shown")?.clone()).ok()?;
                let mut handed = Vec::new();
                for (i, h) in v.get("handed")?.as_array()?.iter().enumerate() {
                    let bytes = std::fs::read(self.dir.join(format!("{key}-{i}.parquet"))).ok()?;
                    handed.push(Handed {
                        name: h.get("name")?.as_str()?.to_string(),
                        scalar: h.get("scalar")?.as_bool()?,
                        frame: frames::from_parquet(&bytes).ok()?,
                    });
                }
                Some(BlockOutput::Cell(CellOut { shown, handed }))
            }
            _ => None,
        }
    }

    /// Why `ident` has to run: no entry, its code changed, or an input changed.
    pub fn why(&self, ident: &str, body: &str, inputs: &[(String, String)]) -> String {
        let Some(entry) = self.index.get(ident) else {
            return "not in the cache".into();
        };
        let body_hash = blake3::hash(body.as_bytes()).to_hex().to_string();
        if entry.get("body").and_then(Value::as_str) != Some(body_hash.as_str()) {
            return "its code changed".into();
        }
        let old: BTreeMap<String, String> = entry
            .get("inputs")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let changed: Vec<&str> = inputs
            .iter()
            .filter(|(n, k)| old.get(n) != Some(k))
            .map(|(n, _)| n.as_str())
            .collect();
        if changed.is_empty() {
            "its options, the disclosure threshold or coweave changed".into()
        } else {
            format!("input changed: {}", changed.join(", "))
        }
    }

    /// Stores an output; an error says why it could not be stored.
    pub fn put(
        &mut self,
        ident: &str,
        key: &str,
        body: &str,
        inputs: &[(String, String)],
        out: &BlockOutput,
    ) -> Result<(), String> {
        let (value, frame) = match out {
            BlockOutput::Frame { frame, keys } => {
                (json!({ "kind": "frame", "keys": keys }), Some(frame))
            }
            BlockOutput::Table(t) => (json!({ "kind": "table", "table": t }), None),
            BlockOutput::Figure(f) => (json!({ "kind": "figure", "figure": f }), None),
            BlockOutput::Prose { markdown, frame } => (
                json!({ "kind": "prose", "markdown": markdown }),
                Some(frame),
            ),
            BlockOutput::Cell(cell) => {
                for (i, h) in cell.handed.iter().enumerate() {
                    let bytes = frames::to_parquet(&h.frame).map_err(|e| e.to_string())?;
                    let path = self.dir.join(format!("{key}-{i}.parquet"));
                    crate::fsio::write_atomic(&path, |w| w.write_all(&bytes))
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                }
                let handed: Vec<Value> = cell
                    .handed
                    .iter()
                    .map(|h| json!({ "name": h.name, "scalar": h.scalar }))
                    .collect();
                (
                    json!({ "kind": "cell", "shown": cell.shown, "handed": handed }),
                    None,
                )
            }
        };
        if let Some(frame) = frame {
            let bytes = frames::to_parquet(frame).map_err(|e| e.to_string())?;
            let path = self.dir.join(format!("{key}.parquet"));
            crate::fsio::write_atomic(&path, |w| w.write_all(&bytes))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let path = self.dir.join(format!("{key}.json"));
        crate::fsio::write_atomic(&path, |w| w.write_all(value.to_string().as_bytes()))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let inputs: BTreeMap<&String, &String> = inputs.iter().map(|(a, b)| (a, b)).collect();
        self.index.insert(
            ident.to_string(),
            json!({ "key": key, "body": blake3::hash(body.as_bytes()).to_hex().to_string(), "inputs": inputs }),
        );
        self.written.insert(ident.to_string());
        Ok(())
    }

    /// Writes this render's index entries into the index file, keeping the
    /// entries other renders wrote since this one opened it.
    pub fn save(&self) -> std::io::Result<()> {
        if self.written.is_empty() {
            return Ok(());
        }
        let _one_at_a_time = SAVING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let path = self.dir.join("index.json");
        let mut index: BTreeMap<String, Value> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        for ident in &self.written {
            if let Some(entry) = self.index.get(ident) {
                index.insert(ident.clone(), entry.clone());
            }
        }
        let text = serde_json::to_string_pretty(&index).unwrap_or_default();
        crate::fsio::write_atomic(&path, |w| w.write_all(text.as_bytes()))
    }
}

fn table_from(v: &Value) -> Option<TableOut> {
    serde_json::from_value(v.clone()).ok()
}

fn figure_from(v: &Value) -> Option<FigureOut> {
    serde_json::from_value(v.clone()).ok()
}
