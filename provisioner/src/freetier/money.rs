//! Integer money: exact amounts are nano-dollars (u128); what a learner sees is whole cents, rounded once,
//! half up, at the end of a computation.

/// Nano-dollars in one cent (1 USD = 10^9 nano-dollars = 100 cents).
pub const NANO_USD_PER_CENT: u128 = 10_000_000;

/// Rounds an exact nano-dollar amount to whole cents, half up ($0.005 becomes $0.01).
pub fn cents_half_up(nano_usd: u128) -> u64 {
    let cents = (nano_usd + NANO_USD_PER_CENT / 2) / NANO_USD_PER_CENT;
    u64::try_from(cents).unwrap_or(u64::MAX)
}

/// `$12.34` for 1234 cents.
pub fn format_usd(cents: u64) -> String {
    format!("${}.{:02}", group_thousands(cents / 100), cents % 100)
}

/// `1,234,567` for 1234567 (numbers in the estimate are read by people).
pub fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_up_to_cents() {
        assert_eq!(cents_half_up(0), 0);
        assert_eq!(cents_half_up(4_999_999), 0);
        assert_eq!(cents_half_up(5_000_000), 1);
        assert_eq!(cents_half_up(1_732_614_062_500 / 1_000), 173);
    }

    #[test]
    fn formats_dollars_and_thousands() {
        assert_eq!(format_usd(0), "$0.00");
        assert_eq!(format_usd(5), "$0.05");
        assert_eq!(format_usd(123_456), "$1,234.56");
        assert_eq!(group_thousands(10_000_000), "10,000,000");
        assert_eq!(group_thousands(999), "999");
    }
}
