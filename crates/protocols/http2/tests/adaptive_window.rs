//! The adaptive window, seen from a scripted peer on a paused clock: while the
//! application reads a response (or a server handler a request body), our end PINGs; when the bytes read during that round
//! trip fill most of the window, the client raises its stream window (SETTINGS) and its
//! connection window (WINDOW_UPDATE on stream 0), up to the configured limit. With the
//! adaptive window off, a body is read without a single PING. The server side runs the
//! same code; one test shows it raises its window for a large upload.

mod support;

use std::sync::Arc;
use std::time::Duration;

use ghostnet_http2::{
    Body, DEFAULT_CONNECTION_WINDOW, DEFAULT_STREAM_WINDOW, Server, Settings, client,
};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Dial, Listen, MemoryNetwork, MemoryStream, Target};
use http::{Request, Response};
use support::frames::*;

const CHUNK: usize = 16 * 1024;
/// Sent during the round trip: three quarters of the 4 MiB default stream window.
const BURST: usize = 3 * 1024 * 1024;
/// The connection-level window before any DATA or WINDOW_UPDATE (RFC 9113 §6.9.2).
const INITIAL_CONNECTION_WINDOW: u64 = 65_535;

/// What the server saw while it streamed one response to a client with `settings`.
struct Seen {
    /// The client's PING, if it sent one while the first chunks were read.
    pinged: bool,
    /// Body bytes sent before the client's PING arrived.
    before_ping: usize,
    /// `SETTINGS_INITIAL_WINDOW_SIZE` in a SETTINGS the client sent after the handshake.
    stream_window: Option<u32>,
    /// The connection window the client has granted in total (65,535 plus every stream-0
    /// WINDOW_UPDATE) once it read everything.
    connection_credit: u64,
    /// Body bytes sent in all.
    sent: usize,
    /// Body bytes the client's application received.
    received: usize,
}

/// The server half: answers the client's GET with DATA chunks until the client PINGs
/// (or `max_chunks` pass), then sends [`BURST`] more, lets the application read all of
/// it (virtual time moves only once every task is idle), and only then ACKs the PING.
async fn stream_to(settings: Settings, max_chunks: usize) -> Seen {
    let net = MemoryNetwork::new();
    let target: Target = "h2.test:1".parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let io = net.dialer().dial(&target).await.unwrap();
    let (server_io, _) = listener.accept().await.unwrap();
    let mut server: Peer<MemoryStream> = Peer::new(server_io).unguarded();

    let reader = tokio::spawn(async move {
        let client = client::connect(io, &settings).await.unwrap();
        let res = client.send(support::get("/big")).await.unwrap();
        let body = res
            .into_body()
            .with_limit(u64::MAX)
            .collect()
            .await
            .unwrap();
        body.len()
    });

    server.accept_client().await;
    let mut credit = INITIAL_CONNECTION_WINDOW;
    let mut stream_window = None;
    let mut note = |f: &Frame| {
        if f.kind == WINDOW_UPDATE && f.stream == 0 {
            let inc = u32::from_be_bytes(f.payload[..4].try_into().unwrap()) & 0x7fff_ffff;
            credit += u64::from(inc);
        }
        if f.kind == SETTINGS && f.flags & ACK == 0 {
            for (id, value) in f.settings() {
                if id == SETTINGS_INITIAL_WINDOW_SIZE {
                    stream_window = Some(value);
                }
            }
        }
    };

    // The GET; the connection WINDOW_UPDATE of the handshake comes on the way.
    loop {
        let f = server.next().await.expect("the GET");
        note(&f);
        if f.kind == HEADERS && f.stream == 1 {
            break;
        }
    }
    server
        .send(&headers(1, END_HEADERS, &literal(":status", "200")))
        .await;

    let chunk = vec![7u8; CHUNK];
    let mut sent = 0;
    let mut ping = None;
    for _ in 0..max_chunks {
        server.send(&data(1, 0, &chunk)).await;
        sent += CHUNK;
        // Whatever the client says before the next chunk.
        while let Ok(Some(f)) = tokio::time::timeout(Duration::from_millis(10), server.next()).await
        {
            note(&f);
            if f.kind == PING && f.flags & ACK == 0 {
                ping = Some(f.payload.clone());
            }
        }
        if ping.is_some() {
            break;
        }
    }
    let before_ping = sent;
    if let Some(payload) = &ping {
        for _ in 0..BURST / CHUNK {
            server.send(&data(1, 0, &chunk)).await;
            sent += CHUNK;
        }
        // Everything was read by the time the clock moves on.
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.send(&frame(PING, ACK, 0, payload)).await;
    }
    // What the client does about it, then the end of the body.
    while let Ok(Some(f)) = tokio::time::timeout(Duration::from_millis(100), server.next()).await {
        note(&f);
    }
    server.send(&data(1, END_STREAM, &[])).await;
    let received = reader.await.unwrap();
    Seen {
        pinged: ping.is_some(),
        before_ping,
        stream_window,
        connection_credit: credit,
        sent,
        received,
    }
}

