//! Ion timestamps as Python objects, for both read paths: [`Ts`] (the parts the objects are
//! made from), `IonPyTimestamp`s built by the class's constructor or by the fast route the
//! start-up probe chose, plain `datetime`s, and the shared `tzinfo`s of fixed offsets.

use ion_rs::{Timestamp, TimestampPrecision};
use parking_lot::Mutex;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use super::classes::{Classes, DateTimeNew};
use super::scalars::ShortText;

/// A timestamp as the Python objects are made from it.
pub(super) struct Ts {
    /// `TimestampPrecision` value (0 year … 4 second).
    pub(super) precision: usize,
    /// Year, month, day, hour, minute, second, with defaults below the precision.
    pub(super) fields: (u32, u32, u32, u32, u32, u32),
    /// Minutes east of UTC; `None` when unknown or below minute precision.
    pub(super) offset: Option<i32>,
    /// The `datetime` microseconds: the first 6 fractional digits.
    pub(super) micros: u32,
    pub(super) fraction: Fraction,
}

pub(super) enum Fraction {
    None,
    /// `coefficient` × 10^-`scale`, `scale` 1 to 9.
    Digits {
        coefficient: u32,
        scale: usize,
    },
    /// More than 9 digits: only the `Timestamp` has them.
    Fine(Timestamp),
}

impl Ts {
    pub(super) fn from_ion(t: &Timestamp) -> Ts {
        let precision = precision_index(t);
        let fields = timestamp_fields(t);
        let offset = if precision >= 3 { t.offset() } else { None };
        let micros = if precision == 4 { t.microseconds() } else { 0 };
        let fraction = match t.fractional_seconds_scale() {
            None => Fraction::None,
            Some(scale @ 1..=9) => Fraction::Digits {
                coefficient: t.nanoseconds() / 10u32.pow(9 - scale as u32),
                scale: scale as usize,
            },
            Some(_) => Fraction::Fine(t.clone()),
        };
        Ts {
            precision,
            fields,
            offset,
            micros,
            fraction,
        }
    }
}

/// The fractional-second digits of a timestamp (`None` without any).
fn fraction_digits(t: &Timestamp) -> Option<String> {
    let scale = t.fractional_seconds_scale()? as usize;
    if scale <= 9 {
        let coefficient = t.nanoseconds() / 10u32.pow(9 - scale as u32);
        return Some(format!("{coefficient:0>scale$}"));
    }
    // Finer than nanoseconds: read the digits off the text form.
    let text = t.to_string();
    let after_dot = text.split_once('.')?.1;
    Some(after_dot.chars().take_while(char::is_ascii_digit).collect())
}

fn precision_index(t: &Timestamp) -> usize {
    match t.precision() {
        TimestampPrecision::Year => 0,
        TimestampPrecision::Month => 1,
        TimestampPrecision::Day => 2,
        TimestampPrecision::HourAndMinute => 3,
        TimestampPrecision::Second => 4,
    }
}

/// The date and time fields that apply at the timestamp's precision, defaults below it.
fn timestamp_fields(t: &Timestamp) -> (u32, u32, u32, u32, u32, u32) {
    let p = precision_index(t);
    (
        t.year(),
        if p >= 1 { t.month() } else { 1 },
        if p >= 2 { t.day() } else { 1 },
        if p >= 3 { t.hour() } else { 0 },
        if p >= 3 { t.minute() } else { 0 },
        if p >= 4 { t.second() } else { 0 },
    )
}

/// `timezone(timedelta(minutes=…))`s made so far (immutable, so shared), by offset.
static OFFSETS: Mutex<Vec<(i32, Py<PyAny>)>> = Mutex::new(Vec::new());
/// How many offsets [`OFFSETS`] keeps.
const MAX_CACHED_OFFSETS: usize = 64;

/// The `tzinfo` of an offset: `None` (unknown), `timezone.utc` or a fixed-offset `timezone`.
pub(super) fn tzinfo<'py>(
    py: Python<'py>,
    c: &Classes,
    offset: Option<i32>,
) -> PyResult<Bound<'py, PyAny>> {
    match offset {
        None => Ok(py.None().into_bound(py)),
        Some(0) => Ok(c.utc.bind(py).clone()),
        Some(minutes) => {
            if let Some(cached) = OFFSETS.try_lock() {
                if let Some((_, tz)) = cached.iter().find(|(m, _)| *m == minutes) {
                    return Ok(tz.bind(py).clone());
                }
            }
            let kwargs = PyDict::new(py);
            kwargs.set_item(intern!(py, "minutes"), minutes)?;
            let delta = c.timedelta.bind(py).call((), Some(&kwargs))?;
            let tz = c.timezone.bind(py).call1((delta,))?;
            if let Some(mut cached) = OFFSETS.try_lock() {
                if cached.len() < MAX_CACHED_OFFSETS {
                    cached.push((minutes, tz.clone().unbind()));
                }
            }
            Ok(tz)
        }
    }
}

