//! Read side: an application, lists with keyset (cursor) pagination, history, and the
//! audit export. Every list is ordered by an indexed key, so a page costs the same at a million
//! rows as at ten.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use softland_workflow::Status;
use uuid::Uuid;

use crate::entity::enums::AppStatus;
use crate::entity::{application, definition, event, organization, task};
use crate::error::{Error, Result};
use crate::records::{ApplicationFilter, ApplicationRecord, EventRecord, Page, PausedClock};
use crate::rows::{app_record, event_record};
use crate::{BackendKind, Store};

/// The most a page may hold.
pub const MAX_PAGE: u64 = 100;

/// A page from `first + 1` fetched rows: the extra row only tells that more follow.
pub(crate) fn page<M, T>(
    rows: Vec<M>,
    first: u64,
    item: impl Fn(M) -> Result<(String, T)>,
) -> Result<Page<T>> {
    let has_next = rows.len() as u64 > first;
    Ok(Page {
        items: rows
            .into_iter()
            .take(first as usize)
            .map(item)
            .collect::<Result<_>>()?,
        has_next,
    })
}

/// Keyset condition "strictly after `(key, id)`" for a list ordered by `key, id`. It says
/// `key >= k` as well, a term both databases take as the start of a range scan of a
/// `(key, id)` index; the "or" alone they would check row by row from the index's start (a
/// cursor deep into a big table — the report keeper's, an export's — would read everything
/// before it on every page).
pub(crate) fn after_pair<K, I, V, W>(key: K, k: V, id_col: I, id: W) -> Condition
where
    K: ColumnTrait,
    I: ColumnTrait,
    V: Into<sea_orm::Value> + Clone,
    W: Into<sea_orm::Value>,
{
    Condition::all().add(key.gte(k.clone())).add(
        Condition::any()
            .add(key.gt(k.clone()))
            .add(Condition::all().add(key.eq(k)).add(id_col.gt(id))),
    )
}

pub(crate) fn bad_cursor(c: &str) -> Error {
    Error::BadCursor(c.to_owned())
}

/// What a search by name matches: every name of an organization (English, Traditional and
/// Simplified Chinese) and its key, lower-cased — the expression PostgreSQL's trigram index is
/// on (migration `m20261206_000002`).
const SEARCHED: &str = "lower(key || ' ' || name || ' ' || coalesce(name_zh_hant, '') || ' ' || coalesce(name_zh_hans, ''))";

