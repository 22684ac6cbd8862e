//! Reads: applications and their history, inboxes, the dashboard — what pages and the API
//! list, never a write.

pub(crate) mod audit_log;
pub(crate) mod batches;
pub mod dashboard;
pub(crate) mod inbox;
pub(crate) mod queries;
