//! Positions firms offer (issue "Places"): `offerPosition`, `closePosition` and `positions`.
//! A position's places are a pool: `placesTaken` counts those held or confirmed, `waitlisted`
//! those in line. Who may offer or close is the policy's (`softland-policy`).

use async_graphql::{Context, ID, InputObject, Object};
use chrono::NaiveDate;
use serde_json::{Value, json};
use softland_store::places::{NewPosition, PositionChange, PositionFilter, PositionRecord};

use super::directory::OrganizationView;
use super::input::{MAX_NAME, MAX_TEXT, bounded, parse_date, parse_id};
use super::locale::lang;
use super::{principal, store};
use crate::error::{GqlResult, bad_input, forbidden, from_store, not_found, refused};

/// The most positions one page lists.
const MOST_PER_PAGE: i32 = 100;

/// The programme positions are offered in when the input names none.
const INTERNSHIPS: &str = "internship-placement";

/// A position a firm offers.
pub struct Position(pub PositionRecord);

#[Object]
impl Position {
    /// Its id: what `submitApplication(input: {positionId})` names.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Its title in the request's language (English where it has no translation).
    async fn title(&self, ctx: &Context<'_>) -> String {
        text(&self.0.title, lang(ctx, None).tag())
    }
    /// Its description in the request's language.
    async fn description(&self, ctx: &Context<'_>) -> String {
        text(&self.0.description, lang(ctx, None).tag())
    }
    /// Where the intern works.
    async fn location(&self) -> &str {
        &self.0.location
    }
    /// What the firm asks of a student.
    async fn requirements(&self) -> &str {
        &self.0.requirements
    }
    /// How many places it has.
    async fn places(&self) -> i32 {
        self.0.places
    }
    /// Places held (an offer not yet approved) or confirmed.
    async fn places_taken(&self) -> i32 {
        self.0.taken
    }
    /// Students in line for a place.
    async fn waitlisted(&self) -> i32 {
        self.0.waiting
    }
    /// The last day it takes applications (`YYYY-MM-DD`).
    async fn closes_on(&self) -> String {
        self.0.closes_on.to_string()
    }
    /// When the internship starts (`YYYY-MM-DD`).
    async fn starts_on(&self) -> Option<String> {
        self.0.starts_on.map(|d| d.to_string())
    }
    /// When the internship ends (`YYYY-MM-DD`).
    async fn ends_on(&self) -> Option<String> {
        self.0.ends_on.map(|d| d.to_string())
    }
    /// `open`, `closed` or `withdrawn`.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// Whether it takes applications today.
    async fn open(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        let today = store(ctx)
            .now()
            .with_timezone(&softland_workflow::HONG_KONG)
            .date_naive();
        Ok(self.0.is_open(today))
    }
    /// The programme it is offered in.
    async fn workflow_key(&self) -> &str {
        &self.0.workflow_key
    }
    /// The firm offering it.
    async fn organization(&self, ctx: &Context<'_>) -> GqlResult<OrganizationView> {
        let key = &self.0.organization;
        let found = crate::graphql::loaders::organization(ctx, key).await?;
        Ok(found.map_or_else(
            || OrganizationView {
                key: key.clone(),
                name: key.clone(),
                name_zh_hant: None,
                name_zh_hans: None,
                registration_number: None,
                region: None,
                language: None,
            },
            OrganizationView::from,
        ))
    }
}

