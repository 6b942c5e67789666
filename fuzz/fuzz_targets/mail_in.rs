//! `steward mail-in` reads whatever an MTA pipes to it: the parser must take or refuse any bytes
//! without panicking, and what it takes must be usable (a sender, safe attachment names).
#![no_main]

use libfuzzer_sys::fuzz_target;
use steward_server::mail::inbound::{key_in_subject, parse};

fuzz_target!(|raw: &[u8]| {
    if let Ok(mail) = parse(raw) {
        assert!(mail.from.contains('@'));
        for a in &mail.attachments {
            assert!(!a.filename.is_empty() && !a.filename.contains(['/', '\\']));
        }
        let _ = key_in_subject(&mail.subject);
        let _ = mail.thread_ids();
    }
});
