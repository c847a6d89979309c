//! The HTTP/1.1 connection loop of `swell serve`, with the limits that axum's own `serve` does
//! not set: a client must finish its request headers within [`HEADER_READ_TIMEOUT`] (hyper
//! enforces it with a timer; without one, a connection that sends half a request line is held
//! forever). Request bodies have their own deadline (`swell_server`'s body guard). On shutdown,
//! connections finish the request they serve and close; those still busy after
//! [`SHUTDOWN_GRACE`] are dropped.

use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::time::Duration;
use tokio::sync::watch;
use tower::ServiceExt;

/// How long a client may take to send its request line and headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long open connections may take to finish after a shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve<L>(mut listener: L, app: swell_server::Service, shutdown: impl std::future::Future<Output = ()>)
where
    L: Listener,
    L::Addr: std::fmt::Debug + Clone + Send + Sync + 'static,
{
    let (closing, closing_rx) = watch::channel(false);
    let (done, mut all_done) = tokio::sync::mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => break,
        };
        let app = app.clone();
        let mut closing = closing_rx.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                // the peer's address, for counting failed sign-ins per address
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(axum::extract::ConnectInfo(peer.clone()));
                app.clone().oneshot(req)
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades();
            tokio::pin!(conn);
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::debug!(error = %e, "connection ended");
                        }
                        break;
                    }
                    _ = closing.changed() => conn.as_mut().graceful_shutdown(),
                }
            }
            drop(done);
        });
    }
    let _ = closing.send(true);
    drop(done);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, all_done.recv()).await;
}
