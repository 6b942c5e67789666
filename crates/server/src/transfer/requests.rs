//! Service requests as CSV rows.
//!
//! An imported request describes history, so its answers are checked against the item's form
//! like a new request's (unknown fields, kinds, options), except that required answers may be
//! missing: the form may have gained a required field since. A `user` answer is written as the
//! user's e-mail address on export and may be given as one on import, so files move between
//! tenants, whose user ids differ.

use super::{Kind, Known, Row, in_order, instant, opened_at, parsed, rfc3339, status_time, take};
use serde_json::{Map, Value};
use steward_domain::request::{FieldKind, FormField, RequestStatus, check_answers};
use steward_store::external::Imported;
use steward_store::request::{
    CatalogueItem, RequestFields, RequestFilter, RequestValues, ServiceRequest,
};
use steward_store::{Actor, Page, Store, StoreError, StoreResult};

pub struct Requests;

/// What a request row becomes: its catalogue item and its values.
#[derive(Debug)]
pub struct ImportedRequest {
    pub(super) item_id: i64,
    pub(super) values: RequestValues,
}

impl Kind for Requests {
    const NAME: &'static str = "request";
    const IMPORTED: Imported = Imported::Request;
    const EXPORTED: &'static [&'static str] = &[
        "key",
        "external_id",
        "item",
        "title",
        "status",
        "requester",
        "answers",
        "category",
        "opened_at",
        "fulfilled_at",
        "closed_at",
    ];
    type Fields = ImportedRequest;
    type Record = ServiceRequest;

    fn fields(row: &Row, known: &Known, now: i64) -> Result<ImportedRequest, Vec<String>> {
        let mut errors = Vec::new();
        let item = match row.get("item").trim() {
            "" => {
                errors.push("item is required".to_owned());
                None
            }
            name => take(&mut errors, known.item_names.find(name))
                .flatten()
                .and_then(|id| known.items.get(&id)),
        };
        let status = take(
            &mut errors,
            parsed("status", row.get("status"), None, |t| {
                RequestStatus::parse(t).map(Some)
            }),
        )
        .flatten()
        .or_else(|| item.map(|i| RequestStatus::initial(!i.approver_ids.is_empty())));
        let requester_user_id = take(&mut errors, known.users.find(row.get("requester"))).flatten();
        let category_id = take(&mut errors, known.categories.find(row.get("category"))).flatten();
        let (opened_at, opened) = opened_at(&mut errors, row, now);
        let fulfilled_at = take(
            &mut errors,
            instant("fulfilled_at", row.get("fulfilled_at")),
        )
        .flatten();
        let closed_at = take(&mut errors, instant("closed_at", row.get("closed_at"))).flatten();
        let answers =
            item.and_then(|item| take(&mut errors, answers(row.get("answers"), item, known)));
        let title = match row.get("title").trim() {
            "" => item.map(|i| i.name.clone()).unwrap_or_default(),
            t if t.chars().count() > 300 => {
                errors.push("title must be at most 300 characters".to_owned());
                String::new()
            }
            t => t.to_owned(),
        };
        if let (Some(status), Some(item)) = (status, item) {
            let name = status.as_str();
            let fulfilled = matches!(status, RequestStatus::Fulfilled | RequestStatus::Closed);
            status_time(
                &mut errors,
                "fulfilled_at",
                fulfilled_at,
                name,
                fulfilled,
                fulfilled,
            );
            let ended = status.is_terminal();
            status_time(&mut errors, "closed_at", closed_at, name, ended, ended);
            if status == RequestStatus::PendingApproval && item.approver_ids.is_empty() {
                errors.push(format!(
                    "status {name} needs an item with approvers, and `{}` has none",
                    item.name
                ));
            }
        }
        in_order(
            &mut errors,
            &[
                (opened, Some(opened_at)),
                ("fulfilled_at", fulfilled_at),
                ("closed_at", closed_at),
            ],
        );
        match (item, status, answers) {
            (Some(item), Some(status), Some(answers)) if errors.is_empty() => Ok(ImportedRequest {
                item_id: item.id,
                values: RequestValues {
                    title,
                    answers,
                    status,
                    requester_user_id,
                    opened_at,
                    fulfilled_at,
                    closed_at,
                    fields: RequestFields {
                        category_id,
                        custom: Map::new(),
                    },
                },
            }),
            _ => Err(errors),
        }
    }

    async fn upsert(
        store: &Store,
        tenant_id: i64,
        external_id: &str,
        fields: &ImportedRequest,
        known: &Known,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let item = known
            .items
            .get(&fields.item_id)
            .ok_or(StoreError::NotFound)?;
        let (_, new) = store
            .upsert_request(tenant_id, external_id, item, &fields.values, actor)
            .await?;
        Ok(new)
    }

    /// Every request at once: the list is newest first, and the file is oldest first.
    async fn page(
        store: &Store,
        tenant_id: i64,
        _cursor: Option<String>,
    ) -> StoreResult<Page<ServiceRequest>> {
        let filter = &RequestFilter::default();
        let mut items =
            super::every(|page| async move { store.requests(tenant_id, filter, &page).await })
                .await?;
        items.reverse();
        Ok(Page {
            items,
            next_cursor: None,
        })
    }

    fn id(record: &ServiceRequest) -> i64 {
        record.id
    }

    fn cells(r: &ServiceRequest, external_id: &str, known: &Known) -> Vec<String> {
        let item = known.items.get(&r.item_id);
        let answers = match item {
            Some(item) => portable(&r.answers, &item.fields, known),
            None => r.answers.clone(),
        };
        vec![
            r.key(),
            external_id.to_owned(),
            known.item_names.name(Some(r.item_id)),
            r.title.clone(),
            r.status.as_str().to_owned(),
            known.users.name(r.requester_user_id),
            if answers.is_empty() {
                String::new()
            } else {
                Value::Object(answers).to_string()
            },
            known.categories.name(r.category_id),
            rfc3339(Some(r.opened_at)),
            rfc3339(r.fulfilled_at),
            rfc3339(r.closed_at),
        ]
    }
}

