//! The adapters' errors are typed: each says what went wrong as a variant,
//! with the same text as before for the people reading the dead letters.

use ingest::ami::{Message, Translator, TranslatorConfig};
use ingest::esl::{parse_plain_event, EslTranslator};
use ingest::queue_log::QueueLogTranslator;
use wallboard_events::parse::IdentProblem;

#[test]
fn queue_log_errors_name_the_problem() {
    use ingest::queue_log::TranslateProblem;
    let mut t = QueueLogTranslator::new("acme", "queue_log");
    let e = t
        .translate(3, "1700000000|c1|sales", &mut vec![])
        .unwrap_err();
    assert_eq!((e.line, &e.reason), (3, &TranslateProblem::FieldCount(3)));
    let e = t
        .translate(4, "1700000000|c1|sales|PJSIP/a|CONNECT|x|c1|1", &mut vec![])
        .unwrap_err();
    assert_eq!(
        e.reason,
        TranslateProblem::NotSeconds {
            event: "CONNECT".into(),
            what: "holdtime",
            value: "x".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "line 4: CONNECT: holdtime \"x\" is not whole seconds"
    );
}

#[test]
fn ami_errors_name_the_problem() {
    use ingest::ami::TranslateProblem;
    let mut t = Translator::new(TranslatorConfig::default());
    let join = Message::from_pairs([("Event", "QueueCallerJoin"), ("Queue", "sales")]);
    let e = t
        .translate(&join, 1_700_000_000_000, &mut vec![])
        .unwrap_err();
    assert_eq!(e.reason, TranslateProblem::Missing("Uniqueid"));
    assert_eq!(e.to_string(), "QueueCallerJoin: missing Uniqueid");
    let join = Message::from_pairs([
        ("Event", "QueueCallerJoin"),
        ("Queue", "sales"),
        ("Uniqueid", "a\u{7}b"),
    ]);
    let e = t
        .translate(&join, 1_700_000_000_000, &mut vec![])
        .unwrap_err();
    assert_eq!(
        e.reason,
        TranslateProblem::Ident {
            key: "Uniqueid",
            problem: IdentProblem::Control
        }
    );
}

#[test]
fn esl_errors_name_the_problem() {
    use ingest::esl::TranslateProblem;
    let mut t = EslTranslator::new("acme");
    let body = "Event-Name: CUSTOM\nEvent-Subclass: callcenter::info\n\
                CC-Action: agent-status-change\nEvent-Date-Timestamp: soon\n\n";
    let ev = parse_plain_event(body.as_bytes()).unwrap();
    let e = t.translate(&ev, &mut vec![]).unwrap_err();
    assert_eq!(e.what, "agent-status-change");
    assert_eq!(e.reason, TranslateProblem::Timestamp("soon".into()));
    assert_eq!(
        e.to_string(),
        "agent-status-change: Event-Date-Timestamp \"soon\" is not microseconds since the epoch"
    );
}

#[tokio::test]
async fn ami_settings_and_lost_connections_are_typed() {
    use ingest::ami::{self, ClientConfig, ClientError, ConfigError, Lost, SystemClock};
    let run = |cfg: ClientConfig| async move {
        let (tx, _rx) = tokio::sync::mpsc::channel(8);
        ami::run(cfg, SystemClock, tx, std::future::pending()).await
    };
    let mut cfg = ClientConfig::new("127.0.0.1", 1, "wallboard", "s3cret".into());
    cfg.events = "on\r\nAction: Logoff".into();
    let err = run(cfg).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Config(ConfigError::LineBreak("events"))),
        "{err}"
    );
    // A port nobody listens on: without reconnection, the run ends with why.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = ClientConfig::new("127.0.0.1", port, "wallboard", "s3cret".into());
    cfg.reconnect = false;
    let err = run(cfg).await.unwrap_err();
    assert!(
        matches!(
            &err,
            ClientError::Connect {
                reason: Lost::Connect(_),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains(": cannot connect: "), "{err}");
}
