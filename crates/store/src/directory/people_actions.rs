//! What people do besides moving applications — claims, releases, hand-overs, keys, directory
//! changes, workflows published, retired and brought back — recorded beside the applications'
//! events (not as revisions of any application; migration `m20261206_000004`), read by
//! administrators newest first, and written by `audit-export` with the events.

use std::io::Write;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::Store;
use crate::entity::person_action;
use crate::error::{Error, Result};

/// One thing a person did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonAction {
    /// Its id (UUID v7: time-ordered).
    pub id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: a person's id (`cli` for the command line).
    pub actor: String,
    /// What: `claim`, `release`, `hand_over`, `put_person`, `deactivate_person`, `create_key`,
    /// `revoke_key`, `put_agency`, `put_organization`, `publish`, `retire`, `unretire`.
    pub kind: String,
    /// To what: a task, person, key, agency, organization or `workflow vN`.
    pub subject: String,
    /// The application it concerns, if any.
    pub application_id: Option<Uuid>,
    /// The rest (`{"to": "carl"}`, the roles given, …).
    pub detail: Value,
}

/// What a person did, to record.
#[derive(Debug, Clone)]
pub struct NewPersonAction<'a> {
    pub actor: &'a str,
    pub kind: &'a str,
    pub subject: String,
    pub application_id: Option<Uuid>,
    pub detail: Value,
}

fn record(m: person_action::Model) -> PersonAction {
    PersonAction {
        id: m.id,
        at: m.at,
        actor: m.actor,
        kind: m.kind,
        subject: m.subject,
        application_id: m.application_id,
        detail: m.detail,
    }
}

impl Store {
    /// Records what a person did.
    pub async fn record_action(&self, a: NewPersonAction<'_>) -> Result<PersonAction> {
        let model = person_action::ActiveModel {
            id: Set(Uuid::now_v7()),
            at: Set(self.now()),
            actor: Set(a.actor.to_owned()),
            kind: Set(a.kind.to_owned()),
            subject: Set(a.subject),
            application_id: Set(a.application_id),
            detail: Set(a.detail),
        };
        let inserted = person_action::Entity::insert(model)
            .exec_with_returning(self.db())
            .await?;
        Ok(record(inserted))
    }

    /// What people did, newest first: at most `limit`, before the action `before` (its id,
    /// for the next page), within `[from, to)` when given.
    pub async fn people_actions(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<PersonAction>> {
        let mut q = person_action::Entity::find();
        if let Some(from) = from {
            q = q.filter(person_action::Column::At.gte(from));
        }
        if let Some(to) = to {
            q = q.filter(person_action::Column::At.lt(to));
        }
        if let Some(before) = before {
            q = q.filter(person_action::Column::Id.lt(before));
        }
        Ok(q.order_by_desc(person_action::Column::Id)
            .limit(limit.min(crate::reads::queries::MAX_PAGE))
            .all(self.db())
            .await?
            .into_iter()
            .map(record)
            .collect())
    }

    /// Writes what people did with `from <= at < to` as JSON lines (`"type": "action"`), in
    /// time order; returns how many.
    pub async fn export_people_actions<W: Write + ?Sized>(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        out: &mut W,
    ) -> Result<u64> {
        let mut n = 0;
        let mut after: Option<Uuid> = None;
        loop {
            let mut q = person_action::Entity::find()
                .filter(person_action::Column::At.gte(from))
                .filter(person_action::Column::At.lt(to));
            if let Some(id) = after {
                q = q.filter(person_action::Column::Id.gt(id));
            }
            let rows = q
                .order_by_asc(person_action::Column::Id)
                .limit(1000)
                .all(self.db())
                .await?;
            if rows.is_empty() {
                return Ok(n);
            }
            for m in rows {
                after = Some(m.id);
                let mut line =
                    serde_json::to_value(record(m)).map_err(|e| Error::Corrupt(e.to_string()))?;
                line["type"] = Value::from("action");
                crate::reads::audit_log::write_line(out, &line)?;
                n += 1;
            }
        }
    }
}
