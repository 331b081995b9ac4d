//! `wallboard erlang`, the staffing calculator, through the real binary.

use std::process::Command;

fn erlang(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wallboard"))
        .arg("erlang")
        .args(args)
        .output()
        .expect("run wallboard")
}

#[test]
fn json_answers_the_published_worked_example() {
    // 360 calls per half hour, 4 min each, 15 s: 55 agents give 84.6 %.
    let out = erlang(&[
        "--calls",
        "360",
        "--interval",
        "30",
        "--aht",
        "240",
        "--threshold",
        "15",
        "--target",
        "0.8",
        "--shrinkage",
        "0.3",
        "--agents",
        "55",
        "--output",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["traffic_erlangs"], 48.0);
    let required = v["required_agents"].as_u64().unwrap();
    assert_eq!(required, 55, "54 agents give 79.3 %, 55 give 84.6 %");
    assert_eq!(
        v["required_with_shrinkage"], 79,
        "55 / (1 - 0.3), rounded up"
    );
    let at55 = &v["at_agents"];
    assert_eq!(at55["agents"], 55);
    assert!((at55["service_level"].as_f64().unwrap() - 0.846).abs() < 5e-4);
    assert!((at55["asa_s"].as_f64().unwrap() - 8.18).abs() < 5e-3);
}

#[test]
fn text_says_what_a_planner_needs_and_nonsense_is_refused() {
    let out = erlang(&["--calls", "100", "--aht", "180"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("10.00 Erlangs"), "{text}");
    assert!(text.contains("required agents:  14"), "{text}");
    let bad = erlang(&["--calls", "100", "--aht", "180", "--target", "80"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--target is a fraction"));
}

#[test]
fn erlang_a_counts_abandons_and_needs_a_patience() {
    let args = [
        "--calls",
        "360",
        "--interval",
        "30",
        "--aht",
        "240",
        "--threshold",
        "15",
        "--agents",
        "55",
        "--output",
        "json",
    ];
    let c: serde_json::Value = serde_json::from_slice(&erlang(&args).stdout).unwrap();
    let mut with_a = args.to_vec();
    with_a.extend(["--model", "erlang-a", "--patience", "120"]);
    let out = erlang(&with_a);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&c["model"], &a["model"]),
        (&"erlang_c".into(), &"erlang_a".into())
    );
    assert_eq!(a["patience_s"], 120.0);
    assert!(c["at_agents"].get("p_abandon").is_none());
    let p_ab = a["at_agents"]["p_abandon"].as_f64().unwrap();
    assert!(p_ab > 0.0 && p_ab < 0.05, "{p_ab}");
    let sl = |v: &serde_json::Value| v["at_agents"]["service_level"].as_f64().unwrap();
    assert!(sl(&a) > sl(&c), "abandons shorten the queue");
    assert!(a["required_agents"].as_u64() <= c["required_agents"].as_u64());

    let missing = erlang(&["--calls", "1", "--aht", "60", "--model", "erlang-a"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("needs --patience"));
    let stray = erlang(&["--calls", "1", "--aht", "60", "--patience", "30"]);
    assert!(String::from_utf8_lossy(&stray.stderr).contains("--patience needs --model erlang-a"));
}
