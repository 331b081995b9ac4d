//! The binary as a Unix tool: pipes that close early, names in `--listen`,
//! logs without colours when not on a terminal, inputs that are not JSON
//! Lines, and the report as CSV or a table.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::KillOnDrop;

fn golden(file: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/golden")
        .join(file)
        .to_str()
        .unwrap()
        .to_owned()
}

fn wallboard() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wallboard"));
    c.env_remove("NO_COLOR").env_remove("RUST_LOG");
    c
}

fn run(args: &[&str]) -> Output {
    wallboard().args(args).output().expect("run wallboard")
}

#[test]
fn a_reader_that_goes_away_ends_the_writer_quietly_by_sigpipe() {
    // A day big enough that its report does not fit in a pipe's buffer.
    let trace = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-unix-day.jsonl");
    let day = run(&["simulate", "--hours", "24", "--agents", "40"]);
    assert!(day.status.success());
    std::fs::write(&trace, &day.stdout).unwrap();
    let trace = trace.to_str().unwrap();
    for args in [
        &["simulate", "--hours", "24"][..],
        &["replay", trace][..],
        &["replay", trace, "--output", "csv", "--interval", "5"][..],
    ] {
        let mut child = wallboard()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -c 10`: read a little, then close the pipe.
        let mut first = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("Broken pipe") && !err.contains("error"),
            "{args:?}: {err}"
        );
        assert_eq!(
            out.status.signal(),
            Some(libc_sigpipe()),
            "{args:?}: {:?}",
            out.status
        );
    }
}

/// SIGPIPE is 13 on every Unix this runs on.
fn libc_sigpipe() -> i32 {
    13
}

#[test]
fn listen_resolves_a_name_and_logs_have_no_colours_on_a_pipe() {
    let child = wallboard()
        .args([
            "demo",
            "--listen",
            "localhost:0",
            "--trace",
            &golden("edge-basic.jsonl"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    assert!(banner.contains("http://127.0.0.1:"), "{banner}");
    // The trace's rejected lines are logged as warnings: wait for one.
    let stderr = BufReader::new(child.0.stderr.take().unwrap());
    let warning = stderr
        .lines()
        .map(Result::unwrap)
        .find(|l| l.contains("rejected event"))
        .expect("a rejected line is logged");
    assert!(warning.contains("WARN"), "{warning}");
    assert!(!warning.contains('\x1b'), "ANSI escape in {warning:?}");
}

#[test]
fn a_listen_address_that_does_not_resolve_is_refused_by_name() {
    let out = run(&["demo", "--listen", "no-such-host.invalid:8080"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--listen") && err.contains("no-such-host.invalid"),
        "{err}"
    );
}

#[test]
fn a_report_fed_to_replay_is_named_once_instead_of_rejected_line_by_line() {
    let report = run(&["replay", &golden("edge-basic.jsonl")]);
    assert!(report.status.success());
    let mut child = wallboard()
        .args(["replay", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &report.stdout).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is an interval report"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn json_stays_the_default_output() {
    let default = run(&["replay", &golden("edge-basic.jsonl"), "--interval", "15"]);
    let json = run(&[
        "replay",
        &golden("edge-basic.jsonl"),
        "--interval",
        "15",
        "--output",
        "json",
    ]);
    assert!(default.status.success() && !default.stdout.is_empty());
    assert_eq!(default.stdout, json.stdout);
}

#[test]
fn csv_has_a_row_per_queue_and_interval_in_the_report() {
    let args = [
        "replay",
        &golden("day-small.jsonl"),
        "--interval",
        "15",
        "--sl",
        "10",
        "--sl",
        "20",
    ];
    let json = run(&args);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let out = run(&[&args[..], &["--output", "csv"]].concat());
    assert!(out.status.success());
    let body = out
        .stdout
        .strip_prefix("\u{feff}".as_bytes())
        .expect("a UTF-8 BOM");
    let text = std::str::from_utf8(body).unwrap();
    assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'));
    let mut csv = csv::Reader::from_reader(body);
    let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_owned).collect();
    for column in [
        "queue",
        "start",
        "offered",
        "sl1_10s",
        "sl4_20s",
        "answered_within_20s",
        "dequeued_timeout",
        "adherence",
    ] {
        assert!(header.iter().any(|h| h == column), "{column} in {header:?}");
    }
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    let queues = report["queues"].as_array().unwrap();
    assert_eq!(rows.len(), queues.len());
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, q) in rows.iter().zip(queues) {
        assert_eq!(row[at("queue")], *q["queue"].as_str().unwrap());
        assert_eq!(row[at("offered")], q["offered"].to_string());
        let sl3 = &q["sl"]["20"]["sl3"];
        let cell = &row[at("sl3_20s")];
        match sl3.as_f64() {
            // serde_json (without `float_roundtrip`) may read the report's
            // digits one unit in the last place off; the CSV has them exact.
            Some(x) => assert!(
                (cell.parse::<f64>().unwrap() - x).abs() < 1e-12,
                "{cell} {x}"
            ),
            None => assert_eq!(cell, ""),
        }
    }
}

#[test]
fn csv_and_table_headers_in_chinese() {
    let csv = run(&[
        "replay",
        &golden("edge-basic.jsonl"),
        "--output",
        "csv",
        "--lang",
        "zh-CN",
    ]);
    let text = String::from_utf8(csv.stdout).unwrap();
    let header = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap()
        .to_owned();
    assert!(header.starts_with("队列,时段开始,"), "{header}");
    assert!(header.contains("服务水平算法三(20秒)"), "{header}");
    let table = run(&[
        "replay",
        &golden("edge-basic.jsonl"),
        "--output",
        "table",
        "--lang",
        "zh-CN",
    ]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.starts_with("队列"), "{text}");
}

#[test]
fn the_table_is_aligned_for_a_terminal() {
    let out = run(&[
        "replay",
        &golden("edge-basic.jsonl"),
        "--interval",
        "15",
        "--output",
        "table",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("queue  start ") && lines[0].contains("SL3@20s"),
        "{text}"
    );
    // Right-aligned numbers: every row's `offered` ends where its header does.
    let end = lines[0].find("offered").unwrap() + "offered".len();
    for l in &lines[1..] {
        assert!(l.as_bytes()[end - 1].is_ascii_digit(), "{l:?}");
        assert_eq!(l.as_bytes()[end], b' ', "{l:?}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("q1     2026-11-23 09:00")),
        "{text}"
    );
}

/// The status code of `GET path` on `127.0.0.1:port`, if it answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = String::new();
    BufReader::new(s).read_line(&mut head).ok()?;
    head.split_whitespace().nth(1)?.parse().ok()
}

/// Waits until the demo on `port` answers `/api/v1/status` with 200.
fn serves_status(child: &mut KillOnDrop, port: u16) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("the demo ended: {status:?}");
        }
        if http_status(port, "/api/v1/status") == Some(200) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn a_demo_whose_stdout_closes_keeps_serving() {
    let trace = golden("edge-basic.jsonl");
    // `wallboard demo | head -1`: the first line read, then the pipe closed.
    let child = wallboard()
        .args(["demo", "--listen", "127.0.0.1:0", "--trace", &trace])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut banner = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let port: u16 = banner
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));
    assert!(serves_status(&mut child, port), "no status after head -1");

    // The reader gone before the banner is written: every line of it fails.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = wallboard()
        .args(["demo", "--listen", &listen, "--trace", &trace])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    drop(child.0.stdout.take());
    assert!(
        serves_status(&mut child, port),
        "no status without a reader"
    );
}
