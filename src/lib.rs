//! The `softland` program's commands, as a library so the end-to-end tests can reach helpers.

pub mod cli;
