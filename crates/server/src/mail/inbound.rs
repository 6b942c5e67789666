//! Reading one incoming RFC 5322 message: pure, no I/O.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

/// What Steward needs from an incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// The sender's address, lower-cased.
    pub from: String,
    pub from_name: Option<String>,
    pub subject: String,
    /// Without angle brackets, as every Message-ID Steward stores.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The text body; HTML-only mail is converted to readable text.
    pub text: String,
    pub attachments: Vec<InboundAttachment>,
}

impl InboundMail {
    /// Message-IDs this message answers, most specific first: In-Reply-To, then References
    /// from the newest back.
    pub fn thread_ids(&self) -> Vec<String> {
        let mut ids = self.in_reply_to.clone();
        for id in self.references.iter().rev() {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        ids
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundAttachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Why a message cannot be taken in. The text is what the operator reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("the input is empty: expected one e-mail message")]
    Empty,
    #[error("the input is not an e-mail message (no RFC 5322 header section was found)")]
    NotAMail,
    #[error("the message has no From address, so there is nobody to answer")]
    NoFrom,
}

/// Parses one message. Never panics, whatever the bytes.
pub fn parse(raw: &[u8]) -> Result<InboundMail, MailError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(MailError::Empty);
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(MailError::NotAMail)?;
    // mail-parser is lenient: text without a single known header still "parses". A message
    // must at least say who sent it or what it is about.
    let known = message.from().is_some()
        || message.subject().is_some()
        || message.message_id().is_some()
        || message.date().is_some();
    if !known {
        return Err(MailError::NotAMail);
    }
    let sender = message
        .from()
        .or_else(|| message.sender())
        .and_then(|a| a.first())
        .filter(|a| a.address().is_some_and(|s| s.contains('@')))
        .ok_or(MailError::NoFrom)?;
    let from = sender.address().unwrap_or_default().trim().to_lowercase();
    let from_name = sender
        .name()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let text = message
        .body_text(0)
        .map(|t| t.replace("\r\n", "\n").trim().to_owned())
        .unwrap_or_default();
    let attachments = message
        .attachments()
        .enumerate()
        .map(|(i, part)| InboundAttachment {
            filename: part
                .attachment_name()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(safe_filename)
                .unwrap_or_else(|| format!("attachment-{}", i + 1)),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_lowercase(),
            bytes: part.contents().to_vec(),
        })
        .collect();
    Ok(InboundMail {
        from,
        from_name,
        subject: message.subject().unwrap_or_default().trim().to_owned(),
        message_id: message
            .message_id()
            .map(bare_id)
            .filter(|id| !id.is_empty()),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        text,
        attachments,
    })
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<&str> = match value {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
        .flat_map(str::split_whitespace)
        .map(bare_id)
        .filter(|id| !id.is_empty())
        .collect()
}

/// A Message-ID without its angle brackets.
pub fn bare_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// Keeps the last path component and drops control characters, so a name is safe to show
/// and to offer as a download name.
fn safe_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    if clean.trim().is_empty() || clean == "." || clean == ".." {
        "attachment".into()
    } else {
        clean
    }
}

