//! Holidays come from any iCalendar file an admin uploads or a feed returns: the parser must
//! take or refuse any text without panicking, and what it takes must be real dates, each once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use steward_domain::calendar::ics::parse_ics_holidays;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(holidays) = parse_ics_holidays(text) {
        let mut seen = HashSet::new();
        for h in &holidays {
            assert!(h.date.parse::<jiff::civil::Date>().is_ok(), "{}", h.date);
            assert!(seen.insert(h.date.clone()), "{} twice", h.date);
        }
    }
});
