//! The block cache: a block's output is stored under a key made of its
//! code, its options, the keys of the frames it reads (the data and
//! codebook hash for the survey frames, the published file's hash for the
//! published tables, the producing block's key for results), the content of
//! the files it reads (rules files, files named in SQL) and the identity of
//! the coweave build (a hash of its sources, `build.rs`). A changed input
//! thus invalidates exactly the blocks that read it, directly or through
//! other blocks. Frames are stored as Parquet, so a cached frame is the
//! computed frame bit for bit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{BlockOutput, CellOut, FigureOut, Handed, Shown, TableOut, frames};
use crate::document::Block;

/// A cache directory and what it held when opened.
pub struct Cache {
    dir: PathBuf,
    index: BTreeMap<String, Value>,
    dirty: bool,
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
            dirty: false,
        }
    }

    /// The stored output of `ident` if its key is `key`.
    pub fn get(&self, ident: &str, key: &str) -> Option<BlockOutput> {
        let entry = self.index.get(ident)?;
        if entry.get("key")?.as_str()? != key {
            return None;
        }
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
        self.dirty = true;
        Ok(())
    }

    /// Writes the index back.
    pub fn save(&self) -> std::io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let text = serde_json::to_string_pretty(&self.index).unwrap_or_default();
        crate::fsio::write_atomic(&self.dir.join("index.json"), |w| {
            w.write_all(text.as_bytes())
        })
    }
}

fn table_from(v: &Value) -> Option<TableOut> {
    serde_json::from_value(v.clone()).ok()
}

fn figure_from(v: &Value) -> Option<FigureOut> {
    serde_json::from_value(v.clone()).ok()
}