#[tokio::test(start_paused = true)]
async fn a_window_limited_round_trip_doubles_the_windows() {
    let seen = stream_to(Settings::default(), 64).await;
    assert!(seen.pinged, "the client never sampled the round trip");
    assert_eq!(seen.received, seen.sent);
    // Twice what was read during the round trip: the burst, plus at most what was sent
    // before the PING arrived.
    let window = seen
        .stream_window
        .expect("the client raised its stream window");
    let lowest = 2 * BURST as u64;
    let highest = 2 * (BURST + seen.before_ping) as u64;
    assert!(
        (lowest..=highest).contains(&u64::from(window)),
        "stream window {window} is not twice the sample ({lowest}..={highest})"
    );
    assert!(window > DEFAULT_STREAM_WINDOW);
    // The connection window follows at twice the stream window: with all of it read,
    // the client has granted that much beyond what was sent.
    let open = seen.connection_credit - seen.sent as u64;
    assert!(
        open >= u64::from(window) * 2 - 2 * CHUNK as u64,
        "connection window open {open}, stream window {window}"
    );
    assert!(open > u64::from(DEFAULT_CONNECTION_WINDOW));
}

#[tokio::test(start_paused = true)]
async fn the_window_stops_at_max_adaptive_window() {
    let mut settings = Settings::default();
    settings.max_adaptive_window = 5 * 1024 * 1024;
    let seen = stream_to(settings, 64).await;
    assert!(seen.pinged);
    assert_eq!(seen.stream_window, Some(5 * 1024 * 1024));
    assert_eq!(seen.received, seen.sent);
}

#[tokio::test(start_paused = true)]
async fn a_limit_at_the_initial_window_never_grows() {
    let mut settings = Settings::default();
    settings.max_adaptive_window = DEFAULT_STREAM_WINDOW;
    let seen = stream_to(settings, 64).await;
    assert_eq!(seen.stream_window, None);
    assert_eq!(seen.received, seen.sent);
}

#[tokio::test(start_paused = true)]
async fn adaptive_window_off_never_pings() {
    let mut settings = Settings::default();
    settings.adaptive_window = false;
    let seen = stream_to(settings, 64).await;
    assert!(
        !seen.pinged,
        "pinged with the adaptive window and keepalive idle"
    );
    assert_eq!(seen.stream_window, None);
    assert_eq!(seen.received, seen.sent);
    assert_eq!(seen.sent, 64 * CHUNK);
}

#[tokio::test(start_paused = true)]
async fn the_server_raises_its_window_for_a_large_upload() {
    let net = MemoryNetwork::new();
    let target: Target = "h2.test:1".parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let mut peer = Peer::new(net.dialer().dial(&target).await.unwrap()).unguarded();
    let (io, _) = listener.accept().await.unwrap();
    // Reads the whole upload and answers with its length.
    let service = |req: Request<Body>| async move {
        let body = req.into_body().with_limit(u64::MAX).collect().await;
        Response::new(Body::from(body.map(|b| b.len()).unwrap_or(0).to_string()))
    };
    let token = Shutdown::new().token();
    let server = Server::new(Settings::default()).unwrap();
    let conn = tokio::spawn({
        let token = token.clone();
        async move { server.serve_connection(io, Arc::new(service), token).await }
    });
    peer.handshake().await;
    peer.send(&headers(
        1,
        END_HEADERS,
        &request_block("POST", "/upload", &[]),
    ))
    .await;
    let chunk = vec![1u8; CHUNK];
    let mut sent = 0;
    let mut ping = None;
    while ping.is_none() && sent < 64 * CHUNK {
        peer.send(&data(1, 0, &chunk)).await;
        sent += CHUNK;
        while let Ok(Some(f)) = tokio::time::timeout(Duration::from_millis(10), peer.next()).await {
            if f.kind == PING && f.flags & ACK == 0 {
                ping = Some(f.payload);
            }
        }
    }
    let payload = ping.expect("the server never sampled the round trip");
    for _ in 0..BURST / CHUNK {
        peer.send(&data(1, 0, &chunk)).await;
        sent += CHUNK;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    peer.send(&frame(PING, ACK, 0, &payload)).await;
    let raised = peer
        .until("the server's new SETTINGS", |f| {
            f.kind == SETTINGS && f.flags & ACK == 0
        })
        .await;
    let window = raised
        .settings()
        .into_iter()
        .find(|(id, _)| *id == SETTINGS_INITIAL_WINDOW_SIZE)
        .map(|(_, v)| v)
        .expect("INITIAL_WINDOW_SIZE");
    assert!(window >= 2 * BURST as u32, "{window}");
    peer.send(&settings_ack()).await;
    peer.send(&data(1, END_STREAM, &[])).await;
    assert_eq!(peer.body(1).await, sent.to_string().as_bytes());
    // A graceful end: GOAWAY, and h2's shutdown PING answered.
    token.cancel();
    while let Some(f) = peer.next().await {
        if f.kind == PING && f.flags & ACK == 0 {
            peer.send(&frame(PING, ACK, 0, &f.payload)).await;
        }
    }
    conn.await.unwrap().unwrap();
}
