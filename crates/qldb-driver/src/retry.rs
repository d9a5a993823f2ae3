//! Retry as a policy object, in the style of scylla's `RetryPolicy`: a [`RetryPolicy`] opens a
//! per-execution [`RetryState`], which is asked after every failed attempt and answers with a
//! [`RetryDecision`]. Two policies reproduce pyqldb exactly (`spec/pyqldb-api.md` §2, §4):
//!
//! - [`RetryPolicy3x`]: pyqldb 3.x `RetryConfig(retry_limit=4, base=10, custom_backoff=None)`.
//!   A retryable invalid-session failure of attempt 1 (a stale pooled session) is retried at
//!   once, without sleep or limit check; otherwise a retryable failure of attempt `n` is retried
//!   while `n <= retry_limit`, after the equal-jitter backoff
//!   `seed = min(base * 2^min(n, 62), 5000)`, `delay = seed/2 + randint(0, seed/2)` ms, or the
//!   custom backoff hook's answer (negative → 0). Every StartSession failure counts as a
//!   retryable invalid-session failure. Transaction expiry is not retried.
//! - [`RetryPolicy2x`]: pyqldb 2.x (`retry_limit=4`): full jitter
//!   `random() * (min(5000, 10^n) + 1)` ms, retried while `n <= retry_limit` (2.x's 0-based
//!   `attempt_index >= retry_limit` test), no free retry, transaction expiry retried like any
//!   invalid session, transport errors and StartSession failures not retried.
//!
//! The driver records every decision as an [`AttemptRecord`] (logged with `tracing` and
//! returned to callers who ask), so tests and logs see what happened.

use crate::error::DriverError;
use rand::Rng;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// pyqldb's `MAX_BACKOFF`: the cap of both backoff formulas, in milliseconds.
pub const MAX_BACKOFF_MS: u64 = 5000;
/// pyqldb's `MAX_POW` (`sys.maxsize.bit_length() - 1`).
pub const MAX_POW: u32 = 62;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Sleep this long, then run the body again (on the same session if it is still alive,
    /// else on a fresh one).
    RetryAfter(Duration),
    /// Run the body again at once. Used for the free retry after a stale session: the failed
    /// session is dead, so the next attempt starts a fresh one.
    RetryNow,
    /// Give up: the error goes to the caller.
    Fail,
}

/// Where an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Starting a session (no transaction id yet).
    StartSession,
    /// Within the transaction: StartTransaction, the body's statements, or the commit.
    Transaction,
}

/// What a retry state is told about a failed attempt.
#[derive(Debug, Clone, Copy)]
pub struct RetryContext<'a> {
    /// The error that ended the attempt.
    pub error: &'a DriverError,
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// The transaction id, when StartTransaction had returned one.
    pub transaction_id: Option<&'a str>,
    /// Where it failed.
    pub phase: Phase,
}

/// A retry policy: opens one [`RetryState`] per execution.
pub trait RetryPolicy: Send + Sync + fmt::Debug {
    fn new_state(&self) -> Box<dyn RetryState>;
}

/// The per-execution state of a retry policy.
pub trait RetryState: Send {
    fn decide(&mut self, ctx: &RetryContext<'_>) -> RetryDecision;
}

/// pyqldb 3.x's `custom_backoff(retry_attempt, error, transaction_id)`: milliseconds to sleep;
/// negative counts as 0.
pub type CustomBackoff = Arc<dyn Fn(u32, &DriverError, Option<&str>) -> i64 + Send + Sync>;

/// pyqldb 3.x's retry behaviour (`RetryConfig`).
#[derive(Clone)]
pub struct RetryPolicy3x {
    retry_limit: u32,
    base_ms: u64,
    custom_backoff: Option<CustomBackoff>,
}

impl fmt::Debug for RetryPolicy3x {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy3x")
            .field("retry_limit", &self.retry_limit)
            .field("base_ms", &self.base_ms)
            .field("custom_backoff", &self.custom_backoff.is_some())
            .finish()
    }
}

impl Default for RetryPolicy3x {
    /// `RetryConfig()`: 4 retries, base 10 ms.
    fn default() -> Self {
        RetryPolicy3x::new(4, 10, None)
    }
}

impl RetryPolicy3x {
    pub fn new(retry_limit: u32, base_ms: u64, custom_backoff: Option<CustomBackoff>) -> Self {
        RetryPolicy3x {
            retry_limit,
            base_ms,
            custom_backoff,
        }
    }

    pub fn retry_limit(&self) -> u32 {
        self.retry_limit
    }

    pub fn base_ms(&self) -> u64 {
        self.base_ms
    }

    /// `Retry.calculate_backoff`: the custom hook's answer (negative → 0) or the equal-jitter
    /// default, in milliseconds.
    pub fn backoff_ms(
        &self,
        attempt: u32,
        error: &DriverError,
        transaction_id: Option<&str>,
    ) -> u64 {
        match &self.custom_backoff {
            Some(hook) => hook(attempt, error, transaction_id).max(0) as u64,
            None => backoff_3x_ms(self.base_ms, attempt, &mut rand::thread_rng()),
        }
    }
}

