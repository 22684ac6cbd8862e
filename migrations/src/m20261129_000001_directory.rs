//! The directory (issue 14): people with a stable id, one membership (an agency or an
//! organization) and roles; agencies and organizations with their names in three languages.
//! API keys belong to a person and may expire.
//!
//! Existing keys become people: each key's label becomes a person of the key's agency or
//! organization, with the key's role (`admin`, `reviewer`, or `staff` for an applicant key).
//! The person's id is the label itself — what the events written so far record as the actor,
//! so the four-eyes rules of applications under way keep holding — unless another person of a
//! different membership took that label first (two reviewers called "amy" at two agencies, whom
//! the engine used to treat as one); then it is `label@agency` (or `label@organization`). Keys
//! with the same label and membership share one person.

use std::collections::BTreeMap;

use sea_orm::prelude::Uuid;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
    DisplayName,
    Email,
    Agency,
    Organization,
    Roles,
    Service,
    Active,
    CreatedAt,
    DeactivatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    PersonId,
    ExpiresAt,
    Role,
    Agency,
    Organization,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    NameZhHant,
    NameZhHans,
    Calendar,
    InboxEmail,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    NameZhHant,
    NameZhHans,
    RegistrationNumber,
    Region,
}

/// The nullable text columns added to agencies and organizations.
fn added_columns() -> [(DynIden, DynIden); 8] {
    [
        (
            Agencies::Table.into_iden(),
            Agencies::NameZhHant.into_iden(),
        ),
        (
            Agencies::Table.into_iden(),
            Agencies::NameZhHans.into_iden(),
        ),
        (Agencies::Table.into_iden(), Agencies::Calendar.into_iden()),
        (
            Agencies::Table.into_iden(),
            Agencies::InboxEmail.into_iden(),
        ),
        (
            Organizations::Table.into_iden(),
            Organizations::NameZhHant.into_iden(),
        ),
        (
            Organizations::Table.into_iden(),
            Organizations::NameZhHans.into_iden(),
        ),
        (
            Organizations::Table.into_iden(),
            Organizations::RegistrationNumber.into_iden(),
        ),
        (
            Organizations::Table.into_iden(),
            Organizations::Region.into_iden(),
        ),
    ]
}

