//! Operating a store: backups, the consistency doctor, upgrades of stored data, and loading
//! applications in bulk.

pub(crate) mod backup;
pub(crate) mod bulk;
pub(crate) mod doctor;
pub(crate) mod upgrade;