/// `{en, zh-Hant, zh-Hans}` in a language, English where it has none.
fn text(t: &Value, tag: &str) -> String {
    t.get(tag)
        .or_else(|| t.get("en"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A position to offer. `title` and `description` are English; their translations optional.
#[derive(InputObject, Debug)]
pub struct OfferPositionInput {
    /// The title, in English.
    pub title: String,
    /// The title in Traditional Chinese.
    pub title_zh_hant: Option<String>,
    /// The title in Simplified Chinese.
    pub title_zh_hans: Option<String>,
    /// What the intern does, in English.
    pub description: String,
    /// The description in Traditional Chinese.
    pub description_zh_hant: Option<String>,
    /// The description in Simplified Chinese.
    pub description_zh_hans: Option<String>,
    /// How many places (1 to 10 000).
    pub places: i32,
    /// The last day it takes applications (`YYYY-MM-DD`).
    pub closes_on: String,
    /// Where the intern works.
    pub location: Option<String>,
    /// What the firm asks of a student.
    pub requirements: Option<String>,
    /// When the internship starts (`YYYY-MM-DD`).
    pub starts_on: Option<String>,
    /// When the internship ends (`YYYY-MM-DD`).
    pub ends_on: Option<String>,
    /// The programme (default `internship-placement`).
    pub workflow_key: Option<String>,
}

/// What a firm changes of a position (fields left out stay as they are).
#[derive(InputObject, Debug, Default)]
pub struct ChangePositionInput {
    /// The title, in English.
    pub title: Option<String>,
    /// The title in Traditional Chinese.
    pub title_zh_hant: Option<String>,
    /// The title in Simplified Chinese.
    pub title_zh_hans: Option<String>,
    /// What the intern does, in English.
    pub description: Option<String>,
    /// The description in Traditional Chinese.
    pub description_zh_hant: Option<String>,
    /// The description in Simplified Chinese.
    pub description_zh_hans: Option<String>,
    /// Where the intern works.
    pub location: Option<String>,
    /// What the firm asks of a student.
    pub requirements: Option<String>,
    /// The last day it takes applications (`YYYY-MM-DD`).
    pub closes_on: Option<String>,
    /// How many places: never fewer than those held or confirmed; more promote the first in
    /// line at once.
    pub places: Option<i32>,
}

/// Which positions to list.
#[derive(InputObject, Debug, Default)]
pub struct PositionFilterInput {
    /// Only those taking applications today (true) or only those not (false).
    pub open: Option<bool>,
    /// Only one firm's (its key).
    pub organization: Option<String>,
}

fn optional_date(field: &str, v: Option<&str>) -> GqlResult<Option<NaiveDate>> {
    v.map(|v| parse_date(field, v)).transpose()
}

/// Three languages of a text, checked for length.
fn texts(
    field: &str,
    en: &str,
    hant: Option<&str>,
    hans: Option<&str>,
    max: usize,
) -> GqlResult<Value> {
    bounded(field, Some(en), max)?;
    bounded(field, hant, max)?;
    bounded(field, hans, max)?;
    if en.trim().is_empty() {
        return Err(bad_input(format!("`{field}` must not be empty")));
    }
    let mut t = json!({"en": en});
    if let Some(h) = hant {
        t["zh-Hant"] = Value::from(h);
    }
    if let Some(h) = hans {
        t["zh-Hans"] = Value::from(h);
    }
    Ok(t)
}

#[derive(Default, Debug)]
pub struct PositionsQuery;

#[Object]
impl PositionsQuery {
    /// Positions firms offer, newest first: anyone signed in may browse them. `after` is the
    /// last position's id of the previous page.
    async fn positions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<ID>,
        filter: Option<PositionFilterInput>,
    ) -> GqlResult<Vec<Position>> {
        principal(ctx)?;
        if !(1..=MOST_PER_PAGE).contains(&first) {
            return Err(bad_input(format!("`first` must be 1 to {MOST_PER_PAGE}")));
        }
        let filter = filter.unwrap_or_default();
        bounded("organization", filter.organization.as_deref(), MAX_NAME)?;
        let after = after.map(|a| parse_id(&a, "position")).transpose()?;
        let list = store(ctx)
            .positions(
                &PositionFilter {
                    open: filter.open,
                    organization: filter.organization,
                },
                first as u64,
                after,
            )
            .await
            .map_err(from_store)?;
        Ok(list.into_iter().map(Position).collect())
    }

    /// One position.
    async fn position(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<Position>> {
        principal(ctx)?;
        let id = parse_id(&id, "position")?;
        Ok(store(ctx)
            .position(id)
            .await
            .map_err(from_store)?
            .map(Position))
    }
}

#[derive(Default, Debug)]
pub struct PositionsMutation;

#[Object]
impl PositionsMutation {
    /// A firm's staff offer a position with a number of places.
    async fn offer_position(
        &self,
        ctx: &Context<'_>,
        input: OfferPositionInput,
    ) -> GqlResult<Position> {
        let who = principal(ctx)?;
        let firm = who.offers_positions().map_err(refused)?.to_owned();
        let title = texts(
            "title",
            &input.title,
            input.title_zh_hant.as_deref(),
            input.title_zh_hans.as_deref(),
            MAX_NAME,
        )?;
        let description = texts(
            "description",
            &input.description,
            input.description_zh_hant.as_deref(),
            input.description_zh_hans.as_deref(),
            MAX_TEXT,
        )?;
        bounded("location", input.location.as_deref(), MAX_NAME)?;
        bounded("requirements", input.requirements.as_deref(), MAX_TEXT)?;
        bounded("workflowKey", input.workflow_key.as_deref(), MAX_NAME)?;
        let by = who.actor().map_err(refused)?.id;
        let offered = store(ctx)
            .offer_position(
                &firm,
                &by,
                NewPosition {
                    workflow_key: input.workflow_key.unwrap_or_else(|| INTERNSHIPS.to_owned()),
                    title,
                    description,
                    location: input.location.unwrap_or_default(),
                    requirements: input.requirements.unwrap_or_default(),
                    starts_on: optional_date("startsOn", input.starts_on.as_deref())?,
                    ends_on: optional_date("endsOn", input.ends_on.as_deref())?,
                    closes_on: parse_date("closesOn", &input.closes_on)?,
                    places: input.places,
                },
            )
            .await
            .map_err(from_store)?;
        Ok(Position(offered))
    }

    /// Closes a position: no more applications; those under way go on.
    async fn close_position(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Position> {
        let id = own_position(ctx, &id).await?;
        Ok(Position(
            store(ctx).close_position(id).await.map_err(from_store)?,
        ))
    }
    /// Changes a position the caller's firm offers.
    async fn change_position(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ChangePositionInput,
    ) -> GqlResult<Position> {
        let id = own_position(ctx, &id).await?;
        let title = input
            .title
            .as_deref()
            .map(|en| {
                texts(
                    "title",
                    en,
                    input.title_zh_hant.as_deref(),
                    input.title_zh_hans.as_deref(),
                    MAX_NAME,
                )
            })
            .transpose()?;
        let description = input
            .description
            .as_deref()
            .map(|en| {
                texts(
                    "description",
                    en,
                    input.description_zh_hant.as_deref(),
                    input.description_zh_hans.as_deref(),
                    MAX_TEXT,
                )
            })
            .transpose()?;
        bounded("location", input.location.as_deref(), MAX_NAME)?;
        bounded("requirements", input.requirements.as_deref(), MAX_TEXT)?;
        let change = PositionChange {
            title,
            description,
            location: input.location,
            requirements: input.requirements,
            closes_on: optional_date("closesOn", input.closes_on.as_deref())?,
            places: input.places,
        };
        Ok(Position(
            store(ctx)
                .change_position(id, change)
                .await
                .map_err(from_store)?,
        ))
    }

    /// Withdraws a position the caller's firm offers: no longer offered.
    async fn withdraw_position(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Position> {
        let id = own_position(ctx, &id).await?;
        Ok(Position(
            store(ctx).withdraw_position(id).await.map_err(from_store)?,
        ))
    }
}

/// The position `id`, when the caller may change it (its firm's staff, administrators):
/// NOT_FOUND for one that does not exist, FORBIDDEN for another firm's.
async fn own_position(ctx: &Context<'_>, id: &ID) -> GqlResult<uuid::Uuid> {
    let who = principal(ctx)?;
    let id = parse_id(id, "position")?;
    let Some(p) = store(ctx).position(id).await.map_err(from_store)? else {
        return Err(not_found("position"));
    };
    if !who.may_close_position(&p.organization) {
        return Err(forbidden("only the firm offering a position changes it"));
    }
    Ok(id)
}
