//! Integer-cent arithmetic. Overflow is impossible for sane prices (qty <= 99, <= 49 lines), so it is
//! reported as a data error rather than wrapped silently.

use anyhow::{anyhow, Result};

pub fn line_total_cents(price_cents: i64, qty: i64) -> Result<i64> {
    price_cents
        .checked_mul(qty)
        .ok_or_else(|| anyhow!("line total overflows: {price_cents} cents x {qty}"))
}

pub fn sum_cents(amounts: impl IntoIterator<Item = i64>) -> Result<i64> {
    amounts.into_iter().try_fold(0i64, |total, amount| {
        total
            .checked_add(amount)
            .ok_or_else(|| anyhow!("order total overflows"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplies_and_sums_exactly() {
        assert_eq!(line_total_cents(1999, 3).unwrap(), 5997);
        assert_eq!(sum_cents([5997, 1, 2]).unwrap(), 6000);
        assert!(line_total_cents(i64::MAX, 2).is_err());
        assert!(sum_cents([i64::MAX, 1]).is_err());
    }
}
