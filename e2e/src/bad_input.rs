//! The catalogue of bad input: each class of malformed, oversized, unsigned or
//! oddly shaped request, how it is sent (over a raw TCP connection, so nothing is
//! tidied up on the way) and the answer the webhook documents for it. The e2e
//! test `bad_input` sends every class to the running api, and its table is
//! `docs/reliability.md`'s; `cargo xtask chaos` counts them.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the webhook answers a class with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// This status and `error` code; nothing is stored.
    Refused(u16, &'static str),
    /// 200: stored as one event (the input is odd, not wrong).
    Stored,
    /// No answer: the connection is closed (a request head that never ends).
    Closed,
}

impl Answer {
    pub fn describe(&self) -> String {
        match self {
            Answer::Refused(status, code) => format!("{status} `{code}`, nothing stored"),
            Answer::Stored => "200, stored once".into(),
            Answer::Closed => {
                "connection closed after `API_REQUEST_TIMEOUT_SECS`, nothing stored".into()
            }
        }
    }
}

/// How the body travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    ContentLength,
    Chunked,
    /// Content-Length, then the body one byte every 500 ms.
    TrickledBody,
    /// A head that never ends, one byte every 500 ms.
    TrickledHead,
}

#[derive(Clone, Debug)]
pub struct Request {
    pub method: &'static str,
    pub path: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: Framing,
}

pub struct Class {
    pub group: &'static str,
    pub name: &'static str,
    pub answer: Answer,
    pub request: Request,
}

/// What a sent class got back.
#[derive(Debug)]
pub struct Outcome {
    /// `None` when the connection closed without an answer.
    pub status: Option<u16>,
    pub body: Value,
}

