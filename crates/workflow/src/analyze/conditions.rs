//! Where a condition's error is in the YAML, and how it is worded.

use super::*;

impl Analyzer<'_> {
    pub(super) fn condition_error(&mut self, when: &Sp<String>, e: ConditionError) {
        match e {
            ConditionError::Syntax {
                line,
                column,
                message,
            } => self.d.push(
                within(when, line, column),
                Code::ConditionSyntax,
                format!("condition does not parse: {message}"),
            ),
            ConditionError::TooComplex {
                line,
                column,
                message,
            } => self.d.push(
                within(when, line, column),
                Code::ConditionTooComplex,
                message,
            ),
            ConditionError::UnknownVariable(v) => {
                self.d.push(when.pos, Code::UnknownField, format!("condition uses unknown variable `{v}`; conditions see the form as `data` (e.g. `data.{v}`)"));
            }
            ConditionError::UnknownField { path, known } => {
                let last = path.rsplit('.').next().unwrap_or(&path);
                let hint = self.d.did_you_mean(last, known.iter().map(String::as_str));
                self.d.push(
                    when.pos,
                    Code::UnknownField,
                    format!("condition uses `{path}`, which the form schema does not define{hint}"),
                );
            }
        }
    }
}

/// The place in the YAML of `line`:`column` (1-based) within the condition `when`.
fn within(when: &Sp<String>, line: u32, column: u32) -> Pos {
    if line == 1 {
        Pos::new(when.pos.line, when.pos.column + column - 1)
    } else {
        Pos::new(when.pos.line + line - 1, column)
    }
}
