//! Backoff formulas and policy decisions (pyqldb 3.x and 2.x).

use qldb_driver::retry::{backoff_2x, backoff_2x_cap_ms, backoff_3x_ms, backoff_3x_seed};
use qldb_driver::{
    DriverError, Phase, RetryContext, RetryDecision, RetryPolicy, RetryPolicy2x, RetryPolicy3x,
};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn equal_jitter_bounds_3x() {
    let mut rng = rand::thread_rng();
    let expected = [
        (1, 10, 20),
        (2, 20, 40),
        (3, 40, 80),
        (4, 80, 160),
        (9, 2500, 5000),
        (62, 2500, 5000),
        (1000, 2500, 5000),
    ];
    for (attempt, lo, hi) in expected {
        let mut seen_lo = u64::MAX;
        let mut seen_hi = 0;
        for _ in 0..3000 {
            let d = backoff_3x_ms(10, attempt, &mut rng);
            assert!((lo..=hi).contains(&d), "attempt {attempt}: {d}");
            seen_lo = seen_lo.min(d);
            seen_hi = seen_hi.max(d);
        }
        if hi - lo <= 20 {
            assert_eq!(
                (seen_lo, seen_hi),
                (lo, hi),
                "both ends are reachable (randint is inclusive)"
            );
        }
    }
    assert_eq!(backoff_3x_seed(10, 8), 2560);
    assert_eq!(backoff_3x_seed(10, 9), 5000);
    assert_eq!(backoff_3x_ms(0, 5, &mut rng), 0);
}

#[test]
fn full_jitter_bounds_2x() {
    let mut rng = rand::thread_rng();
    for (attempt, cap) in [(1u32, 10u64), (2, 100), (3, 1000), (4, 5000), (10, 5000)] {
        assert_eq!(backoff_2x_cap_ms(attempt), cap);
        for _ in 0..2000 {
            let d = backoff_2x(attempt, &mut rng);
            assert!(
                d < Duration::from_secs_f64((cap as f64 + 1.0) / 1000.0),
                "{attempt}: {d:?}"
            );
        }
    }
}

fn ctx<'a>(e: &'a DriverError, attempt: u32, phase: Phase) -> RetryContext<'a> {
    RetryContext {
        error: e,
        attempt,
        transaction_id: Some("T"),
        phase,
    }
}

#[test]
fn policy_3x_decisions() {
    let occ = DriverError::service("OccConflictException", "x", Some(400), None);
    let ise = DriverError::service(
        "InvalidSessionException",
        "No such session",
        Some(400),
        None,
    );
    let expired = DriverError::service(
        "InvalidSessionException",
        "Transaction ABC has expired",
        Some(400),
        None,
    );
    let bad = DriverError::service("BadRequestException", "x", Some(400), None);
    let rate = DriverError::service("RateExceededException", "x", Some(400), None);
    let s500 = DriverError::service_without_code("boom", Some(500), None);
    let cap = DriverError::service("CapacityExceededException", "x", Some(503), None);
    let nohttp = DriverError::service("NoHttpResponseException", "x", Some(400), None);
    let net = DriverError::transport("reset", None);

    let p = RetryPolicy3x::default();
    let mut s = p.new_state();
    assert_eq!(
        s.decide(&ctx(&ise, 1, Phase::Transaction)),
        RetryDecision::RetryNow
    );
    assert!(matches!(
        s.decide(&ctx(&ise, 2, Phase::Transaction)),
        RetryDecision::RetryAfter(_)
    ));
    assert!(matches!(
        s.decide(&ctx(&occ, 1, Phase::Transaction)),
        RetryDecision::RetryAfter(_)
    ));
    assert!(matches!(
        s.decide(&ctx(&occ, 4, Phase::Transaction)),
        RetryDecision::RetryAfter(_)
    ));
    assert_eq!(
        s.decide(&ctx(&occ, 5, Phase::Transaction)),
        RetryDecision::Fail
    );
    for e in [&s500, &cap, &nohttp, &net] {
        assert!(
            matches!(
                s.decide(&ctx(e, 1, Phase::Transaction)),
                RetryDecision::RetryAfter(_)
            ),
            "{e}"
        );
    }
    for e in [
        &expired,
        &bad,
        &rate,
        &DriverError::lambda_aborted(),
        &DriverError::digest_mismatch("T"),
    ] {
        assert_eq!(
            s.decide(&ctx(e, 1, Phase::Transaction)),
            RetryDecision::Fail,
            "{e}"
        );
    }
    // Every StartSession failure counts as retryable + invalid session.
    assert_eq!(
        s.decide(&ctx(&bad, 1, Phase::StartSession)),
        RetryDecision::RetryNow
    );
    assert!(matches!(
        s.decide(&ctx(&bad, 2, Phase::StartSession)),
        RetryDecision::RetryAfter(_)
    ));

    // Custom backoff: gets attempt, error and transaction id; negative counts as 0.
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let p = RetryPolicy3x::new(
        3,
        10,
        Some(Arc::new(
            move |attempt, e: &DriverError, txid: Option<&str>| {
                seen2.lock().push((
                    attempt,
                    e.code().map(str::to_string),
                    txid.map(str::to_string),
                ));
                if attempt == 1 {
                    1234
                } else {
                    -5
                }
            },
        )),
    );
    let mut s = p.new_state();
    assert_eq!(
        s.decide(&ctx(&occ, 1, Phase::Transaction)),
        RetryDecision::RetryAfter(Duration::from_millis(1234))
    );
    assert_eq!(
        s.decide(&ctx(&occ, 2, Phase::Transaction)),
        RetryDecision::RetryAfter(Duration::ZERO)
    );
    assert_eq!(
        s.decide(&ctx(&occ, 4, Phase::Transaction)),
        RetryDecision::Fail
    );
    assert_eq!(
        seen.lock()[0],
        (1, Some("OccConflictException".into()), Some("T".into()))
    );
    assert_eq!(seen.lock().len(), 2);
}

