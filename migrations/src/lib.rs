//! softland-migrations: the sea-orm-migration crate for softland's schema. Built in issue #3;
//! this crate is part of the workspace layout and holds no code yet.
