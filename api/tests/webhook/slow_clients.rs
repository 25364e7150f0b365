//! A client that sends its request slowly (slowloris) is cut off after
//! `API_REQUEST_TIMEOUT_SECS`, whether it trickles the head or the body; the
//! server keeps serving everyone else, and nothing is stored.

use std::time::Duration;

use api::signature::sign;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Far longer than the 1 s the app allows: without a deadline the read below
/// would wait for ever, so this bounds the test, not the server's speed.
const GIVE_UP: Duration = Duration::from_secs(20);

async fn app_with_a_one_second_deadline() -> TestApp {
    spawn_app_with(Options {
        request_timeout_secs: Some(1),
        ..Options::default()
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.address.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect to the app")
}

/// Reads until the server closes the connection; `None` if it never does.
async fn read_until_closed(stream: &mut tokio::net::tcp::OwnedReadHalf) -> Option<String> {
    let mut answer = Vec::new();
    tokio::time::timeout(GIVE_UP, stream.read_to_end(&mut answer))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected() {
    let app = app_with_a_one_second_deadline().await;
    let (mut read, mut write) = connect(&app).await.into_split();
    write
        .write_all(b"POST /webhooks/retell HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // One byte of a header that never ends, every 200 ms.
    let trickle = tokio::spawn(async move {
        loop {
            if write.write_all(b"X").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let answer = read_until_closed(&mut read).await;
    trickle.abort();
    let answer = answer.expect("the server never closed the slow connection");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // Everyone else is still served.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn a_client_trickling_its_body_gets_408_and_nothing_is_stored() {
    let app = app_with_a_one_second_deadline().await;
    let body = NORMALIZED_GOOD.as_bytes();
    let head = format!(
        "POST /webhooks/retell HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-Retell-Signature: {}\r\nContent-Length: {}\r\n\r\n",
        sign(body, now_ms(), SECRET),
        body.len()
    );
    let (mut read, mut write) = connect(&app).await.into_split();
    write.write_all(head.as_bytes()).await.unwrap();
    let rest = body.to_vec();
    let trickle = tokio::spawn(async move {
        for byte in rest {
            if write.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let answer = read_until_closed(&mut read).await;
    trickle.abort();
    let answer = answer.expect("the server never answered the slow body");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""error":"request_timeout""#), "{answer}");
    assert!(answer.contains("API_REQUEST_TIMEOUT_SECS"), "{answer}");
    assert_eq!(app.events_count().await, 0);
    // The same event sent at once is stored.
    app.deliver(body).await;
    assert_eq!(app.events_count().await, 1);
}
