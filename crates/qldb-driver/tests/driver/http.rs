//! The HTTP transport against the `qldb-local` server binary, with its fault injection.
//! These tests need `target/debug/qldb-local` (`cargo build -p qldb-server`); without it they
//! fail with "qldb-local not built".

use qldb_driver::transport::http::StaticCredentials;
use qldb_driver::{
    sync, BodyError, ConnectOptions, Driver, DriverConfig, ExecuteOptions, HttpOptions,
    HttpTransport, RetryDecision, SyncDriver, Transport,
};
use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type R<T> = Result<T, BodyError<Infallible>>;

fn server_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let bin = target.join("debug").join("qldb-local");
    assert!(
        bin.is_file(),
        "qldb-local not built: run `cargo build -p qldb-server` (looked for {})",
        bin.display()
    );
    bin
}

/// A `qldb-local serve --memory` process on a free port, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(faults: &[&str]) -> Server {
        let args: Vec<String> = faults.iter().map(|f| format!("--fault={f}")).collect();
        Server::start_with(&args.iter().map(String::as_str).collect::<Vec<_>>(), 0)
    }

    /// A server with extra command-line arguments on `port` (0: a free one).
    fn start_with(args: &[&str], port: u16) -> Server {
        let mut cmd = Command::new(server_binary());
        let port = port.to_string();
        cmd.args(["serve", "--memory", "--port", &port, "--create-ledger", "t"]);
        cmd.args(args);
        let mut child = cmd
            .env("QLDB_LOCAL_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start qldb-local");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // `qldb-local listening on http://HOST:PORT (data: …)`
        let url = line
            .trim()
            .strip_prefix("qldb-local listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected first line from qldb-local: {line:?}"))
            .to_string();
        Server { child, url }
    }

    fn driver(&self, config: DriverConfig) -> SyncDriver {
        SyncDriver::connect(&ConnectOptions::endpoint(&self.url), config).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fast_config() -> DriverConfig {
    let mut c = DriverConfig::new("t");
    c.retry = std::sync::Arc::new(qldb_driver::RetryPolicy3x::new(4, 1, None));
    c
}

#[test]
fn http_round_trip_with_dummy_credentials() {
    let server = Server::start(&[]);
    let driver = server.driver(DriverConfig::new("t"));
    driver
        .execute(|txn| {
            txn.execute("CREATE TABLE h", vec![])?;
            for i in 0..3 {
                txn.execute("INSERT INTO h VALUE {'i': ?}", vec![crate::common::int(i)])?;
            }
            R::Ok(())
        })
        .unwrap();
    let (values, stats) = driver
        .execute(|txn| {
            let mut c = txn.execute("SELECT * FROM h WHERE i >= ?", vec![crate::common::int(1)])?;
            let b = c.buffer_all()?;
            R::Ok((b.values, c.stats()))
        })
        .unwrap();
    assert_eq!(values.len(), 2);
    assert!(stats.pyqldb_read_ios().is_some());
    assert_eq!(driver.list_tables().map(|b| b.values.len()).unwrap(), 1);
    // A service error keeps its code, status and request id.
    let err = driver
        .execute(|txn| {
            txn.execute("SELECT * FROM nope", vec![])?;
            R::Ok(())
        })
        .unwrap_err();
    let e = err.driver().unwrap();
    assert_eq!(e.code(), Some("BadRequestException"));
    assert_eq!(e.http_status(), Some(400));
    assert!(e.request_id().is_some());
    driver.close();
}

#[test]
fn http_occ_on_execute_is_retried() {
    let server = Server::start(&["ExecuteStatement:1:occ"]);
    let driver = server.driver(fast_config());
    let out = driver.execute_with(&ExecuteOptions::default(), None, |txn| {
        txn.execute("SELECT * FROM information_schema.user_tables", vec![])?;
        R::Ok(())
    });
    out.result.unwrap();
    assert_eq!(out.attempts.len(), 1);
    assert_eq!(
        out.attempts[0].error_code.as_deref(),
        Some("OccConflictException")
    );
}

#[test]
fn http_500_on_commit_is_retried() {
    let server = Server::start(&["CommitTransaction:1:http500"]);
    let driver = server.driver(fast_config());
    let out = driver.execute_with(&ExecuteOptions::default(), None, |txn| {
        txn.execute("SELECT * FROM information_schema.user_tables", vec![])?;
        R::Ok(())
    });
    out.result.unwrap();
    assert_eq!(out.attempts.len(), 1);
    assert!(matches!(
        out.attempts[0].decision,
        RetryDecision::RetryAfter(_)
    ));
}

#[test]
fn http_invalid_session_on_start_transaction_gets_the_free_retry() {
    let server = Server::start(&["StartTransaction:1:invalid-session"]);
    let driver = server.driver(fast_config());
    let out = driver.execute_with(&ExecuteOptions::default(), None, |_txn| R::Ok(()));
    out.result.unwrap();
    assert_eq!(out.attempts.len(), 1);
    assert_eq!(
        out.attempts[0].error_code.as_deref(),
        Some("InvalidSessionException")
    );
    assert_eq!(out.attempts[0].decision, RetryDecision::RetryNow);
}

#[test]
fn http_dropped_connection_is_a_retried_transport_error() {
    let server = Server::start(&["ExecuteStatement:1:drop"]);
    let driver = server.driver(fast_config());
    let out = driver.execute_with(&ExecuteOptions::default(), None, |txn| {
        txn.execute("SELECT * FROM information_schema.user_tables", vec![])?;
        R::Ok(())
    });
    out.result.unwrap();
    assert_eq!(out.attempts.len(), 1, "{:?}", out.attempts);
    assert_eq!(
        out.attempts[0].error_code, None,
        "a transport error has no code"
    );
}

#[test]
fn http_503_everywhere_exhausts_the_retries() {
    let server = Server::start(&["any:*:http503"]);
    let driver = server.driver(fast_config());
    let out = driver.execute_with(&ExecuteOptions::default(), None, |_txn| R::Ok(()));
    let e = out.result.unwrap_err().driver().cloned().unwrap();
    assert_eq!(e.http_status(), Some(503));
    // StartSession fails every time: free retry on attempt 1, then attempts 2..5.
    assert_eq!(out.attempts.len(), 5, "{:?}", out.attempts);
    assert_eq!(out.attempts[4].decision, RetryDecision::Fail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_connection_refused_is_a_transport_error() {
    // A port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = DriverConfig::new("t");
    config.retry = std::sync::Arc::new(qldb_driver::NoRetry);
    let driver = Driver::connect(
        &ConnectOptions::endpoint(format!("http://127.0.0.1:{port}")),
        config,
    )
    .await
    .unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        driver.execute(|_txn| async move { R::Ok(()) }),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(err.driver().unwrap().is_transport(), "{err}");
}

// ---- the transport itself, command by command ----

fn transport(url: &str, tweak: impl FnOnce(&mut HttpOptions)) -> HttpTransport {
    let mut options = HttpOptions {
        endpoint_url: Some(url.to_string()),
        ..Default::default()
    };
    tweak(&mut options);
    sync::wait(HttpTransport::connect(&options)).unwrap()
}

#[test]
fn http_transport_reuses_one_connection_for_sequential_requests() {
    let server = Server::start(&[]);
    let t = transport(&server.url, |_| {});
    let session = sync::wait(t.start_session("t")).unwrap();
    assert!(
        !session.session_id.is_empty(),
        "the request id is the session id"
    );
    for _ in 0..5 {
        let txn = sync::wait(t.start_transaction(&session.session_token)).unwrap();
        assert_eq!(txn.len(), 22);
        sync::wait(t.abort_transaction(&session.session_token)).unwrap();
    }
    assert_eq!(t.idle_connections(), 1);
    sync::wait(t.end_session(&session.session_token)).unwrap();
    assert_eq!(t.idle_connections(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_transport_from_async_code_runs_on_the_blocking_pool() {
    let server = Server::start(&[]);
    let options = HttpOptions {
        endpoint_url: Some(server.url.clone()),
        ..Default::default()
    };
    let t = HttpTransport::connect(&options).await.unwrap();
    let session = t.start_session("t").await.unwrap();
    let txn = t.start_transaction(&session.session_token).await.unwrap();
    let r = t
        .execute_statement(
            &session.session_token,
            &txn,
            "SELECT * FROM information_schema.user_tables",
            &[],
        )
        .await
        .unwrap();
    assert!(r.page.values.is_empty() && r.page.next_page_token.is_none());
    t.end_session(&session.session_token).await.unwrap();
    assert_eq!(t.idle_connections(), 1);
}

#[test]
fn http_transport_survives_a_server_restart_on_the_same_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let first = Server::start_with(&[], port);
    let t = transport(&first.url, |_| {});
    sync::wait(t.start_session("t")).unwrap();
    assert_eq!(t.idle_connections(), 1);
    drop(first);
    let _second = Server::start_with(&[], port);
    // The idle connection to the old process is closed: it is noticed and replaced, not used.
    let session = sync::wait(t.start_session("t")).unwrap();
    sync::wait(t.end_session(&session.session_token)).unwrap();
    assert_eq!(t.idle_connections(), 1);
}

#[test]
fn http_read_timeout_is_a_transport_error_and_the_next_request_works() {
    let server = Server::start(&["StartTransaction:1:delay=3000"]);
    let t = transport(&server.url, |o| o.read_timeout = Duration::from_millis(300));
    let session = sync::wait(t.start_session("t")).unwrap();
    let started = Instant::now();
    let e = sync::wait(t.start_transaction(&session.session_token)).unwrap_err();
    assert!(
        e.is_transport() && e.message().contains("Read timeout"),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    sync::wait(t.start_transaction(&session.session_token)).unwrap();
}

/// Waits for `fut` with an interrupt check that fires after 300 ms, and checks that the wait ended
/// by it, promptly.
fn assert_interrupted_promptly<F: std::future::Future>(fut: F) {
    let started = Instant::now();
    let check = || {
        if started.elapsed() > Duration::from_millis(300) {
            Err("interrupted")
        } else {
            Ok(())
        }
    };
    let out = sync::wait_interruptible(fut, sync::INTERRUPT_TICK, &check);
    assert_eq!(out.err(), Some("interrupted"));
    let waited = started.elapsed();
    assert!(waited < Duration::from_millis(1500), "{waited:?}");
}

#[test]
fn http_wait_is_interruptible_while_the_server_is_silent() {
    let server = Server::start(&["StartTransaction:1:delay=5000"]);
    let t = transport(&server.url, |_| {});
    let session = sync::wait(t.start_session("t")).unwrap();
    assert_interrupted_promptly(t.start_transaction(&session.session_token));
    // The abandoned exchange's connection is gone; the next request gets a fresh one.
    sync::wait(t.start_transaction(&session.session_token)).unwrap();
}

#[test]
fn http_requests_are_signed_with_sigv4() {
    let server = Server::start_with(&["--auth", "AKIDTEST:s3cret/key+"], 0);
    let keyed = |secret: &str, token: Option<&str>| {
        let secret = secret.to_string();
        let token = token.map(str::to_string);
        transport(&server.url, move |o| {
            o.credentials = Some(StaticCredentials {
                access_key_id: "AKIDTEST".into(),
                secret_access_key: secret,
                session_token: token,
            })
        })
    };
    let ok = keyed("s3cret/key+", None);
    sync::wait(ok.start_session("t")).unwrap();
    let with_token = keyed("s3cret/key+", Some("FQoGZXIvYXdzE//token=="));
    sync::wait(with_token.start_session("t")).unwrap();

    let wrong = keyed("not-the-secret", None);
    let e = sync::wait(wrong.start_session("t")).unwrap_err();
    assert_eq!(
        (e.code(), e.http_status()),
        (Some("InvalidSignatureException"), Some(403)),
        "{e}"
    );
    // The dummy credentials of a loopback endpoint are not a key the server knows.
    let anonymous = transport(&server.url, |_| {});
    let e = sync::wait(anonymous.start_session("t")).unwrap_err();
    assert_eq!(e.code(), Some("UnrecognizedClientException"), "{e}");
}

#[test]
fn http_options_are_checked() {
    let bad_bundle = HttpOptions {
        endpoint_url: Some("https://127.0.0.1:1".into()),
        extra_ca_pem: Some(b"not a certificate".to_vec()),
        native_roots: false,
        ..Default::default()
    };
    let e = sync::wait(HttpTransport::connect(&bad_bundle)).unwrap_err();
    assert!(e.message().contains("CA bundle"), "{e}");
    let unverified = HttpOptions {
        endpoint_url: Some("https://127.0.0.1:1".into()),
        verify_certificates: false,
        ..Default::default()
    };
    sync::wait(HttpTransport::connect(&unverified)).unwrap();
    let bad_url = HttpOptions {
        endpoint_url: Some("http://127.0.0.1:notaport".into()),
        ..Default::default()
    };
    let e = sync::wait(HttpTransport::connect(&bad_url)).unwrap_err();
    assert!(e.message().contains("invalid port"), "{e}");
}

// ---- TLS: a TLS-terminating proxy (rustls, a self-signed certificate) in front of qldb-local ----

/// Listens with TLS on 127.0.0.1 and forwards the plaintext to `backend` (`host:port`), one
/// thread per connection. Returns the port and the certificate (PEM, for `localhost`).
fn tls_proxy(backend: String) -> (u16, String) {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let pem = certified.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (config, backend) = (config.clone(), backend.clone());
            std::thread::spawn(move || pump(client, config, &backend));
        }
    });
    (port, pem)
}

fn pump(client: std::net::TcpStream, config: std::sync::Arc<rustls::ServerConfig>, backend: &str) {
    use std::io::{Read, Write};
    let idle = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    };
    let tick = Some(Duration::from_millis(2));
    client.set_read_timeout(tick).unwrap();
    let mut tls = rustls::StreamOwned::new(rustls::ServerConnection::new(config).unwrap(), client);
    let mut up = std::net::TcpStream::connect(backend).unwrap();
    up.set_read_timeout(tick).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => up.write_all(&buf[..n]).unwrap(),
            Err(e) if idle(&e) => {}
            Err(_) => return, // e.g. the client rejected the certificate
        }
        match up.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if tls.write_all(&buf[..n]).and_then(|_| tls.flush()).is_err() {
                    return;
                }
            }
            Err(e) if idle(&e) => {}
            Err(_) => return,
        }
    }
}

