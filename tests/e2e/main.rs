//! End-to-end tests of the `softland` binary: one test binary, one module per area.

#![allow(clippy::unwrap_used)]

mod support;

mod backup;
mod bench;
mod browser;
mod cdp;
mod certs;
mod config;
mod console;
mod console_admin;
mod console_migrations;
mod console_places;
mod conversation;
mod crash;
mod demo;
mod diagram;
mod directory;
mod documents;
mod dsl_schema;
mod evolving;
mod evolving_traffic;
mod exports;
mod failover;
mod four_eyes;
mod fuzz_http;
mod graphql;
mod graphql_http;
mod harden;
mod hostile;
mod https;
mod inbox_live;
mod intakes;
mod languages;
mod lists;
mod notifications;
mod observers;
mod oidc;
mod page_languages;
mod people_actions;
mod pg_tls;
mod places;
mod race;
mod readme;
mod references;
mod reports;
mod sdl;
mod simulate;
mod traces;
mod trust;
mod validate;
mod who_applies;
