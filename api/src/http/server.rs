//! Serving connections: the accept loop, what it holds each connection to, and graceful
//! shutdown.
//!
//! axum's `serve` has no header-read timeout, no idle timeout and no cap on connections: a socket
//! that sent half a request stayed open for as long as its client liked, and every such socket
//! was one more. Here the router is served with hyper-util's connection builder, and:
//!
//! - **Connections are capped** (`http.max_connections`, per listener). A permit is taken
//!   *before* accept, so a client beyond the cap waits in the kernel's listen backlog (its
//!   connect succeeds; its request is read once another connection closes) rather than being
//!   accepted and reset at once: a reset is an error every client and load balancer reports, a
//!   wait is what a busy server looks like, and costs Gatehouse nothing. The backlog is bounded
//!   by the kernel (`somaxconn`); beyond it SYNs are dropped and clients retry.
//! - **A request's head must arrive in full within `http.header_read_timeout_secs`**, counted
//!   from accept on a new connection and from the head's first byte on a kept-alive one.
//! - **A kept-alive connection with no request in flight is closed after
//!   `http.idle_timeout_secs`** without a byte from its client.
//!
//! Both timeouts are kept by [`WatchedIo`] around the socket, not by hyper. hyper 1.12's
//! `http1().header_read_timeout` starts its timer whenever the connection waits for a head,
//! including the wait for the next request on a kept-alive connection (`State::idle` in
//! `proto/h1/conn.rs`: "Next read will start and poll the header read timeout"), so it cannot
//! give a slow head 10 s and an idle connection 75 s; and it does not run while the auto builder
//! is still reading the first bytes to tell HTTP/1 from HTTP/2, where a client that sends nothing
//! would wait for ever. hyper's timer is therefore switched off explicitly (with a timer set, it
//! would default to 30 s).
//!
//! `ConnectInfo<SocketAddr>` is inserted into every request, as axum's
//! `into_make_service_with_connect_info` does, for the handlers that need the peer (the sign-in
//! throttle).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use futures::task::AtomicWaker;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use crate::config::HttpConfig;

/// What each connection is held to, from `[http]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `http.header_read_timeout_secs`.
    pub header_read_timeout: Duration,
    /// `http.idle_timeout_secs`.
    pub idle_timeout: Duration,
    /// `http.max_connections`.
    pub max_connections: usize,
    /// `http.shutdown_grace_secs`.
    pub shutdown_grace: Duration,
}

impl ConnectionLimits {
    /// The limits configured under `[http]`.
    pub fn from_config(http: &HttpConfig) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(http.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(http.idle_timeout_secs),
            max_connections: http.max_connections,
            shutdown_grace: Duration::from_secs(http.shutdown_grace_secs),
        }
    }
}

/// Serves `router` on `listener` until `stop` is cancelled; then stops accepting, lets the
/// requests in flight finish within `limits.shutdown_grace`, and closes the connections still
/// open after it. `name` labels the listener in metrics and logs (`main`, `metrics`). Returns
/// whether every connection finished within the grace period.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    name: &'static str,
    stop: CancellationToken,
) -> bool {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let connections = TaskTracker::new();
    // Cancelled when the grace period is over: connections still open are dropped.
    let close = CancellationToken::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None::<Duration>);
    let builder = Arc::new(builder);
    loop {
        let permit = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                // The semaphore is never closed.
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(name, &error).await;
                    continue;
                }
            },
        };
        let open = OpenConnection::new(name, permit);
        let service = ConnService {
            router: router.clone(),
            peer,
            state: Arc::new(ConnState::default()),
        };
        let io = TokioIo::new(WatchedIo::new(stream, limits, service.state.clone(), name));
        let builder = builder.clone();
        let stop = stop.clone();
        let close = close.clone();
        connections.spawn(async move {
            let _open = open;
            let connection = builder.serve_connection_with_upgrades(io, service);
            tokio::pin!(connection);
            let outcome = tokio::select! {
                outcome = connection.as_mut() => Some(outcome),
                () = stop.cancelled() => {
                    // Finish the request in flight, if any, then close; an idle connection
                    // closes at once.
                    connection.as_mut().graceful_shutdown();
                    tokio::select! {
                        outcome = connection.as_mut() => Some(outcome),
                        () = close.cancelled() => None,
                    }
                }
            };
            if let Some(Err(error)) = outcome {
                tracing::debug!(
                    http.listener = name,
                    net.peer = %peer,
                    error.message = %error,
                    "connection ended with an error"
                );
            }
        });
    }
    // Dropping the listener stops accepting: connections waiting in the backlog are refused.
    drop(listener);
    connections.close();
    if tokio::time::timeout(limits.shutdown_grace, connections.wait())
        .await
        .is_ok()
    {
        return true;
    }
    close.cancel();
    connections.wait().await;
    false
}

