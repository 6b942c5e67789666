//! Incidents as CSV rows.

use super::{Kind, Known, Row, in_order, instant, opened_at, parsed, rfc3339, status_time, take};
use steward_domain::incident::{IncidentDraft, Level, PendingReason, Source, Status};
use steward_store::external::Imported;
use steward_store::incident::{Incident, IncidentFields, IncidentFilter};
use steward_store::{Actor, Page, PageRequest, Store, StoreResult};

pub struct Incidents;

impl Kind for Incidents {
    const NAME: &'static str = "incident";
    const IMPORTED: Imported = Imported::Incident;
    const EXPORTED: &'static [&'static str] = &[
        "key",
        "external_id",
        "title",
        "description",
        "status",
        "priority",
        "impact",
        "urgency",
        "service",
        "category",
        "source",
        "opened_at",
        "resolved_at",
        "closed_at",
        "resolution_code",
    ];
    type Fields = IncidentFields;
    type Record = Incident;

    fn fields(row: &Row, known: &Known, now: i64) -> Result<IncidentFields, Vec<String>> {
        let mut errors = Vec::new();
        let status = take(
            &mut errors,
            parsed("status", row.get("status"), Status::New, Status::parse),
        );
        let impact = take(
            &mut errors,
            parsed("impact", row.get("impact"), Level::Medium, Level::parse),
        );
        let urgency = take(
            &mut errors,
            parsed("urgency", row.get("urgency"), Level::Medium, Level::parse),
        );
        let source = take(
            &mut errors,
            parsed("source", row.get("source"), Source::Api, Source::parse),
        );
        let (opened_at, opened) = opened_at(&mut errors, row, now);
        let resolved_at =
            take(&mut errors, instant("resolved_at", row.get("resolved_at"))).flatten();
        let closed_at = take(&mut errors, instant("closed_at", row.get("closed_at"))).flatten();
        let service_id = take(&mut errors, known.services.find(row.get("service"))).flatten();
        let category_id = take(&mut errors, known.categories.find(row.get("category"))).flatten();
        let resolution_code = row.get("resolution_code");
        if let Some(status) = status {
            let name = status.as_str();
            let resolved = matches!(status, Status::Resolved | Status::Closed);
            status_time(
                &mut errors,
                "resolved_at",
                resolved_at,
                name,
                resolved,
                true,
            );
            let ended = status.is_terminal();
            status_time(&mut errors, "closed_at", closed_at, name, ended, ended);
            if status == Status::Closed && resolution_code.trim().is_empty() {
                errors.push(format!("resolution_code is required when status is {name}"));
            }
        }
        in_order(
            &mut errors,
            &[
                (opened, Some(opened_at)),
                ("resolved_at", resolved_at),
                ("closed_at", closed_at),
            ],
        );
        let draft = IncidentDraft {
            title: row.get("title").to_owned(),
            description: row.get("description").to_owned(),
            impact: impact.unwrap_or_default(),
            urgency: urgency.unwrap_or_default(),
            service_id,
            customer_id: None,
            requester_contact_id: None,
            assignee_team_id: None,
            assignee_id: None,
            source: source.unwrap_or_default(),
            resolution_code: Some(resolution_code.to_owned()),
            resolution_notes: String::new(),
        }
        .validate()
        .map_err(|invalid| errors.extend(invalid.errors.into_iter().map(|e| e.message)))
        .ok();
        match (draft, status) {
            (Some(d), Some(status)) if errors.is_empty() => Ok(IncidentFields {
                priority: known.matrix.priority(d.impact, d.urgency),
                title: d.title,
                description: d.description,
                status,
                pending_reason: (status == Status::Pending).then_some(PendingReason::ThirdParty),
                impact: d.impact,
                urgency: d.urgency,
                service_id: d.service_id,
                customer_id: None,
                requester_contact_id: None,
                requester_user_id: None,
                assignee_team_id: None,
                assignee_id: None,
                source: d.source,
                resolution_code: d.resolution_code,
                resolution_notes: String::new(),
                opened_at,
                first_response_at: None,
                resolved_at,
                closed_at,
                category_id,
                custom: Default::default(),
            }),
            _ => Err(errors),
        }
    }

    async fn upsert(
        store: &Store,
        tenant_id: i64,
        external_id: &str,
        fields: &IncidentFields,
        _known: &Known,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let (_, new) = store
            .upsert_incident(tenant_id, external_id, fields, actor)
            .await?;
        Ok(new)
    }

    async fn page(
        store: &Store,
        tenant_id: i64,
        cursor: Option<String>,
    ) -> StoreResult<Page<Incident>> {
        let filter = IncidentFilter {
            sort: Some("number".into()),
            ..Default::default()
        };
        store
            .incidents(
                tenant_id,
                &filter,
                &PageRequest {
                    limit: Some(500),
                    cursor,
                },
            )
            .await
    }

    fn id(record: &Incident) -> i64 {
        record.id
    }

    fn cells(i: &Incident, external_id: &str, known: &Known) -> Vec<String> {
        vec![
            i.key(),
            external_id.to_owned(),
            i.title.clone(),
            i.description.clone(),
            i.status.as_str().to_owned(),
            i.priority.as_str().to_owned(),
            i.impact.as_str().to_owned(),
            i.urgency.as_str().to_owned(),
            known.services.name(i.service_id),
            known.categories.name(i.category_id),
            i.source.as_str().to_owned(),
            rfc3339(Some(i.opened_at)),
            rfc3339(i.resolved_at),
            rfc3339(i.closed_at),
            i.resolution_code.clone().unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::Names;
    use super::*;

    fn known() -> Known {
        Known {
            services: Names::new("no service named", [(7, "Mail".to_owned())]),
            ..Known::empty()
        }
    }

    #[test]
    fn rows_report_every_problem() {
        let row = Row::new([
            ("title", ""),
            ("status", "done"),
            ("service", "Fax"),
            ("opened_at", "yesterday"),
        ]);
        let reasons = Incidents::fields(&row, &known(), 0).expect_err("bad row");
        let text = reasons.join("; ");
        for part in [
            "status `done`",
            "no service named `Fax`",
            "opened_at `yesterday`",
            "Title is required",
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
        let closed = Row::new([("title", "Old"), ("status", "closed")]);
        let text = Incidents::fields(&closed, &known(), 0)
            .expect_err("closed without times")
            .join("; ");
        assert!(
            text.contains("resolved_at is required")
                && text.contains("closed_at is required")
                && text.contains("resolution_code is required"),
            "{text}"
        );
        let backwards = Row::new([
            ("title", "Old"),
            ("status", "new"),
            ("opened_at", "2024-03-02T09:00:00Z"),
            ("resolved_at", "2024-03-01T09:00:00Z"),
            ("closed_at", "2024-03-03T09:00:00Z"),
        ]);
        let text = Incidents::fields(&backwards, &known(), 0)
            .expect_err("inconsistent")
            .join("; ");
        assert!(
            text.contains("closed_at must be empty when status is new")
                && text.contains("resolved_at is before opened_at"),
            "{text}"
        );
    }

    #[test]
    fn good_rows_keep_their_history() {
        let row = Row::new([
            ("title", "Mail down"),
            ("status", "resolved"),
            ("impact", "high"),
            ("urgency", "high"),
            ("service", "mail"),
            ("opened_at", "2024-03-01T09:00:00Z"),
            ("resolved_at", "2024-03-01T11:00:00Z"),
        ]);
        let f = Incidents::fields(&row, &known(), 0).expect("good row");
        assert_eq!(f.service_id, Some(7));
        assert_eq!(f.priority.as_str(), "P1");
        assert_eq!(f.opened_at, 1_709_283_600_000_000);
        assert_eq!(f.resolved_at, Some(1_709_290_800_000_000));
    }
}
