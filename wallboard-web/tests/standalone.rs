//! The repository stands on its own: a clone has no `../shared` beside it,
//! so nothing but the golden equality test (`tests/golden.rs`, which skips
//! when it is missing) may point there.

use std::path::{Path, PathBuf};

/// Directories that are not the repository's own files.
const SKIPPED: &[&str] = &[".git", "target", "node_modules", "artifacts"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIPPED.contains(&name.as_str()) {
                files(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

#[test]
fn nothing_but_the_equality_test_points_at_shared() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut all = Vec::new();
    files(&root, &mut all);
    let allowed = [
        root.join("wallboard-web/tests/golden.rs"),
        root.join("wallboard-web/tests/standalone.rs"),
    ];
    let needle = ["..", "/shared"].concat();
    let offenders: Vec<String> = all
        .iter()
        .filter(|p| !allowed.contains(p))
        .filter(|p| std::fs::read(p).is_ok_and(|b| String::from_utf8_lossy(&b).contains(&needle)))
        .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert!(all.len() > 50, "{} files", all.len());
    assert!(offenders.is_empty(), "point at {needle}: {offenders:?}");
}
