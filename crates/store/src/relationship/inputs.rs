//! Complaints and customer satisfaction as the management review (9.3) reads them.

use crate::{Store, StoreResult};
use jiff::civil::Date;
use std::collections::{BTreeMap, HashSet};
use steward_domain::relationship::complaint::ComplaintStatus;
use steward_domain::relationship::inputs::{
    ComplaintInputs, CustomerComplaints, SatisfactionInputs, SurveyInput, weighted_average,
};

impl Store {
    /// Complaints received in `[from, to]`: received, closed, open, overdue (on `today`) and
    /// escalated, in all and by customer.
    pub async fn complaint_inputs(
        &self,
        tenant_id: i64,
        from: Date,
        to: Date,
        today: Date,
    ) -> StoreResult<ComplaintInputs> {
        let complaints = self.complaints_received(tenant_id, from, to).await?;
        let escalated: HashSet<i64> = self
            .escalated_complaint_ids(tenant_id)
            .await?
            .into_iter()
            .collect();
        let mut inputs = ComplaintInputs::default();
        let mut by_customer: BTreeMap<i64, CustomerComplaints> = BTreeMap::new();
        for c in &complaints {
            let closed = c.status == ComplaintStatus::Closed;
            let overdue = c.overdue(today);
            inputs.received += 1;
            inputs.closed += i64::from(closed);
            inputs.open += i64::from(!closed);
            inputs.overdue += i64::from(overdue);
            inputs.escalated += i64::from(escalated.contains(&c.id));
            let row = by_customer
                .entry(c.customer_id)
                .or_insert_with(|| CustomerComplaints {
                    customer_id: c.customer_id,
                    customer: String::new(),
                    received: 0,
                    closed: 0,
                    open: 0,
                    overdue: 0,
                });
            row.received += 1;
            row.closed += i64::from(closed);
            row.open += i64::from(!closed);
            row.overdue += i64::from(overdue);
        }
        for (id, row) in by_customer.iter_mut() {
            row.customer = self
                .customer(tenant_id, *id)
                .await
                .map_or_else(|_| format!("Customer {id}"), |c| c.name);
        }
        inputs.by_customer = by_customer.into_values().collect();
        inputs.by_customer.sort_by(|a, b| {
            b.received
                .cmp(&a.received)
                .then(a.customer.cmp(&b.customer))
        });
        Ok(inputs)
    }

    /// Surveys conducted in `[from, to]` and ticket ratings given in it.
    pub async fn satisfaction_inputs(
        &self,
        tenant_id: i64,
        from: Date,
        to: Date,
    ) -> StoreResult<SatisfactionInputs> {
        let mut surveys = Vec::new();
        for s in self.surveys_between(tenant_id, from, to).await? {
            let customer = match s.customer_id {
                Some(id) => self
                    .customer(tenant_id, id)
                    .await
                    .map_or_else(|_| format!("Customer {id}"), |c| c.name),
                None => "All customers".to_string(),
            };
            surveys.push(SurveyInput {
                id: s.id,
                conducted_on: s.conducted_on,
                customer,
                sample_size: s.sample_size,
                responses: s.responses,
                average: s.average_tenths.map(|t| t as f64 / 10.0),
            });
        }
        let ratings = self.rating_summary(tenant_id, from, to).await?;
        Ok(SatisfactionInputs {
            survey_responses: surveys.iter().map(|s| s.responses).sum(),
            survey_average: weighted_average(&surveys),
            surveys,
            ratings: ratings.count,
            rating_average: ratings.average,
        })
    }
}
