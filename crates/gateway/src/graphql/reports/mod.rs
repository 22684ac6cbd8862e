//! `report(input)`: the programme's figures for a period (issue "Oversight") — volumes and
//! outcomes, times per step and agency in calendar and working days (the waiting on the firm
//! left out), service levels, queues now, bottlenecks and information requests — for
//! observers (the programmes their agency oversees) and administrators. The store gathers the
//! figures; this module says them.

mod types;

use async_graphql::{Context, Enum, InputObject, Object};
use chrono::Utc;
use softland_store::reports::PeriodBy;

use super::{principal, store};
use crate::error::{GqlResult, bad_input, from_store, refused};
use crate::exports::period::{PeriodAsked, today};
pub use types::Report;

/// Which date puts an application in the period.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum ReportBy {
    /// Submitted in it.
    #[default]
    Submission,
    /// Decided in it.
    Decision,
}

/// A report's period and filters.
#[derive(InputObject, Debug, Default)]
pub struct ReportInput {
    /// The first day (`2026-10-01`, Hong Kong time); 89 days before `to` when left out.
    pub from: Option<String>,
    /// The last day, included; today when left out.
    pub to: Option<String>,
    /// Which date the period applies to.
    #[graphql(default)]
    pub by: ReportBy,
    /// Only this workflow.
    pub workflow_key: Option<String>,
    /// Only applicants of this region (`mainland`, `hk`).
    pub region: Option<String>,
    /// Only applications this agency had a task in, and only its steps.
    pub agency: Option<String>,
    /// Only this outcome (`approved`, `rejected`, `lapsed`, …), `withdrawn` or `open`.
    pub outcome: Option<String>,
}

/// The report query.
#[derive(Debug, Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// The programme's figures for a period (observers and administrators).
    async fn report(&self, ctx: &Context<'_>, input: ReportInput) -> GqlResult<Report> {
        let scope = principal(ctx)?.report_scope().map_err(refused)?;
        let asked = PeriodAsked {
            from: input.from,
            to: input.to,
            by: Some(
                match input.by {
                    ReportBy::Submission => "submission",
                    ReportBy::Decision => "decision",
                }
                .to_owned(),
            ),
        };
        let period = asked.read(today()).map_err(bad_input)?;
        let filters = [
            &input.workflow_key,
            &input.region,
            &input.agency,
            &input.outcome,
        ];
        if filters
            .iter()
            .any(|f| f.as_ref().is_some_and(|f| f.len() > 100))
        {
            return Err(bad_input("a filter is at most 100 characters"));
        }
        let query = softland_store::reports::CaseQuery {
            workflow_key: input.workflow_key,
            region: input.region,
            outcome: input.outcome,
            overseen_by: scope.overseen_by().map(str::to_owned),
            ..period.query()
        };
        let store = store(ctx);
        let now = Utc::now();
        let figures = store
            .report(&query, input.agency.as_deref(), now)
            .await
            .map_err(from_store)?;
        let queues = store
            .queues(
                scope.overseen_by(),
                query.workflow_key.as_deref(),
                input.agency.as_deref(),
                now,
            )
            .await
            .map_err(from_store)?;
        let head = store.audit_head().await.map_err(from_store)?;
        Ok(Report::new(
            store,
            figures,
            queues,
            types::Made {
                from: period.first_day,
                to: period.last_day,
                by: if period.by == PeriodBy::Decision {
                    ReportBy::Decision
                } else {
                    ReportBy::Submission
                },
                at: now,
                audit_head: head.map(|h| format!("{}:{}", h.event, h.hash)),
            },
        )
        .await)
    }
}
