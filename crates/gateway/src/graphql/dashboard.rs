//! The administrators' dashboard: where work waits and how long each step takes.

use async_graphql::{ComplexObject, Context, Object, SimpleObject};
use softland_workflow::Text;

use super::locale::{Locale, step_titles, titled};
use super::{principal, store};
use crate::error::{GqlResult, from_store, refused};

/// Open tasks of one assignee.
#[derive(SimpleObject, Debug)]
pub struct AssigneeLoad {
    /// An agency's key, or `applicant` (tasks waiting for firms).
    pub assignee: String,
    /// Open tasks.
    pub open: i64,
    /// Open tasks past their due time.
    pub overdue: i64,
}

/// How long one step's tasks took, from opening to completion.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct StepTime {
    /// The workflow.
    pub workflow_key: String,
    /// The state's name.
    pub state: String,
    /// Completed tasks measured.
    pub completed: i64,
    /// Median hours.
    pub median_hours: f64,
    /// Mean hours.
    pub mean_hours: f64,
    #[graphql(skip)]
    titles: Option<Text>,
}

#[ComplexObject]
impl StepTime {
    /// The state's title (see `Locale`); its name when the definition no longer says.
    async fn title(&self, ctx: &Context<'_>, locale: Option<Locale>) -> String {
        titled(ctx, locale, self.titles.as_ref(), &self.state)
    }
}

/// The dashboard.
#[derive(SimpleObject, Debug)]
pub struct Dashboard {
    /// Open and overdue tasks per assignee, most open first.
    pub open_tasks: Vec<AssigneeLoad>,
    /// Time per step, slowest median first, over a sample of at most 20 000 completed tasks.
    pub step_times: Vec<StepTime>,
}

/// The dashboard query.
#[derive(Debug, Default)]
pub struct DashboardQuery;

#[Object]
impl DashboardQuery {
    /// Open and overdue tasks per agency and time spent per step (administrators).
    async fn dashboard(&self, ctx: &Context<'_>) -> GqlResult<Dashboard> {
        principal(ctx)?.require_admin().map_err(refused)?;
        let store = store(ctx);
        let open = store
            .open_tasks_by_assignee(store.now())
            .await
            .map_err(from_store)?;
        let mut steps = Vec::new();
        for s in store.step_times().await.map_err(from_store)? {
            let titles = step_titles(store, &s.workflow_key, s.workflow_version, &s.state).await;
            steps.push(StepTime {
                workflow_key: s.workflow_key,
                state: s.state,
                completed: s.completed,
                median_hours: s.median_hours,
                mean_hours: s.mean_hours,
                titles,
            });
        }
        Ok(Dashboard {
            open_tasks: open
                .into_iter()
                .map(|l| AssigneeLoad {
                    assignee: l.assignee,
                    open: l.open,
                    overdue: l.overdue,
                })
                .collect(),
            step_times: steps,
        })
    }
}
