//! An agency's clock as an application's readers see it: the steps waiting on the firm.

use async_graphql::{ComplexObject, Context, SimpleObject};
use chrono::{DateTime, Utc};

use super::super::locale::{Locale, lang};
use super::super::store;
use super::{Application, ApplicationStatus};
use crate::error::{GqlResult, from_store};

/// An agency's step waiting on the firm: its clock is paused until the firm answers the
/// step's request for information, and then runs on with the time that remained.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct WaitingOnFirm {
    /// The agency's step (state name).
    pub state: String,
    /// Since when it waits.
    pub since: DateTime<Utc>,
    /// The working days it has left (business-day periods).
    pub remaining_business_days: Option<i32>,
    /// The seconds it has left (calendar periods).
    pub remaining_seconds: Option<i64>,
    #[graphql(skip)]
    pub titles: Option<softland_workflow::Text>,
}

#[ComplexObject]
impl WaitingOnFirm {
    /// The step's title (see `Locale`).
    async fn state_title(&self, ctx: &Context<'_>, locale: Option<Locale>) -> Option<String> {
        let lang = lang(ctx, locale);
        self.titles.as_ref().map(|t| t.get(lang).to_owned())
    }
}

impl Application {
    /// The agency steps whose clock is paused while the firm answers their request for
    /// information (the agency's own time stops; see docs/workflow-language.md).
    pub(super) async fn waiting_on_firm_now(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<Vec<WaitingOnFirm>> {
        if self.status != ApplicationStatus::Active {
            return Ok(Vec::new());
        }
        let store = store(ctx);
        let wf = store
            .workflow(&self.workflow_key, self.workflow_version)
            .await
            .map_err(from_store)?;
        let clocks = store.paused_clocks(self.uuid).await.map_err(from_store)?;
        Ok(clocks
            .into_iter()
            .map(|c| {
                let (days, secs) = match c.remaining {
                    softland_workflow::Remaining::BusinessDays(d) => {
                        (Some(i32::try_from(d).unwrap_or(i32::MAX)), None)
                    }
                    softland_workflow::Remaining::Seconds(s) => (None, Some(s)),
                };
                WaitingOnFirm {
                    titles: wf.state_named(&c.state).map(|s| s.title().clone()),
                    state: c.state,
                    since: c.since,
                    remaining_business_days: days,
                    remaining_seconds: secs,
                }
            })
            .collect())
    }
}