/// The answers cell read and checked against the item's form, with required answers optional.
fn answers(text: &str, item: &CatalogueItem, known: &Known) -> Result<Map<String, Value>, String> {
    let mut given = match text.trim() {
        "" => Map::new(),
        t => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(r#"answers must be a JSON object such as {"model": "X1"}"#.into()),
            Err(e) => return Err(format!("answers are not JSON: {e}")),
        },
    };
    let mut errors = Vec::new();
    for field in item.fields.iter().filter(|f| f.kind == FieldKind::User) {
        let Some(answer) = given.get_mut(&field.name) else {
            continue;
        };
        let id = match answer {
            Value::String(email) if email.contains('@') => known.users.find(email),
            Value::Number(n) => Ok(n.as_i64().filter(|id| known.users.names.contains_key(id))),
            _ => continue,
        };
        match id {
            Ok(Some(id)) => *answer = Value::from(id),
            _ => errors.push(format!(
                "answers: {} must be a user of this organisation",
                field.label
            )),
        }
    }
    let relaxed: Vec<FormField> = item
        .fields
        .iter()
        .map(|f| FormField {
            required: false,
            ..f.clone()
        })
        .collect();
    match check_answers(&relaxed, &given) {
        Ok(clean) if errors.is_empty() => Ok(clean),
        Ok(_) => Err(errors.join("; ")),
        Err(invalid) => {
            errors.extend(
                invalid
                    .errors
                    .into_iter()
                    .map(|e| format!("answers: {}", e.message)),
            );
            Err(errors.join("; "))
        }
    }
}

