//! Prices: a decimal in the file (`39.99`) read exactly into integer cents (3999), never kept as a float.
//!
//! serde_yaml hands a plain `39.99` over as an `f64`. Rust formats an `f64` with the shortest text that
//! parses back to the same value, so for any decimal with at most two places that text is exactly what the
//! learner wrote (minus trailing zeros); parsing that text as a decimal is exact.

use super::scalar::{FromScalar, Scalar};

/// The largest price accepted: 1,000,000.00 (a shop for learning, and far from i64 limits).
pub const MAX_PRICE_CENTS: i64 = 100_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceCents(pub i64);

impl FromScalar for PriceCents {
    const EXPECTING: &'static str = "a price such as 12.99 (at most two decimal places)";

    fn from_scalar(scalar: Scalar<'_>) -> Result<Self, String> {
        let text = match scalar {
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) if f.is_finite() => format!("{f}"),
            Scalar::Str(s) => s.trim().to_owned(),
            other => {
                return Err(format!(
                    "price must be a decimal such as 12.99, found {}",
                    other.describe()
                ));
            }
        };
        decimal_to_cents(&text).map(PriceCents)
    }
}

/// Parses `12`, `12.5`, `12.99` into cents. Rejects signs, exponents, more than two decimals and
/// anything above [`MAX_PRICE_CENTS`], each with a message saying how to write the price instead.
pub fn decimal_to_cents(text: &str) -> Result<i64, String> {
    const HINT: &str =
        "hint: write the price as a plain decimal with at most two decimals, e.g. 12.99";
    if text.starts_with('-') {
        return Err(format!("price must not be negative, found {text}; {HINT}"));
    }
    let (units, fraction) = match text.split_once('.') {
        Some((units, fraction)) => (units, fraction),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty()
        || !all_digits(units)
        || !all_digits(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(format!(
            "price {text:?} is not a plain decimal number; {HINT}"
        ));
    }
    if fraction.len() > 2 {
        return Err(format!(
            "price {text} has more than two decimal places; {HINT}"
        ));
    }
    let too_large = || format!("price {text} is larger than the maximum of 1000000.00; {HINT}");
    let units: i64 = units.parse().map_err(|_| too_large())?;
    let fraction_cents: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().expect("one digit") * 10,
        _ => fraction.parse::<i64>().expect("two digits"),
    };
    let cents = units
        .checked_mul(100)
        .and_then(|c| c.checked_add(fraction_cents))
        .ok_or_else(too_large)?;
    if cents > MAX_PRICE_CENTS {
        return Err(too_large());
    }
    Ok(cents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_f64(f: f64) -> Result<i64, String> {
        PriceCents::from_scalar(Scalar::Float(f)).map(|p| p.0)
    }

    #[test]
    fn decimals_become_exact_cents() {
        assert_eq!(decimal_to_cents("39.99"), Ok(3999));
        assert_eq!(decimal_to_cents("0.1"), Ok(10));
        assert_eq!(decimal_to_cents("12"), Ok(1200));
        assert_eq!(decimal_to_cents("0.07"), Ok(7));
        assert_eq!(decimal_to_cents("1000000.00"), Ok(100_000_000));
    }

    #[test]
    fn floats_from_yaml_are_read_exactly() {
        // Values whose binary float is not exact: naive `(f * 100.0) as i64` gives 3998, 28, 114, 1004.
        assert_eq!(from_f64(39.99), Ok(3999));
        assert_eq!(from_f64(0.29), Ok(29));
        assert_eq!(from_f64(1.15), Ok(115));
        assert_eq!(from_f64(10.05), Ok(1005));
        assert_eq!(from_f64(19.9), Ok(1990));
        assert_eq!(from_f64(5.0), Ok(500));
        for cents in 0..20_000i64 {
            let f: f64 = format!("{}.{:02}", cents / 100, cents % 100)
                .parse()
                .unwrap();
            assert_eq!(from_f64(f), Ok(cents), "{f}");
        }
    }

    #[test]
    fn integers_and_strings_are_accepted() {
        assert_eq!(PriceCents::from_scalar(Scalar::Int(7)), Ok(PriceCents(700)));
        assert_eq!(
            PriceCents::from_scalar(Scalar::Str("7.50")),
            Ok(PriceCents(750))
        );
    }

    #[test]
    fn bad_prices_are_rejected_with_a_reason() {
        for (text, reason) in [
            ("12.999", "more than two decimal places"),
            ("-1.00", "negative"),
            ("1e3", "not a plain decimal"),
            ("12.", "not a plain decimal"),
            (".5", "not a plain decimal"),
            ("", "not a plain decimal"),
            ("1,99", "not a plain decimal"),
            ("+3", "not a plain decimal"),
            ("1000000.01", "maximum"),
            ("99999999999999999999", "maximum"),
        ] {
            let error = decimal_to_cents(text).unwrap_err();
            assert!(error.contains(reason), "{text:?}: {error}");
        }
        for (f, reason) in [
            (12.345, "more than two decimal places"),
            (-0.5, "negative"),
            (1e300, "maximum"),
        ] {
            let error = from_f64(f).unwrap_err();
            assert!(error.contains(reason), "{f}: {error}");
        }
        for scalar in [
            Scalar::Float(f64::NAN),
            Scalar::Float(f64::INFINITY),
            Scalar::Bool(true),
        ] {
            assert!(PriceCents::from_scalar(scalar).is_err());
        }
    }
}
