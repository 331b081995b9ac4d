//! What a WebSocket push looks like on the wire: a push longer than 16 KiB
//! is one fragmented text message in frames of at most 16 KiB, so that a
//! connection's write buffer never holds a whole push
//! (docs/architecture.md, "WebSocket fan-out").

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameSocket};

use ingest::simulate::{SimConfig, Simulator};

/// The longest frame the server sends.
const FRAME_BYTES: usize = 16 << 10;

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
async fn a_long_push_goes_out_in_frames_of_at_most_16_kib() {
    let served = common::serve_trace(wallboard::config::AppConfig::default(), &big_trace()).await;
    let addr = served.addr;
    let frames = tokio::task::spawn_blocking(move || {
        let mut ws = raw_websocket(addr, "/ws?tenant=big");
        next_snapshot_frames(&mut ws)
    })
    .await
    .unwrap();
    assert!(frames.len() > 1, "a push of more than 16 KiB is fragmented");
    assert_eq!(frames[0].header().opcode, OpCode::Data(Data::Text));
    for f in &frames[1..] {
        assert_eq!(f.header().opcode, OpCode::Data(Data::Continue));
    }
    for f in &frames[..frames.len() - 1] {
        assert!(!f.header().is_final);
        assert_eq!(
            f.payload().len(),
            FRAME_BYTES,
            "every frame but the last is full"
        );
    }
    assert!(frames.last().unwrap().payload().len() <= FRAME_BYTES);
    let text: Vec<u8> = frames.iter().flat_map(|f| f.payload().to_vec()).collect();
    let push: serde_json::Value = serde_json::from_slice(&text).expect("the frames join into JSON");
    assert_eq!(push["tenant"], "big");
    assert!(push["snapshot"]["agents"].as_array().unwrap().len() > 100);
}
