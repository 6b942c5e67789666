//! Business time in words: `45 min`, `8 h`, `2 h 30 min`, and back.
//!
//! Always hours and minutes: a business "day" depends on the calendar, so days would mislead.

/// `45 min`, `8 h`, `2 h 30 min`.
pub fn words(minutes: i64) -> String {
    let m = minutes.unsigned_abs();
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// Reads what [`words`] writes and what people type: `4 h`, `4h`, `90 min`, `1h30m`,
/// `2 hours 15 minutes`. A bare number has no unit and is refused (`None`), as is anything past
/// a `u32` of minutes.
pub fn parse(text: &str) -> Option<u32> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: u32 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let amount: u32 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let per = match rest[..unit_len].to_ascii_lowercase().as_str() {
            "h" | "hr" | "hrs" | "hour" | "hours" => 60,
            "m" | "min" | "mins" | "minute" | "minutes" => 1,
            _ => return None,
        };
        total = total.checked_add(amount.checked_mul(per)?)?;
        rest = rest[unit_len..].trim_start();
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_what_people_type() {
        assert_eq!(parse("4 h"), Some(240));
        assert_eq!(parse("4h"), Some(240));
        assert_eq!(parse("90 min"), Some(90));
        assert_eq!(parse("1h30m"), Some(90));
        assert_eq!(parse(" 2 hours 15 minutes "), Some(135));
        assert_eq!(parse("1 H 5 Min"), Some(65));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for text in [
            "",
            "4",
            "h",
            "4 days",
            "-1 h",
            "1.5 h",
            "4 h and 3 min",
            "99999999999 h",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn reads_back_what_it_writes(minutes in 0u32..10_000_000) {
            prop_assert_eq!(parse(&words(i64::from(minutes))), Some(minutes));
        }
    }
}
