//! HTTP details jsonrpsee leaves to us: a notification gets no answer. jsonrpsee writes the
//! JSON `null` it uses internally for a notification; geth answers with an empty body.

use http_body::Body as _;
use http_body_util::BodyExt;
use jsonrpsee::server::{HttpBody, HttpResponse};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Layer that empties the body of responses to notifications.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotificationLayer;

impl<S> tower::Layer<S> for NotificationLayer {
    type Service = Notifications<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Notifications(inner)
    }
}

/// The service [`NotificationLayer`] wraps around jsonrpsee's.
#[derive(Debug, Clone)]
pub struct Notifications<S>(S);

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, R> tower::Service<R> for Notifications<S>
where
    S: tower::Service<R, Response = HttpResponse<HttpBody>> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse<HttpBody>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let fut = self.0.call(req);
        Box::pin(async move {
            let resp = fut.await?;
            // Every real answer is an object or an array; only a notification's is `null`.
            if resp.body().size_hint().exact() != Some(4) {
                return Ok(resp);
            }
            let (mut parts, body) = resp.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            if bytes.as_ref() == b"null" {
                parts.headers.remove(http::header::CONTENT_LENGTH);
                return Ok(HttpResponse::from_parts(parts, HttpBody::from(Vec::new())));
            }
            Ok(HttpResponse::from_parts(
                parts,
                HttpBody::from(bytes.to_vec()),
            ))
        })
    }
}
