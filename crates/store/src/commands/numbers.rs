//! Applications' numbers, for references people can say and search for (`SZHK-2026-0042`;
//! migration `m20261206_000003`): given once — when the application is submitted, or first
//! shown if that was missed — unique across every programme, never reused.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement, StatementBuilder, Value};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::{BackendKind, Store};

impl Store {
    /// The application's number, given now if it has none yet.
    pub async fn application_number(&self, id: Uuid) -> Result<i64> {
        if let Some(n) = self.number_of(id).await? {
            return Ok(n);
        }
        let sql = match self.backend() {
            BackendKind::Postgres => {
                "INSERT INTO application_numbers (application_id) VALUES ($1) ON CONFLICT (application_id) DO NOTHING"
            }
            BackendKind::Sqlite => {
                "INSERT OR IGNORE INTO application_numbers (application_id) VALUES (?)"
            }
        };
        self.db()
            .execute_raw(Statement::from_sql_and_values(
                self.db_backend(),
                sql,
                [Value::from(id)],
            ))
            .await?;
        self.number_of(id)
            .await?
            .ok_or_else(|| Error::Unavailable(format!("application {id} got no number")))
    }

    async fn number_of(&self, id: Uuid) -> Result<Option<i64>> {
        let sql = match self.backend() {
            BackendKind::Postgres => {
                "SELECT number FROM application_numbers WHERE application_id = $1"
            }
            BackendKind::Sqlite => {
                "SELECT number FROM application_numbers WHERE application_id = ?"
            }
        };
        let row = self
            .db()
            .query_one_raw(Statement::from_sql_and_values(
                self.db_backend(),
                sql,
                [Value::from(id)],
            ))
            .await?;
        Ok(match row {
            Some(r) => Some(i64::from(r.try_get_by_index::<i32>(0)?)),
            None => None,
        })
    }

    /// The application's reference (`SZHK-2026-0042`): its workflow's prefix, the year it was
    /// submitted in Hong Kong and its number.
    pub async fn application_reference(&self, app: &crate::ApplicationRecord) -> Result<String> {
        self.reference_of(
            app.id,
            &app.workflow_key,
            app.workflow_version,
            app.submitted_at,
        )
        .await
    }

    /// [`Store::application_reference`] from the application's id, workflow version and time
    /// of submission.
    pub async fn reference_of(
        &self,
        id: Uuid,
        workflow_key: &str,
        workflow_version: i32,
        submitted_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<String> {
        let number = self.application_number(id).await?;
        Ok(self
            .numbered_reference(number, workflow_key, workflow_version, submitted_at)
            .await)
    }

    /// The reference of an application whose number is known (from [`Store::numbers_given`]).
    pub async fn numbered_reference(
        &self,
        number: i64,
        workflow_key: &str,
        workflow_version: i32,
        submitted_at: chrono::DateTime<chrono::Utc>,
    ) -> String {
        use chrono::Datelike;
        let prefix = match self.workflow(workflow_key, workflow_version).await {
            Ok(wf) => wf.reference().to_owned(),
            Err(_) => workflow_key.to_ascii_uppercase(),
        };
        let year = submitted_at
            .with_timezone(&softland_workflow::HONG_KONG)
            .year();
        reference(&prefix, year, number)
    }

    /// The numbers of these applications, each given now if it has none yet — in one
    /// statement for all of them, in the order given (reports and exports read thousands).
    pub async fn numbers_given(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, i64>> {
        let mut numbers = self.numbers_of(ids).await?;
        let missing: Vec<Uuid> = ids
            .iter()
            .filter(|id| !numbers.contains_key(id))
            .copied()
            .collect();
        if missing.is_empty() {
            return Ok(numbers);
        }
        let column = Alias::new("application_id");
        let mut insert = Query::insert()
            .into_table(Alias::new("application_numbers"))
            .columns([column.clone()])
            .on_conflict(OnConflict::column(column).do_nothing().to_owned())
            .to_owned();
        for id in &missing {
            insert.values_panic([(*id).into()]);
        }
        self.db()
            .execute_raw(StatementBuilder::build(&insert, &self.db_backend()))
            .await?;
        numbers.extend(self.numbers_of(&missing).await?);
        Ok(numbers)
    }

    /// The numbers these applications have.
    async fn numbers_of(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, i64>> {
        let (id, number) = (Alias::new("application_id"), Alias::new("number"));
        let select = Query::select()
            .column(id.clone())
            .column(number)
            .from(Alias::new("application_numbers"))
            .and_where(Expr::col(id).is_in(ids.iter().copied()))
            .to_owned();
        let rows = self
            .db()
            .query_all_raw(StatementBuilder::build(&select, &self.db_backend()))
            .await?;
        rows.into_iter()
            .map(|r| {
                let id: Uuid = r.try_get_by_index(0)?;
                let n: i32 = r.try_get_by_index(1)?;
                Ok((id, i64::from(n)))
            })
            .collect()
    }

    fn db_backend(&self) -> DbBackend {
        match self.backend() {
            BackendKind::Postgres => DbBackend::Postgres,
            BackendKind::Sqlite => DbBackend::Sqlite,
        }
    }
}

/// The number a reference (`SZHK-2026-0042`, any case) names, if `text` is one.
pub fn reference_number(text: &str) -> Option<i64> {
    let mut parts = text.trim().rsplitn(3, '-');
    let number = parts.next()?;
    let year = parts.next()?;
    let prefix = parts.next()?;
    let ok = !prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_alphanumeric())
        && year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && !number.is_empty()
        && number.len() <= 9
        && number.chars().all(|c| c.is_ascii_digit());
    if ok { number.parse().ok() } else { None }
}

/// A reference: the workflow's prefix, the year submitted (Hong Kong time) and the number,
/// at least four digits.
pub fn reference(prefix: &str, year: i32, number: i64) -> String {
    format!("{prefix}-{year}-{number:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_read_back_to_their_numbers() {
        assert_eq!(reference("SZHK", 2026, 42), "SZHK-2026-0042");
        assert_eq!(reference("SZHK", 2026, 12345), "SZHK-2026-12345");
        assert_eq!(reference_number("SZHK-2026-0042"), Some(42));
        assert_eq!(reference_number(" szhk-2026-0042 "), Some(42));
        for not in [
            "pengcheng-pay",
            "SZHK-26-1",
            "SZHK-2026-",
            "-2026-1",
            "SZHK-2026-1x",
            "SZ HK-2026-1",
        ] {
            assert_eq!(reference_number(not), None, "{not}");
        }
    }
}
