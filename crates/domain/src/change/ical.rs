//! The forward schedule of change as an iCalendar feed (RFC 5545), for any calendar client.
//!
//! One `VEVENT` per change: a `UID` stable per tenant and key (so clients update an event
//! rather than duplicating it when the feed is fetched again), the window in UTC (`...Z`
//! form, so no `VTIMEZONE` is needed), `SUMMARY` "CHG-12 title", and a `DESCRIPTION` with
//! status, type, risk and a link. Text is escaped (`\\`, `\;`, `\,`, `\n`); control characters
//! other than tab and newline are dropped, as RFC 5545 does not allow them in text; lines are
//! folded at 75 octets without splitting a UTF-8 character, and end with CRLF.

use crate::change::lifecycle::{ChangeStatus, ChangeType};
use crate::change::risk::RiskLevel;
use crate::change::schedule::Window;
use crate::sla::clock::Micros;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::fmt::Write;

/// The longest a content line may be, in octets, without its CRLF.
const LINE_OCTETS: usize = 75;

/// Who the feed is for; the same feed must give the same `UID`s every time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// The tenant's slug, part of every `UID`.
    pub tenant: String,
    /// The host the feed is served from (`steward.example.org`), the right-hand side of `UID`s.
    pub host: String,
    /// Shown by clients as the calendar's name.
    pub name: String,
    /// When the feed was generated: every `DTSTAMP`.
    pub generated_at: Micros,
}

/// One change, as the feed shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedChange {
    pub number: i64,
    pub title: String,
    pub change_type: ChangeType,
    pub status: ChangeStatus,
    pub risk: Option<RiskLevel>,
    pub window: Window,
    /// The change's page.
    pub url: String,
}

/// Renders the feed. Changes whose times are outside what a calendar can show (before year
/// 1 or after 9999) are left out rather than written wrongly.
pub fn render(feed: &Feed, changes: &[FeedChange]) -> String {
    let mut out = String::with_capacity(512 + changes.len() * 400);
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Steward//Change schedule//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(
        &mut out,
        &format!("X-WR-CALNAME:{}", escape_text(&feed.name)),
    );
    let stamp = utc(feed.generated_at);
    for change in changes {
        if let (Some(stamp), Some(event)) = (&stamp, event(feed, change)) {
            line(&mut out, "BEGIN:VEVENT");
            line(&mut out, &format!("DTSTAMP:{stamp}"));
            for property in event {
                line(&mut out, &property);
            }
            line(&mut out, "END:VEVENT");
        }
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// The properties of one event after `DTSTAMP`; `None` if its window cannot be written.
fn event(feed: &Feed, change: &FeedChange) -> Option<Vec<String>> {
    let key = crate::change::key(change.number);
    let risk = change.risk.map_or("not assessed", RiskLevel::as_str);
    let description = format!(
        "Status: {}\nType: {}\nRisk: {}\n{}",
        change.status, change.change_type, risk, change.url
    );
    let mut properties = vec![
        format!("UID:{}", uid(feed, change.number)),
        format!("DTSTART:{}", utc(change.window.start)?),
        format!("DTEND:{}", utc(change.window.end)?),
        format!(
            "SUMMARY:{}",
            escape_text(&format!("{key} {}", change.title))
        ),
        format!("DESCRIPTION:{}", escape_text(&description)),
        format!("CATEGORIES:{}", escape_text(change.change_type.as_str())),
        format!("STATUS:{}", event_status(change.status)),
    ];
    if is_uri_safe(&change.url) {
        properties.push(format!("URL:{}", change.url));
    }
    Some(properties)
}

/// `chg-12.acme@steward.example.org`: stable for the same tenant and change.
pub fn uid(feed: &Feed, number: i64) -> String {
    let tenant: String = feed
        .tenant
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let host: String = feed
        .host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    format!("chg-{number}.{tenant}@{host}")
}

fn event_status(status: ChangeStatus) -> &'static str {
    use ChangeStatus::*;
    match status {
        Draft | Assessment | Authorisation => "TENTATIVE",
        Scheduled | Implementing | Review | Closed | Failed => "CONFIRMED",
        Rejected | Cancelled => "CANCELLED",
    }
}

/// A URI value is not escaped, so only one that needs no escaping is written.
fn is_uri_safe(url: &str) -> bool {
    !url.is_empty() && url.chars().all(|c| c.is_ascii_graphic())
}

/// `20261225T093000Z`; `None` outside the years a calendar can write.
fn utc(at: Micros) -> Option<String> {
    let zoned = Timestamp::from_microsecond(at)
        .ok()?
        .to_zoned(TimeZone::UTC);
    let year = zoned.year();
    if !(1..=9999).contains(&year) {
        return None;
    }
    Some(zoned.strftime("%Y%m%dT%H%M%SZ").to_string())
}