#[test]
fn https_with_a_trusted_bundle_unverified_and_untrusted() {
    let server = Server::start(&[]);
    let backend = server.url.trim_start_matches("http://").to_string();
    let (port, pem) = tls_proxy(backend);
    let url = format!("https://localhost:{port}");

    // verify=PATH: the bundle is trusted instead of the platform's roots.
    let trusted = transport(&url, |o| {
        o.extra_ca_pem = Some(pem.clone().into_bytes());
        o.native_roots = false;
    });
    let session = sync::wait(trusted.start_session("t")).unwrap();
    let txn = sync::wait(trusted.start_transaction(&session.session_token)).unwrap();
    let r = sync::wait(trusted.execute_statement(
        &session.session_token,
        &txn,
        "SELECT * FROM information_schema.user_tables",
        &[],
    ))
    .unwrap();
    assert!(r.page.values.is_empty());
    assert_eq!(trusted.idle_connections(), 1);

    // verify=False: any certificate.
    let unverified = transport(&url, |o| o.verify_certificates = false);
    sync::wait(unverified.start_session("t")).unwrap();

    // A bundle without the server's certificate: rejected.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let strict = transport(&url, |o| {
        o.extra_ca_pem = Some(other.cert.pem().into_bytes());
        o.native_roots = false;
    });
    let e = sync::wait(strict.start_session("t")).unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert!(
        e.message().to_ascii_lowercase().contains("certificate"),
        "{e}"
    );
}

/// A listener whose accept queue is full: Linux drops further SYNs, so a connect to it hangs
/// until its timeout (the fillers and the listener are kept alive with it).
fn black_hole() -> (String, socket2::Socket, Vec<std::net::TcpStream>) {
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    listener
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    while let Ok(s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
        fillers.push(s);
        assert!(fillers.len() < 16, "the accept queue never filled");
    }
    (format!("http://{addr}"), listener, fillers)
}

#[test]
fn http_connect_times_out_and_is_interruptible() {
    let (url, _listener, _fillers) = black_hole();
    let t = transport(&url, |o| o.connect_timeout = Duration::from_millis(600));
    let started = Instant::now();
    let e = sync::wait(t.start_session("t")).unwrap_err();
    assert!(
        e.is_transport() && e.message().contains("Connect timeout"),
        "{e}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(550) && waited < Duration::from_secs(3),
        "{waited:?}"
    );

    // The default 60 s connect timeout, interrupted after 300 ms.
    let t = transport(&url, |_| {});
    assert_interrupted_promptly(t.start_session("t"));
}
