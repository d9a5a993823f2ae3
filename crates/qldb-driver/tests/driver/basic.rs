//! Executions against the embedded engine: statements, parameters, list_tables, file://
//! persistence and the engine registry.

use crate::common::*;
use qldb_driver::transport::embedded::{forget_engine, shared_engine, EmbeddedLocation};
use qldb_driver::{
    BodyError, ConnectOptions, Driver, DriverConfig, ErrorKind, ExecuteError, IonParam, SyncDriver,
};
use std::convert::Infallible;

type R<T> = Result<T, BodyError<Infallible>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_insert_select_and_list_tables() {
    let url = format!("memory://{}", unique("basic"));
    let driver = Driver::connect(
        &ConnectOptions::endpoint(&url),
        DriverConfig::new("ledger1"),
    )
    .await
    .unwrap();
    driver
        .execute(|txn| async move {
            txn.execute("CREATE TABLE people", vec![]).await?;
            txn.execute("CREATE TABLE cars", vec![]).await?;
            R::Ok(())
        })
        .await
        .unwrap();
    let inserted = driver
        .execute(|txn| async move {
            let mut n = 0;
            for i in 0..5 {
                // A parameter as Python sends it: a complete binary Ion stream.
                let p = IonParam::from_ion_binary(
                    ion_rs::Element::from(i as i64)
                        .encode_as(ion_rs::v1_0::Binary)
                        .unwrap(),
                )?;
                let r = txn
                    .execute_buffered("INSERT INTO people VALUE {'id': ?, 'name': 'x'}", vec![p])
                    .await?;
                assert_eq!(r.values.len(), 1, "INSERT returns the document id");
                n += 1;
            }
            R::Ok(n)
        })
        .await
        .unwrap();
    assert_eq!(inserted, 5);

    let (ids, stats) = driver
        .execute(|txn| async move {
            let mut c = txn
                .execute("SELECT * FROM people WHERE id >= ?", vec![int(2)])
                .await?;
            let mut ids = Vec::new();
            while let Some(v) = c.next().await? {
                ids.push(field_i64(&v, "id"));
            }
            R::Ok((ids, c.stats()))
        })
        .await
        .unwrap();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, vec![2, 3, 4]);
    assert!(stats.consumed_ios().is_some());
    assert!(stats.processing_ms().is_some());

    let mut tables = driver.list_table_names().await.unwrap();
    tables.sort();
    assert_eq!(tables, vec!["cars", "people"]);

    // A statement error is a BadRequest, not retried.
    let err = driver
        .execute(|txn| async move {
            txn.execute("SELECT * FROM no_such_table", vec![]).await?;
            R::Ok(())
        })
        .await
        .unwrap_err();
    let e = err.driver().unwrap();
    assert_eq!(e.code(), Some("BadRequestException"), "{e}");
    assert_eq!(e.http_status(), Some(400));
    assert!(!e.is_retryable_3x());

    driver.close().await;
    assert!(driver.is_closed());
    let err = driver
        .execute(|_txn| async move { R::Ok(()) })
        .await
        .unwrap_err();
    assert_eq!(err.driver().unwrap().kind(), &ErrorKind::DriverClosed);
}

#[test]
fn file_endpoint_persists_and_is_opened_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    {
        let d1 = SyncDriver::connect(&ConnectOptions::endpoint(&url), DriverConfig::new("books"))
            .unwrap();
        // A second driver on the same URL shares the engine (a second open would fail on the
        // journal lock).
        let d2 = SyncDriver::connect(&ConnectOptions::endpoint(&url), DriverConfig::new("books"))
            .unwrap();
        d1.execute(|txn| {
            txn.execute("CREATE TABLE b", vec![])?;
            txn.execute("INSERT INTO b VALUE {'t': ?}", vec![text("dune")])?;
            R::Ok(())
        })
        .unwrap();
        let n = d2
            .execute(|txn| {
                R::Ok(
                    txn.execute_buffered("SELECT * FROM b", vec![])?
                        .values
                        .len(),
                )
            })
            .unwrap();
        assert_eq!(n, 1);
        let loc = EmbeddedLocation::parse(&url).unwrap().unwrap();
        let e1 = shared_engine(&loc, &Default::default()).unwrap();
        let e2 = shared_engine(&loc, &Default::default()).unwrap();
        assert!(std::sync::Arc::ptr_eq(&e1, &e2));
        d1.close();
        d2.close();
        drop((e1, e2));
        assert!(forget_engine(&loc));
    }
    // Reopened from disk: the document is there.
    let d =
        SyncDriver::connect(&ConnectOptions::endpoint(&url), DriverConfig::new("books")).unwrap();
    let vals = d
        .execute(|txn| {
            R::Ok(
                txn.execute_buffered("SELECT VALUE t FROM b", vec![])?
                    .values,
            )
        })
        .unwrap();
    assert_eq!(vals.len(), 1);
    assert_eq!(decode(&vals[0]).as_string(), Some("dune"));
    d.close();
    forget_engine(&EmbeddedLocation::parse(&url).unwrap().unwrap());
}

