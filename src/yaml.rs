//! YAML as templates use it: YAML 1.2 booleans only, so a column called `n`
//! or `no` stays a string.

/// Parses YAML into `T` with coweave's options.
pub fn from_str<'de, T: serde::Deserialize<'de>>(
    input: &'de str,
) -> Result<T, serde_saphyr::Error> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    serde_saphyr::from_str_with_options(input, options)
}
