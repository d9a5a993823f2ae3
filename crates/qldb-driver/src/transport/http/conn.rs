//! One HTTP/1.1 connection to the QLDB Session endpoint, and the exchange of one request and
//! its response on it.
//!
//! The sockets are blocking with a short timeout ([`TICK`]) on every read and write: an
//! [`Exchange`] is driven by whichever thread needs the answer (the driver's caller, so a
//! request costs no thread hand-off) and gives control back every tick so the caller can check
//! for interrupts (Ctrl-C) or give up. The read timeout of the options is an inactivity limit,
//! as botocore's socket timeout is.
//!
//! Responses are framed by `Content-Length`, `Transfer-Encoding: chunked` or the end of the
//! connection; the head is parsed by `httparse`.

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest a single socket operation blocks before the exchange hands control back.
pub(super) const TICK: Duration = crate::sync::INTERRUPT_TICK;

/// Response headers kept; more than this many is a malformed response.
const MAX_HEADERS: usize = 64;
/// Largest response head accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// First size of a connection's read buffer.
const INITIAL_BUFFER: usize = 16 * 1024;
/// A read buffer up to this size stays with its connection for the next exchange (growing and
/// zero-filling it once, not per response).
const KEPT_BUFFER: usize = 256 * 1024;

/// Where connections go.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub host: String,
    pub port: u16,
    /// `None` for plain `http://`.
    pub tls: Option<Arc<ClientConfig>>,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn socket(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// An open connection.
pub(super) struct Conn {
    stream: Stream,
    /// The read buffer, kept between exchanges.
    buffer: Vec<u8>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tls = matches!(self.stream, Stream::Tls(_));
        f.debug_struct("Conn")
            .field("peer", &self.stream.socket().peer_addr().ok())
            .field("tls", &tls)
            .finish()
    }
}

impl Conn {
    fn wrap(socket: TcpStream, target: &Target) -> io::Result<Conn> {
        socket.set_nodelay(true)?;
        socket.set_read_timeout(Some(TICK))?;
        socket.set_write_timeout(Some(TICK))?;
        let stream = match &target.tls {
            None => Stream::Plain(socket),
            Some(config) => {
                let name = ServerName::try_from(target.host.clone())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                let tls = ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
                Stream::Tls(Box::new(StreamOwned::new(tls, socket)))
            }
        };
        Ok(Conn {
            stream,
            buffer: Vec::new(),
        })
    }

    /// Whether an idle connection can carry another request: the peer has neither closed it
    /// nor sent anything unasked (one non-blocking peek).
    pub fn is_reusable(&self) -> bool {
        let socket = self.stream.socket();
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let mut byte = 0u8;
            // SAFETY: recv into a valid one-byte buffer on a socket this connection owns.
            let n = unsafe {
                libc::recv(
                    socket.as_raw_fd(),
                    (&mut byte as *mut u8).cast(),
                    1,
                    libc::MSG_PEEK | libc::MSG_DONTWAIT,
                )
            };
            n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
        }
        #[cfg(not(unix))]
        {
            let mut byte = [0u8; 1];
            if socket.set_nonblocking(true).is_err() {
                return false;
            }
            let alive =
                matches!(socket.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
            alive && socket.set_nonblocking(false).is_ok()
        }
    }
}

/// A connection being established: one non-blocking connect per resolved address in turn, each
/// given `timeout`, waited for at most one [`TICK`] per [`Connecting::poll`] so that the caller
/// stays interruptible (a black-holed endpoint would otherwise block it for the whole timeout).
/// Name resolution itself is blocking.
pub(super) struct Connecting {
    target: Target,
    addrs: std::vec::IntoIter<std::net::SocketAddr>,
    socket: Option<(socket2::Socket, Instant)>,
    timeout: Duration,
    last_error: Option<io::Error>,
}

impl Connecting {
    pub fn start(target: &Target, timeout: Duration) -> io::Result<Connecting> {
        let addrs: Vec<_> = (target.host.as_str(), target.port)
            .to_socket_addrs()?
            .collect();
        Ok(Connecting {
            target: target.clone(),
            addrs: addrs.into_iter(),
            socket: None,
            timeout,
            last_error: None,
        })
    }

