//! The exact decimal functions (`dec`, `dec_add`, `dec_mul`, `dec_sub`,
//! `dec_div`, `dec_round`, `dec_fmt`, `dec_sum`), over [`rust_decimal`].

use std::str::FromStr;

use minijinja::value::Rest;
use minijinja::{Error as JinjaError, ErrorKind};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::JValue;
use super::functions::invalid;

/// A decimal result as a template number: an integer when whole, else the
/// float that reads back as exactly this decimal; an error otherwise.
fn dec_value(function: &str, d: Decimal) -> Result<JValue, JinjaError> {
    if d.fract().is_zero()
        && let Some(i) = d.to_i64()
    {
        return Ok(JValue::from(i));
    }
    if let Some(f) = d.to_f64()
        && f.is_finite()
        && Decimal::from_str(&f.to_string()).is_ok_and(|back| back == d)
    {
        return Ok(JValue::from(f));
    }
    Err(invalid(format!(
        "{function}: the result {d} has more digits than a number keeps exactly; \
         give the decimal places (dec_div(a, b, places)) or round the inputs"
    )))
}

pub(super) fn to_decimal(function: &str, value: &JValue) -> Result<Decimal, JinjaError> {
    if value.is_undefined() {
        return Err(JinjaError::new(
            ErrorKind::UndefinedError,
            format!("{function}: an argument is undefined"),
        ));
    }
    if value.is_number() {
        if value.is_integer() {
            if let Ok(i) = i64::try_from(value.clone()) {
                return Ok(Decimal::from(i));
            }
            if let Ok(u) = u64::try_from(value.clone()) {
                return Ok(Decimal::from(u));
            }
            return Err(invalid(format!(
                "{function}: {value} is too large for a decimal"
            )));
        }
        let f = f64::try_from(value.clone()).map_err(|e| invalid(format!("{function}: {e}")))?;
        if !f.is_finite() {
            return Err(invalid(format!("{function}: {f} is not a finite number")));
        }
        // Through the shortest text form, so 0.1 is exactly 0.1.
        return Decimal::from_str(&f.to_string())
            .map_err(|_| invalid(format!("{function}: {f} is too large for a decimal")));
    }
    if let Some(text) = value.as_str() {
        let t = text.trim();
        let parsed = if t.contains(['e', 'E']) {
            Decimal::from_scientific(t)
        } else {
            Decimal::from_str(t)
        };
        return parsed.map_err(|_| invalid(format!("{function}: `{text}` is not a number")));
    }
    Err(invalid(format!(
        "{function}: expected a number, not {} `{value}`",
        value.kind()
    )))
}

fn overflow(function: &str) -> JinjaError {
    invalid(format!("{function}: the result overflows a decimal"))
}

pub(super) fn fn_dec(value: JValue) -> Result<JValue, JinjaError> {
    dec_value("dec", to_decimal("dec", &value)?)
}

pub(super) fn fn_dec_add(a: JValue, b: JValue, rest: Rest<JValue>) -> Result<JValue, JinjaError> {
    let mut sum = to_decimal("dec_add", &a)?;
    for v in std::iter::once(&b).chain(rest.iter()) {
        sum = sum
            .checked_add(to_decimal("dec_add", v)?)
            .ok_or_else(|| overflow("dec_add"))?;
    }
    dec_value("dec_add", sum)
}

pub(super) fn fn_dec_mul(a: JValue, b: JValue, rest: Rest<JValue>) -> Result<JValue, JinjaError> {
    let mut product = to_decimal("dec_mul", &a)?;
    for v in std::iter::once(&b).chain(rest.iter()) {
        product = product
            .checked_mul(to_decimal("dec_mul", v)?)
            .ok_or_else(|| overflow("dec_mul"))?;
    }
    dec_value("dec_mul", product)
}

pub(super) fn fn_dec_sub(a: JValue, b: JValue) -> Result<JValue, JinjaError> {
    let d = to_decimal("dec_sub", &a)?
        .checked_sub(to_decimal("dec_sub", &b)?)
        .ok_or_else(|| overflow("dec_sub"))?;
    dec_value("dec_sub", d)
}

pub(super) fn fn_dec_div(
    a: JValue,
    b: JValue,
    places: Option<JValue>,
) -> Result<JValue, JinjaError> {
    let divisor = to_decimal("dec_div", &b)?;
    if divisor.is_zero() {
        return Err(invalid("dec_div: division by zero"));
    }
    let quotient = to_decimal("dec_div", &a)?
        .checked_div(divisor)
        .ok_or_else(|| overflow("dec_div"))?;
    let quotient = match places {
        Some(places) => round_half_up(quotient, decimal_places("dec_div", &places)?),
        None => quotient.normalize(),
    };
    dec_value("dec_div", quotient)
}

/// Decimal places from 0 to 28.
fn decimal_places(function: &str, places: &JValue) -> Result<u32, JinjaError> {
    let d = to_decimal(function, places)?;
    d.to_u32()
        .filter(|dp| d.fract().is_zero() && *dp <= 28)
        .ok_or_else(|| {
            invalid(format!(
                "{function}: the places must be a whole number from 0 to 28, not {d}"
            ))
        })
}

/// Rounds half away from zero (四舍五入) and sets the scale to `dp`.
fn round_half_up(d: Decimal, dp: u32) -> Decimal {
    let mut d = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(dp);
    d
}

pub(super) fn fn_dec_round(value: JValue, places: JValue) -> Result<JValue, JinjaError> {
    let dp = decimal_places("dec_round", &places)?;
    dec_value(
        "dec_round",
        round_half_up(to_decimal("dec_round", &value)?, dp),
    )
}

pub(super) fn fn_dec_fmt(value: JValue, places: JValue) -> Result<JValue, JinjaError> {
    let dp = decimal_places("dec_fmt", &places)?;
    Ok(JValue::from(
        round_half_up(to_decimal("dec_fmt", &value)?, dp).to_string(),
    ))
}

pub(super) fn fn_dec_sum(items: JValue, attribute: Option<String>) -> Result<JValue, JinjaError> {
    if items.is_undefined() {
        return Err(JinjaError::new(
            ErrorKind::UndefinedError,
            "dec_sum: the list is undefined",
        ));
    }
    let mut sum = Decimal::ZERO;
    for item in items
        .try_iter()
        .map_err(|e| invalid(format!("dec_sum: expected a list: {e}")))?
    {
        let v = match &attribute {
            Some(attr) => item.get_attr(attr)?,
            None => item,
        };
        sum = sum
            .checked_add(to_decimal("dec_sum", &v)?)
            .ok_or_else(|| overflow("dec_sum"))?;
    }
    dec_value("dec_sum", sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_results_are_exact_numbers() {
        assert_eq!(
            dec_value("t", Decimal::new(1200, 2)).unwrap(),
            JValue::from(12)
        );
        assert_eq!(
            dec_value("t", Decimal::new(1250, 2)).unwrap(),
            JValue::from(12.5)
        );
        assert_eq!(
            dec_value("t", Decimal::new(3, 1)).unwrap(),
            JValue::from(0.3)
        );
        assert!(
            dec_value(
                "t",
                Decimal::from_str("0.3333333333333333333333333333").unwrap()
            )
            .is_err()
        );
        assert_eq!(round_half_up(Decimal::new(2345, 3), 2).to_string(), "2.35");
        assert_eq!(round_half_up(Decimal::new(25, 1), 2).to_string(), "2.50");
    }
}