/// `IonPyTimestamp(y, mo, d, h, mi, s, None, tz, precision=…, fractional_seconds=…)`.
pub(super) fn timestamp_ionpy_slow<'py>(
    py: Python<'py>,
    c: &Classes,
    t: &Timestamp,
) -> PyResult<Bound<'py, PyAny>> {
    let fraction = match fraction_digits(t) {
        Some(digits) => c.std_decimal.bind(py).call1((format!("0.{digits}"),))?,
        None => c.decimal_zero.bind(py).clone(),
    };
    let parts = Ts::from_ion(t);
    timestamp_ionpy_call(py, c, &parts, fraction)
}

/// [`timestamp_ionpy_slow`] of a timestamp of at most 9 fractional digits.
pub(super) fn timestamp_ionpy_slow_parts<'py>(
    py: Python<'py>,
    c: &Classes,
    t: &Ts,
) -> PyResult<Bound<'py, PyAny>> {
    let fraction = fraction_seconds(py, c, &t.fraction)?;
    timestamp_ionpy_call(py, c, t, fraction)
}

fn timestamp_ionpy_call<'py>(
    py: Python<'py>,
    c: &Classes,
    t: &Ts,
    fraction: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (y, mo, d, h, mi, s) = t.fields;
    let kwargs = PyDict::new(py);
    kwargs.set_item(intern!(py, "precision"), c.precisions[t.precision].bind(py))?;
    kwargs.set_item(intern!(py, "fractional_seconds"), fraction)?;
    c.timestamp.bind(py).call(
        (y, mo, d, h, mi, s, py.None(), tzinfo(py, c, t.offset)?),
        Some(&kwargs),
    )
}

/// `Decimal('0.DIGITS')` of up to 9 fractional digits; `Decimal(0)` without any.
fn fraction_seconds<'py>(
    py: Python<'py>,
    c: &Classes,
    fraction: &Fraction,
) -> PyResult<Bound<'py, PyAny>> {
    match fraction {
        Fraction::None => Ok(c.decimal_zero.bind(py).clone()),
        Fraction::Digits {
            coefficient: 0,
            scale,
        } => Ok(c.zero_fractions[*scale].bind(py).clone()),
        Fraction::Digits { coefficient, scale } => {
            let mut text = ShortText::new();
            text.push(b'0');
            text.push(b'.');
            text.digits(u128::from(*coefficient), *scale);
            c.std_decimal.bind(py).call1((text.py(py),))
        }
        Fraction::Fine(t) => match fraction_digits(t) {
            Some(digits) => c.std_decimal.bind(py).call1((format!("0.{digits}"),)),
            None => Ok(c.decimal_zero.bind(py).clone()),
        },
    }
}

/// The same `IonPyTimestamp` as [`timestamp_ionpy_slow`], built as its `__new__` and `__init__`
/// leave it (microseconds = the first 6 fractional digits, `fractional_precision` = their count
/// up to 6) without running them. Not for more than 9 fractional digits.
pub(super) fn timestamp_ionpy_fast<'py>(
    py: Python<'py>,
    c: &Classes,
    new: &DateTimeNew,
    t: &Ts,
) -> PyResult<Bound<'py, PyAny>> {
    let digits = match t.fraction {
        Fraction::None => 0,
        Fraction::Digits { scale, .. } => scale.min(6),
        Fraction::Fine(_) => 6,
    };
    let fraction = fraction_seconds(py, c, &t.fraction)?;
    let v = new.make(
        c.timestamp.bind(py),
        t.fields,
        t.micros,
        &tzinfo(py, c, t.offset)?,
    )?;
    v.setattr(intern!(py, "precision"), c.precisions[t.precision].bind(py))?;
    v.setattr(intern!(py, "fractional_precision"), digits)?;
    v.setattr(intern!(py, "fractional_seconds"), fraction)?;
    v.setattr(intern!(py, "ion_annotations"), PyTuple::empty(py))?;
    Ok(v)
}

/// A `datetime`: timezone-aware with a known offset, naive otherwise.
pub(super) fn timestamp_plain<'py>(
    py: Python<'py>,
    c: &Classes,
    t: &Ts,
) -> PyResult<Bound<'py, PyAny>> {
    let tz = tzinfo(py, c, t.offset)?;
    match c.datetime_capi {
        Some(capi) => capi.make(c.datetime.bind(py), t.fields, t.micros, &tz),
        None => {
            let (y, mo, d, h, mi, s) = t.fields;
            c.datetime
                .bind(py)
                .call1((y, mo, d, h, mi, s, t.micros, tz))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ion_rs::Decimal;

    #[test]
    fn fractions() {
        let t = Timestamp::with_ymd(2020, 1, 2)
            .with_hms(3, 4, 5)
            .with_fractional_seconds(Decimal::new(120i64, -3))
            .build()
            .unwrap();
        assert_eq!(fraction_digits(&t).as_deref(), Some("120"));
        let t = Timestamp::with_ymd(2020, 1, 2)
            .with_hms(3, 4, 5)
            .with_fractional_seconds(Decimal::new(1234567890123i64, -13))
            .build()
            .unwrap();
        assert_eq!(fraction_digits(&t).as_deref(), Some("1234567890123"));
        let t = Timestamp::with_ymd(2020, 1, 2)
            .with_hms(3, 4, 5)
            .build()
            .unwrap();
        assert_eq!(fraction_digits(&t), None);
    }
}