    /// Advances the connect: `Ok(Some(conn))` when connected, `Ok(None)` after about one tick
    /// without an answer, an error when every address failed or the timeout passed.
    pub fn poll(&mut self) -> io::Result<Option<Conn>> {
        loop {
            let Some((socket, started)) = &self.socket else {
                let Some(addr) = self.addrs.next() else {
                    return Err(self.last_error.take().unwrap_or_else(|| {
                        io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("{} resolves to no address", self.target.host),
                        )
                    }));
                };
                match Self::begin(addr) {
                    Ok(socket) => self.socket = Some((socket, Instant::now())),
                    Err(e) => self.last_error = Some(e),
                }
                continue;
            };
            match wait_writable(socket) {
                Ok(false) if started.elapsed() < self.timeout => return Ok(None),
                Ok(false) => {
                    self.last_error = Some(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "connect timed out after {:.1} s",
                            self.timeout.as_secs_f64()
                        ),
                    ));
                    self.socket = None;
                }
                Ok(true) => match socket.take_error() {
                    Ok(None) => {
                        let (socket, _) = self.socket.take().expect("checked above");
                        socket.set_nonblocking(false)?;
                        return Conn::wrap(socket.into(), &self.target).map(Some);
                    }
                    Ok(Some(e)) | Err(e) => {
                        self.last_error = Some(e);
                        self.socket = None;
                    }
                },
                Err(e) => {
                    self.last_error = Some(e);
                    self.socket = None;
                }
            }
        }
    }

    fn begin(addr: std::net::SocketAddr) -> io::Result<socket2::Socket> {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )?;
        socket.set_nonblocking(true)?;
        match socket.connect(&addr.into()) {
            Ok(()) => Ok(socket),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock || in_progress(&e) => Ok(socket),
            Err(e) => Err(e),
        }
    }
}

fn in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::EINPROGRESS)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Waits up to one [`TICK`] for a connecting socket to become writable (connected or failed).
#[cfg(unix)]
fn wait_writable(socket: &socket2::Socket) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd for a socket this connect owns.
    let n = unsafe { libc::poll(&mut fd, 1, TICK.as_millis() as libc::c_int) };
    match n {
        0 => Ok(false),
        n if n > 0 => Ok(true),
        _ => {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// Without `poll(2)`: connected once the socket has a peer, checked every 5 ms (a refused
/// connect then shows as a timeout).
#[cfg(not(unix))]
fn wait_writable(socket: &socket2::Socket) -> io::Result<bool> {
    if socket.peer_addr().is_ok() {
        return Ok(true);
    }
    std::thread::sleep(Duration::from_millis(5));
    Ok(false)
}

/// What went wrong in an exchange.
#[derive(Debug)]
pub(super) enum ExchangeError {
    /// A socket error.
    Io(io::Error),
    /// No progress for longer than the read timeout.
    TimedOut(Duration),
    /// The connection closed before the response was complete.
    Closed { response_started: bool },
    /// The response is not valid HTTP/1.1.
    Malformed(String),
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExchangeError::Io(e) => write!(f, "{e}"),
            ExchangeError::TimedOut(t) => write!(f, "no data for {:.1} s", t.as_secs_f64()),
            ExchangeError::Closed {
                response_started: false,
            } => f.write_str("the connection closed before a response"),
            ExchangeError::Closed {
                response_started: true,
            } => f.write_str("the connection closed in the middle of the response"),
            ExchangeError::Malformed(m) => write!(f, "malformed HTTP response: {m}"),
        }
    }
}

/// A complete response.
#[derive(Debug)]
pub(super) struct Response {
    pub status: u16,
    pub request_id: Option<String>,
    pub error_type: Option<String>,
    pub body: Vec<u8>,
}

enum Framing {
    Length(usize),
    Chunked(ChunkedBody),
    UntilClose,
}

struct Head {
    status: u16,
    request_id: Option<String>,
    error_type: Option<String>,
    keep_alive: bool,
    framing: Framing,
}

/// One request and its response on one connection, driven step by step.
pub(super) struct Exchange {
    conn: Conn,
    request: Vec<u8>,
    written: usize,
    flushed: bool,
    /// The read buffer; `buf[..filled]` has been received.
    buf: Vec<u8>,
    filled: usize,
    head: Option<Head>,
    /// Where the body starts in `buf`, once the head is parsed.
    body_start: usize,
    read_timeout: Duration,
    last_progress: Instant,
}