/// pyqldb 3.x's default backoff in milliseconds:
/// `seed = min(base * 2^min(attempt, 62), 5000)`; `seed/2 + randint(0, seed/2)`.
pub fn backoff_3x_ms(base_ms: u64, attempt: u32, rng: &mut impl Rng) -> u64 {
    let seed = backoff_3x_seed(base_ms, attempt);
    let half = seed / 2;
    half + rng.gen_range(0..=half)
}

/// The `seed` of [`backoff_3x_ms`]: `min(base * 2^min(attempt, 62), 5000)`.
pub fn backoff_3x_seed(base_ms: u64, attempt: u32) -> u64 {
    let pow = 1u128 << attempt.min(MAX_POW);
    (pow.saturating_mul(base_ms as u128)).min(MAX_BACKOFF_MS as u128) as u64
}

impl RetryPolicy for RetryPolicy3x {
    fn new_state(&self) -> Box<dyn RetryState> {
        Box::new(self.clone())
    }
}

impl RetryState for RetryPolicy3x {
    fn decide(&mut self, ctx: &RetryContext<'_>) -> RetryDecision {
        let (retryable, invalid_session) = match ctx.phase {
            // pyqldb wraps every StartSession failure as retryable + invalid session.
            Phase::StartSession => (true, true),
            Phase::Transaction => (ctx.error.is_retryable_3x(), ctx.error.is_invalid_session()),
        };
        if !retryable {
            return RetryDecision::Fail;
        }
        if invalid_session && ctx.attempt == 1 {
            return RetryDecision::RetryNow;
        }
        if ctx.attempt > self.retry_limit {
            return RetryDecision::Fail;
        }
        let ms = self.backoff_ms(ctx.attempt, ctx.error, ctx.transaction_id);
        RetryDecision::RetryAfter(Duration::from_millis(ms))
    }
}

/// pyqldb 2.x's retry behaviour (`retry_limit` of `PooledQldbDriver` / `QldbSession`).
#[derive(Debug, Clone)]
pub struct RetryPolicy2x {
    retry_limit: u32,
}

impl Default for RetryPolicy2x {
    fn default() -> Self {
        RetryPolicy2x { retry_limit: 4 }
    }
}

impl RetryPolicy2x {
    pub fn new(retry_limit: u32) -> Self {
        RetryPolicy2x { retry_limit }
    }

    pub fn retry_limit(&self) -> u32 {
        self.retry_limit
    }
}

/// pyqldb 2.x's backoff: `random() * (min(5000, 10^attempt) + 1)` milliseconds.
pub fn backoff_2x(attempt: u32, rng: &mut impl Rng) -> Duration {
    let cap = backoff_2x_cap_ms(attempt);
    let ms = rng.gen::<f64>() * (cap as f64 + 1.0);
    Duration::from_secs_f64(ms / 1000.0)
}

/// `min(5000, 10^attempt)`.
pub fn backoff_2x_cap_ms(attempt: u32) -> u64 {
    10u64
        .checked_pow(attempt)
        .unwrap_or(u64::MAX)
        .min(MAX_BACKOFF_MS)
}

impl RetryPolicy for RetryPolicy2x {
    fn new_state(&self) -> Box<dyn RetryState> {
        Box::new(self.clone())
    }
}

impl RetryState for RetryPolicy2x {
    fn decide(&mut self, ctx: &RetryContext<'_>) -> RetryDecision {
        if ctx.phase == Phase::StartSession || !ctx.error.is_retryable_2x() {
            return RetryDecision::Fail;
        }
        // 2.x: `if attempt_index >= retry_limit: raise`, attempt_index = attempt - 1.
        if ctx.attempt > self.retry_limit {
            return RetryDecision::Fail;
        }
        RetryDecision::RetryAfter(backoff_2x(ctx.attempt, &mut rand::thread_rng()))
    }
}

/// Never retries.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRetry;

impl RetryPolicy for NoRetry {
    fn new_state(&self) -> Box<dyn RetryState> {
        Box::new(NoRetry)
    }
}

impl RetryState for NoRetry {
    fn decide(&mut self, _ctx: &RetryContext<'_>) -> RetryDecision {
        RetryDecision::Fail
    }
}

/// One failed attempt and what was decided about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The attempt, from 1.
    pub attempt: u32,
    /// The AWS error code, for service errors.
    pub error_code: Option<String>,
    /// The error's message.
    pub error_message: String,
    /// The transaction id, when one had been started.
    pub transaction_id: Option<String>,
    pub phase: Phase,
    pub decision: RetryDecision,
}

impl AttemptRecord {
    /// The sleep before the next attempt (zero for `RetryNow` and `Fail`).
    pub fn sleep(&self) -> Duration {
        match self.decision {
            RetryDecision::RetryAfter(d) => d,
            _ => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds() {
        assert_eq!(backoff_3x_seed(10, 1), 20);
        assert_eq!(backoff_3x_seed(10, 4), 160);
        assert_eq!(backoff_3x_seed(10, 9), 5000);
        assert_eq!(backoff_3x_seed(u64::MAX, 62), 5000);
        assert_eq!(backoff_3x_seed(0, 3), 0);
        assert_eq!(backoff_2x_cap_ms(1), 10);
        assert_eq!(backoff_2x_cap_ms(3), 1000);
        assert_eq!(backoff_2x_cap_ms(4), 5000);
        assert_eq!(backoff_2x_cap_ms(40), 5000);
    }
}
