//! The session pool: permits, waiting, timeouts, reuse, close.

use crate::common::*;
use qldb_driver::{
    BodyError, Driver, DriverConfig, EmbeddedTransport, ErrorKind, ExecuteOptions, SyncDriver,
    POOL_TIMEOUT_2X,
};
use qldb_ledger::EngineConfig;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

type R<T> = Result<T, BodyError<Infallible>>;

#[test]
fn sixteen_threads_on_a_pool_of_four_all_succeed() {
    let wrapped = Wrapped::new(engine(EngineConfig::default()));
    let mut config = DriverConfig::new("pool");
    config.pool_limit = 4;
    config.pool_timeout = POOL_TIMEOUT_2X;
    let driver = SyncDriver::new(Driver::new(wrapped.clone(), config).unwrap());
    driver
        .execute(|txn| {
            txn.execute("CREATE TABLE p", vec![])?;
            R::Ok(())
        })
        .unwrap();
    let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let max_seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let driver = driver.clone();
            let in_flight = in_flight.clone();
            let max_seen = max_seen.clone();
            std::thread::spawn(move || {
                driver.execute(|txn| {
                    let now = in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    max_seen.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    let r = txn.execute("INSERT INTO p VALUE {'i': ?}", vec![int(i)]);
                    in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    r?;
                    R::Ok(i)
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    let n = driver
        .execute(|txn| {
            R::Ok(
                txn.execute_buffered("SELECT * FROM p", vec![])?
                    .values
                    .len(),
            )
        })
        .unwrap();
    assert_eq!(n, 16);
    let d = driver.driver();
    assert_eq!(d.available_permits(), 4, "every permit returned");
    assert!(max_seen.load(std::sync::atomic::Ordering::SeqCst) <= 4);
    assert!(d.idle_sessions() <= 4 && d.idle_sessions() >= 1);
    assert!(wrapped.count("StartSession") <= 4, "sessions reused");
    driver.close();
    assert_eq!(d.idle_sessions(), 0);
    assert_eq!(
        wrapped.count("EndSession") as usize,
        wrapped.count("StartSession") as usize
    );
}

#[test]
fn pool_timeout_with_a_blocked_holder() {
    let transport = Arc::new(EmbeddedTransport::new(
        engine(EngineConfig::default()),
        true,
    ));
    let mut config = DriverConfig::new("busy");
    config.pool_limit = 1;
    let driver = SyncDriver::new(Driver::new(transport, config).unwrap());
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = {
        let driver = driver.clone();
        std::thread::spawn(move || {
            driver.execute(|_txn| {
                entered_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                R::Ok(())
            })
        })
    };
    entered_rx.recv().unwrap();
    let start = Instant::now();
    let out = driver.execute_with(&ExecuteOptions::default(), None, |_txn| R::Ok(()));
    let e = out.result.unwrap_err().driver().cloned().unwrap();
    assert!(start.elapsed() < Duration::from_millis(500));
    assert!(
        matches!(e.kind(), ErrorKind::SessionPoolEmpty { timeout } if *timeout == Duration::from_millis(1))
    );
    assert_eq!(
        e.message(),
        "Session pool is empty after waiting for 0.001 seconds. Please close existing sessions first before retrying."
    );
    assert_eq!(out.attempts.len(), 1);
    release_tx.send(()).unwrap();
    holder.join().unwrap().unwrap();
    assert_eq!(driver.driver().available_permits(), 1);
    // Now it goes through.
    driver.execute(|_txn| R::Ok(())).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_in_use_at_close_are_ended_on_release() {
    let wrapped = Wrapped::new(engine(EngineConfig::default()));
    let driver = Driver::new(wrapped.clone(), DriverConfig::new("close")).unwrap();
    let d2 = driver.clone();
    let running = tokio::spawn(async move {
        d2.execute(|_txn| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            R::Ok(())
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    driver.close().await;
    running.await.unwrap().unwrap();
    // The EndSession was spawned at release.
    for _ in 0..50 {
        if wrapped.count("EndSession") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(wrapped.count("EndSession"), 1);
    assert_eq!(driver.idle_sessions(), 0);
    assert_eq!(driver.available_permits(), driver.pool_limit());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_execution_releases_its_permit_and_drops_the_session() {
    let wrapped = Wrapped::new(engine(EngineConfig::default()));
    let driver = Driver::new(wrapped.clone(), DriverConfig::new("cancel")).unwrap();
    let fut = driver.execute(|_txn| async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        R::Ok(())
    });
    assert!(tokio::time::timeout(Duration::from_millis(50), fut)
        .await
        .is_err());
    assert_eq!(driver.available_permits(), driver.pool_limit());
    assert_eq!(
        driver.idle_sessions(),
        0,
        "a session with an open transaction is not pooled"
    );
    driver
        .execute(|_txn| async move { R::Ok(()) })
        .await
        .unwrap();
}

#[test]
fn interrupt_check_ends_a_long_pool_wait() {
    let transport = Arc::new(EmbeddedTransport::new(
        engine(EngineConfig::default()),
        true,
    ));
    let mut config = DriverConfig::new("intr");
    config.pool_limit = 1;
    config.pool_timeout = POOL_TIMEOUT_2X;
    let driver = SyncDriver::new(Driver::new(transport, config).unwrap());
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = {
        let driver = driver.clone();
        std::thread::spawn(move || {
            driver.execute(|_txn| {
                entered_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                R::Ok(())
            })
        })
    };
    entered_rx.recv().unwrap();
    let start = Instant::now();
    // Like Python's check_signals() reporting a KeyboardInterrupt after ~150 ms.
    let check = move || {
        if start.elapsed() > Duration::from_millis(150) {
            Err("KeyboardInterrupt")
        } else {
            Ok(())
        }
    };
    let out = driver.execute_with(&ExecuteOptions::default(), Some(&check), |_txn| {
        Ok::<_, BodyError<&str>>(())
    });
    assert!(matches!(
        out.result,
        Err(qldb_driver::ExecuteError::User("KeyboardInterrupt"))
    ));
    assert!(start.elapsed() < Duration::from_secs(5));
    release_tx.send(()).unwrap();
    holder.join().unwrap().unwrap();
    assert_eq!(driver.driver().available_permits(), 1);
}

#[test]
fn sync_close_while_in_use_and_interrupted_sessions_are_ended() {
    let wrapped = Wrapped::new(engine(EngineConfig::default()));
    let driver =
        SyncDriver::new(Driver::new(wrapped.clone(), DriverConfig::new("sclose")).unwrap());
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = {
        let driver = driver.clone();
        std::thread::spawn(move || {
            driver.execute(|_txn| {
                entered_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                R::Ok(())
            })
        })
    };
    entered_rx.recv().unwrap();
    driver.close();
    release_tx.send(()).unwrap();
    holder.join().unwrap().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while wrapped.count("EndSession") < 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        wrapped.count("EndSession"),
        1,
        "released by a plain thread after close"
    );
    assert_eq!(
        driver.driver().available_permits(),
        driver.driver().pool_limit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_execution_ends_its_session_in_the_background() {
    let wrapped = Wrapped::new(engine(EngineConfig::default()));
    let driver = Driver::new(wrapped.clone(), DriverConfig::new("dropped")).unwrap();
    let fut = driver.execute(|_txn| async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        R::Ok(())
    });
    assert!(tokio::time::timeout(Duration::from_millis(50), fut)
        .await
        .is_err());
    for _ in 0..100 {
        if wrapped.count("EndSession") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(wrapped.count("EndSession"), 1);
    assert_eq!(driver.idle_sessions(), 0);
}