fn is_tick(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

impl Exchange {
    pub fn new(mut conn: Conn, request: Vec<u8>, read_timeout: Duration) -> Exchange {
        let buf = std::mem::take(&mut conn.buffer);
        Exchange {
            conn,
            request,
            written: 0,
            flushed: false,
            buf,
            filled: 0,
            head: None,
            body_start: 0,
            read_timeout,
            last_progress: Instant::now(),
        }
    }

    fn stalled(&self) -> Result<(), ExchangeError> {
        if self.last_progress.elapsed() > self.read_timeout {
            Err(ExchangeError::TimedOut(self.read_timeout))
        } else {
            Ok(())
        }
    }

    /// Makes as much progress as possible, blocking at most about one [`TICK`] when no data
    /// moves. `Ok(true)`: the response is complete ([`Exchange::finish`]).
    pub fn drive(&mut self) -> Result<bool, ExchangeError> {
        while self.written < self.request.len() {
            match self.conn.stream.write(&self.request[self.written..]) {
                Ok(0) => {
                    return Err(ExchangeError::Closed {
                        response_started: false,
                    })
                }
                Ok(n) => {
                    self.written += n;
                    self.last_progress = Instant::now();
                }
                Err(e) if is_tick(&e) => return self.stalled().map(|_| false),
                Err(e) => return Err(ExchangeError::Io(e)),
            }
        }
        if !self.flushed {
            match self.conn.stream.flush() {
                Ok(()) => self.flushed = true,
                Err(e) if is_tick(&e) => return self.stalled().map(|_| false),
                Err(e) => return Err(ExchangeError::Io(e)),
            }
        }
        loop {
            if self.parse()? {
                return Ok(true);
            }
            let needed = match &self.head {
                Some(Head {
                    framing: Framing::Length(n),
                    ..
                }) => self.body_start + n,
                _ => self.filled + 1,
            };
            if needed > self.buf.len() {
                let grown = needed.max(self.buf.len() * 2).max(INITIAL_BUFFER);
                self.buf.resize(grown, 0);
            }
            match self.conn.stream.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    if let Some(Head {
                        framing: Framing::UntilClose,
                        ..
                    }) = self.head
                    {
                        return Ok(true);
                    }
                    return Err(ExchangeError::Closed {
                        response_started: self.filled > 0,
                    });
                }
                Ok(n) => {
                    self.filled += n;
                    self.last_progress = Instant::now();
                }
                Err(e) if is_tick(&e) => return self.stalled().map(|_| false),
                Err(e) => return Err(ExchangeError::Io(e)),
            }
        }
    }

    /// Parses what has arrived; true when the response is complete.
    fn parse(&mut self) -> Result<bool, ExchangeError> {
        if self.head.is_none() && !self.parse_head()? {
            return Ok(false);
        }
        let start = self.body_start;
        let head = self.head.as_mut().expect("parsed above");
        Ok(match &mut head.framing {
            Framing::Length(n) => self.filled >= start + *n,
            Framing::Chunked(c) => c.advance(&self.buf[start..self.filled])?,
            Framing::UntilClose => false,
        })
    }

    fn parse_head(&mut self) -> Result<bool, ExchangeError> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            let len = match response.parse(&self.buf[..self.filled]) {
                Ok(httparse::Status::Complete(len)) => len,
                Ok(httparse::Status::Partial) => {
                    if self.filled > MAX_HEAD_BYTES {
                        return Err(ExchangeError::Malformed("the head is too large".into()));
                    }
                    return Ok(false);
                }
                Err(e) => return Err(ExchangeError::Malformed(e.to_string())),
            };
            let status = response.code.unwrap_or(0);
            if (100..200).contains(&status) && status != 101 {
                // An interim response (100 Continue): the real one follows.
                self.buf.copy_within(len..self.filled, 0);
                self.filled -= len;
                continue;
            }
            let mut head = Head {
                status,
                request_id: None,
                error_type: None,
                keep_alive: response.version == Some(1),
                framing: Framing::UntilClose,
            };
            let text = |v: &[u8]| String::from_utf8_lossy(v).trim().to_string();
            let mut length = None;
            let mut chunked = false;
            for h in response.headers.iter() {
                let name = h.name;
                if name.eq_ignore_ascii_case("content-length") {
                    length =
                        Some(text(h.value).parse::<usize>().map_err(|_| {
                            ExchangeError::Malformed("invalid Content-Length".into())
                        })?);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = text(h.value).to_ascii_lowercase().ends_with("chunked");
                } else if name.eq_ignore_ascii_case("connection") {
                    let v = text(h.value).to_ascii_lowercase();
                    if v.contains("close") {
                        head.keep_alive = false;
                    } else if v.contains("keep-alive") {
                        head.keep_alive = true;
                    }
                } else if name.eq_ignore_ascii_case("x-amzn-requestid") {
                    head.request_id = Some(text(h.value));
                } else if name.eq_ignore_ascii_case("x-amzn-errortype") {
                    head.error_type = Some(text(h.value));
                }
            }
            head.framing = if chunked {
                Framing::Chunked(ChunkedBody::default())
            } else if let Some(n) = length {
                Framing::Length(n)
            } else if status == 204 || status == 304 {
                Framing::Length(0)
            } else {
                head.keep_alive = false;
                Framing::UntilClose
            };
            self.body_start = len;
            self.head = Some(head);
            return Ok(true);
        }
    }

    /// The response, and the connection when it can carry another request (keep-alive, and
    /// nothing received beyond this response).
    pub fn finish(mut self) -> (Response, Option<Conn>) {
        let head = self.head.take().expect("finish after drive returned true");
        let mut reusable = head.keep_alive;
        let received = &self.buf[self.body_start..self.filled];
        let body = match head.framing {
            Framing::Chunked(c) => {
                reusable &= received.len() == c.pos;
                c.body
            }
            Framing::Length(n) => {
                reusable &= received.len() == n;
                received[..n].to_vec()
            }
            Framing::UntilClose => {
                reusable = false;
                received.to_vec()
            }
        };
        if self.buf.len() <= KEPT_BUFFER {
            self.conn.buffer = std::mem::take(&mut self.buf);
        }
        let response = Response {
            status: head.status,
            request_id: head.request_id,
            error_type: head.error_type,
            body,
        };
        (response, reusable.then_some(self.conn))
    }
}

