//! Changing the form data while an application moves: each listed top-level field of the new
//! form takes the value of a CEL expression over the old data (`data`), or goes when it gives
//! `null`; the rest stays. Expressions are compiled against the old form (a field it does not
//! declare is an error, as in conditions) and bounded like conditions.

use serde_json::Value;

use super::{Blocker, PlanError};
use crate::expr::{Condition, to_cel};

/// The most data changes a plan may hold.
pub const MOST_DATA_CHANGES: usize = 100;

/// Compiled data changes.
#[derive(Debug, Default)]
pub(super) struct DataChanges {
    changes: Vec<(String, Condition)>,
}

impl DataChanges {
    /// Compiles `changes` (field, expression) against the old form; each field must be one
    /// the new form or the old one declares.
    pub(super) fn compile(
        from_form: &Value,
        to_form: &Value,
        changes: &[(String, String)],
    ) -> Result<Self, Vec<PlanError>> {
        let mut errors = Vec::new();
        if changes.len() > MOST_DATA_CHANGES {
            errors.push(PlanError::DataChange {
                field: String::new(),
                message: format!("a plan changes at most {MOST_DATA_CHANGES} fields"),
            });
        }
        let mut out = Vec::new();
        for (field, source) in changes {
            let declared = |form: &Value| form.pointer(&format!("/properties/{field}")).is_some();
            if !declared(to_form) && !declared(from_form) {
                errors.push(PlanError::UnknownDataField(field.clone()));
                continue;
            }
            if out.iter().any(|(f, _)| f == field) {
                errors.push(PlanError::Duplicate(format!("data.{field}")));
                continue;
            }
            match Condition::compile(source, Some(from_form)) {
                Ok(c) => out.push((field.clone(), c)),
                Err(e) => errors.push(PlanError::DataChange {
                    field: field.clone(),
                    message: e
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                }),
            }
        }
        if errors.is_empty() {
            Ok(Self { changes: out })
        } else {
            Err(errors)
        }
    }

    /// Whether there is anything to change.
    pub(super) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The new data: `data` with each change made.
    pub(super) fn apply(&self, data: &Value) -> Result<Value, Blocker> {
        let old = to_cel(data);
        let mut new = data.clone();
        let Value::Object(fields) = &mut new else {
            return Err(Blocker::DataChangeFailed {
                field: String::new(),
                message: "the form data is not an object".into(),
            });
        };
        for (field, expr) in &self.changes {
            match expr.value(&old) {
                Ok(Value::Null) => {
                    fields.remove(field);
                }
                Ok(v) => {
                    fields.insert(field.clone(), v);
                }
                Err(message) => {
                    return Err(Blocker::DataChangeFailed {
                        field: field.clone(),
                        message,
                    });
                }
            }
        }
        Ok(new)
    }
}
