//! What a WebSocket push looks like on the wire: one unfragmented text
//! frame however long, written by the server from the shared bytes, and
//! with `delta=1` deltas of the version the client holds
//! (docs/architecture.md, "WebSocket fan-out").

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameSocket};

use ingest::simulate::{SimConfig, Simulator};

/// An hour of 400 agents: a board of more than 16 KiB.
fn big_trace() -> Vec<u8> {
    let sim = Simulator::new(SimConfig {
        agents: 400,
        queues: 8,
        hours: 1.0,
        tenant: "big".into(),
        start_ms: 1_795_392_000_000,
        ..Default::default()
    });
    sim.flat_map(|e| {
        let mut line = e.to_json().into_bytes();
        line.push(b'\n');
        line
    })
    .collect()
}

/// Opens `/ws` by hand and reads the frames themselves, not messages.
fn raw_websocket(addr: std::net::SocketAddr, path: &str) -> FrameSocket<TcpStream> {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    // The response head, a byte at a time: no frame is read with it.
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "the RFC 6455 accept key: {head}"
    );
    FrameSocket::new(s)
}

/// The frames of the next message that is a snapshot push.
fn next_snapshot_frames(ws: &mut FrameSocket<TcpStream>) -> Vec<Frame> {
    loop {
        let mut frames = vec![];
        loop {
            let f = ws
                .read(None)
                .unwrap()
                .expect("the server keeps the socket open");
            if matches!(f.header().opcode, OpCode::Control(_)) {
                continue;
            }
            let last = f.header().is_final;
            frames.push(f);
            if last {
                break;
            }
        }
        if frames[0].payload().starts_with(br#"{"type":"snapshot""#) {
            return frames;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_push_goes_out_in_one_text_frame() {
    let served = common::serve_trace(wallboard::config::AppConfig::default(), &big_trace()).await;
    let addr = served.addr;
    let frames = tokio::task::spawn_blocking(move || {
        let mut ws = raw_websocket(addr, "/ws?tenant=big");
        next_snapshot_frames(&mut ws)
    })
    .await
    .unwrap();
    assert_eq!(frames.len(), 1, "not fragmented");
    let frame = &frames[0];
    assert_eq!(frame.header().opcode, OpCode::Data(Data::Text));
    assert!(frame.header().is_final);
    assert!(
        frame.header().mask.is_none(),
        "a server's frames are not masked"
    );
    assert!(
        frame.payload().len() > 64 << 10,
        "a long push: {} bytes",
        frame.payload().len()
    );
    let push: serde_json::Value = serde_json::from_slice(frame.payload()).expect("JSON");
    assert_eq!(push["tenant"], "big");
    assert!(push["version"].as_u64().is_some());
    assert!(push["snapshot"]["agents"].as_array().unwrap().len() > 100);
}

/// The next snapshot or delta push of `ws`.
async fn next_push(ws: &mut impl common::WsStream) -> serde_json::Value {
    loop {
        let v = common::next_ws_json(ws).await;
        if v["type"] == "snapshot" || v["type"] == "delta" {
            return v;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_deltas_a_client_gets_a_snapshot_then_deltas_of_what_it_holds() {
    let served = common::serve_trace(wallboard::config::AppConfig::default(), &big_trace()).await;
    let url = |q: &str| format!("ws://{}/ws?tenant=big{q}", served.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url("&delta=1"))
        .await
        .unwrap();
    let first = next_push(&mut ws).await;
    assert_eq!(first["type"], "snapshot");
    let first_version = first["version"].as_u64().expect("a version");
    // The writer republishes the view at least once a second: new versions.
    for held in first_version..first_version + 2 {
        let d = next_push(&mut ws).await;
        assert_eq!(d["type"], "delta", "{d:#}");
        assert_eq!(d["base"], held);
        assert_eq!(d["version"], held + 1);
        // The trace is over: every agent is the base's, named, and no
        // queue's intraday point changed (time still moves on for the rest).
        let rows = |k: &str| d["snapshot"][k].as_array().unwrap().clone();
        assert!(
            rows("agents").iter().all(serde_json::Value::is_string),
            "{d:#}"
        );
        for q in rows("queues") {
            assert!(
                q.is_string() || q["intraday"] == serde_json::json!([]),
                "{q:#}"
            );
        }
        assert!(d.to_string().len() * 2 < first.to_string().len());
    }
    // Without `delta=1`: snapshots only.
    let (mut plain, _) = tokio_tungstenite::connect_async(url("")).await.unwrap();
    for _ in 0..2 {
        assert_eq!(next_push(&mut plain).await["type"], "snapshot");
    }
    // Anything but 0 or 1 is refused.
    let refused = tokio_tungstenite::connect_async(url("&delta=yes")).await;
    assert!(refused.is_err());
}
