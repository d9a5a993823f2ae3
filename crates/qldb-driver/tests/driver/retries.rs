//! The retry loop against the real embedded engine: OCC conflicts, the retry limit, the free
//! retry after a stale session, transaction expiry, user errors and digest mismatches.

use crate::common::*;
use qldb_driver::{
    BodyError, Driver, DriverConfig, DriverError, EmbeddedTransport, ErrorKind, ExecuteError,
    ExecuteOptions, Phase, RetryDecision, RetryPolicy2x, RetryPolicy3x, SyncDriver,
};
use qldb_ledger::EngineConfig;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

type R<T> = Result<T, BodyError<Infallible>>;

async fn setup(driver: &Driver) {
    driver
        .execute(|txn| async move {
            txn.execute("CREATE TABLE c", vec![]).await?;
            txn.execute("INSERT INTO c VALUE {'id': 1, 'v': 0}", vec![])
                .await?;
            R::Ok(())
        })
        .await
        .unwrap();
}

async fn read_v(driver: &Driver) -> i64 {
    driver
        .execute(|txn| async move {
            let r = txn
                .execute_buffered("SELECT * FROM c WHERE id = 1", vec![])
                .await?;
            R::Ok(field_i64(&r.values[0], "v"))
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn occ_conflict_is_retried_and_both_succeed() {
    let transport = Arc::new(EmbeddedTransport::new(
        engine(EngineConfig::default()),
        true,
    ));
    let driver = Driver::new(transport, DriverConfig::new("occ")).unwrap();
    setup(&driver).await;

    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let run = |driver: Driver, barrier: Arc<tokio::sync::Barrier>| async move {
        let attempts = Arc::new(AtomicU32::new(0));
        let out = driver
            .execute_with(&ExecuteOptions::default(), |txn| {
                let barrier = barrier.clone();
                let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    let r = txn
                        .execute_buffered("SELECT * FROM c WHERE id = 1", vec![])
                        .await?;
                    let v = field_i64(&r.values[0], "v");
                    txn.execute("UPDATE c SET v = ? WHERE id = 1", vec![int(v + 1)])
                        .await?;
                    if attempt == 1 {
                        // Both transactions have read and written before either commits.
                        barrier.wait().await;
                    }
                    R::Ok(())
                }
            })
            .await;
        (out, attempts.load(Ordering::SeqCst))
    };
    let (a, b) = tokio::join!(
        tokio::spawn(run(driver.clone(), barrier.clone())),
        tokio::spawn(run(driver.clone(), barrier.clone()))
    );
    let ((a, na), (b, nb)) = (a.unwrap(), b.unwrap());
    a.result.unwrap();
    b.result.unwrap();
    // Exactly one of them lost at commit and ran again.
    assert_eq!(na + nb, 3, "attempts {na} + {nb}");
    let records: Vec<_> = a.attempts.iter().chain(b.attempts.iter()).collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        records[0].error_code.as_deref(),
        Some("OccConflictException")
    );
    assert!(
        matches!(records[0].decision, RetryDecision::RetryAfter(d) if d >= Duration::from_millis(10) && d <= Duration::from_millis(20))
    );
    assert_eq!(read_v(&driver).await, 2, "both increments landed");
    assert_eq!(driver.available_permits(), driver.pool_limit());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_limit_is_exhausted_on_repeated_conflicts() {
    let transport = Arc::new(EmbeddedTransport::new(
        engine(EngineConfig::default()),
        true,
    ));
    let mut config = DriverConfig::new("limit");
    config.retry = Arc::new(RetryPolicy3x::new(2, 1, None));
    let driver = Driver::new(transport.clone(), config).unwrap();
    setup(&driver).await;
    // Another driver on the same engine commits a conflicting update inside every attempt.
    let other = Driver::new(transport, DriverConfig::new("limit")).unwrap();
    let out = driver
        .execute_with(&ExecuteOptions::default(), |txn| {
            let other = other.clone();
            async move {
                txn.execute_buffered("SELECT * FROM c WHERE id = 1", vec![])
                    .await?;
                other
                    .execute(|t| async move {
                        t.execute("UPDATE c SET v = v + 1 WHERE id = 1", vec![])
                            .await?;
                        R::Ok(())
                    })
                    .await
                    .unwrap();
                txn.execute("UPDATE c SET v = 100 WHERE id = 1", vec![])
                    .await?;
                R::Ok(())
            }
        })
        .await;
    let e = match out.result {
        Err(ExecuteError::Driver(e)) => e,
        other => panic!("{other:?}"),
    };
    assert!(e.is_occ(), "{e}");
    let decisions: Vec<_> = out
        .attempts
        .iter()
        .map(|a| (a.attempt, a.decision))
        .collect();
    assert_eq!(out.attempts.len(), 3, "{decisions:?}");
    assert!(matches!(decisions[0], (1, RetryDecision::RetryAfter(_))));
    assert!(matches!(decisions[1], (2, RetryDecision::RetryAfter(_))));
    assert_eq!(decisions[2], (3, RetryDecision::Fail));
    assert!(out.attempts.iter().all(|a| a.transaction_id.is_some()));
    assert_eq!(read_v(&driver).await, 3, "only the other driver's updates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_session_gets_a_free_retry() {
    let eng = engine(EngineConfig::default());
    let wrapped = Wrapped::new(eng.clone());
    let mut config = DriverConfig::new("stale");
    // Even with no retries, the first-attempt invalid session is retried for free.
    config.retry = Arc::new(RetryPolicy3x::new(0, 10, None));
    let driver = Driver::new(wrapped.clone(), config).unwrap();
    let token = driver
        .execute(|txn| async move {
            txn.execute("CREATE TABLE s", vec![]).await?;
            R::Ok(txn.session_token().to_string())
        })
        .await
        .unwrap();
    assert_eq!(driver.idle_sessions(), 1);
    // End the pooled session behind the driver's back.
    eng.end_session(&token).unwrap();
    wrapped.clear_log();
    let out = driver
        .execute_with(&ExecuteOptions::default(), |txn| async move {
            txn.execute("INSERT INTO s VALUE {'a': 1}", vec![]).await?;
            R::Ok(())
        })
        .await;
    out.result.unwrap();
    assert_eq!(out.attempts.len(), 1);
    assert_eq!(
        out.attempts[0].error_code.as_deref(),
        Some("InvalidSessionException")
    );
    assert_eq!(out.attempts[0].decision, RetryDecision::RetryNow);
    assert_eq!(
        wrapped.log(),
        [
            "StartTransaction",
            "StartSession",
            "StartTransaction",
            "ExecuteStatement",
            "CommitTransaction"
        ],
        "no abort for a dead session, a fresh one for the retry"
    );
    assert_eq!(driver.idle_sessions(), 1);
    assert_eq!(driver.available_permits(), driver.pool_limit());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_expiry_is_not_retried_by_3x_but_is_by_2x() {
    let eng = engine(EngineConfig {
        transaction_timeout: Duration::from_millis(200),
        ..EngineConfig::default()
    });
    let wrapped = Wrapped::new(eng);
    let driver = Driver::new(wrapped.clone(), DriverConfig::new("expiry")).unwrap();
    driver
        .execute(|txn| async move {
            txn.execute("CREATE TABLE x", vec![]).await?;
            R::Ok(())
        })
        .await
        .unwrap();
    wrapped.clear_log();
    let out = driver
        .execute_with(&ExecuteOptions::default(), |txn| async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            txn.execute("SELECT * FROM x", vec![]).await?;
            R::Ok(())
        })
        .await;
    let e = out.result.unwrap_err().driver().cloned().unwrap();
    assert!(e.is_transaction_expired(), "{e}");
    assert!(!e.is_retryable_3x());
    assert_eq!(out.attempts.len(), 1);
    assert_eq!(out.attempts[0].decision, RetryDecision::Fail);
    // pyqldb sends AbortTransaction after an expiry (it fails: the session is gone).
    assert_eq!(
        wrapped.log(),
        ["StartTransaction", "ExecuteStatement", "AbortTransaction"]
    );
    assert_eq!(driver.idle_sessions(), 0, "the dead session was dropped");
    assert_eq!(driver.available_permits(), driver.pool_limit());

    // 2.x retries it like any invalid session.
    let attempts = Arc::new(AtomicU32::new(0));
    let options = ExecuteOptions {
        retry: Some(Arc::new(RetryPolicy2x::default())),
        ..Default::default()
    };
    let out = driver
        .execute_with(&options, |txn| {
            let n = attempts.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                txn.execute("SELECT * FROM x", vec![]).await?;
                R::Ok(())
            }
        })
        .await;
    out.result.unwrap();
    assert_eq!(out.attempts.len(), 1);
    assert!(
        matches!(out.attempts[0].decision, RetryDecision::RetryAfter(d) if d <= Duration::from_millis(11))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_error_is_not_retried_and_aborts() {
    let wrapped = Wrapped::new(engine(EngineConfig::default()));
    let driver = Driver::new(wrapped.clone(), DriverConfig::new("user")).unwrap();
    driver
        .execute(|txn| async move {
            txn.execute("CREATE TABLE u", vec![]).await?;
            R::Ok(())
        })
        .await
        .unwrap();
    wrapped.clear_log();
    let calls = AtomicU32::new(0);
    let out = driver
        .execute_with(&ExecuteOptions::default(), |txn| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                txn.execute("INSERT INTO u VALUE {'a': 1}", vec![]).await?;
                Err::<(), _>(BodyError::User("boom".to_string()))
            }
        })
        .await;
    match out.result {
        Err(ExecuteError::User(s)) => assert_eq!(s, "boom"),
        other => panic!("{other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(out.attempts.is_empty());
    assert_eq!(
        wrapped.log(),
        ["StartTransaction", "ExecuteStatement", "AbortTransaction"]
    );
    // The insert was rolled back; the session went back to the pool.
    let n = driver
        .execute(|txn| async move {
            R::Ok(
                txn.execute_buffered("SELECT * FROM u", vec![])
                    .await?
                    .values
                    .len(),
            )
        })
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(driver.idle_sessions(), 1);

    // Executor.abort(): LambdaAborted, AbortTransaction sent, not retried.
    wrapped.clear_log();
    let err = driver
        .execute(|txn| async move {
            txn.execute("INSERT INTO u VALUE {'a': 2}", vec![]).await?;
            Err::<(), BodyError<Infallible>>(txn.abort().into())
        })
        .await
        .unwrap_err();
    assert_eq!(err.driver().unwrap().kind(), &ErrorKind::LambdaAborted);
    assert_eq!(
        err.driver().unwrap().message(),
        "Abort invoked; halting execution of lambda function."
    );
    assert_eq!(
        wrapped.log(),
        ["StartTransaction", "ExecuteStatement", "AbortTransaction"]
    );
}

#[test]
fn sync_user_error_and_retry_observer() {
    // The same through the blocking facade, with a body that is a plain closure.
    let wrapped = Wrapped::new(engine(EngineConfig::default()));
    let driver = SyncDriver::new(Driver::new(wrapped.clone(), DriverConfig::new("sync")).unwrap());
    driver
        .execute(|txn| {
            txn.execute("CREATE TABLE s", vec![])?;
            R::Ok(())
        })
        .unwrap();
    // One OCC at the first commit (the wrapper closes the transaction as the server would).
    wrapped.set_hook(|cmd, nth| {
        (cmd == "CommitTransaction" && nth == 2)
            .then(|| DriverError::service("OccConflictException", "conflict", Some(400), None))
    });
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let options = ExecuteOptions {
        on_retry: Some(Arc::new(move |r| seen2.lock().push(r.clone()))),
        ..Default::default()
    };
    let out = driver.execute_with(&options, None, |txn| {
        let c = txn.execute("INSERT INTO s VALUE {'a': 1}", vec![])?;
        R::Ok(c.stats().consumed_ios().unwrap().write_ios)
    });
    assert!(out.result.unwrap() >= 1);
    assert_eq!(seen.lock().len(), 1);
    assert_eq!(
        seen.lock()[0].error_code.as_deref(),
        Some("OccConflictException")
    );
    let err = driver
        .execute(|txn| {
            txn.execute("SELECT * FROM s", vec![])?;
            Err::<(), _>(BodyError::User(42))
        })
        .unwrap_err();
    assert!(matches!(err, ExecuteError::User(42)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_mismatch_is_detected_and_aborted() {
    let wrapped = Wrapped::new(engine(EngineConfig::default()));
    let driver = Driver::new(wrapped.clone(), DriverConfig::new("digest")).unwrap();
    driver
        .execute(|txn| async move {
            txn.execute("CREATE TABLE d", vec![]).await?;
            R::Ok(())
        })
        .await
        .unwrap();
    wrapped.clear_log();
    wrapped
        .corrupt_digest
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let out = driver
        .execute_with(&ExecuteOptions::default(), |txn| async move {
            txn.execute("INSERT INTO d VALUE {'a': ?}", vec![int(7)])
                .await?;
            R::Ok(txn.id().to_string())
        })
        .await;
    let e = out.result.unwrap_err().driver().cloned().unwrap();
    assert_eq!(e.kind(), &ErrorKind::DigestMismatch);
    assert!(e.is_illegal_state());
    assert!(e
        .message()
        .starts_with("Transaction's commit digest did not match returned value from QLDB."));
    assert_eq!(out.attempts.len(), 1);
    assert_eq!(out.attempts[0].decision, RetryDecision::Fail);
    assert_eq!(
        wrapped.log(),
        [
            "StartTransaction",
            "ExecuteStatement",
            "CommitTransaction",
            "AbortTransaction"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_session_failures_are_retried_then_raised() {
    let wrapped = Wrapped::new(engine(EngineConfig::default()));
    wrapped.set_hook(|cmd, _| {
        (cmd == "StartSession")
            .then(|| DriverError::service("BadRequestException", "nope", Some(400), None))
    });
    let driver = Driver::new(wrapped.clone(), DriverConfig::new("ss")).unwrap();
    let out = driver
        .execute_with(&ExecuteOptions::default(), |_txn| async move { R::Ok(()) })
        .await;
    assert!(out.result.is_err());
    // Default RetryConfig: 5 StartSession calls.
    assert_eq!(wrapped.count("StartSession"), 5);
    assert_eq!(out.attempts.len(), 5);
    assert!(out
        .attempts
        .iter()
        .all(|a| a.phase == Phase::StartSession && a.transaction_id.is_none()));
    assert_eq!(out.attempts[0].decision, RetryDecision::RetryNow);
    assert_eq!(out.attempts[4].decision, RetryDecision::Fail);
    assert_eq!(
        driver.available_permits(),
        driver.pool_limit(),
        "no permit leaked (pyqldb §9.1)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_5xx_and_transport_errors_are_retried() {
    let wrapped = Wrapped::new(engine(EngineConfig::default()));
    let driver = Driver::new(wrapped.clone(), DriverConfig::new("fx")).unwrap();
    driver
        .execute(|txn| async move {
            txn.execute("CREATE TABLE f", vec![]).await?;
            R::Ok(())
        })
        .await
        .unwrap();
    // ExecuteStatement #2 answers 503, #3 loses its connection, #4 succeeds.
    wrapped.set_hook(|cmd, nth| match (cmd, nth) {
        ("ExecuteStatement", 2) => Some(DriverError::service(
            "ServiceUnavailable",
            "busy",
            Some(503),
            None,
        )),
        ("ExecuteStatement", 3) => Some(DriverError::transport("connection reset", None)),
        _ => None,
    });
    wrapped.clear_log();
    let out = driver
        .execute_with(&ExecuteOptions::default(), |txn| async move {
            txn.execute("SELECT * FROM f", vec![]).await?;
            R::Ok(())
        })
        .await;
    out.result.unwrap();
    assert_eq!(out.attempts.len(), 2);
    assert_eq!(
        wrapped.log(),
        [
            "StartTransaction",
            "ExecuteStatement",
            "AbortTransaction",
            "StartTransaction",
            "ExecuteStatement",
            "AbortTransaction",
            "StartTransaction",
            "ExecuteStatement",
            "CommitTransaction"
        ]
    );
}
