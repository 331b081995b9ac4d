//! What the adapter test crates share.

/// The events of the ESL fixture `name`: after its `#` comment lines, plain
/// event bodies separated by empty lines, each returned ending in an empty
/// line as `FreeSWITCH` serialises it.
pub(crate) fn esl_fixture_bodies(name: &str) -> Vec<String> {
    let path = format!(
        "{}/tests/fixtures/esl/{name}.events",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let body: String = text
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .flat_map(|l| [l, "\n"])
        .collect();
    body.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|b| format!("{}\n\n", b.trim()))
        .collect()
}
