//! The definition's keys about its programme rather than its steps: `form:` (the application
//! form), `reference:` (the prefix of its applications' references) and `applicants:` (who may
//! apply), `upgrade_at:` (where running applications move to a newer version by themselves).

use super::{Fields, Reader, SNode};
use crate::diagnostic::Code;
use crate::rawdef::{RawDef, RawForm, Sp, keys};
use crate::yaml::{Node, pos_of};

impl Reader<'_> {
    /// Reads `reference`, `applicants` and `upgrade_at` into `def`.
    pub(super) fn programme(&mut self, f: &Fields<'_>, def: &mut RawDef) {
        if let Some(n) = f.get("upgrade_at") {
            def.upgrade_at = self.strings(n, "a state of `upgrade_at`");
        }
        if let Some(n) = f.get("oversight") {
            def.oversight = self.strings(n, "an agency of `oversight`");
        }
        if let Some(reference) = self.opt_string(f, "reference", "the workflow") {
            let ok = (2..=8).contains(&reference.v.len())
                && reference
                    .v
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if ok {
                def.reference = Some(reference);
            } else {
                self.err(
                    reference.pos,
                    Code::InvalidValue,
                    format!(
                        "reference prefix `{}` must be 2 to 8 capital letters or digits (e.g. `SZHK`)",
                        reference.v
                    ),
                );
            }
        }
        let applicants = f
            .get("applicants")
            .and_then(|n| self.entries(n, "`applicants`", Some(keys::APPLICANTS)));
        if let Some(a) = &applicants
            && let Some(students) = a.get("students")
        {
            match &students.value {
                Node::Bool(b) => def.students = *b,
                other => self.err(
                    pos_of(students),
                    Code::WrongType,
                    format!(
                        "`students` of `applicants` must be true or false, found {}",
                        other.kind()
                    ),
                ),
            }
        }
        if let Some(a) = applicants
            && let Some(regions) = a.get("regions")
        {
            for region in self.strings(regions, "a region") {
                if matches!(region.v.as_str(), "hk" | "mainland") {
                    def.applicant_regions.push(region);
                } else {
                    self.err(
                        region.pos,
                        Code::InvalidValue,
                        format!("region `{}` is not one of `hk`, `mainland`", region.v),
                    );
                }
            }
        }
    }

    pub(super) fn form(&mut self, n: &SNode) -> Option<RawForm> {
        if let Node::Map(entries) = &n.value {
            if entries.len() == 1 && entries[0].0.value == "file" {
                return self.string(&entries[0].1, "`form.file`").map(RawForm::File);
            }
            return Some(RawForm::Inline(Sp {
                v: n.value.to_json(),
                pos: pos_of(n),
            }));
        }
        self.err(
            pos_of(n),
            Code::WrongType,
            format!(
                "`form` must be a JSON Schema (a mapping) or `{{file: path}}`, found {}",
                n.value.kind()
            ),
        );
        None
    }
}