/// Escapes a TEXT value: `\` `;` `,` and newlines; CR and CRLF become newlines; other control
/// characters except tab are dropped.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes one content line, folded: no physical line longer than 75 octets, a continuation
/// starting with one space, CRLF after each.
fn line(out: &mut String, content: &str) {
    let mut rest = content;
    let mut budget = LINE_OCTETS;
    loop {
        if rest.len() <= budget {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = budget;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let _ = write!(out, "{}\r\n ", &rest[..cut]);
        rest = &rest[cut..];
        // The leading space of a continuation counts towards its 75 octets.
        budget = LINE_OCTETS - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::ics::parse_ics_holidays;
    use proptest::prelude::*;

    const DAY: Micros = 86_400_000_000;
    const HOUR: Micros = 3_600_000_000;
    /// 2026-12-06T00:00:00Z.
    const DEC_6: Micros = 1_796_515_200_000_000;

    fn feed() -> Feed {
        Feed {
            tenant: "Acme Corp".into(),
            host: "steward.example.org".into(),
            name: "Acme changes".into(),
            generated_at: DEC_6,
        }
    }

    fn change(number: i64, title: &str, day: i64) -> FeedChange {
        FeedChange {
            number,
            title: title.into(),
            change_type: ChangeType::Normal,
            status: ChangeStatus::Scheduled,
            risk: Some(RiskLevel::High),
            window: Window {
                start: DEC_6 + day * DAY + 22 * HOUR,
                end: DEC_6 + day * DAY + 23 * HOUR,
            },
            url: format!("https://steward.example.org/changes/CHG-{number}"),
        }
    }

    #[test]
    fn an_event_has_the_fields_clients_need() {
        let text = render(&feed(), &[change(12, "Patch db; then, reboot", 0)]);
        for expected in [
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
            "UID:chg-12.acme-corp@steward.example.org\r\n",
            "DTSTAMP:20261206T000000Z\r\n",
            "DTSTART:20261206T220000Z\r\n",
            "DTEND:20261206T230000Z\r\n",
            "SUMMARY:CHG-12 Patch db\\; then\\, reboot\r\n",
            "DESCRIPTION:Status: scheduled\\nType: normal\\nRisk: high\\nhttps://",
            "STATUS:CONFIRMED\r\n",
            "END:VEVENT\r\nEND:VCALENDAR\r\n",
        ] {
            assert!(text.contains(expected), "{expected} missing from\n{text}");
        }
    }

    #[test]
    fn long_lines_fold_at_75_octets_on_character_boundaries() {
        let title = "Ünïcödé ".repeat(30);
        let text = render(&feed(), &[change(1, &title, 0)]);
        for physical in text.split("\r\n") {
            assert!(physical.len() <= LINE_OCTETS, "{} octets", physical.len());
        }
        assert!(!text.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn the_feed_parses_back_to_the_same_events() {
        let changes = [
            change(1, "Upgrade, the; core \\ switch", 0),
            change(2, &"long title ".repeat(20), 1),
            change(3, "multi\nline\r\ntitle", 2),
        ];
        let parsed = parse_ics_holidays(&render(&feed(), &changes)).expect("parses");
        let got: Vec<(String, String)> = parsed.into_iter().map(|h| (h.date, h.name)).collect();
        assert_eq!(
            got,
            vec![
                (
                    "2026-12-06".into(),
                    "CHG-1 Upgrade, the; core \\ switch".into()
                ),
                (
                    "2026-12-07".into(),
                    format!("CHG-2 {}", "long title ".repeat(20).trim_end())
                ),
                ("2026-12-08".into(), "CHG-3 multi\nline\ntitle".into()),
            ]
        );
    }

    #[test]
    fn uids_are_stable_and_times_out_of_range_are_skipped() {
        assert_eq!(uid(&feed(), 5), uid(&feed(), 5));
        assert_ne!(uid(&feed(), 5), uid(&feed(), 6));
        let mut far = change(9, "far", 0);
        far.window.end = i64::MAX;
        assert!(!render(&feed(), &[far]).contains("VEVENT"));
    }

    /// What the feed promises to keep of a text: CRs become newlines, controls go.
    fn kept(text: &str) -> String {
        text.replace("\r\n", "\n")
            .replace('\r', "\n")
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .collect()
    }

    proptest! {
        #[test]
        fn any_title_round_trips_through_the_parser(title in any::<String>()) {
            let text = render(&feed(), &[change(7, &title, 0)]);
            for physical in text.split("\r\n") {
                prop_assert!(physical.len() <= LINE_OCTETS);
            }
            let parsed = parse_ics_holidays(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.len(), 1);
            let expected = kept(&format!("CHG-7 {title}"));
            prop_assert_eq!(&parsed[0].name, expected.trim());
        }
    }
}
