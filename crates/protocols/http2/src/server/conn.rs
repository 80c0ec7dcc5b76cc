//! One server connection: preface, handshake, then accept streams until the connection
//! ends, with keepalive and graceful shutdown.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use http::Request;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use crate::body::{Body, Incoming};
use crate::error::{Error, Result};
use crate::io::{Activity, Io};
use crate::ping::{PingEvent, Pinger};
use crate::preface::{self, PREFACE};
use crate::service::Service;
use crate::settings::Settings;

use super::stream;

/// What an h2c upgrade adds to a connection: frames replayed after the preface, and the
/// HTTP/1.1 request that stream 1 answers.
pub(crate) struct Takeover {
    pub(crate) frames: Bytes,
    pub(crate) request: Request<Body>,
}

/// Serves `io` until the peer closes it, a fatal error, or `token` is cancelled and the
/// streams in flight have finished.
pub(crate) async fn run<T, S>(
    mut io: T,
    settings: &Settings,
    service: Arc<S>,
    token: CancellationToken,
    takeover: Option<Takeover>,
) -> Result<()>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service,
{
    let activity = Activity::default();
    let (frames, mut first_request) = match takeover {
        Some(t) => (t.frames, Some(t.request)),
        None => (Bytes::new(), None),
    };
    let handshake = async {
        let first_frame = preface::read(&mut io).await?;
        // What h2 reads first: the preface, the upgrade's stand-in frames if any, then
        // the header of the client's SETTINGS, whose payload follows on the wire.
        let mut prefix = BytesMut::with_capacity(PREFACE.len() + frames.len() + first_frame.len());
        prefix.extend_from_slice(PREFACE);
        prefix.extend_from_slice(&frames);
        prefix.extend_from_slice(&first_frame);
        let prefix = prefix.freeze();
        let io = Io::new(io, prefix, activity.clone());
        settings
            .server_builder()
            .handshake::<_, Bytes>(io)
            .await
            .map_err(Error::from)
    };
    let limit = settings.handshake_timeout;
    let mut conn = tokio::select! {
        biased;
        () = token.cancelled() => return Ok(()),
        r = tokio::time::timeout(limit, handshake) => match r {
            Ok(conn) => conn?,
            Err(_) => return Err(Error::HandshakeTimeout(limit)),
        },
    };

    let mut pinger = Pinger::new(settings, conn.ping_pong(), activity.clone());
    let mut cancelled = pin!(token.cancelled());
    let mut draining = false;
    let mut accepted = Vec::new();
    poll_fn(|cx| {
        if !draining && cancelled.as_mut().poll(cx).is_ready() {
            // GOAWAY now; h2 lets streams the peer already opened finish, then ends the
            // connection (and `poll_accept` returns `None`).
            tracing::debug!("shutdown: sending GOAWAY");
            conn.graceful_shutdown();
            draining = true;
        }
        if let Some(p) = &mut pinger {
            while let Poll::Ready(event) = p.poll(cx) {
                match event {
                    PingEvent::KeepaliveTimeout(e) => return Poll::Ready(Err(e)),
                    PingEvent::GrowWindow { stream, connection } => {
                        if let Err(e) = conn.set_initial_window_size(stream) {
                            return Poll::Ready(end_of(e));
                        }
                        conn.set_target_window_size(connection);
                    }
                }
            }
        }
        loop {
            // Gather what arrived, then answer it all: h2 writes out what is queued
            // each time it is polled, so answering between two accepts would cost a
            // write per response instead of one for the lot.
            let end = loop {
                match conn.poll_accept(cx) {
                    Poll::Ready(Some(Ok((req, respond)))) => {
                        let req = match first_request.take() {
                            // Stream 1 stands for the upgraded HTTP/1.1 request, whose
                            // body was already read: answer that request.
                            Some(first) => first,
                            None => {
                                let (parts, recv) = req.into_parts();
                                let body = Body::incoming(Incoming::new(
                                    recv,
                                    &parts.headers,
                                    activity.clone(),
                                ));
                                Request::from_parts(parts, body)
                            }
                        };
                        accepted.push((req, respond));
                    }
                    Poll::Ready(Some(Err(e))) => break Some(end_of(e)),
                    Poll::Ready(None) => break Some(Ok(())),
                    Poll::Pending => break None,
                }
            };
            if accepted.is_empty() {
                return end.map_or(Poll::Pending, Poll::Ready);
            }
            for (req, respond) in accepted.drain(..) {
                stream::start(service.clone(), req, respond, cx);
            }
            if let Some(end) = end {
                return Poll::Ready(end);
            }
            // Poll again: that writes the answers out, and takes what came meanwhile.
        }
    })
    .await
}

/// Whether an error from h2 ends the connection normally (the peer said goodbye).
fn end_of(e: h2::Error) -> Result<()> {
    match Error::from(e) {
        Error::GoAway {
            reason,
            remote: true,
        } if reason == h2::Reason::NO_ERROR => Ok(()),
        Error::ConnectionClosed => Ok(()),
        other => Err(other),
    }
}
