//! The reports' table (issue "Oversight").

pub mod report_fact {
    use sea_orm::entity::prelude::*;

    /// What reports measure on one application, as of one of its revisions (a cache: see
    /// `reports::kept`).
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_facts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub application_id: Uuid,
        pub revision: i64,
        /// `reports::facts::Facts` as JSON.
        pub facts: String,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
