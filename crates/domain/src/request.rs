//! Service requests and the catalogue they come from (ISO/IEC 20000-1 8.6.2).
//!
//! A catalogue item is a form an admin defines: typed fields, whether approval is needed and by
//! whom, and the fulfilment tasks it spawns. A request answers the form; its lifecycle follows
//! from approvals and tasks rather than from free status changes.

use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for its approvers.
    PendingApproval,
    /// Approved (or needing no approval): the fulfilment tasks are being worked.
    InFulfilment,
    /// Every task is done.
    Fulfilled,
    Closed,
    Rejected,
    Cancelled,
}

crate::service::text_enum!(RequestStatus {
    PendingApproval => "pending_approval", InFulfilment => "in_fulfilment", Fulfilled => "fulfilled",
    Closed => "closed", Rejected => "rejected", Cancelled => "cancelled",
});

impl RequestStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RequestStatus::Closed | RequestStatus::Rejected | RequestStatus::Cancelled
        )
    }

    /// The status a new request starts in.
    pub fn initial(needs_approval: bool) -> RequestStatus {
        if needs_approval {
            RequestStatus::PendingApproval
        } else {
            RequestStatus::InFulfilment
        }
    }

    /// Status changes people make directly; approval and fulfilment move the rest.
    pub fn manual_next(self) -> &'static [RequestStatus] {
        use RequestStatus::*;
        match self {
            PendingApproval | InFulfilment => &[Cancelled],
            Fulfilled => &[Closed, InFulfilment],
            Closed | Rejected | Cancelled => &[],
        }
    }
}

/// An approver's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Pending,
    Approved,
    Rejected,
}

crate::service::text_enum!(Decision { Pending => "pending", Approved => "approved", Rejected => "rejected" });

/// Where the approvals leave a request: one rejection rejects, all approvals approve.
pub fn approval_outcome(decisions: &[Decision]) -> Option<RequestStatus> {
    if decisions.contains(&Decision::Rejected) {
        Some(RequestStatus::Rejected)
    } else if !decisions.is_empty() && decisions.iter().all(|d| *d == Decision::Approved) {
        Some(RequestStatus::InFulfilment)
    } else {
        None
    }
}

/// Whether a request in fulfilment is done: all its tasks are (a request without tasks is done
/// when someone marks it so).
pub fn fulfilled(tasks_done: &[bool]) -> bool {
    !tasks_done.is_empty() && tasks_done.iter().all(|d| *d)
}

/// The kind of value a form field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// One of `options`.
    Select,
    /// The id of a user of the tenant (the store checks that the user exists).
    User,
}

crate::service::text_enum!(FieldKind {
    Text => "text", Number => "number", Date => "date", Select => "select", User => "user",
});

/// One field of a catalogue item's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// Machine name: letters, digits and underscores.
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// Choices of a `select` field.
    #[serde(default)]
    pub options: Vec<String>,
}

/// A fulfilment task a catalogue item spawns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskTemplate {
    pub title: String,
    /// The team that does it.
    pub team_id: Option<i64>,
}

/// A catalogue item as an admin defines it, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemDraft {
    pub name: String,
    pub description: String,
    pub category: String,
    pub fields: Vec<FormField>,
    pub approver_ids: Vec<i64>,
    pub tasks: Vec<TaskTemplate>,
    pub active: bool,
}

impl ItemDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, 200);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            10_000,
        );
        self.category = optional_text(
            &mut errors,
            "category",
            "Category",
            self.category.trim(),
            200,
        );
        let mut seen = std::collections::HashSet::new();
        for (i, field) in self.fields.iter().enumerate() {
            let at = format!("fields[{i}]");
            let valid_name = !field.name.is_empty()
                && field.name.len() <= 64
                && field
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name {
                errors.add(
                    &at,
                    "Field names use letters, digits and underscores (at most 64)",
                );
            } else if !seen.insert(field.name.clone()) {
                errors.add(&at, format!("Field name `{}` is used twice", field.name));
            }
            if field.label.trim().is_empty() {
                errors.add(&at, "Every field needs a label");
            }
            if field.kind == FieldKind::Select && field.options.is_empty() {
                errors.add(&at, "A select field needs options");
            }
            if field.kind == FieldKind::User {
                errors.add(&at, "Catalogue forms cannot ask for a user");
            }
        }
        for (i, task) in self.tasks.iter().enumerate() {
            if task.title.trim().is_empty() {
                errors.add(&format!("tasks[{i}]"), "Every task needs a title");
            }
        }
        self.approver_ids.sort_unstable();
        self.approver_ids.dedup();
        errors.into_result(self)
    }
}

