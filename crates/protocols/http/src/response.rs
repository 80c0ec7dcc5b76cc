//! [`IntoResponse`]: what a handler may return.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use crate::body::Body;
use crate::error::Error;

const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

/// Anything a handler can return: a `Response<Body>`, a body (`&'static str`,
/// `String`, `Bytes`, `Vec<u8>`, [`Body`]), a [`StatusCode`], `(StatusCode, body)`,
/// `Result<T, E>` of two of these (so `?` works), or an [`Error`] (answered with its
/// [`status`](Error::status), or 500).
///
/// ```
/// use ghostnet_http::{Error, IntoResponse, Request, RequestExt};
/// use http::StatusCode;
///
/// async fn show(req: Request) -> Result<String, Error> {
///     let id: u64 = req.param("id")?; // a bad id answers 400
///     Ok(format!("user {id}"))
/// }
///
/// let res = (StatusCode::CREATED, "made").into_response();
/// assert_eq!(res.status(), 201);
/// assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
/// ```
pub trait IntoResponse {
    /// The response.
    fn into_response(self) -> Response<Body>;
}

impl IntoResponse for Response<Body> {
    fn into_response(self) -> Response<Body> {
        self
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response<Body> {
        Response::new(self)
    }
}

fn text(body: Body) -> Response<Body> {
    let mut res = Response::new(body);
    res.headers_mut().insert(CONTENT_TYPE, TEXT);
    res
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response<Body> {
        text(Body::from(self))
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response<Body> {
        text(Body::from(self))
    }
}

impl IntoResponse for Bytes {
    fn into_response(self) -> Response<Body> {
        Response::new(Body::from(self))
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response<Body> {
        Response::new(Body::from(self))
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response<Body> {
        Response::new(Body::empty())
    }
}

impl IntoResponse for StatusCode {
    /// The status with its reason phrase as a short text body (none for 204 and 304).
    fn into_response(self) -> Response<Body> {
        status_response(self)
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response<Body> {
        let mut res = self.1.into_response();
        *res.status_mut() = self.0;
        res
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response<Body> {
        match self {
            Ok(t) => t.into_response(),
            Err(e) => e.into_response(),
        }
    }
}

impl IntoResponse for Error {
    /// The error's [`status`](Error::status) with its message; other errors are logged
    /// and answered `500` without details (they may describe the server's insides).
    fn into_response(self) -> Response<Body> {
        match self.status() {
            Some(status) => (status, format!("{self}\n")).into_response(),
            None => {
                tracing::warn!(error = %self, "handler failed");
                status_response(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

/// A response with `status` and, unless the status forbids a body, its reason phrase.
pub(crate) fn status_response(status: StatusCode) -> Response<Body> {
    let bodiless = status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status.is_informational();
    let mut res = if bodiless {
        Response::new(Body::empty())
    } else {
        let reason = status.canonical_reason().unwrap_or("unknown status");
        text(Body::from(format!(
            "{} {}\n",
            status.as_u16(),
            reason.to_lowercase()
        )))
    };
    *res.status_mut() = status;
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conversions() {
        let res = StatusCode::NOT_FOUND.into_response();
        assert_eq!(res.status(), 404);
        assert_eq!(res.into_body().collect().await.unwrap(), "404 not found\n");
        let res = StatusCode::NO_CONTENT.into_response();
        assert_eq!(res.into_body().size_hint(), Some(0));
        let err: Result<&str, Error> = Err(Error::MissingParam { name: "x".into() });
        assert_eq!(err.into_response().status(), 500);
        let bad: Result<&str, Error> = Err(Error::InvalidParam {
            name: "id".into(),
            value: "z".into(),
            reason: "not a number".into(),
        });
        let res = bad.into_response();
        assert_eq!(res.status(), 400);
        let text = res.into_body().collect().await.unwrap();
        assert!(std::str::from_utf8(&text).unwrap().contains("`id`"));
    }
}
