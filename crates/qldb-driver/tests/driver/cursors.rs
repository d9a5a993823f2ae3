//! Stream and read-ahead cursors over multi-page results of the real engine.

use crate::common::*;
use bytes::Bytes;
use qldb_driver::{BodyError, Cursor, Driver, DriverConfig, DriverError, ErrorKind, SyncDriver};
use qldb_ledger::EngineConfig;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

type R<T> = Result<T, BodyError<Infallible>>;

/// A driver over a wrapped engine with `page_size` values per page and `n` documents.
async fn paged(page_size: usize, n: i64, read_ahead: usize) -> (Driver, Arc<Wrapped>) {
    let wrapped = Wrapped::new(engine(EngineConfig {
        page_size,
        ..EngineConfig::default()
    }));
    let mut config = DriverConfig::new("pages");
    config.read_ahead = read_ahead;
    let driver = Driver::new(wrapped.clone(), config).unwrap();
    driver
        .execute(|txn| async move {
            txn.execute("CREATE TABLE t", vec![]).await?;
            for i in 0..n {
                txn.execute("INSERT INTO t VALUE {'i': ?}", vec![int(i)])
                    .await?;
            }
            R::Ok(())
        })
        .await
        .unwrap();
    wrapped.clear_log();
    (driver, wrapped)
}