/// Checks answers against a form; returns them normalised (trimmed text, numbers as numbers).
/// Unknown answers are refused so that nothing silently disappears.
pub fn check_answers(
    fields: &[FormField],
    answers: &Map<String, Value>,
) -> Result<Map<String, Value>, Invalid> {
    let mut errors = Invalid::new();
    for name in answers.keys() {
        if !fields.iter().any(|f| &f.name == name) {
            errors.add(name, format!("This form has no field `{name}`"));
        }
    }
    let mut clean = Map::new();
    for field in fields {
        let text = match answers.get(&field.name) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(_) => {
                errors.add(
                    &field.name,
                    format!("{} must be a single value", field.label),
                );
                continue;
            }
        };
        if text.is_empty() {
            if field.required {
                errors.add(&field.name, format!("{} is required", field.label));
            }
            continue;
        }
        let value = match field.kind {
            FieldKind::Text if text.chars().count() > 10_000 => {
                Err(format!("{} is too long", field.label))
            }
            FieldKind::Text => Ok(Value::String(text)),
            FieldKind::Number => text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("{} must be a number", field.label)),
            FieldKind::Date => jiff::civil::Date::strptime("%Y-%m-%d", &text)
                .map(|d| Value::String(d.to_string()))
                .map_err(|_| format!("{} must be a date like 2026-12-31", field.label)),
            FieldKind::Select if field.options.contains(&text) => Ok(Value::String(text)),
            FieldKind::Select => Err(format!(
                "{} must be one of: {}",
                field.label,
                field.options.join(", ")
            )),
            FieldKind::User => text
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .map(|id| Value::Number(id.into()))
                .ok_or_else(|| format!("{} must be a user id", field.label)),
        };
        match value {
            Ok(v) => {
                clean.insert(field.name.clone(), v);
            }
            Err(message) => errors.add(&field.name, message),
        }
    }
    errors.into_result(clean)
}