/// Answers as a file carries them: a `user` answer as the user's e-mail address.
fn portable(answers: &Map<String, Value>, form: &[FormField], known: &Known) -> Map<String, Value> {
    let mut out = answers.clone();
    for field in form.iter().filter(|f| f.kind == FieldKind::User) {
        if let Some(answer) = out.get_mut(&field.name) {
            let email = known.users.name(answer.as_i64());
            if !email.is_empty() {
                *answer = Value::String(email);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Names;
    use super::*;
    use std::collections::HashMap;

    fn known() -> Known {
        let laptop = CatalogueItem {
            id: 3,
            name: "Laptop".into(),
            description: String::new(),
            category: "Hardware".into(),
            fields: vec![
                FormField {
                    name: "model".into(),
                    label: "Model".into(),
                    kind: FieldKind::Select,
                    required: true,
                    options: vec!["X1".into(), "T14".into()],
                },
                FormField {
                    name: "manager".into(),
                    label: "Manager".into(),
                    kind: FieldKind::User,
                    required: false,
                    options: vec![],
                },
            ],
            approver_ids: vec![],
            tasks: vec![],
            active: false,
            created_at: 0,
            updated_at: 0,
        };
        Known {
            users: Names::new("no user with e-mail", [(9, "ann@acme.test".to_owned())]),
            item_names: Names::new("no catalogue item named", [(3, "Laptop".to_owned())]),
            items: HashMap::from([(3, laptop)]),
            ..Known::empty()
        }
    }

    #[test]
    fn rows_report_every_problem() {
        let row = Row::new([
            ("item", "Laptop"),
            ("status", "pending_approval"),
            ("requester", "nobody@acme.test"),
            (
                "answers",
                r#"{"model": "Z9", "colour": "red", "manager": "eve@acme.test"}"#,
            ),
            ("opened_at", "2024-03-02T09:00:00Z"),
            ("closed_at", "2024-03-01T09:00:00Z"),
        ]);
        let text = Requests::fields(&row, &known(), 0)
            .expect_err("bad row")
            .join("; ");
        for part in [
            "no user with e-mail `nobody@acme.test`",
            "answers: Manager must be a user of this organisation",
            "answers: This form has no field `colour`",
            "answers: Model must be one of: X1, T14",
            "closed_at must be empty when status is pending_approval",
            "status pending_approval needs an item with approvers",
            "closed_at is before opened_at",
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
        let fulfilled = Row::new([("item", "Laptop"), ("status", "closed")]);
        let text = Requests::fields(&fulfilled, &known(), 0)
            .expect_err("closed without times")
            .join("; ");
        assert!(
            text.contains("fulfilled_at is required") && text.contains("closed_at is required"),
            "{text}"
        );
        let nothing = Row::new([("answers", "[1]")]);
        let text = Requests::fields(&nothing, &known(), 0)
            .expect_err("no item")
            .join("; ");
        assert!(text.contains("item is required"), "{text}");
        let text = Requests::fields(
            &Row::new([("item", "Laptop"), ("answers", "[1]")]),
            &known(),
            0,
        )
        .expect_err("not an object")
        .join("; ");
        assert!(text.contains("answers must be a JSON object"), "{text}");
    }

    #[test]
    fn good_rows_keep_their_history_without_required_answers() {
        let row = Row::new([
            ("item", "laptop"),
            ("status", "closed"),
            ("requester", "Ann@acme.test"),
            ("answers", r#"{"manager": "ann@acme.test"}"#),
            ("opened_at", "2024-03-01T09:00:00Z"),
            ("fulfilled_at", "2024-03-01T11:00:00Z"),
            ("closed_at", "2024-03-02T09:00:00Z"),
        ]);
        let known = known();
        let r = Requests::fields(&row, &known, 0).expect("good row");
        assert_eq!(r.item_id, 3);
        let v = &r.values;
        assert_eq!(v.title, "Laptop", "the title defaults to the item's name");
        assert_eq!(v.status, RequestStatus::Closed);
        assert_eq!(v.requester_user_id, Some(9));
        assert_eq!(v.answers.get("manager"), Some(&Value::from(9)));
        assert!(
            !v.answers.contains_key("model"),
            "a missing required answer is allowed"
        );
        assert_eq!(v.opened_at, 1_709_283_600_000_000);
        assert_eq!(v.fulfilled_at, Some(1_709_290_800_000_000));
        assert_eq!(
            portable(&v.answers, &known.items[&3].fields, &known).get("manager"),
            Some(&Value::from("ann@acme.test"))
        );
        let fresh =
            Requests::fields(&Row::new([("item", "Laptop")]), &known, 5).expect("minimal row");
        assert_eq!(
            (fresh.values.status, fresh.values.opened_at),
            (RequestStatus::InFulfilment, 5),
            "no status: what a new request of the item starts as"
        );
    }
}