/// Incremental decoder of a chunked body: `advance` is called with everything received after
/// the head so far and resumes where it stopped.
#[derive(Default)]
struct ChunkedBody {
    /// Offset of the next unparsed byte (relative to the body start).
    pos: usize,
    body: Vec<u8>,
    /// In the trailer section after the last chunk.
    trailers: bool,
}

impl ChunkedBody {
    fn advance(&mut self, data: &[u8]) -> Result<bool, ExchangeError> {
        loop {
            let rest = &data[self.pos..];
            let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
                if rest.len() > 4096 {
                    return Err(ExchangeError::Malformed("a chunk line is too long".into()));
                }
                return Ok(false);
            };
            let line = &rest[..eol];
            if self.trailers {
                self.pos += eol + 2;
                if line.is_empty() {
                    return Ok(true);
                }
                continue;
            }
            let size_text = std::str::from_utf8(line)
                .ok()
                .and_then(|l| l.split(';').next())
                .map(str::trim)
                .unwrap_or("");
            let size = usize::from_str_radix(size_text, 16).map_err(|_| {
                ExchangeError::Malformed(format!("invalid chunk size {size_text:?}"))
            })?;
            if size == 0 {
                self.pos += eol + 2;
                self.trailers = true;
                continue;
            }
            let need = eol + 2 + size + 2;
            if rest.len() < need {
                return Ok(false);
            }
            if &rest[need - 2..need] != b"\r\n" {
                return Err(ExchangeError::Malformed(
                    "a chunk does not end with CRLF".into(),
                ));
            }
            self.body.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            self.pos += need;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(parts: &[&[u8]]) -> Result<Option<Vec<u8>>, ExchangeError> {
        let mut c = ChunkedBody::default();
        let mut data = Vec::new();
        for p in parts {
            data.extend_from_slice(p);
            if c.advance(&data)? {
                return Ok(Some(c.body));
            }
        }
        Ok(None)
    }

    #[test]
    fn chunked_bodies_decode_across_reads() {
        let whole: &[u8] = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n";
        assert_eq!(
            decode(&[whole]).unwrap().unwrap(),
            b"Wikipedia in\r\n\r\nchunks.".to_vec()
        );
        let split: Vec<&[u8]> = whole.chunks(3).collect();
        assert_eq!(
            decode(&split).unwrap().unwrap(),
            b"Wikipedia in\r\n\r\nchunks.".to_vec()
        );
        assert!(decode(&[b"4\r\nWi"]).unwrap().is_none());
        assert!(decode(&[b"zz\r\n"]).is_err());
        assert!(decode(&[b"2\r\nabXY"]).is_err());
    }
}