/// Signs like Retell: `v=<ms>,d=hex(HMAC(secret, body ++ ms))`.
fn sign_at(body: &[u8], ms: i64, secret: &str) -> String {
    domain::signature::sign(body, ms, secret)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The catalogue. `marker` goes into every id, so the rows a run leaves can be found.
pub fn catalogue(secret: &str, marker: &str) -> Vec<Class> {
    let good = |n: usize| -> Value {
        json!({
            "event_id": format!("{marker}-evt-{n}"),
            "dealership_id": "toyota-braintree",
            "call_id": format!("{marker}-call-{n}"),
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "transcript": "Agent: Toyota of Braintree, how can I help?\nUser: Just checking hours."
        })
    };
    let with = |n: usize, key: &str, value: Value| -> Vec<u8> {
        let mut body = good(n);
        body[key] = value;
        body.to_string().into_bytes()
    };
    let native = |n: usize, event: &str, call: Value| -> Vec<u8> {
        let mut call = call;
        call["call_id"] = json!(format!("{marker}-call-{n}"));
        json!({ "event": event, "call": call })
            .to_string()
            .into_bytes()
    };
    let signed = |body: Vec<u8>| -> Request {
        let signature = sign_at(&body, now_ms(), secret);
        Request {
            method: "POST",
            path: "/webhooks/retell",
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("X-Retell-Signature".into(), signature),
            ],
            body,
            framing: Framing::ContentLength,
        }
    };
    let headers_only = |body: Vec<u8>, headers: Vec<(&str, String)>| -> Request {
        Request {
            method: "POST",
            path: "/webhooks/retell",
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            body,
            framing: Framing::ContentLength,
        }
    };
    let json_ct = || ("Content-Type", "application/json".to_string());
    let valid = |n: usize| good(n).to_string().into_bytes();
    let deep = |open: &str, close: &str| -> Vec<u8> {
        let mut body = br#"{"event_id":"x","nested":"#.to_vec();
        body.extend(open.repeat(100_000).into_bytes());
        body.extend(close.repeat(100_000).into_bytes());
        body.push(b'}');
        body
    };
    let big = |bytes: usize| -> Vec<u8> { with(0, "padding", json!("x".repeat(bytes))) };
    let ms = now_ms();

    use Answer::{Closed, Refused, Stored};
    let mut classes = vec![
        // Malformed JSON.
        ("malformed JSON", "broken: a key without a value", Refused(400, "invalid_json"), signed(br#"{"event_id":}"#.to_vec())),
        ("malformed JSON", "truncated: the first half of a valid body", Refused(400, "invalid_json"), signed(valid(1)[..40].to_vec())),
        ("malformed JSON", "empty body", Refused(400, "invalid_json"), signed(Vec::new())),
        ("malformed JSON", "trailing garbage after the object", Refused(400, "invalid_json"), signed([valid(2), b" x".to_vec()].concat())),
        ("malformed JSON", "single quotes", Refused(400, "invalid_json"), signed(b"{'event_id':'x'}".to_vec())),
        ("malformed JSON", "a comment", Refused(400, "invalid_json"), signed(b"{/* hi */}".to_vec())),
        ("malformed JSON", "NaN as a value", Refused(400, "invalid_json"), signed(br#"{"metadata":{"duration_sec":NaN}}"#.to_vec())),
        ("malformed JSON", "a byte-order mark before the object", Refused(400, "invalid_json"), signed([b"\xEF\xBB\xBF".to_vec(), valid(3)].concat())),
        ("malformed JSON", "an array instead of an object", Refused(400, "not_an_object"), signed(format!("[{}]", good(4)).into_bytes())),
        ("malformed JSON", "a string instead of an object", Refused(400, "not_an_object"), signed(br#""call_ended""#.to_vec())),
        ("malformed JSON", "a number instead of an object", Refused(400, "not_an_object"), signed(b"42".to_vec())),
        ("malformed JSON", "null instead of an object", Refused(400, "not_an_object"), signed(b"null".to_vec())),
        ("malformed JSON", "arrays nested 100,000 deep", Refused(400, "invalid_json"), signed(deep("[", "]"))),
        ("malformed JSON", "objects nested 100,000 deep", Refused(400, "invalid_json"), signed(deep(r#"{"a":"#, "}"))),
        ("malformed JSON", "a number too large for a double (1e400)", Refused(400, "invalid_json"), signed(format!(r#"{{"event_id":"{marker}-huge","metadata":{{"duration_sec":1e400}}}}"#).into_bytes())),
        ("malformed JSON", "an integer too large for 64 bits as a Retell time", Refused(422, "contract_violation"), signed(format!(r#"{{"event":"call_ended","call":{{"call_id":"{marker}-call-5","start_timestamp":99999999999999999999999}}}}"#).into_bytes())),
        ("malformed JSON", "wrong type: event_id a number", Refused(422, "contract_violation"), signed(with(6, "event_id", json!(7)))),
        ("malformed JSON", "wrong type: timestamp an integer", Refused(422, "contract_violation"), signed(with(7, "timestamp", json!(1765983120000_i64)))),
        ("malformed JSON", "wrong type: customer an array", Refused(422, "contract_violation"), signed(with(8, "customer", json!(["+1555"])))),
        ("malformed JSON", "wrong type: Retell call an array", Refused(422, "contract_violation"), signed(json!({"event": "call_ended", "call": [format!("{marker}-call-9")]}).to_string().into_bytes())),
        ("malformed JSON", "missing required field (call_id)", Refused(422, "contract_violation"), signed({ let mut b = good(10); b.as_object_mut().unwrap().remove("call_id"); b.to_string().into_bytes() })),
        ("malformed JSON", "duplicate keys: the last one wins, as in JSON.parse", Stored, signed(format!(r#"{{"event_id":"{marker}-first","event_id":"{marker}-evt-11","dealership_id":"toyota-braintree","call_id":"{marker}-call-11","timestamp":"{}"}}"#, chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).into_bytes())),
        // Bad text.
        ("bad text", "invalid UTF-8 (a 0xFF byte)", Refused(400, "invalid_utf8"), signed([br#"{"event_id":""#.to_vec(), vec![0xFF], br#""}"#.to_vec()].concat())),
        ("bad text", "overlong UTF-8 encoding of '/'", Refused(400, "invalid_utf8"), signed([br#"{"event_id":""#.to_vec(), vec![0xC0, 0xAF], br#""}"#.to_vec()].concat())),
        ("bad text", "a raw UTF-16 surrogate encoded as UTF-8 (CESU)", Refused(400, "invalid_utf8"), signed([br#"{"event_id":""#.to_vec(), vec![0xED, 0xA0, 0x80], br#""}"#.to_vec()].concat())),
        ("bad text", "a lone surrogate escape (\\ud800)", Refused(400, "invalid_json"), signed(format!(r#"{{"event_id":"{marker}-sur","transcript":"\ud800"}}"#).into_bytes())),
        ("bad text", "\\u0000 in the transcript: replaced by U+FFFD and stored", Stored, signed(with(12, "transcript", json!("Agent: hello\u{0}there")))),
        ("bad text", "Latin-1 declared as the charset", Refused(415, "unsupported_media_type"), headers_only(valid(13), vec![("Content-Type", "application/json; charset=latin1".into()), ("X-Retell-Signature", sign_at(&valid(13), ms, secret))])),
        // Size.
        ("size", "a body just over 1 MiB", Refused(413, "payload_too_large"), signed(big(1024 * 1024))),
        ("size", "an 8 MiB body", Refused(413, "payload_too_large"), signed(big(8 * 1024 * 1024))),
        ("size", "an id of 256 characters", Refused(422, "contract_violation"), signed(with(14, "event_id", json!("e".repeat(256))))),
        ("size", "a call_id of 100,000 characters", Refused(422, "contract_violation"), signed(with(15, "call_id", json!("c".repeat(100_000))))),
        ("size", "an event type of 65 characters", Refused(422, "contract_violation"), signed(with(16, "event_type", json!("t".repeat(65))))),
        // Signatures.
        ("signature", "no signature header", Refused(401, "missing_signature"), headers_only(valid(17), vec![json_ct()])),
        ("signature", "an empty signature header", Refused(401, "malformed_signature"), headers_only(valid(18), vec![json_ct(), ("X-Retell-Signature", String::new())])),
        ("signature", "a garbled header (v=abc,d=zz)", Refused(401, "malformed_signature"), headers_only(valid(19), vec![json_ct(), ("X-Retell-Signature", "v=abc,d=zz".into())])),
        ("signature", "the digest only, no v= timestamp", Refused(401, "malformed_signature"), headers_only(valid(20), vec![json_ct(), ("X-Retell-Signature", format!("d={}", "0".repeat(64)))])),
        ("signature", "two signature headers (a good one first)", Refused(401, "malformed_signature"), headers_only(valid(21), vec![json_ct(), ("X-Retell-Signature", sign_at(&valid(21), ms, secret)), ("X-Retell-Signature", sign_at(&valid(21), ms, "another-secret-0123456789abcdef01234"))])),
        ("signature", "a wrong HMAC (another secret)", Refused(401, "invalid_signature"), headers_only(valid(22), vec![json_ct(), ("X-Retell-Signature", sign_at(&valid(22), ms, "another-secret-0123456789abcdef01234"))])),
        ("signature", "a body changed after signing", Refused(401, "invalid_signature"), headers_only(with(23, "transcript", json!("Agent: changed")), vec![json_ct(), ("X-Retell-Signature", sign_at(&valid(23), ms, secret))])),
        ("signature", "a replay: signed 10 minutes ago", Refused(401, "stale_signature"), headers_only(valid(24), vec![json_ct(), ("X-Retell-Signature", sign_at(&valid(24), ms - 600_000, secret))])),
        ("signature", "a future timestamp: 10 minutes ahead", Refused(401, "future_signature"), headers_only(valid(25), vec![json_ct(), ("X-Retell-Signature", sign_at(&valid(25), ms + 600_000, secret))])),
        ("signature", "seconds where milliseconds belong", Refused(401, "stale_signature"), headers_only(valid(26), vec![json_ct(), ("X-Retell-Signature", sign_at(&valid(26), ms / 1000, secret))])),
        ("signature", "a bearer token while bearer mode is off", Refused(401, "bearer_not_allowed"), headers_only(valid(27), vec![json_ct(), ("Authorization", format!("Bearer {secret}"))])),
        // Odd values.
        ("odd values", "SQL-looking strings in ids and transcript: stored verbatim", Stored, signed(json!({"event_id": format!("{marker}-evt-28'; drop table events; --"), "dealership_id": "toyota-braintree", "call_id": format!("{marker}-call-28' or '1'='1"), "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "transcript": "Agent: '); delete from calls; --"}).to_string().into_bytes())),
        ("odd values", "a SQL-looking dealership_id", Refused(422, "contract_violation"), signed(with(29, "dealership_id", json!("x'; drop table dealerships; --")))),
        ("odd values", "an unknown event type with a well-typed call", Stored, signed(native(30, "^", json!({"from_number": "+15550000000", "metadata": {"dealership_id": "toyota-braintree"}})))),
        ("odd values", "an unknown event type with a broken call object", Refused(422, "contract_violation"), signed(native(31, "^", json!({"call_analysis": "x", "from_number": true})))),
        ("odd values", "a timestamp in the year 9999", Refused(422, "timestamp_out_of_range"), signed(with(32, "timestamp", json!("9999-12-31T23:59:59Z")))),
        ("odd values", "a timestamp before 2020 (seconds sent as milliseconds)", Refused(422, "timestamp_out_of_range"), signed(native(33, "call_started", json!({"start_timestamp": 1765983120_i64})))),
        // Transport.
        ("transport", "no Content-Type", Refused(415, "unsupported_media_type"), headers_only(valid(34), vec![("X-Retell-Signature", sign_at(&valid(34), ms, secret))])),
        ("transport", "Content-Type: text/plain", Refused(415, "unsupported_media_type"), headers_only(valid(35), vec![("Content-Type", "text/plain".into()), ("X-Retell-Signature", sign_at(&valid(35), ms, secret))])),
        ("transport", "Content-Type: application/x-www-form-urlencoded", Refused(415, "unsupported_media_type"), headers_only(valid(36), vec![("Content-Type", "application/x-www-form-urlencoded".into()), ("X-Retell-Signature", sign_at(&valid(36), ms, secret))])),
        ("transport", "a gzip body (Content-Encoding: gzip, signed over the gzip bytes): not decoded", Refused(400, "invalid_utf8"), { let gz = gzip(&valid(37)); headers_only(gz.clone(), vec![json_ct(), ("Content-Encoding", "gzip".into()), ("X-Retell-Signature", sign_at(&gz, ms, secret))]) }),
        ("transport", "a chunked body (Transfer-Encoding: chunked)", Stored, Request { framing: Framing::Chunked, ..signed(valid(38)) }),
        ("transport", "a chunked body over 1 MiB", Refused(413, "payload_too_large"), Request { framing: Framing::Chunked, ..signed(big(2 * 1024 * 1024)) }),
        ("transport", "slowloris: the body one byte every 500 ms", Refused(408, "request_timeout"), Request { framing: Framing::TrickledBody, ..signed(valid(39)) }),
        ("transport", "slowloris: a request head that never ends", Closed, Request { framing: Framing::TrickledHead, ..signed(valid(40)) }),
        ("transport", "GET on the webhook", Refused(405, "method_not_allowed"), Request { method: "GET", body: Vec::new(), ..signed(Vec::new()) }),
        ("transport", "POST to an unknown path", Refused(404, "not_found"), Request { path: "/webhooks/retel", ..signed(valid(41)) }),
    ];
    classes
        .drain(..)
        .map(|(group, name, answer, request)| Class {
            group,
            name,
            answer,
            request,
        })
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The exact bytes of the request head (and, unless trickled, everything after it).
fn head(request: &Request, host: &str) -> Vec<u8> {
    let mut text = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
        request.method, request.path
    );
    for (name, value) in &request.headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    match request.framing {
        Framing::Chunked => text.push_str("Transfer-Encoding: chunked\r\n"),
        Framing::TrickledHead => {
            text.push_str("X-Never-Ends: ");
            return text.into_bytes();
        }
        _ => text.push_str(&format!("Content-Length: {}\r\n", request.body.len())),
    }
    text.push_str("\r\n");
    text.into_bytes()
}

/// Sends one request over a fresh connection and reads until the server closes it.
pub async fn send(addr: &str, request: &Request) -> Outcome {
    let stream = TcpStream::connect(addr).await.expect("connect to the api");
    let (mut read, mut write) = stream.into_split();
    let head = head(request, addr);
    let body = request.body.clone();
    let framing = request.framing;
    let writer = tokio::spawn(async move {
        write.write_all(&head).await?;
        match framing {
            Framing::ContentLength => write.write_all(&body).await?,
            Framing::Chunked => {
                for chunk in body.chunks(64 * 1024) {
                    write
                        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .await?;
                    write.write_all(chunk).await?;
                    write.write_all(b"\r\n").await?;
                }
                write.write_all(b"0\r\n\r\n").await?;
            }
            Framing::TrickledBody | Framing::TrickledHead => loop {
                write.write_all(b"x").await?;
                tokio::time::sleep(Duration::from_millis(500)).await;
            },
        }
        // Keep our side open: hyper drops a connection whose client half-closes
        // (no `half_close`) without answering. The task is aborted after the read.
        std::future::pending::<()>().await;
        Ok::<_, std::io::Error>(())
    });
    let mut answer = Vec::new();
    // Far longer than any deadline the api has: it bounds a hung test, nothing more.
    let read_all = tokio::time::timeout(Duration::from_secs(120), async {
        let mut buf = [0u8; 8192];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    writer.abort();
    assert!(read_all.is_ok(), "the api never closed the connection");
    parse(&answer)
}

fn parse(answer: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(answer);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    Outcome { status, body }
}

/// The markdown table of the catalogue (the one in docs/reliability.md).
pub fn table(classes: &[Class]) -> String {
    let mut text = String::from("| # | kind | class | answer |\n| --- | --- | --- | --- |\n");
    for (i, class) in classes.iter().enumerate() {
        text.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            i + 1,
            class.group,
            class.name.replace('|', "\\|"),
            class.answer.describe()
        ));
    }
    text
}
