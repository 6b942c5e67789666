//! Notification templates: the events a requester hears about, their default wording, the
//! placeholders a template may use, and rendering (pure; the server queues the result).

use crate::validation::Invalid;
use serde::{Deserialize, Serialize};

/// What happened to an incident that somebody is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The incident was opened (from any source).
    Opened,
    /// An agent (or, by mail, the requester) replied publicly.
    Replied,
    /// The incident was resolved.
    Resolved,
    /// The incident was assigned to somebody (who is told).
    Assigned,
}

impl Event {
    pub const ALL: [Event; 4] = [
        Event::Opened,
        Event::Replied,
        Event::Resolved,
        Event::Assigned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Opened => "opened",
            Event::Replied => "replied",
            Event::Resolved => "resolved",
            Event::Assigned => "assigned",
        }
    }

    pub fn parse(text: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == text)
    }

    /// A stable number for the journal's record id.
    pub fn ordinal(self) -> i64 {
        match self {
            Event::Opened => 1,
            Event::Replied => 2,
            Event::Resolved => 3,
            Event::Assigned => 4,
        }
    }

    /// What the event is, for people.
    pub fn label(self) -> &'static str {
        match self {
            Event::Opened => "Incident opened (to the requester and watchers)",
            Event::Replied => "Public reply (to the requester and watchers)",
            Event::Resolved => "Incident resolved (to the requester and watchers)",
            Event::Assigned => "Incident assigned (to the new assignee)",
        }
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The placeholders a template may use, without braces.
pub const PLACEHOLDERS: [&str; 6] = ["key", "title", "status", "reply", "assignee", "link"];

const MAX_SUBJECT: usize = 300;
const MAX_BODY: usize = 20_000;
const SIGNATURE: &str = "-- \nSteward service desk\n";

/// A subject and a body with `{{placeholder}}`s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

impl Template {
    /// The wording used until a tenant saves its own.
    pub fn default_for(event: Event) -> Template {
        let body = match event {
            Event::Opened => format!(
                "Hello,\n\n\
                 we have received your message and recorded it as {{{{key}}}}: {{{{title}}}}\n\n\
                 The service desk will get back to you. To add anything, reply to this e-mail and keep\n\
                 [{{{{key}}}}] in the subject.\n\n{SIGNATURE}"
            ),
            Event::Replied => format!(
                "The service desk replied on {{{{key}}}} ({{{{title}}}}):\n\n{{{{reply}}}}\n\n\
                 To answer, reply to this e-mail and keep [{{{{key}}}}] in the subject.\n\n{SIGNATURE}"
            ),
            Event::Resolved => format!(
                "{{{{key}}}} ({{{{title}}}}) has been resolved.\n\n\
                 If it is not fixed for you, reply to this e-mail and keep [{{{{key}}}}] in the subject.\n\
                 {{{{link}}}}\n\n{SIGNATURE}"
            ),
            Event::Assigned => format!(
                "{{{{key}}}} ({{{{title}}}}) has been assigned to {{{{assignee}}}}.\n\n\
                 Status: {{{{status}}}}\n{{{{link}}}}\n\n{SIGNATURE}"
            ),
        };
        Template {
            subject: "[{{key}}] {{title}}".to_owned(),
            body,
        }
    }

    /// Checks a template before it is saved: both parts present, not too long, and only known
    /// placeholders (every unknown one is named).
    pub fn validate(self) -> Result<Template, Invalid> {
        let mut errors = Invalid::new();
        if self.subject.trim().is_empty() {
            errors.add("subject", "Write a subject");
        } else if self.subject.chars().count() > MAX_SUBJECT {
            errors.add("subject", "The subject is at most 300 characters");
        }
        if self.body.trim().is_empty() {
            errors.add("body", "Write a body");
        } else if self.body.chars().count() > MAX_BODY {
            errors.add("body", "The body is at most 20,000 characters");
        }
        for (field, text) in [("subject", &self.subject), ("body", &self.body)] {
            let unknown = unknown_placeholders(text);
            if !unknown.is_empty() {
                errors.add(
                    field,
                    format!(
                        "Unknown placeholders: {}. Use {}",
                        unknown
                            .iter()
                            .map(|p| format!("{{{{{p}}}}}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{{{p}}}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        errors.into_result(Template {
            subject: self.subject,
            body: self.body.replace("\r\n", "\n"),
        })
    }

    /// The subject and body with every known placeholder replaced; the subject has no line
    /// breaks or other control characters.
    pub fn render(&self, vars: &Vars) -> (String, String) {
        let subject: String = render(&self.subject, vars)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        (subject.trim().to_owned(), render(&self.body, vars))
    }
}

/// The values placeholders stand for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    pub key: String,
    pub title: String,
    pub status: String,
    pub reply: String,
    pub assignee: String,
    pub link: String,
}

impl Vars {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "key" => &self.key,
            "title" => &self.title,
            "status" => &self.status,
            "reply" => &self.reply,
            "assignee" => &self.assignee,
            "link" => &self.link,
            _ => return None,
        })
    }
}