#[tokio::test]
async fn missing_ledger_policy() {
    let url = format!("memory://{}", unique("noledger"));
    let mut options = ConnectOptions::endpoint(&url);
    options.embedded.create_ledger_if_missing = false;
    let mut config = DriverConfig::new("absent");
    config.retry = std::sync::Arc::new(qldb_driver::RetryPolicy3x::new(1, 0, None));
    let driver = Driver::connect(&options, config).await.unwrap();
    let out = driver
        .execute_with(&Default::default(), |_txn| async move { R::Ok(()) })
        .await;
    let e = match out.result {
        Err(ExecuteError::Driver(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(e.code(), Some("BadRequestException"));
    // pyqldb retries every StartSession failure: attempt 1 at once (free), attempt 2 is past
    // the limit of 1. With the default limit of 4 that makes 5 StartSession calls.
    assert_eq!(out.attempts.len(), 2, "{:?}", out.attempts);
    assert_eq!(
        out.attempts[0].decision,
        qldb_driver::RetryDecision::RetryNow
    );
    assert_eq!(out.attempts[1].decision, qldb_driver::RetryDecision::Fail);
    assert!(out
        .attempts
        .iter()
        .all(|a| a.phase == qldb_driver::Phase::StartSession));
}

#[test]
fn bad_config_and_endpoints() {
    let mut c = DriverConfig::new("l");
    c.read_ahead = 1;
    let t = std::sync::Arc::new(qldb_driver::EmbeddedTransport::new(
        engine(Default::default()),
        true,
    ));
    let e = Driver::new(t, c).unwrap_err();
    assert_eq!(
        e.message(),
        "Value for read_ahead must be 0 or 2 or greater."
    );
    assert!(qldb_driver::endpoint::resolve(Some("ftp://x")).is_err());
    assert!(matches!(
        qldb_driver::endpoint::resolve(Some("memory://abc")).unwrap(),
        qldb_driver::Endpoint::Embedded(_)
    ));
    assert_eq!(
        qldb_driver::endpoint::resolve(Some("http://127.0.0.1:1")).unwrap(),
        qldb_driver::Endpoint::Http(Some("http://127.0.0.1:1".into()))
    );
}

#[test]
fn endpoint_environment_variable_selects_the_embedded_engine() {
    // An unchanged program (no endpoint_url) runs embedded through the variable.
    let name = unique("envroute");
    std::env::set_var(
        qldb_driver::endpoint::ENDPOINT_ENV,
        format!("memory://{name}"),
    );
    let resolved = qldb_driver::endpoint::resolve(None);
    let driver = SyncDriver::connect(&ConnectOptions::default(), DriverConfig::new("envledger"));
    std::env::remove_var(qldb_driver::endpoint::ENDPOINT_ENV);
    assert_eq!(
        resolved.unwrap(),
        qldb_driver::Endpoint::Embedded(EmbeddedLocation::Memory(name.clone()))
    );
    let driver = driver.unwrap();
    assert_eq!(
        driver.driver().transport().describe(),
        format!("memory://{name}")
    );
    driver
        .execute(|txn| {
            txn.execute("CREATE TABLE e", vec![])?;
            R::Ok(())
        })
        .unwrap();
    // The same name from an explicit URL is the same engine.
    let again = SyncDriver::connect(
        &ConnectOptions::endpoint(format!("memory://{name}")),
        DriverConfig::new("envledger"),
    )
    .unwrap();
    assert_eq!(again.list_tables().unwrap().values.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_facade_inside_a_multi_thread_runtime() {
    // Called from a runtime worker, the blocking API uses block_in_place.
    let driver = SyncDriver::new(
        Driver::new(
            std::sync::Arc::new(qldb_driver::EmbeddedTransport::new(
                engine(Default::default()),
                true,
            )),
            DriverConfig::new("inrt"),
        )
        .unwrap(),
    );
    let n = driver
        .execute(|txn| {
            txn.execute("CREATE TABLE x", vec![])?;
            R::Ok(
                txn.execute_buffered("SELECT * FROM x", vec![])?
                    .values
                    .len(),
            )
        })
        .unwrap();
    assert_eq!(n, 0);
}