#[test]
fn policy_2x_decisions() {
    let ise = DriverError::service(
        "InvalidSessionException",
        "No such session",
        Some(400),
        None,
    );
    let expired = DriverError::service(
        "InvalidSessionException",
        "Transaction ABC has expired",
        Some(400),
        None,
    );
    let net = DriverError::transport("reset", None);
    let occ = DriverError::service("OccConflictException", "x", Some(400), None);
    let p = RetryPolicy2x::default();
    let mut s = p.new_state();
    // No free retry: a sleep even on attempt 1.
    assert!(
        matches!(s.decide(&ctx(&ise, 1, Phase::Transaction)), RetryDecision::RetryAfter(d) if d <= Duration::from_millis(11))
    );
    assert!(matches!(
        s.decide(&ctx(&expired, 1, Phase::Transaction)),
        RetryDecision::RetryAfter(_)
    ));
    assert_eq!(
        s.decide(&ctx(&net, 1, Phase::Transaction)),
        RetryDecision::Fail
    );
    assert_eq!(
        s.decide(&ctx(&occ, 1, Phase::StartSession)),
        RetryDecision::Fail
    );
    assert!(matches!(
        s.decide(&ctx(&occ, 4, Phase::Transaction)),
        RetryDecision::RetryAfter(_)
    ));
    assert_eq!(
        s.decide(&ctx(&occ, 5, Phase::Transaction)),
        RetryDecision::Fail
    );
    let mut s0 = RetryPolicy2x::new(0).new_state();
    assert_eq!(
        s0.decide(&ctx(&occ, 1, Phase::Transaction)),
        RetryDecision::Fail
    );
}

#[test]
fn error_predicates() {
    let e = DriverError::service(
        "InvalidSessionException",
        "Transaction 4o5Uk09OcjC6PpJpLahceE has expired",
        Some(400),
        Some("rid".into()),
    );
    assert!(e.is_invalid_session() && e.is_transaction_expired());
    assert_eq!(e.request_id(), Some("rid"));
    assert!(!e.is_retryable_3x());
    assert!(e.is_retryable_2x());
    let e = DriverError::service(
        "InvalidSessionException",
        "Session x has expired",
        Some(400),
        None,
    );
    assert!(!e.is_transaction_expired() && e.is_retryable_3x());
    let t = DriverError::transport("refused", None);
    assert!(t.is_transport() && t.is_retryable_3x() && !t.is_retryable_2x());
    assert_eq!(t.code(), None);
}