/// The keys of the organizations one of whose names (or key) contains `text`, in any case and taken literally
/// (`%`, `_` and `"` are no wildcards or syntax). A piece of three characters or more is looked
/// up in the names' trigram index (migrations `m20261128_000004`, `m20261206_000002`): on
/// SQLite the FTS5 table, asked for the piece as one phrase in any of its columns; on
/// PostgreSQL the `pg_trgm` index on [`SEARCHED`], which serves the `LIKE`. Shorter pieces scan
/// the names.
pub(crate) fn name_search(backend: BackendKind, text: &str) -> sea_orm::sea_query::SelectStatement {
    if backend == BackendKind::Sqlite && text.chars().count() >= 3 {
        let phrase = format!("\"{}\"", text.replace('"', "\"\""));
        return Query::select()
            .expr(Expr::cust("key"))
            .from(Alias::new("organization_names"))
            .and_where(Expr::cust_with_values(
                "organization_names MATCH ?",
                [phrase],
            ))
            .to_owned();
    }
    let pattern = format!(
        "%{}%",
        text.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Query::select()
        .column(organization::Column::Key)
        .from(organization::Entity)
        .and_where(Expr::cust(SEARCHED).like(LikeExpr::new(pattern).escape('\\')))
        .to_owned()
}

/// The applications a filter lets through.
fn applications_where(backend: BackendKind, filter: &ApplicationFilter) -> Condition {
    let mut c = Condition::all();
    if let Some(org) = &filter.organization {
        c = c.add(application::Column::Organization.eq(org.as_str()));
    }
    if let Some(status) = filter.status {
        let s = match status {
            Status::Active => AppStatus::Active,
            Status::Completed => AppStatus::Completed,
            Status::Withdrawn => AppStatus::Withdrawn,
        };
        c = c.add(application::Column::Status.eq(s));
    }
    if let Some(key) = &filter.workflow_key {
        c = c.add(application::Column::WorkflowKey.eq(key.as_str()));
    }
    if let Some(outcome) = &filter.outcome {
        // Spelled out as in the partial index `ix_applications_outcome`, so that it is used.
        c = c
            .add(application::Column::Outcome.is_not_null())
            .add(application::Column::Outcome.eq(outcome.as_str()));
    }
    if let Some(t) = filter.submitted_after {
        c = c.add(application::Column::SubmittedAt.gte(t));
    }
    if let Some(t) = filter.submitted_before {
        c = c.add(application::Column::SubmittedAt.lt(t));
    }
    if let Some(agency) = &filter.agency {
        // Checked row by row as the list walks its order (`ix_tasks_assignee_application`):
        // `id IN (…)` had SQLite collect every application of the agency first — a page cost
        // 229 ms at a million applications instead of 3 ms at ten thousand.
        let sub = Query::select()
            .expr(Expr::val(1))
            .from(task::Entity)
            .and_where(task::Column::Assignee.eq(agency.as_str()))
            .and_where(
                Expr::col((task::Entity, task::Column::ApplicationId))
                    .equals((application::Entity, application::Column::Id)),
            )
            .to_owned();
        c = c.add(Expr::exists(sub));
    }
    if let Some(text) = &filter.search {
        // A reference (`SZHK-2026-0042`) finds its application; anything else searches names.
        c = match crate::commands::numbers::reference_number(text) {
            Some(number) => c.add(
                application::Column::Id.in_subquery(
                    Query::select()
                        .expr(Expr::cust("application_id"))
                        .from(Alias::new("application_numbers"))
                        .and_where(Expr::col(Alias::new("number")).eq(number))
                        .to_owned(),
                ),
            ),
            None => {
                c.add(application::Column::Organization.in_subquery(name_search(backend, text)))
            }
        };
    }
    c
}

impl Store {
    /// One application.
    pub async fn application(&self, id: Uuid) -> Result<Option<ApplicationRecord>> {
        application::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(app_record)
            .transpose()
    }

    /// The agency steps of an application whose clock is paused while the firm answers an
    /// information request: each with the time it has left and since when it waits.
    pub async fn paused_clocks(&self, id: Uuid) -> Result<Vec<PausedClock>> {
        let Some(row) = application::Entity::find_by_id(id).one(self.db()).await? else {
            return Ok(Vec::new());
        };
        let wf = self
            .workflow(&row.workflow_key, row.workflow_version)
            .await?;
        let inst: softland_workflow::Instance =
            serde_json::from_value(row.instance).map_err(crate::error::corrupt)?;
        Ok(inst
            .paused_clocks()
            .map(|(state, remaining, since)| PausedClock {
                state: wf.state(state).name().to_owned(),
                remaining,
                since,
            })
            .collect())
    }

    /// Applications, newest first. The cursor is the last id of the previous page — or, with
    /// a window of submission times, `submitted|<time>|<id>`: such a list is read in
    /// submission order through `ix_applications_submitted` (in id order, both planners walked
    /// every newer application to reach the window: 473 ms a page at a million).
    pub async fn applications(
        &self,
        filter: &ApplicationFilter,
        first: u64,
        after: Option<&str>,
    ) -> Result<Page<ApplicationRecord>> {
        use application::Column as A;
        let first = first.clamp(1, MAX_PAGE);
        let by_time = filter.submitted_after.is_some() || filter.submitted_before.is_some();
        let Some(overseen) = self.overseen_condition(filter).await? else {
            return Ok(Page {
                items: Vec::new(),
                has_next: false,
            });
        };
        let mut q = application::Entity::find()
            .filter(applications_where(self.backend(), filter))
            .filter(overseen);
        if let Some(c) = after {
            q = q.filter(match (by_time, c.strip_prefix("submitted|")) {
                (true, Some(rest)) => {
                    let (at, id) = rest.split_once('|').ok_or_else(|| bad_cursor(c))?;
                    let at: DateTime<Utc> = at.parse().map_err(|_| bad_cursor(c))?;
                    let id: Uuid = id.parse().map_err(|_| bad_cursor(c))?;
                    Condition::any().add(A::SubmittedAt.lt(at)).add(
                        Condition::all()
                            .add(A::SubmittedAt.eq(at))
                            .add(A::Id.lt(id)),
                    )
                }
                (false, None) => {
                    let id: Uuid = c.parse().map_err(|_| bad_cursor(c))?;
                    Condition::all().add(A::Id.lt(id))
                }
                _ => return Err(bad_cursor(c)),
            });
        }
        if by_time {
            q = q.order_by_desc(A::SubmittedAt);
        }
        let rows = q
            .order_by_desc(A::Id)
            .limit(first + 1)
            .all(self.db())
            .await?;
        page(rows, first, |m| {
            let cursor = if by_time {
                format!("submitted|{}|{}", m.submitted_at.to_rfc3339(), m.id)
            } else {
                m.id.to_string()
            };
            Ok((cursor, app_record(m)?))
        })
    }

    /// How many applications the filter lets through (all pages).
    pub async fn count_applications(&self, filter: &ApplicationFilter) -> Result<u64> {
        self.count_applications_up_to(filter, None).await
    }

    /// [`Store::count_applications`], counting no further than `up_to + 1` when given (a
    /// result above `up_to` says "more than `up_to`"): at most that many rows are read.
    pub async fn count_applications_up_to(
        &self,
        filter: &ApplicationFilter,
        up_to: Option<u64>,
    ) -> Result<u64> {
        let Some(overseen) = self.overseen_condition(filter).await? else {
            return Ok(0);
        };
        let q = application::Entity::find()
            .filter(applications_where(self.backend(), filter))
            .filter(overseen);
        match up_to {
            Some(n) => self.count_at_most(q, n.saturating_add(1)).await,
            None => Ok(q.count(self.db()).await?),
        }
    }

    /// How many rows `q` selects, reading no more than `limit` of them:
    /// `SELECT count(*) FROM (SELECT 1 … LIMIT limit)`.
    pub(crate) async fn count_at_most<E: EntityTrait>(
        &self,
        q: sea_orm::Select<E>,
        limit: u64,
    ) -> Result<u64> {
        use sea_orm::sea_query::{Alias, Expr, Query};
        use sea_orm::{ConnectionTrait, QueryTrait};
        let inner = q.select_only().expr(Expr::val(1)).limit(limit).into_query();
        let outer = Query::select()
            .expr_as(Expr::cust("count(*)"), Alias::new("n"))
            .from_subquery(inner, Alias::new("t"))
            .to_owned();
        let backend = self.db().get_database_backend();
        let n: i64 = match self.db().query_one_raw(backend.build(&outer)).await? {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The condition `filter.overseen_by` makes: applications of the workflow versions whose
    /// `oversight:` names the agency (every application when it is not set); `None` when the
    /// agency oversees none, which can only give an empty list.
    pub(crate) async fn overseen_condition(
        &self,
        filter: &ApplicationFilter,
    ) -> Result<Option<Condition>> {
        use application::Column as A;
        let Some(agency) = &filter.overseen_by else {
            return Ok(Some(Condition::all()));
        };
        let versions = definition::Entity::find()
            .select_only()
            .column(definition::Column::Key)
            .column(definition::Column::Version)
            .into_tuple::<(String, i32)>()
            .all(self.db())
            .await?;
        let mut any = Condition::any();
        let mut some = false;
        for (key, version) in versions {
            if self
                .workflow(&key, version)
                .await?
                .oversight()
                .contains(agency)
            {
                any = any.add(
                    Condition::all()
                        .add(A::WorkflowKey.eq(key))
                        .add(A::WorkflowVersion.eq(version)),
                );
                some = true;
            }
        }
        Ok(some.then_some(any))
    }

    /// An application's audit log, in order.
    pub async fn history(&self, application: Uuid) -> Result<Vec<EventRecord>> {
        let rows = event::Entity::find()
            .filter(event::Column::ApplicationId.eq(application))
            .order_by_asc(event::Column::Seq)
            .all(self.db())
            .await?;
        rows.into_iter().map(event_record).collect()
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Set};

    use super::*;
    use crate::test_util::TestDb;

    /// The keys of the organizations `text` finds, in key order.
    async fn found(store: &Store, text: &str) -> Vec<String> {
        let mut keys: Vec<String> = organization::Entity::find()
            .filter(organization::Column::Key.in_subquery(name_search(store.backend(), text)))
            .all(store.db())
            .await
            .unwrap_or_else(|e| panic!("search {text:?}: {e}"))
            .into_iter()
            .map(|o| o.key)
            .collect();
        keys.sort();
        keys
    }

    /// Pieces of names are found in any case, literally, through the index and (under three
    /// characters) without it; the index follows renamed and removed organizations.
    async fn name_search_finds_pieces(db: TestDb) {
        let store = db.open().await;
        let names = [
            ("a", "Qianhai Ledger Ltd"),
            ("b", "Pengcheng Pay 100% \"Safe\""),
            ("c", "前海科技金融有限公司"),
            ("d", "pay_later"),
        ];
        for (key, name) in names {
            organization::Entity::insert(organization::ActiveModel {
                key: Set(key.into()),
                name: Set(name.into()),
                created_at: Set(store.now()),
                ..Default::default()
            })
            .exec_without_returning(store.db())
            .await
            .unwrap_or_else(|e| panic!("insert {key}: {e}"));
        }
        for (text, keys) in [
            ("LEDGER", vec!["a"]),
            ("hai led", vec!["a"]),
            ("pay", vec!["b", "d"]),
            ("PA", vec!["b", "d"]),
            ("100%", vec!["b"]),
            ("0% \"s", vec!["b"]),
            ("%", vec!["b"]),
            ("y_l", vec!["d"]),
            ("_", vec!["d"]),
            ("科技金融", vec!["c"]),
            ("金融", vec!["c"]),
            ("paypal", vec![]),
            ("\"", vec!["b"]),
        ] {
            assert_eq!(found(&store, text).await, keys, "{text:?}");
        }
        store
            .db()
            .execute_unprepared(
                "UPDATE organizations SET name = 'Shekou Trade' WHERE key = 'a'; \
                 DELETE FROM organizations WHERE key = 'd'",
            )
            .await
            .unwrap_or_else(|e| panic!("rename and remove: {e}"));
        assert_eq!(found(&store, "ledger").await, Vec::<String>::new());
        assert_eq!(found(&store, "kou tr").await, vec!["a"]);
        assert_eq!(found(&store, "later").await, Vec::<String>::new());
        assert_eq!(found(&store, "pay").await, vec!["b"]);
        // Any of a firm's names, or its key, finds it.
        organization::Entity::insert(organization::ActiveModel {
            key: Set("pengcheng-fintech".into()),
            name: Set("Pengcheng Fintech Ltd".into()),
            name_zh_hant: Set(Some("鵬程金融科技有限公司".into())),
            name_zh_hans: Set(Some("鹏程金融科技有限公司".into())),
            created_at: Set(store.now()),
            ..Default::default()
        })
        .exec_without_returning(store.db())
        .await
        .unwrap_or_else(|e| panic!("insert: {e}"));
        for text in [
            "鵬程",
            "鹏程金融",
            "Pengcheng Fin",
            "pengcheng-fintech",
            "ng-fin",
        ] {
            assert_eq!(
                found(&store, text).await,
                vec!["pengcheng-fintech"],
                "{text:?}"
            );
        }
        store
            .db()
            .execute_unprepared(
                "UPDATE organizations SET name_zh_hant = '深圳鵬程' WHERE key = 'pengcheng-fintech'",
            )
            .await
            .unwrap_or_else(|e| panic!("rename: {e}"));
        assert_eq!(found(&store, "深圳鵬").await, vec!["pengcheng-fintech"]);
    }

    #[tokio::test]
    async fn name_search_finds_pieces_sqlite() {
        name_search_finds_pieces(TestDb::sqlite()).await;
    }

    #[tokio::test]
    #[ignore = "PostgreSQL: set SOFTLAND_TEST_POSTGRES_URL and pass --include-ignored (CI does)"]
    async fn name_search_finds_pieces_postgres() {
        name_search_finds_pieces(TestDb::postgres().await).await;
    }
}
