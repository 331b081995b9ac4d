//! Alerts end to end: `wallboard demo` with a rule that must fire and then
//! clear; a local HTTP receiver gets the signed webhook, a local SMTP server
//! (Python's aiosmtpd) gets the mail, and Debian's Prometheus Alertmanager
//! receives the alert. Run by `scripts/test.sh`, which installs them.

// An end-to-end scenario reads best as one story, start to finish.
#![allow(clippy::too_many_lines)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;

use tests::{free_port, get_json, spawn, unique, wait_for, Proc};

/// Webhooks received: (signature header, body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A minimal HTTP server that records (signature header, body) of each POST.
fn receiver() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: Received = Arc::default();
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut r = BufReader::new(stream);
            let (mut len, mut sig) = (0usize, String::new());
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                let l = line.trim_end().to_owned();
                line.clear();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    match k.to_ascii_lowercase().as_str() {
                        "content-length" => len = v.trim().parse().unwrap_or(0),
                        "x-wallboard-signature" => v.trim().clone_into(&mut sig),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0; len];
            if r.read_exact(&mut body).is_ok() {
                sink.lock().unwrap().push((sig, body));
            }
            let _ = r
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (port, got)
}

#[test]
#[ignore = "needs aiosmtpd and prometheus-alertmanager: run through scripts/test.sh"]
fn a_rule_fires_and_resolves_on_webhook_mail_and_alertmanager() {
    let dir = std::env::temp_dir().join(unique("alerting"));
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(dir.join("mail").join(sub)).unwrap();
    }

    let (hook_port, hooks) = receiver();
    let smtp_port = free_port();
    let _smtp = Proc(
        Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{smtp_port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(dir.join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd"),
    );
    wait_for("the SMTP server", Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", smtp_port)).ok()
    });
    let am_port = free_port();
    std::fs::write(
        dir.join("am.yml"),
        "route:\n  receiver: none\nreceivers:\n  - name: none\n",
    )
    .unwrap();
    let _am = Proc(
        Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", dir.join("am.yml").display()))
            .arg(format!("--storage.path={}", dir.join("am").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus-alertmanager"),
    );
    wait_for("alertmanager", Duration::from_secs(30), || {
        get_json(&format!("http://127.0.0.1:{am_port}/api/v2/status"))
    });

    // Someone is waiting: a busy simulated centre fires this often, and
    // clears it whenever the queues empty.
    let config = format!(
        r#"
[[alerts]]
name = "someone waiting"
metric = "waiting"
op = ">="
threshold = 1
severity = "warning"
channels = ["hook", "mail", "am"]

[[channels]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:{hook_port}/hook"
secret = "s3cret"

[[channels]]
name = "mail"
kind = "email"
url = "smtp://127.0.0.1:{smtp_port}"
from = "wallboard@example.com"
to = ["supervisors@example.com"]

[[channels]]
name = "am"
kind = "alertmanager"
url = "http://127.0.0.1:{am_port}"
"#
    );
    std::fs::write(dir.join("wallboard.toml"), config).unwrap();
    let port = free_port();
    let _demo = spawn(
        &[
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
            dir.join("wallboard.toml").to_str().unwrap(),
            "--agents",
            "12",
            "--load",
            "1.3",
            "--speed",
            "20",
        ],
        &[],
    );

    // The webhook: signed, firing then resolved.
    let statuses = wait_for(
        "a firing and a resolved webhook",
        Duration::from_secs(120),
        || {
            let got = hooks.lock().unwrap().clone();
            let statuses: Vec<String> = got
                .iter()
                .map(|(sig, body)| {
                    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
                    mac.update(body);
                    assert_eq!(
                        sig,
                        &format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
                        "signature"
                    );
                    let v: Value = serde_json::from_slice(body).unwrap();
                    assert_eq!(v["rule"], "someone waiting");
                    v["status"].as_str().unwrap().to_owned()
                })
                .collect();
            (statuses.iter().any(|s| s == "firing") && statuses.iter().any(|s| s == "resolved"))
                .then_some(statuses)
        },
    );
    assert_eq!(statuses[0], "firing");

    // The mail: one message per notification, firing and resolved.
    let subjects = wait_for("firing and resolved mails", Duration::from_secs(60), || {
        let subjects: Vec<String> = std::fs::read_dir(dir.join("mail/new"))
            .ok()?
            .flatten()
            .filter_map(|f| std::fs::read_to_string(f.path()).ok())
            .filter_map(|m| {
                m.lines()
                    .find(|l| l.starts_with("Subject:"))
                    .map(str::to_owned)
            })
            .collect();
        let both = subjects.iter().any(|s| s.contains("[FIRING]"))
            && subjects.iter().any(|s| s.contains("[RESOLVED]"));
        both.then_some(subjects)
    });
    assert!(
        subjects.iter().all(|s| s.contains("someone waiting")),
        "{subjects:?}"
    );

    // Alertmanager has it (active or already resolved).
    wait_for("the alert in Alertmanager", Duration::from_secs(60), || {
        let alerts = get_json(&format!(
            "http://127.0.0.1:{am_port}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true"
        ))?;
        let groups = get_json(&format!("http://127.0.0.1:{am_port}/api/v2/alerts/groups"))?;
        let text = format!("{alerts}{groups}");
        text.contains("someone waiting").then_some(())
    });
}
