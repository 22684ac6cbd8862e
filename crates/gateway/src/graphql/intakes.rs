//! Intakes (issue "Places"): a programme admitting by intake — `openIntake`, `closeIntake`
//! and `intakes`. Each intake's places are a pool; its figures (applications, places taken,
//! in line) are what reports group by intake. Administrators open and close them.

use async_graphql::{Context, ID, InputObject, Object};
use softland_store::places::{IntakeRecord, NewIntake};

use super::input::{MAX_NAME, bounded, parse_date, parse_id};
use super::{principal, store};
use crate::error::{GqlResult, from_store, not_found, refused};

/// An intake of a programme.
pub struct Intake(pub IntakeRecord);

#[Object]
impl Intake {
    /// Its id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The programme.
    async fn workflow_key(&self) -> &str {
        &self.0.workflow_key
    }
    /// What people call it.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its first day (`YYYY-MM-DD`, Hong Kong).
    async fn opens_on(&self) -> String {
        self.0.opens_on.to_string()
    }
    /// Its last day.
    async fn closes_on(&self) -> String {
        self.0.closes_on.to_string()
    }
    /// `open` or `closed`.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// How many places it admits.
    async fn places(&self) -> i32 {
        self.0.places
    }
    /// Places held or confirmed.
    async fn places_taken(&self) -> i32 {
        self.0.taken
    }
    /// Applications in line for a place.
    async fn waitlisted(&self) -> i32 {
        self.0.waiting
    }
    /// Applications that belong to it (submitted while it was open).
    async fn applications(&self) -> i64 {
        self.0.applications
    }
}

/// An intake to open.
#[derive(InputObject, Debug)]
pub struct OpenIntakeInput {
    /// The programme (a workflow with a pool `per: intake`).
    pub workflow_key: String,
    /// What people call it (`2027 spring`).
    pub name: String,
    /// Its first day (`YYYY-MM-DD`, Hong Kong).
    pub opens_on: String,
    /// Its last day.
    pub closes_on: String,
    /// How many places (1 to 10 000).
    pub places: i32,
}

#[derive(Default, Debug)]
pub struct IntakesQuery;

#[Object]
impl IntakesQuery {
    /// A programme's intakes (every programme's without `workflowKey`), newest first, with
    /// their figures: anyone signed in may read them.
    async fn intakes(
        &self,
        ctx: &Context<'_>,
        workflow_key: Option<String>,
    ) -> GqlResult<Vec<Intake>> {
        principal(ctx)?;
        bounded("workflowKey", workflow_key.as_deref(), MAX_NAME)?;
        let list = store(ctx)
            .intakes(workflow_key.as_deref())
            .await
            .map_err(from_store)?;
        Ok(list.into_iter().map(Intake).collect())
    }
}

#[derive(Default, Debug)]
pub struct IntakesMutation;

#[Object]
impl IntakesMutation {
    /// Opens an intake of a programme (administrators).
    async fn open_intake(&self, ctx: &Context<'_>, input: OpenIntakeInput) -> GqlResult<Intake> {
        let who = principal(ctx)?;
        who.require_admin().map_err(refused)?;
        bounded("workflowKey", Some(&input.workflow_key), MAX_NAME)?;
        bounded("name", Some(&input.name), MAX_NAME)?;
        let opened = store(ctx)
            .open_intake(
                who.name(),
                NewIntake {
                    workflow_key: input.workflow_key,
                    name: input.name,
                    opens_on: parse_date("opensOn", &input.opens_on)?,
                    closes_on: parse_date("closesOn", &input.closes_on)?,
                    places: input.places,
                },
            )
            .await
            .map_err(from_store)?;
        Ok(Intake(opened))
    }

    /// Closes an intake early (administrators): no more applications belong to it.
    async fn close_intake(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Intake> {
        let who = principal(ctx)?;
        who.require_admin().map_err(refused)?;
        let id = parse_id(&id, "intake")?;
        let s = store(ctx);
        if s.intake(id).await.map_err(from_store)?.is_none() {
            return Err(not_found("intake"));
        }
        Ok(Intake(s.close_intake(id).await.map_err(from_store)?))
    }
}