/// One alteration per statement: SQLite takes no more.
async fn add_column(m: &SchemaManager<'_>, table: DynIden, column: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

async fn drop_column(m: &SchemaManager<'_>, table: DynIden, column: DynIden) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

/// A key as it was before the directory: who it named.
struct OldKey {
    id: Uuid,
    label: String,
    role: String,
    agency: Option<String>,
    organization: Option<String>,
}

impl OldKey {
    /// The person's membership, as (agency, organization).
    fn membership(&self) -> (Option<String>, Option<String>) {
        (self.agency.clone(), self.organization.clone())
    }

    fn person_role(&self) -> &'static str {
        match self.role.as_str() {
            "admin" => "admin",
            "reviewer" => "reviewer",
            _ => "staff",
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in added_columns() {
            add_column(m, table, ColumnDef::new(column).string().null().to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(People::Table)
                .col(ColumnDef::new(People::Id).string().not_null().primary_key())
                .col(ColumnDef::new(People::DisplayName).string().not_null())
                .col(ColumnDef::new(People::Email).string().null())
                .col(ColumnDef::new(People::Agency).string().null())
                .col(ColumnDef::new(People::Organization).string().null())
                .col(ColumnDef::new(People::Roles).string().not_null())
                .col(
                    ColumnDef::new(People::Service)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(
                    ColumnDef::new(People::Active)
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .col(
                    ColumnDef::new(People::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(People::DeactivatedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        // An agency's or an organization's people; a person by e-mail (sign-in by `email`).
        for (name, column) in [
            ("ix_people_agency", People::Agency),
            ("ix_people_organization", People::Organization),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(People::Table)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("ux_people_email")
                .table(People::Table)
                .col(People::Email)
                .unique()
                .to_owned(),
        )
        .await?;
        add_column(
            m,
            ApiKeys::Table.into_iden(),
            ColumnDef::new(ApiKeys::PersonId).string().null().to_owned(),
        )
        .await?;
        add_column(
            m,
            ApiKeys::Table.into_iden(),
            ColumnDef::new(ApiKeys::ExpiresAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        )
        .await?;
        people_from_keys(m).await?;
        for column in [ApiKeys::Role, ApiKeys::Agency, ApiKeys::Organization] {
            drop_column(m, ApiKeys::Table.into_iden(), column.into_iden()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [ApiKeys::Role, ApiKeys::Agency, ApiKeys::Organization] {
            add_column(
                m,
                ApiKeys::Table.into_iden(),
                ColumnDef::new(column).string().null().to_owned(),
            )
            .await?;
        }
        // A key takes its person's membership; admins first, then agencies' reviewers.
        m.get_connection()
            .execute_unprepared(
                "UPDATE api_keys SET \
                 agency = (SELECT p.agency FROM people p WHERE p.id = api_keys.person_id), \
                 organization = (SELECT p.organization FROM people p WHERE p.id = api_keys.person_id), \
                 role = (SELECT CASE WHEN p.roles LIKE '%admin%' THEN 'admin' \
                                     WHEN p.agency IS NOT NULL THEN 'reviewer' \
                                     ELSE 'applicant' END \
                         FROM people p WHERE p.id = api_keys.person_id)",
            )
            .await?;
        drop_column(
            m,
            ApiKeys::Table.into_iden(),
            ApiKeys::ExpiresAt.into_iden(),
        )
        .await?;
        drop_column(m, ApiKeys::Table.into_iden(), ApiKeys::PersonId.into_iden()).await?;
        m.drop_table(Table::drop().table(People::Table).to_owned())
            .await?;
        for (table, column) in added_columns() {
            drop_column(m, table, column).await?;
        }
        Ok(())
    }
}

/// Makes a person of every key's label (see the module's doc) and points each key at it.
async fn people_from_keys(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, label, role, agency, organization FROM api_keys ORDER BY created_at, id",
        ))
        .await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        keys.push(OldKey {
            id: row.try_get("", "id")?,
            label: row.try_get("", "label")?,
            role: row.try_get("", "role")?,
            agency: row.try_get("", "agency")?,
            organization: row.try_get("", "organization")?,
        });
    }
    // Person id → (membership, roles).
    type Membership = (Option<String>, Option<String>);
    let mut people: BTreeMap<String, (Membership, Vec<&'static str>)> = BTreeMap::new();
    let mut key_person = Vec::with_capacity(keys.len());
    for key in &keys {
        let membership = key.membership();
        let scoped = format!(
            "{}@{}",
            key.label,
            membership
                .0
                .as_deref()
                .or(membership.1.as_deref())
                .unwrap_or("admin")
        );
        let id = match people.get(&key.label) {
            Some((theirs, _)) if *theirs != membership => scoped,
            _ => key.label.clone(),
        };
        let entry = people
            .entry(id.clone())
            .or_insert_with(|| (membership, Vec::new()));
        if !entry.1.contains(&key.person_role()) {
            entry.1.push(key.person_role());
        }
        key_person.push((key.id, id));
    }
    let now = chrono::Utc::now();
    for (id, ((agency, organization), roles)) in &people {
        m.exec_stmt(
            Query::insert()
                .into_table(People::Table)
                .columns([
                    People::Id,
                    People::DisplayName,
                    People::Agency,
                    People::Organization,
                    People::Roles,
                    People::Service,
                    People::Active,
                    People::CreatedAt,
                ])
                .values_panic([
                    id.clone().into(),
                    id.split('@').next().unwrap_or(id).to_owned().into(),
                    agency.clone().into(),
                    organization.clone().into(),
                    roles.join(" ").into(),
                    false.into(),
                    true.into(),
                    now.into(),
                ])
                .to_owned(),
        )
        .await?;
    }
    for (key, person) in key_person {
        m.exec_stmt(
            Query::update()
                .table(ApiKeys::Table)
                .value(ApiKeys::PersonId, person)
                .and_where(Expr::col(ApiKeys::Id).eq(key))
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}
