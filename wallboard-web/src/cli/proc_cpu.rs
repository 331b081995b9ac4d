//! CPU time of processes and threads from `/proc` (Linux), for benchmarks
//! that must say which side of a pipeline was busy.

use std::collections::BTreeMap;
use std::path::Path;

/// Clock ticks per second of `/proc/*/stat` times (`USER_HZ`, 100 on every
/// Linux architecture wallboard runs on).
const TICKS_PER_S: f64 = 100.0;

/// User + system CPU seconds in a `/proc/.../stat` line, and the name.
fn parse_stat(line: &str) -> Option<(String, f64)> {
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so
    // the fields start after the last ')'.
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let name = line.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = line.get(close + 2..)?.split(' ').collect();
    // Fields 14 and 15 of stat(5) (utime, stime); `fields[0]` is field 3.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((name, (utime + stime) / TICKS_PER_S))
}

fn stat_of(path: &Path) -> Option<(String, f64)> {
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

/// CPU seconds a process has used so far; `None` if it cannot be read.
#[must_use]
pub(super) fn process(pid: u32) -> Option<f64> {
    stat_of(Path::new(&format!("/proc/{pid}/stat"))).map(|(_, s)| s)
}

/// CPU seconds used so far by this process's threads, summed per thread
/// name with trailing digits dropped (`writer-0`…: `writer-`, librdkafka's
/// `rdk:broker1`…: `rdk:broker`).
#[must_use]
pub(super) fn threads() -> BTreeMap<String, f64> {
    let mut by_name = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return by_name;
    };
    for task in tasks.flatten() {
        if let Some((name, s)) = stat_of(&task.path().join("stat")) {
            let name = name.trim_end_matches(|c: char| c.is_ascii_digit());
            *by_name.entry(name.to_owned()).or_default() += s;
        }
    }
    by_name
}

#[cfg(test)]
mod tests {
    use super::parse_stat;

    #[test]
    fn a_stat_line_gives_its_name_and_user_plus_system_time() {
        let line = "4242 (rdk:broker (1)) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 100";
        assert_eq!(parse_stat(line), Some(("rdk:broker (1)".to_owned(), 3.0)));
        assert_eq!(parse_stat("4242 (short) S 1"), None);
    }
}
