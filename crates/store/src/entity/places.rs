//! The places' tables (issue "Places"): pools and their counts, and the positions firms
//! offer. Each application's place in a pool (`pool_entries`) is written by the commit
//! statement and read by `places` in SQL.

pub mod pool {
    use sea_orm::entity::prelude::*;

    /// A pool of places: how many there are, taken (held or confirmed) and waited for.
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pools")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub places: i32,
        pub taken: i32,
        pub waiting: i32,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod position {
    use sea_orm::entity::prelude::*;

    /// A position a firm offers; its places are the pool with the same id.
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "positions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organization: String,
        pub workflow_key: String,
        /// `{en, zh-Hant, zh-Hans}`.
        pub title: Json,
        pub description: Json,
        pub location: String,
        pub requirements: String,
        pub starts_on: Option<Date>,
        pub ends_on: Option<Date>,
        pub closes_on: Date,
        /// `open`, `closed` or `withdrawn`.
        pub status: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod intake {
    use sea_orm::entity::prelude::*;

    /// An intake of a programme; its places are the pool with the same id.
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "intakes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub workflow_key: String,
        pub name: String,
        pub opens_on: Date,
        pub closes_on: Date,
        /// `open` or `closed`.
        pub status: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod student_profile {
    use sea_orm::entity::prelude::*;

    /// A student's profile (`directory::profiles`).
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "student_profiles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: String,
        pub profile: Json,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