/// Checks custom field definitions an admin gives (names, labels, options), in order.
pub fn validate_custom_fields(mut fields: Vec<FormField>) -> Result<Vec<FormField>, Invalid> {
    let mut errors = Invalid::new();
    let mut seen = std::collections::HashSet::new();
    for (i, field) in fields.iter_mut().enumerate() {
        let at = format!("fields[{i}]");
        field.name = field.name.trim().to_owned();
        field.label = field.label.trim().to_owned();
        let valid_name = !field.name.is_empty()
            && field.name.len() <= 64
            && field
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            errors.add(
                &at,
                "Field names use letters, digits and underscores (at most 64)",
            );
        } else if !seen.insert(field.name.clone()) {
            errors.add(&at, format!("Field name `{}` is used twice", field.name));
        }
        if field.label.is_empty() || field.label.chars().count() > 200 {
            errors.add(&at, "Every field needs a label (at most 200 characters)");
        }
        field.options = field
            .options
            .iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        if field.kind == FieldKind::Select && field.options.is_empty() {
            errors.add(&at, "A select field needs options");
        }
        if field.kind != FieldKind::Select {
            field.options.clear();
        }
    }
    if fields.len() > 100 {
        errors.add("fields", "At most 100 custom fields");
    }
    errors.into_result(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn form() -> Vec<FormField> {
        vec![
            FormField {
                name: "model".into(),
                label: "Laptop model".into(),
                kind: FieldKind::Select,
                required: true,
                options: vec!["13-inch".into(), "15-inch".into()],
            },
            FormField {
                name: "start".into(),
                label: "Start date".into(),
                kind: FieldKind::Date,
                required: true,
                options: vec![],
            },
            FormField {
                name: "monitors".into(),
                label: "Monitors".into(),
                kind: FieldKind::Number,
                required: false,
                options: vec![],
            },
            FormField {
                name: "notes".into(),
                label: "Notes".into(),
                kind: FieldKind::Text,
                required: false,
                options: vec![],
            },
        ]
    }

    fn answers(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn good_answers_are_normalised() {
        let clean = check_answers(
            &form(),
            &answers(
                json!({"model": "13-inch", "start": "2026-12-01", "monitors": "2", "notes": "  hi "}),
            ),
        );
        assert_eq!(
            clean.map(Value::Object),
            Ok(json!({"model": "13-inch", "start": "2026-12-01", "monitors": 2.0, "notes": "hi"}))
        );
    }

    #[test]
    fn bad_answers_name_their_field() {
        let err = check_answers(&form(), &answers(json!({"model": "17-inch", "start": "tomorrow", "monitors": "two", "colour": "red"})))
            .expect_err("all wrong");
        for field in ["model", "start", "monitors", "colour"] {
            assert!(err.message_for(field).is_some(), "{field}: {err:?}");
        }
        let missing = check_answers(&form(), &Map::new()).expect_err("required");
        assert_eq!(
            missing.message_for("model"),
            Some("Laptop model is required")
        );
    }

    #[test]
    fn items_are_checked() {
        let draft = ItemDraft {
            name: "New laptop".into(),
            description: String::new(),
            category: "Hardware".into(),
            fields: vec![FormField {
                name: "bad name".into(),
                label: String::new(),
                kind: FieldKind::Select,
                required: false,
                options: vec![],
            }],
            approver_ids: vec![3, 1, 3],
            tasks: vec![TaskTemplate {
                title: " ".into(),
                team_id: None,
            }],
            active: true,
        };
        let err = draft.clone().validate().expect_err("bad field and task");
        assert!(err.message_for("fields[0]").is_some() && err.message_for("tasks[0]").is_some());
        let ok = ItemDraft {
            fields: form(),
            tasks: vec![],
            ..draft
        }
        .validate()
        .expect("valid");
        assert_eq!(ok.approver_ids, vec![1, 3]);
    }

    #[test]
    fn user_fields_take_ids() {
        let fields = vec![FormField {
            name: "owner".into(),
            label: "Owner".into(),
            kind: FieldKind::User,
            required: true,
            options: vec![],
        }];
        assert_eq!(
            check_answers(&fields, &answers(json!({"owner": "7"}))).map(Value::Object),
            Ok(json!({"owner": 7}))
        );
        assert!(check_answers(&fields, &answers(json!({"owner": "bob"}))).is_err());
        assert!(validate_custom_fields(fields).is_ok());
    }

    #[test]
    fn approvals_decide_together() {
        use Decision::*;
        assert_eq!(approval_outcome(&[Approved, Pending]), None);
        assert_eq!(
            approval_outcome(&[Approved, Approved]),
            Some(RequestStatus::InFulfilment)
        );
        assert_eq!(
            approval_outcome(&[Approved, Rejected, Pending]),
            Some(RequestStatus::Rejected)
        );
        assert!(!fulfilled(&[]) && !fulfilled(&[true, false]) && fulfilled(&[true, true]));
    }

    proptest! {
        #[test]
        fn any_rejection_wins_and_approval_needs_everyone(ds in prop::collection::vec(prop::sample::select(vec![Decision::Pending, Decision::Approved, Decision::Rejected]), 0..8)) {
            let outcome = approval_outcome(&ds);
            prop_assert_eq!(outcome == Some(RequestStatus::Rejected), ds.contains(&Decision::Rejected));
            prop_assert_eq!(outcome == Some(RequestStatus::InFulfilment), !ds.is_empty() && ds.iter().all(|d| *d == Decision::Approved));
        }

        #[test]
        fn checked_answers_only_hold_form_fields(notes in ".{0,40}", monitors in "[0-9]{0,3}") {
            let got = check_answers(&form(), &answers(json!({"model": "15-inch", "start": "2027-01-31", "notes": notes, "monitors": monitors})));
            let clean = got.expect("valid");
            prop_assert!(clean.keys().all(|k| form().iter().any(|f| &f.name == k)));
        }
    }
}
