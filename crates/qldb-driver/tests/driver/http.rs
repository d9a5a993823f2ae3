//! The HTTP transport against the `qldb-local` server binary, with its fault injection.
//! These tests need `target/debug/qldb-local` (`cargo build -p qldb-server`); without it they
//! fail with "qldb-local not built".

use qldb_driver::{
    BodyError, ConnectOptions, Driver, DriverConfig, ExecuteOptions, RetryDecision, SyncDriver,
};
use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
        let mut cmd = Command::new(server_binary());
        cmd.args(["serve", "--memory", "--port", "0", "--create-ledger", "t"]);
        for f in faults {
            cmd.args(["--fault", f]);
        }
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
