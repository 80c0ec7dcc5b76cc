//! One request: run the service, send its response. Runs on the connection's task until
//! the service first waits, then on a task of its own.

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use h2::SendStream;
use h2::server::SendResponse;
use http::{Method, Request, Response, StatusCode};

use crate::body::{Body, send::poll_pipe};
use crate::error::Result;
use crate::headers::{set_content_length, strip_connection_specific};
use crate::service::Service;

/// Runs a stream's handler on the connection's task as far as it goes without waiting;
/// only a handler that has to wait, or a body that streams, gets a task of its own.
///
/// Most answers are ready at once (a route that builds a response from the request),
/// and a task per stream, its scheduling and its wake-up cost more than the answer.
/// A panic in the handler is caught here as tokio would catch it in a task: the
/// stream gets `500` and the connection carries on.
pub(crate) fn start<S: Service>(
    service: Arc<S>,
    req: Request<Body>,
    respond: SendResponse<Bytes>,
    cx: &mut Context<'_>,
) {
    let task = Box::pin(handle(service, req, respond));
    // The future is dropped inside the closure when its poll panics, while the thread
    // is still panicking, which is what lets its guard answer 500.
    let polled = catch_unwind(AssertUnwindSafe(move || {
        let mut task = task;
        match task.as_mut().poll(cx) {
            Poll::Ready(()) => None,
            Poll::Pending => Some(task),
        }
    }));
    match polled {
        Ok(None) => {}
        Ok(Some(waiting)) => {
            // When the connection ends, h2 fails every stream, which ends these tasks.
            tokio::spawn(waiting);
        }
        Err(_) => {
            tracing::debug!("the handler panicked; the stream got 500 (or a reset, after the head)")
        }
    }
}

/// Runs `service` on `req` and answers on `respond`. When the peer resets the stream
/// first, the service future is dropped: its work is no longer wanted.
///
/// This future is what each stream's task holds, so it is kept small: the response
/// head and a full body are sent synchronously, and only a streaming body is awaited.
async fn handle<S: Service>(service: Arc<S>, req: Request<Body>, respond: SendResponse<Bytes>) {
    let head_request = req.method() == Method::HEAD;
    let mut guard = PanicGuard(Some(respond));
    let response = {
        let mut call = pin!(service.call(req));
        poll_fn(|cx| {
            if let Poll::Ready(resp) = call.as_mut().poll(cx) {
                return Poll::Ready(Some(resp));
            }
            let respond = guard.0.as_mut().expect("taken only below");
            respond.poll_reset(cx).map(|_| None)
        })
        .await
    };
    let respond = guard.0.take().expect("taken only here");
    let Some(response) = response else {
        tracing::trace!("stream reset by the peer before the response");
        return;
    };
    match start_response(respond, response, head_request) {
        Ok(None) => {}
        Ok(Some((mut body, mut stream))) => {
            if let Err(e) = poll_fn(|cx| poll_pipe(&mut body, &mut stream, cx)).await {
                tracing::debug!("sending the response body failed: {e}");
            }
        }
        Err(e) => tracing::debug!("sending the response failed: {e}"),
    }
}

/// Sends the head, and a full body with it; returns what is left to stream.
fn start_response(
    mut respond: SendResponse<Bytes>,
    response: Response<Body>,
    head_request: bool,
) -> Result<Option<(Body, SendStream<Bytes>)>> {
    let (mut parts, mut body) = response.into_parts();
    strip_connection_specific(&mut parts.headers);
    let bodiless = head_request
        || parts.status == StatusCode::NO_CONTENT
        || parts.status == StatusCode::NOT_MODIFIED;
    if head_request {
        // A HEAD answer carries the length the GET would have, when the service gave
        // that body; an empty body says nothing about it.
        set_content_length(&mut parts.headers, body.size_hint().filter(|&n| n > 0));
    } else if !bodiless {
        set_content_length(&mut parts.headers, body.size_hint());
    }
    let end = bodiless || body.is_end_stream();
    let mut stream = respond.send_response(Response::from_parts(parts, ()), end)?;
    if end {
        return Ok(None);
    }
    if let Some(data) = body.take_full() {
        // Already in memory: hand it to h2 whole; h2 sends it as the window opens.
        stream.send_data(data, true)?;
        return Ok(None);
    }
    Ok(Some((body, stream)))
}

/// Answers `500` if the service panics before responding, so the client gets an answer
/// instead of a bare reset. (A panic after the head was sent drops the stream, which
/// h2 resets.)
struct PanicGuard(Option<SendResponse<Bytes>>);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if let Some(respond) = &mut self.0
            && std::thread::panicking()
        {
            let mut head = Response::new(());
            *head.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            let _ = respond.send_response(head, true);
        }
    }
}