async fn read_all(driver: &Driver) -> (Vec<Bytes>, qldb_driver::CursorStats, bool) {
    driver
        .execute(|txn| async move {
            let mut c = txn.execute("SELECT * FROM t", vec![]).await?;
            let ra = c.is_read_ahead();
            let mut out = Vec::new();
            while let Some(v) = c.next().await? {
                out.push(v);
            }
            // Exhausted cursors stay exhausted.
            assert!(c.next().await?.is_none());
            R::Ok((out, c.stats(), ra))
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_ahead_delivers_every_page_in_order() {
    let (stream_driver, w0) = paged(3, 20, 0).await;
    let (expected, stats0, ra0) = read_all(&stream_driver).await;
    assert!(!ra0);
    assert_eq!(expected.len(), 20);
    assert_eq!(
        w0.count("FetchPage"),
        6,
        "7 pages of 3: the first comes with ExecuteStatement"
    );
    assert!(stats0.consumed_ios().is_some());
    for read_ahead in [2usize, 3, 8] {
        let (driver, w) = paged(3, 20, read_ahead).await;
        let (got, _stats, ra) = read_all(&driver).await;
        assert!(ra);
        let got: Vec<i64> = got.iter().map(|v| field_i64(v, "i")).collect();
        let want: Vec<i64> = expected.iter().map(|v| field_i64(v, "i")).collect();
        assert_eq!(got, want, "read_ahead {read_ahead}");
        assert_eq!(w.count("FetchPage"), 6);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_ahead_producer_stops_when_the_cursor_is_dropped() {
    let (driver, w) = paged(1, 60, 2).await;
    driver
        .execute(|txn| {
            let w = w.clone();
            async move {
                let mut c = txn.execute("SELECT * FROM t", vec![]).await?;
                assert!(c.next().await?.is_some());
                tokio::time::sleep(Duration::from_millis(50)).await;
                // Bounded: one page in the channel, one in the producer's hand, one being fetched.
                let ahead = w.count("FetchPage");
                assert!(ahead <= 3, "{ahead} pages fetched ahead");
                drop(c);
                tokio::time::sleep(Duration::from_millis(50)).await;
                let after = w.count("FetchPage");
                tokio::time::sleep(Duration::from_millis(100)).await;
                assert_eq!(w.count("FetchPage"), after, "the producer stopped");
                R::Ok(())
            }
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_errors_reach_the_consumer() {
    for read_ahead in [0usize, 2] {
        let (driver, w) = paged(2, 10, read_ahead).await;
        // The second FetchPage fails with a transport error (pyqldb 3.x hangs on this, §9.2).
        w.set_hook(|cmd, nth| {
            (cmd == "FetchPage" && nth == 2)
                .then(|| DriverError::transport("connection reset by peer", None))
        });
        let result = tokio::time::timeout(
            Duration::from_secs(10),
            driver.execute_with(
                &qldb_driver::ExecuteOptions {
                    retry: Some(Arc::new(qldb_driver::NoRetry)),
                    ..Default::default()
                },
                |txn| async move {
                    let mut c = txn.execute("SELECT * FROM t", vec![]).await?;
                    let mut n = 0;
                    let err = loop {
                        match c.next().await {
                            Ok(Some(_)) => n += 1,
                            Ok(None) => panic!("the error was lost after {n} values"),
                            Err(e) => break e,
                        }
                    };
                    // Pages 1 and 2 (4 values) arrived before the failing fetch.
                    assert_eq!(n, 4);
                    assert!(err.is_transport(), "{err}");
                    // The error is repeated, not turned into an end of results.
                    assert!(c.next().await.unwrap_err().is_transport());
                    Err::<(), BodyError<Infallible>>(BodyError::Driver(err))
                },
            ),
        )
        .await
        .expect("the consumer hung");
        let e = result.result.unwrap_err().driver().cloned().unwrap();
        assert!(e.is_transport());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_close_with_their_transaction() {
    for read_ahead in [0usize, 2] {
        let (driver, _w) = paged(2, 6, read_ahead).await;
        let mut cursor: Cursor = driver
            .execute(|txn| async move { R::Ok(txn.execute("SELECT * FROM t", vec![]).await?) })
            .await
            .unwrap();
        let e = cursor.next().await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::ResultClosed { .. }), "{e}");
        assert!(e
            .message()
            .starts_with("A streamed result is only valid when the parent transaction is open."));
        assert!(e.message().contains("\nSessionToken: "));
        assert!(e.is_illegal_state());
        // buffer_all inside the body keeps the values (what the Python layer does with a
        // returned cursor).
        let buffered = driver
            .execute(|txn| async move {
                let mut c = txn.execute("SELECT * FROM t", vec![]).await?;
                assert!(c.next().await?.is_some());
                R::Ok(c.buffer_all().await?)
            })
            .await
            .unwrap();
        assert_eq!(buffered.values.len(), 5);
        // Statements after the transaction ended fail.
        let txn = driver
            .execute(|txn| async move { R::Ok(txn) })
            .await
            .unwrap();
        let e = txn.execute("SELECT * FROM t", vec![]).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::TransactionClosed);
    }
}

#[test]
fn sync_cursor_iterates_and_reports_pyqldb_statistics() {
    let wrapped = Wrapped::new(engine(EngineConfig {
        page_size: 2,
        ..EngineConfig::default()
    }));
    let mut config = DriverConfig::new("stats");
    config.read_ahead = 2;
    let driver = SyncDriver::new(Driver::new(wrapped, config).unwrap());
    driver
        .execute(|txn| {
            txn.execute("CREATE TABLE t", vec![])?;
            for i in 0..5 {
                txn.execute("INSERT INTO t VALUE {'i': ?}", vec![int(i)])?;
            }
            R::Ok(())
        })
        .unwrap();
    let (n, stats) = driver
        .execute(|txn| {
            let mut c = txn.execute("SELECT * FROM t WHERE i >= 0", vec![])?;
            let n = c
                .by_ref()
                .map(|v| v.map(|_| ()))
                .collect::<Result<Vec<_>, _>>()?
                .len();
            R::Ok((n, c.stats()))
        })
        .unwrap();
    assert_eq!(n, 5);
    let ios = stats.consumed_ios().unwrap();
    assert!(ios.read_ios >= 1);
    assert_eq!(stats.pyqldb_read_ios(), Some(ios.read_ios));
    assert!(stats.processing_ms().unwrap() >= 1);
    // A DDL statement reads nothing: exact 0, pyqldb's None.
    let stats = driver
        .execute(|txn| R::Ok(txn.execute("CREATE TABLE u", vec![])?.stats()))
        .unwrap();
    assert_eq!(stats.consumed_ios().map(|i| i.read_ios), Some(0));
    assert_eq!(stats.pyqldb_read_ios(), None);
}
