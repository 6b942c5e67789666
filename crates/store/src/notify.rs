//! Notification templates per tenant and event: what was saved, or the domain's defaults.
//! Saving is journaled like any record.

use crate::db::sql;
use crate::journal::Change;
use crate::{Actor, Store, StoreResult, now_micros};
use serde_json::json;
use steward_domain::journal::Action;
use steward_domain::notify::{Event, Template};

/// A tenant's template for one event; `updated_at` is `None` while it is the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationTemplate {
    pub event: Event,
    pub template: Template,
    pub updated_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    subject: String,
    body: String,
    updated_at: i64,
}

impl Store {
    /// The template the tenant uses for `event`: its own, or the default.
    pub async fn notification_template(
        &self,
        tenant_id: i64,
        event: Event,
    ) -> StoreResult<NotificationTemplate> {
        let row: Option<Row> = self
            .db
            .fetch_optional(
                sql("SELECT subject, body, updated_at FROM notification_templates WHERE tenant_id = $1 AND event = $2")
                    .bind(tenant_id)
                    .bind(event.as_str()),
            )
            .await?;
        Ok(match row {
            Some(r) => NotificationTemplate {
                event,
                template: Template {
                    subject: r.subject,
                    body: r.body,
                },
                updated_at: Some(r.updated_at),
            },
            None => NotificationTemplate {
                event,
                template: Template::default_for(event),
                updated_at: None,
            },
        })
    }

    /// Every event's template, in `Event::ALL` order.
    pub async fn notification_templates(
        &self,
        tenant_id: i64,
    ) -> StoreResult<Vec<NotificationTemplate>> {
        let mut all = Vec::with_capacity(Event::ALL.len());
        for event in Event::ALL {
            all.push(self.notification_template(tenant_id, event).await?);
        }
        Ok(all)
    }

    /// Saves the tenant's template for `event` (already validated by the domain).
    pub async fn save_notification_template(
        &self,
        tenant_id: i64,
        event: Event,
        template: &Template,
        actor: &Actor,
    ) -> StoreResult<NotificationTemplate> {
        let before = self.notification_template(tenant_id, event).await?;
        let now = now_micros();
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql("INSERT INTO notification_templates (tenant_id, event, subject, body, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, event) DO UPDATE SET subject = excluded.subject, body = excluded.body, \
                 updated_at = excluded.updated_at")
                .bind(tenant_id)
                .bind(event.as_str())
                .bind(template.subject.clone())
                .bind(template.body.clone())
                .bind(now),
        )
        .await?;
        let snapshot =
            |t: &Template| json!({"event": event.as_str(), "subject": t.subject, "body": t.body});
        let change = Change {
            tenant_id,
            actor,
            action: if before.updated_at.is_some() {
                Action::Update
            } else {
                Action::Create
            },
            record_type: "notification_template",
            record_id: event.ordinal(),
            before: before.updated_at.map(|_| snapshot(&before.template)),
            after: Some(snapshot(template)),
        };
        self.journal(&mut tx, change).await?;
        tx.commit().await?;
        Ok(NotificationTemplate {
            event,
            template: template.clone(),
            updated_at: Some(now),
        })
    }
}