/// A record key in brackets anywhere in a subject, as Steward writes it in every notification:
/// `Re: [INC-42] Mail down` → `("INC", 42)`. The prefix is returned upper-case.
pub fn key_in_subject(subject: &str) -> Option<(String, i64)> {
    let mut rest = subject;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        let inner = rest[..close].trim();
        if let Some((prefix, number)) = inner.split_once('-') {
            let prefix_ok =
                (2..=5).contains(&prefix.len()) && prefix.chars().all(|c| c.is_ascii_alphabetic());
            let number_ok =
                (1..=18).contains(&number.len()) && number.chars().all(|c| c.is_ascii_digit());
            if prefix_ok
                && number_ok
                && let Ok(n) = number.parse::<i64>()
                && n > 0
            {
                return Some((prefix.to_ascii_uppercase(), n));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> InboundMail {
        match parse(raw.as_bytes()) {
            Ok(m) => m,
            Err(e) => panic!("should parse: {e}"),
        }
    }

    #[test]
    fn plain_text() {
        let m = ok("From: Hank Scorpio <Hank@Globex.test>\r\n\
                    To: desk@acme.test\r\n\
                    Subject: Printer on fire\r\n\
                    Message-ID: <abc.123@globex.test>\r\n\
                    Date: Mon, 6 Jan 2025 10:00:00 +0000\r\n\
                    \r\n\
                    The printer on floor 3 is on fire.\r\nPlease help.\r\n");
        assert_eq!(m.from, "hank@globex.test");
        assert_eq!(m.from_name.as_deref(), Some("Hank Scorpio"));
        assert_eq!(m.subject, "Printer on fire");
        assert_eq!(m.message_id.as_deref(), Some("abc.123@globex.test"));
        assert_eq!(m.text, "The printer on floor 3 is on fire.\nPlease help.");
        assert!(m.attachments.is_empty());
        assert!(m.thread_ids().is_empty());
    }

    #[test]
    fn replies_carry_their_thread() {
        let m = ok("From: a@b.test\r\nSubject: Re: [INC-7] Printer\r\n\
                    In-Reply-To: <inc-7.x@steward>\r\n\
                    References: <first@b.test> <inc-7.x@steward>\r\n\r\nThanks\r\n");
        assert_eq!(m.in_reply_to, ["inc-7.x@steward"]);
        assert_eq!(m.references, ["first@b.test", "inc-7.x@steward"]);
        assert_eq!(m.thread_ids(), ["inc-7.x@steward", "first@b.test"]);
    }

    #[test]
    fn html_only_mail_becomes_readable_text() {
        let m = ok("From: a@b.test\r\nSubject: Hi\r\n\
                    MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
                    <html><head><style>p{color:red}</style></head><body>\
                    <p>VPN &amp; mail are <b>down</b></p><p>Caf&eacute; &lt;3</p></body></html>\r\n");
        assert!(m.text.contains("VPN & mail are down"), "{:?}", m.text);
        assert!(m.text.contains("Café <3"), "{:?}", m.text);
        assert!(
            !m.text.contains("<p>") && !m.text.contains("color"),
            "{:?}",
            m.text
        );
    }

    #[test]
    fn multipart_with_an_attachment() {
        let m = ok("From: a@b.test\r\nSubject: Logs\r\nMIME-Version: 1.0\r\n\
                    Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
                    --XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the log.\r\n\
                    --XX\r\nContent-Type: text/plain; name=\"app.log\"\r\n\
                    Content-Disposition: attachment; filename=\"../../etc/app.log\"\r\n\
                    Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gbG9n\r\n\
                    --XX\r\nContent-Type: application/octet-stream\r\n\
                    Content-Disposition: attachment\r\n\
                    Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n\
                    --XX--\r\n");
        assert_eq!(m.text, "See the log.");
        assert_eq!(m.attachments.len(), 2);
        assert_eq!(m.attachments[0].filename, "app.log");
        assert_eq!(m.attachments[0].content_type, "text/plain");
        assert_eq!(m.attachments[0].bytes, b"hello log");
        assert_eq!(m.attachments[1].filename, "attachment-2");
        assert_eq!(m.attachments[1].content_type, "application/octet-stream");
        assert_eq!(m.attachments[1].bytes, [0, 1, 2]);
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert_eq!(parse(b""), Err(MailError::Empty));
        assert_eq!(parse(b" \r\n\t"), Err(MailError::Empty));
        assert_eq!(
            parse(b"this is not an e-mail at all\njust some text\n"),
            Err(MailError::NotAMail)
        );
        assert_eq!(
            parse(&[0xff, 0xfe, 0x00, 0x13, 0x37, 0x0a, 0x0a, 0x01]),
            Err(MailError::NotAMail)
        );
        assert_eq!(
            parse(b"Subject: who am I\r\n\r\nno sender\r\n"),
            Err(MailError::NoFrom)
        );
        assert_eq!(
            parse(b"From: nobody\r\nSubject: x\r\n\r\nbody\r\n"),
            Err(MailError::NoFrom)
        );
    }

    #[test]
    fn keys_are_found_in_subjects() {
        assert_eq!(
            key_in_subject("Re: [INC-42] Mail down"),
            Some(("INC".into(), 42))
        );
        assert_eq!(key_in_subject("AW: AW: [inc-7]"), Some(("INC".into(), 7)));
        assert_eq!(
            key_in_subject("[External] Re: [ INC-3 ] x"),
            Some(("INC".into(), 3))
        );
        assert_eq!(
            key_in_subject("[PRB-2] and [INC-5]"),
            Some(("PRB".into(), 2))
        );
        for none in [
            "Mail down",
            "INC-42 without brackets",
            "[INC-]",
            "[INC-0]",
            "[INC-4x]",
            "[-4]",
            "[INC-99999999999999999999]",
            "[INC-42",
            "[Ticket 42]",
        ] {
            assert_eq!(key_in_subject(none), None, "{none}");
        }
    }

    #[test]
    fn message_ids_lose_their_brackets() {
        assert_eq!(bare_id(" <a@b> "), "a@b");
        assert_eq!(bare_id("a@b"), "a@b");
    }

    /// The seed corpus the coverage-guided fuzz target starts from (`fuzz/corpus/mail_in`).
    const SEEDS: &[&[u8]] = &[
        include_bytes!("../../../../fuzz/corpus/mail_in/plain.eml"),
        include_bytes!("../../../../fuzz/corpus/mail_in/reply.eml"),
        include_bytes!("../../../../fuzz/corpus/mail_in/html_only.eml"),
        include_bytes!("../../../../fuzz/corpus/mail_in/attachment.eml"),
        include_bytes!("../../../../fuzz/corpus/mail_in/nested.eml"),
        include_bytes!("../../../../fuzz/corpus/mail_in/no_from.eml"),
        include_bytes!("../../../../fuzz/corpus/mail_in/not_mail.txt"),
    ];

    /// What every parse result must satisfy, whatever the input.
    fn check_invariants(raw: &[u8]) {
        if let Ok(m) = parse(raw) {
            assert!(m.from.contains('@') && m.from == m.from.to_lowercase());
            assert_eq!(m.subject, m.subject.trim());
            assert!(m.message_id.as_deref().is_none_or(|id| !id.is_empty()));
            for a in &m.attachments {
                assert!(!a.filename.is_empty() && !a.filename.contains(['/', '\\']));
            }
            let _ = key_in_subject(&m.subject);
            let _ = m.thread_ids();
        }
    }

    #[test]
    fn the_seed_corpus_parses_as_expected() {
        let results: Vec<bool> = SEEDS.iter().map(|s| parse(s).is_ok()).collect();
        assert_eq!(results, [true, true, true, true, true, false, false]);
        let html = ok(std::str::from_utf8(SEEDS[2]).unwrap_or_default());
        assert!(html.text.contains("Das Laufwerk") && !html.text.contains("<b>"));
        let attached = ok(std::str::from_utf8(SEEDS[3]).unwrap_or_default());
        assert_eq!(attached.attachments[0].filename, "error.png");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn any_bytes_are_taken_or_refused_without_panicking(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)
        ) {
            check_invariants(&raw);
        }

        #[test]
        fn damaged_mail_is_taken_or_refused_without_panicking(
            seed in proptest::sample::select(SEEDS),
            edits in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 0..24),
            cut in proptest::prelude::any::<usize>(),
        ) {
            let mut raw = seed.to_vec();
            for (at, byte) in edits {
                let i = at % raw.len();
                raw[i] = byte;
            }
            raw.truncate(cut % (raw.len() + 1));
            check_invariants(&raw);
        }

        #[test]
        fn well_formed_mail_keeps_sender_subject_and_text(
            local in "[a-z][a-z0-9.]{0,15}",
            subject in "[A-Za-z0-9][A-Za-z0-9 ,.!?-]{0,60}",
            body in "[A-Za-z0-9][A-Za-z0-9 ,.]{0,200}",
        ) {
            let raw = format!("From: {local}@Example.TEST\r\nSubject: {subject}\r\n\r\n{body}\r\n");
            let m = parse(raw.as_bytes()).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            proptest::prop_assert_eq!(m.from, format!("{local}@example.test"));
            proptest::prop_assert_eq!(m.subject, subject.trim());
            proptest::prop_assert_eq!(m.text, body.trim());
        }
    }
}