/// An accept that failed. Errors of one connection (reset before accept) are nothing; others
/// (out of file descriptors) are logged and accepting pauses a second, as hyper 0.14 did, so that
/// a full descriptor table does not become a busy loop.
async fn accept_failed(name: &'static str, error: &io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(http.listener = name, error.message = %error, "cannot accept a connection");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// An accepted connection: holds its permit and counts itself in `http_connections_open`.
struct OpenConnection {
    name: &'static str,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl OpenConnection {
    fn new(name: &'static str, permit: tokio::sync::OwnedSemaphorePermit) -> Self {
        metrics::gauge!("http_connections_open", "listener" => name).increment(1.0);
        Self {
            name,
            _permit: permit,
        }
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!("http_connections_open", "listener" => self.name).decrement(1.0);
    }
}

/// What a connection's socket and its service share.
#[derive(Debug, Default)]
struct ConnState {
    /// Requests between the service call and the end of their response body.
    in_flight: AtomicUsize,
    /// Set once a request arrives over HTTP/2, whose idle connections still carry frames
    /// (pings, settings): bytes on them do not start a request's head.
    multiplexed: AtomicBool,
    /// The task reading the socket, woken when the last request in flight ends: hyper does not
    /// read again on its own once a response is written, and the idle clock starts in a read.
    reader: AtomicWaker,
}

/// The per-connection service: the router, with the peer's address in every request and each
/// request counted in flight until its response body is finished or dropped.
#[derive(Clone)]
struct ConnService {
    router: Router,
    peer: SocketAddr,
    state: Arc<ConnState>,
}

impl hyper::service::Service<http::Request<Incoming>> for ConnService {
    type Response = http::Response<TrackedBody>;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn Future<Output = Result<http::Response<TrackedBody>, Infallible>> + Send>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::start(&self.state, request.version());
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let router = self.router.clone();
        Box::pin(async move {
            let response = router.oneshot(request).await?;
            Ok(response.map(|body| TrackedBody {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

/// One request in flight on a connection, until dropped.
struct InFlight(Arc<ConnState>);

impl InFlight {
    fn start(state: &Arc<ConnState>, version: http::Version) -> Self {
        state.in_flight.fetch_add(1, Ordering::AcqRel);
        if version == http::Version::HTTP_2 {
            state.multiplexed.store(true, Ordering::Relaxed);
        }
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.reader.wake();
        }
    }
}

/// A response body that keeps its request counted in flight until it is finished or dropped.
struct TrackedBody {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        hyper::body::Body::is_end_stream(&self.body)
    }

    fn size_hint(&self) -> SizeHint {
        hyper::body::Body::size_hint(&self.body)
    }
}

/// Where a connection is in its life, as the header-read and idle timeouts see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request's head: since accept, or since its first byte arrived on a
    /// kept-alive connection. The header-read deadline runs.
    Head,
    /// At least one request in flight: no deadline here (`http.request_timeout_secs` bounds the
    /// handler).
    Busy,
    /// Kept alive with nothing in flight and no byte received since. The idle deadline runs.
    Idle,
}

/// The socket, with the header-read and idle deadlines kept in its reads: hyper reads whenever
/// it waits for the client, so a deadline that fires there ends the connection with a
/// `TimedOut` error, which hyper answers by closing it.
struct WatchedIo {
    stream: TcpStream,
    state: Arc<ConnState>,
    limits: ConnectionLimits,
    name: &'static str,
    phase: Phase,
    deadline: Pin<Box<Sleep>>,
    expired: bool,
}

impl WatchedIo {
    fn new(
        stream: TcpStream,
        limits: ConnectionLimits,
        state: Arc<ConnState>,
        name: &'static str,
    ) -> Self {
        Self {
            stream,
            state,
            limits,
            name,
            phase: Phase::Head,
            deadline: Box::pin(tokio::time::sleep(limits.header_read_timeout)),
            expired: false,
        }
    }

    /// Moves between phases after a read (`received`: it returned bytes).
    fn observe(&mut self, received: bool) {
        if self.state.in_flight.load(Ordering::Acquire) > 0 {
            self.phase = Phase::Busy;
            return;
        }
        if self.phase == Phase::Busy {
            self.phase = Phase::Idle;
            self.deadline
                .as_mut()
                .reset(Instant::now() + self.limits.idle_timeout);
        }
        if self.phase == Phase::Idle && received && !self.state.multiplexed.load(Ordering::Relaxed)
        {
            self.phase = Phase::Head;
            self.deadline
                .as_mut()
                .reset(Instant::now() + self.limits.header_read_timeout);
        }
    }

    fn timed_out(&mut self) -> io::Error {
        let (reason, message) = match self.phase {
            Phase::Idle => (
                "idle_timeout",
                "no request within http.idle_timeout_secs on a kept-alive connection",
            ),
            _ => (
                "header_timeout",
                "the request head did not arrive within http.header_read_timeout_secs",
            ),
        };
        if !self.expired {
            self.expired = true;
            metrics::counter!(
                "http_connections_timed_out_total",
                "listener" => self.name,
                "reason" => reason
            )
            .increment(1);
        }
        io::Error::new(io::ErrorKind::TimedOut, message)
    }
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Registered before the in-flight count is read, so that a request ending in between
        // still wakes this reader.
        this.state.reader.register(cx.waker());
        let before = buf.filled().len();
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        this.observe(buf.filled().len() > before);
        if this.phase != Phase::Busy
            && result.is_pending()
            && this.deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(this.timed_out()));
        }
        result
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn limits(header: u64, idle: u64, max_connections: usize) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(header),
            idle_timeout: Duration::from_secs(idle),
            max_connections,
            shutdown_grace: Duration::from_secs(5),
        }
    }

    async fn start(limits: ConnectionLimits) -> (SocketAddr, CancellationToken) {
        let router = Router::new().route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let stop = CancellationToken::new();
        tokio::spawn(serve(listener, router, limits, "test", stop.clone()));
        (addr, stop)
    }

    /// Reads until the server closes the connection; returns what it sent. Fails after 1000 s of
    /// (paused, so instant) time, rather than hanging, if the server never closes it.
    async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
        let mut seen = Vec::new();
        let mut chunk = [0u8; 1024];
        let read = async {
            loop {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen.extend_from_slice(&chunk[..n]),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(1000), read)
            .await
            .expect("the server closes the connection");
        seen
    }

    // Paused time: the runtime jumps to the next timer once every task waits, so these tests
    // check the deadlines exactly and take no wall-clock time.

    #[tokio::test(start_paused = true)]
    async fn a_half_sent_head_is_cut_off_at_the_header_read_timeout_and_not_before() {
        let (addr, _stop) = start(limits(10, 75, 8)).await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let started = Instant::now();
        stream
            .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("half a head");
        let sent = read_to_close(&mut stream).await;
        let waited = started.elapsed();
        assert!(sent.is_empty(), "no answer to half a head");
        assert!(
            waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_alive_connection_waits_the_idle_timeout_not_the_header_timeout() {
        let (addr, _stop) = start(limits(10, 75, 8)).await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("request");
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.expect("answer");
        let answer = String::from_utf8_lossy(&chunk[..n]).into_owned();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.contains("127.0.0.1:"),
            "the peer reached the handler: {answer}"
        );
        let answered = Instant::now();
        let rest = read_to_close(&mut stream).await;
        let waited = answered.elapsed();
        assert!(rest.is_empty());
        assert!(
            waited >= Duration::from_secs(75) && waited < Duration::from_secs(76),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_begun_on_a_kept_alive_connection_gets_the_header_read_timeout() {
        let (addr, _stop) = start(limits(10, 75, 8)).await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("request");
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.expect("answer");
        assert!(chunk[..n].starts_with(b"HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_secs(30)).await;
        stream.write_all(b"GET /pe").await.expect("a head begun");
        let begun = Instant::now();
        assert!(read_to_close(&mut stream).await.is_empty());
        let waited = begun.elapsed();
        assert!(
            waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
            "{waited:?}"
        );
    }
}
