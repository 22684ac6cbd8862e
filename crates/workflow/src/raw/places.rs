//! The definition's places as written: `pools:` at the top, and an action's `reserve:`,
//! `confirm:` or `release:` of a place.

use super::{Fields, Reader, SNode};
use crate::diagnostic::Code;
use crate::model::PlaceOp;
use crate::rawdef::{RawPlaces, RawPool, Sp, keys};
use crate::yaml::pos_of;

impl Reader<'_> {
    /// `pools: {places: {per: position}, …}`.
    pub(super) fn pools(&mut self, n: &SNode) -> Vec<RawPool> {
        let Some(f) = self.entries(n, "`pools`", None) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, body) in f.entries {
            let what = format!("pool `{}`", name.value);
            let Some(b) = self.entries(body, &what, Some(keys::POOL)) else {
                continue;
            };
            // Its title is for people reading the definition; nothing shows it yet.
            let _ = self.opt_text(&b, "title", &what);
            out.push(RawPool {
                name: Sp {
                    v: name.value.clone(),
                    pos: pos_of(name),
                },
                per: self.req_string(&b, "per", &what),
            });
        }
        out
    }

    /// An action's `reserve:`, `confirm:` or `release:` (at most one of them).
    pub(super) fn places(&mut self, b: &Fields<'_>, what: &str) -> Option<RawPlaces> {
        let mut found: Option<RawPlaces> = None;
        for key in keys::PLACE_OPS {
            let Some(pool) = self.opt_string(b, key, what) else {
                continue;
            };
            let op = PlaceOp::parse(key)?;
            if let Some(first) = &found {
                self.err(
                    pool.pos,
                    Code::InvalidValue,
                    format!(
                        "{what} takes one of `reserve`, `confirm`, `release`; it already says `{}`",
                        first.op.word()
                    ),
                );
                continue;
            }
            found = Some(RawPlaces { op, pool });
        }
        found
    }
}
