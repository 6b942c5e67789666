//! Problems as CSV rows. Problems have no opening time of their own: a row's `opened_at`
//! becomes the problem's creation time.

use super::{Kind, Known, Row, in_order, instant, opened_at, parsed, rfc3339, status_time, take};
use steward_domain::incident::Level;
use steward_domain::problem::{ProblemDraft, ProblemStatus};
use steward_store::external::Imported;
use steward_store::problem::{Problem, ProblemFields, ProblemFilter};
use steward_store::{Actor, Page, PageRequest, Store, StoreResult};

pub struct Problems;

/// What a problem row becomes: its fields and when it was opened.
#[derive(Debug)]
pub struct ImportedProblem {
    pub(super) fields: ProblemFields,
    pub(super) opened_at: i64,
}

impl Kind for Problems {
    const NAME: &'static str = "problem";
    const IMPORTED: Imported = Imported::Problem;
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
        "root_cause",
        "workaround",
        "category",
        "opened_at",
        "resolved_at",
        "closed_at",
    ];
    type Fields = ImportedProblem;
    type Record = Problem;

    fn fields(row: &Row, known: &Known, now: i64) -> Result<ImportedProblem, Vec<String>> {
        let mut errors = Vec::new();
        let status = take(
            &mut errors,
            parsed(
                "status",
                row.get("status"),
                ProblemStatus::New,
                ProblemStatus::parse,
            ),
        );
        let impact = take(
            &mut errors,
            parsed("impact", row.get("impact"), Level::Medium, Level::parse),
        );
        let urgency = take(
            &mut errors,
            parsed("urgency", row.get("urgency"), Level::Medium, Level::parse),
        );
        let (opened_at, opened) = opened_at(&mut errors, row, now);
        let resolved_at =
            take(&mut errors, instant("resolved_at", row.get("resolved_at"))).flatten();
        let closed_at = take(&mut errors, instant("closed_at", row.get("closed_at"))).flatten();
        let service_id = take(&mut errors, known.services.find(row.get("service"))).flatten();
        let category_id = take(&mut errors, known.categories.find(row.get("category"))).flatten();
        let (root_cause, workaround) = (row.get("root_cause"), row.get("workaround"));
        if let Some(status) = status {
            use ProblemStatus::{Closed, KnownError, Resolved};
            let name = status.as_str();
            let resolved = matches!(status, Resolved | Closed);
            status_time(
                &mut errors,
                "resolved_at",
                resolved_at,
                name,
                resolved,
                resolved,
            );
            let ended = status.is_terminal();
            status_time(&mut errors, "closed_at", closed_at, name, ended, ended);
            // What the lifecycle asks for on the way (`ProblemStatus::transition`).
            if matches!(status, KnownError | Resolved | Closed) && root_cause.trim().is_empty() {
                errors.push(format!("root_cause is required when status is {name}"));
            }
            if status == KnownError && workaround.trim().is_empty() {
                errors.push(format!("workaround is required when status is {name}"));
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
        let draft = ProblemDraft {
            title: row.get("title").to_owned(),
            description: row.get("description").to_owned(),
            impact: impact.unwrap_or_default(),
            urgency: urgency.unwrap_or_default(),
            service_id,
            assignee_id: None,
            root_cause: root_cause.to_owned(),
            workaround: workaround.to_owned(),
        }
        .validate()
        .map_err(|invalid| errors.extend(invalid.errors.into_iter().map(|e| e.message)))
        .ok();
        match (draft, status) {
            (Some(d), Some(status)) if errors.is_empty() => Ok(ImportedProblem {
                fields: ProblemFields {
                    priority: known.matrix.priority(d.impact, d.urgency),
                    title: d.title,
                    description: d.description,
                    status,
                    impact: d.impact,
                    urgency: d.urgency,
                    service_id: d.service_id,
                    assignee_id: None,
                    root_cause: d.root_cause,
                    workaround: d.workaround,
                    resolved_at,
                    closed_at,
                    category_id,
                    custom: Default::default(),
                },
                opened_at,
            }),
            _ => Err(errors),
        }
    }

    async fn upsert(
        store: &Store,
        tenant_id: i64,
        external_id: &str,
        p: &ImportedProblem,
        _known: &Known,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let (_, new) = store
            .upsert_problem(tenant_id, external_id, &p.fields, p.opened_at, actor)
            .await?;
        Ok(new)
    }

    async fn page(
        store: &Store,
        tenant_id: i64,
        cursor: Option<String>,
    ) -> StoreResult<Page<Problem>> {
        let filter = ProblemFilter {
            sort: Some("number".into()),
            ..Default::default()
        };
        store
            .problems(
                tenant_id,
                &filter,
                &PageRequest {
                    limit: Some(500),
                    cursor,
                },
            )
            .await
    }

    fn id(record: &Problem) -> i64 {
        record.id
    }

    fn cells(p: &Problem, external_id: &str, known: &Known) -> Vec<String> {
        vec![
            p.key(),
            external_id.to_owned(),
            p.title.clone(),
            p.description.clone(),
            p.status.as_str().to_owned(),
            p.priority.as_str().to_owned(),
            p.impact.as_str().to_owned(),
            p.urgency.as_str().to_owned(),
            known.services.name(p.service_id),
            p.root_cause.clone(),
            p.workaround.clone(),
            known.categories.name(p.category_id),
            rfc3339(Some(p.created_at)),
            rfc3339(p.resolved_at),
            rfc3339(p.closed_at),
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
            categories: Names::new("no category", [(4, "Hardware › Laptops".to_owned())]),
            ..Known::empty()
        }
    }

    #[test]
    fn rows_report_every_problem() {
        let row = Row::new([
            ("status", "known_error"),
            ("impact", "huge"),
            ("service", "Fax"),
            ("category", "Hardware / Phones"),
        ]);
        let text = Problems::fields(&row, &known(), 0)
            .expect_err("bad row")
            .join("; ");
        for part in [
            "impact `huge` is not allowed",
            "no service named `Fax`",
            "no category `Hardware / Phones`",
            "root_cause is required when status is known_error",
            "workaround is required when status is known_error",
            "Title is required",
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
        let closed = Row::new([
            ("title", "Old"),
            ("status", "closed"),
            ("root_cause", "Disk"),
        ]);
        let text = Problems::fields(&closed, &known(), 0)
            .expect_err("closed without times")
            .join("; ");
        assert!(
            text.contains("resolved_at is required") && text.contains("closed_at is required"),
            "{text}"
        );
    }

    #[test]
    fn good_rows_keep_their_history() {
        let row = Row::new([
            ("title", "Mailbox sync stalls"),
            ("status", "resolved"),
            ("impact", "high"),
            ("urgency", "high"),
            ("service", "mail"),
            ("root_cause", "A full disk"),
            ("category", "hardware/laptops"),
            ("opened_at", "2024-03-01T09:00:00Z"),
            ("resolved_at", "2024-03-01T11:00:00Z"),
        ]);
        let p = Problems::fields(&row, &known(), 0).expect("good row");
        assert_eq!(p.opened_at, 1_709_283_600_000_000);
        let f = &p.fields;
        assert_eq!((f.service_id, f.category_id), (Some(7), Some(4)));
        assert_eq!(f.priority.as_str(), "P1");
        assert_eq!(f.status, ProblemStatus::Resolved);
        assert_eq!(f.resolved_at, Some(1_709_290_800_000_000));
    }
}