/// The placeholders (`{{ name }}`, spaces allowed) in `text`, in order: (start, end, name).
fn placeholders(text: &str) -> Vec<(usize, usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| from + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        // `{{ {{key}}`: the innermost opening belongs to the placeholder.
        let open = text[..close].rfind("{{").unwrap_or(open);
        found.push((open, close + 2, text[open + 2..close].trim()));
        from = close + 2;
    }
    found
}

/// The placeholders in `text` that are not in `PLACEHOLDERS`, each once.
pub fn unknown_placeholders(text: &str) -> Vec<String> {
    let mut unknown: Vec<String> = Vec::new();
    for (_, _, name) in placeholders(text) {
        if !PLACEHOLDERS.contains(&name) && !unknown.iter().any(|u| u == name) {
            unknown.push(name.to_owned());
        }
    }
    unknown
}

/// Replaces every known placeholder in one pass (values are not expanded again); unknown ones
/// stay as they are, which validation prevents for saved templates.
pub fn render(text: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, name) in placeholders(text) {
        if let Some(value) = vars.get(name) {
            out.push_str(&text[last..start]);
            out.push_str(value);
            last = end;
        }
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vars() -> Vars {
        Vars {
            key: "INC-4".into(),
            title: "Printer".into(),
            status: "resolved".into(),
            reply: "Try turning it off.".into(),
            assignee: "Sam Agent".into(),
            link: "http://desk.test/incidents/INC-4".into(),
        }
    }

    #[test]
    fn events_round_trip() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
        }
        assert_eq!(Event::parse("closed"), None);
    }

    #[test]
    fn defaults_are_valid_and_keep_todays_wording() {
        for e in Event::ALL {
            let t = Template::default_for(e);
            assert_eq!(t.clone().validate(), Ok(t.clone()), "{e}");
            let (subject, body) = t.render(&vars());
            assert_eq!(subject, "[INC-4] Printer");
            assert!(body.contains("INC-4") && !body.contains("{{"), "{body}");
        }
        let (_, opened) = Template::default_for(Event::Opened).render(&vars());
        assert!(opened.contains("recorded it as INC-4: Printer"), "{opened}");
        assert!(opened.contains("keep\n[INC-4] in the subject"), "{opened}");
        let (_, replied) = Template::default_for(Event::Replied).render(&vars());
        assert!(
            replied.contains("replied on INC-4 (Printer):\n\nTry turning it off.\n"),
            "{replied}"
        );
        let (_, assigned) = Template::default_for(Event::Assigned).render(&vars());
        assert!(assigned.contains("assigned to Sam Agent"), "{assigned}");
    }

    #[test]
    fn rendering_replaces_known_placeholders_once() {
        assert_eq!(render("{{ key }}/{{key}}", &vars()), "INC-4/INC-4");
        assert_eq!(render("{{nope}} {{key", &vars()), "{{nope}} {{key");
        let sneaky = Vars {
            title: "{{key}}".into(),
            ..vars()
        };
        assert_eq!(
            render("{{title}}", &sneaky),
            "{{key}}",
            "values are not expanded"
        );
        assert_eq!(render("{{ {{key}}", &vars()), "{{ INC-4");
    }

    #[test]
    fn subjects_have_no_line_breaks() {
        let t = Template {
            subject: "[{{key}}] {{title}}".into(),
            body: "x".into(),
        };
        let v = Vars {
            title: "a\r\nb".into(),
            ..vars()
        };
        assert_eq!(t.render(&v).0, "[INC-4] a  b");
    }

    #[test]
    fn validation_names_unknown_placeholders() {
        let bad = Template {
            subject: "{{key}} {{customer}}".into(),
            body: "{{reply}} {{ agent }} {{customer}}".into(),
        }
        .validate()
        .expect_err("unknown");
        assert_eq!(bad.errors.len(), 2);
        assert_eq!(bad.errors[0].field, "subject");
        assert!(bad.errors[0].message.contains("{{customer}}"));
        assert!(bad.errors[1].message.contains("{{agent}}, {{customer}}"));
        let empty = Template {
            subject: " ".into(),
            body: String::new(),
        }
        .validate()
        .expect_err("empty");
        assert_eq!(empty.errors.len(), 2);
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9 .,:\n{}]{0,12}",
            prop::sample::select(PLACEHOLDERS.to_vec()).prop_map(|p| format!("{{{{{p}}}}}")),
            prop::sample::select(PLACEHOLDERS.to_vec()).prop_map(|p| format!("{{{{ {p} }}}}")),
        ]
    }

    proptest! {
        #[test]
        fn rendering_never_leaves_a_known_placeholder(
            pieces in prop::collection::vec(piece(), 0..12),
            values in prop::collection::vec("[A-Z0-9 .:/-]{0,10}", 6),
        ) {
            let template = pieces.concat();
            let v = Vars {
                key: values[0].clone(),
                title: values[1].clone(),
                status: values[2].clone(),
                reply: values[3].clone(),
                assignee: values[4].clone(),
                link: values[5].clone(),
            };
            let out = render(&template, &v);
            for (_, _, name) in placeholders(&out) {
                prop_assert!(!PLACEHOLDERS.contains(&name), "{template:?} -> {out:?}");
            }
        }
    }
}
