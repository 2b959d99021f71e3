//! Where the parts of a block's YAML spec are in the template, from the
//! YAML parser's own spans: engines point a diagnostic at the exact key or
//! value they reject instead of searching the block for a word.

use std::ops::Range;

use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use crate::document::Block;

/// A mapping's entries in order, with the parser's spans.
struct Pairs(Vec<(Spanned<String>, Spanned<IgnoredAny>)>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// The top-level keys of a block's spec, each with the bytes of the key and
/// of its value (absolute offsets in the template).
#[derive(Debug, Clone, Default)]
pub struct SpecSpans {
    entries: Vec<(String, Range<usize>, Range<usize>)>,
    body: String,
    body_offset: usize,
}

impl SpecSpans {
    /// The spans of `block`'s spec as written in the template (before
    /// parameters are filled in). A spec that is not a YAML mapping has none.
    pub fn of(block: &Block) -> SpecSpans {
        let mut out = SpecSpans {
            entries: Vec::new(),
            body: block.body.clone(),
            body_offset: block.body_offset,
        };
        let Ok(Pairs(map)) = crate::yaml::from_str::<Pairs>(&block.body) else {
            return out;
        };
        let start = |l: &serde_saphyr::Location| {
            l.span().byte_offset().and_then(|b| usize::try_from(b).ok())
        };
        let mut keys: Vec<(String, usize, usize)> = map
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.value.clone(),
                    start(&k.referenced)?,
                    start(&v.referenced)?,
                ))
            })
            .collect();
        keys.sort_by_key(|k| k.1);
        for (i, (name, key_at, value_at)) in keys.iter().enumerate() {
            // a value runs to the next key (or the end), trailing space trimmed
            let next = keys.get(i + 1).map_or(block.body.len(), |k| k.1);
            let end = *value_at.max(&next.min(block.body.len()));
            let value_end = value_at + block.body[*value_at..end].trim_end().len();
            out.entries.push((
                name.clone(),
                block.body_offset + key_at..block.body_offset + key_at + name.len(),
                block.body_offset + value_at..block.body_offset + value_end,
            ));
        }
        out
    }

    /// The bytes of a top-level key.
    pub fn key(&self, key: &str) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find(|e| e.0 == key)
            .map(|e| e.1.clone())
    }

    /// The bytes of a top-level key's value (a scalar, or a whole list).
    pub fn value(&self, key: &str) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find(|e| e.0 == key)
            .map(|e| e.2.clone())
    }

    /// The bytes of `word` inside the value of `key` (an item of a list, a
    /// column named in a scalar), matched as a whole name.
    pub fn item(&self, key: &str, word: &str) -> Option<Range<usize>> {
        let value = self.value(key)?;
        self.find_in(value, word)
    }

    /// The bytes of `word` in whichever value names it (first key in the
    /// spec's order), matched as a whole name.
    pub fn any_value(&self, word: &str) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find_map(|e| self.find_in(e.2.clone(), word))
    }

    /// The bytes of `word` in the value of `key` if given, else in any
    /// value; else the value of `key`; else the block's body.
    pub fn best(&self, key: Option<&str>, word: &str) -> Range<usize> {
        key.and_then(|k| self.item(k, word))
            .or_else(|| self.any_value(word))
            .or_else(|| key.and_then(|k| self.value(k)))
            .unwrap_or(self.body_offset..self.body_offset)
    }

    fn find_in(&self, value: Range<usize>, word: &str) -> Option<Range<usize>> {
        if word.is_empty() {
            return None;
        }
        let local = value.start - self.body_offset..value.end - self.body_offset;
        let text = self.body.get(local.clone())?;
        let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '.';
        let mut from = 0;
        while let Some(i) = text[from..].find(word) {
            let at = from + i;
            let before = text[..at].chars().next_back();
            let after = text[at + word.len()..].chars().next();
            if !before.is_some_and(is_name) && !after.is_some_and(is_name) {
                let start = value.start + at;
                return Some(start..start + word.len());
            }
            from = at + word.len();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn block(body: &str, body_offset: usize) -> Block {
        Block {
            index: 0,
            engine: "chart".into(),
            offset: 0,
            engine_offset: 0,
            options: BTreeMap::new(),
            body: body.into(),
            body_offset,
        }
    }

    #[test]
    fn keys_and_values_are_found_by_the_parser_not_by_search() {
        // `estimate` appears first in the title; the value of `y` is the place
        let body = "title: estimate by area\nkind: bar\nx: [area, theme]\ny: estimate\n";
        let s = SpecSpans::of(&block(body, 100));
        let at = |r: Range<usize>| &body[r.start - 100..r.end - 100];
        assert_eq!(at(s.key("kind").unwrap()), "kind");
        assert_eq!(at(s.value("kind").unwrap()), "bar");
        assert_eq!(at(s.value("x").unwrap()), "[area, theme]");
        let theme = s.item("x", "theme").unwrap();
        assert_eq!(theme.start - 100, body.find("theme").unwrap());
        let y = s.item("y", "estimate").unwrap();
        assert_eq!(y.start - 100, body.rfind("estimate").unwrap());
        // whole names only: `are` is not in `area`
        assert_eq!(s.item("x", "are"), None);
        assert_eq!(
            s.any_value("estimate").unwrap().start - 100,
            body.find("estimate").unwrap()
        );
    }

    #[test]
    fn block_lists_and_bad_yaml() {
        let body = "items:\n  - cs_a\n  - cs_b\narea: Bristol\n";
        let s = SpecSpans::of(&block(body, 0));
        assert_eq!(
            s.item("items", "cs_b").unwrap().start,
            body.find("cs_b").unwrap()
        );
        assert_eq!(&body[s.value("area").unwrap()], "Bristol");
        let s = SpecSpans::of(&block("x: [unclosed\n", 7));
        assert_eq!(s.value("x"), None);
        assert_eq!(s.best(Some("x"), "a"), 7..7);
    }
}
