//! Statistics core: pure functions over columns and frames.
