//! The template parser: any text is parsed into a document and a list of
//! problems, never a panic; every problem's place is inside the text and
//! its message renders (the snippet and the underline are computed).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let (doc, problems) = coweave::engine::parse(Path::new("fuzz.md"), source);
    for p in &problems {
        let _ = p.to_string();
    }
    // the nodes' spans point into the source
    let _ = doc.front_line_of("title");
    let _ = doc.front_offset_of("format", "docx");
});
