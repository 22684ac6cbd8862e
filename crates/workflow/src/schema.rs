//! JSON Schemas for application forms and action inputs, compiled once with `jsonschema`.

use serde::Serialize;
use serde_json::Value;

/// Supplies schema files named by `form: {file: …}`. The CLI and the store implement it; the
/// compiler itself never touches the file system.
pub trait SchemaLoader {
    /// The text of the schema file at `path` (relative to the workflow file).
    fn load(&self, path: &str) -> Result<String, String>;
}

impl<F: Fn(&str) -> Result<String, String>> SchemaLoader for F {
    fn load(&self, path: &str) -> Result<String, String> {
        self(path)
    }
}

/// One reason a JSON value does not satisfy its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON pointer to the offending value (`""` is the whole document).
    pub path: String,
    /// What is wrong with it.
    pub message: String,
    /// For a missing required property: its name (`path` is the object that lacks it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// The rule it breaks, by its JSON Schema keyword (`required`, `pattern`, `minLength`,
    /// `maxLength`, `format`, `enum`, `type`, `minimum`, `maximum`, `minItems`, `maxItems`,
    /// `additionalProperties`, …): what pages say it with, in the reader's language.
    pub rule: String,
    /// The rule's bound: the length or count (`minLength: 20`), the number (`minimum`), the
    /// format's name (`date`); none for rules without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<Value>,
}

/// The keyword and bound of a validator's error (see [`Violation::rule`]).
fn rule_of(kind: &jsonschema::error::ValidationErrorKind) -> (&'static str, Option<Value>) {
    use jsonschema::error::ValidationErrorKind as K;
    match kind {
        K::Required { .. } => ("required", None),
        K::Pattern { .. } => ("pattern", None),
        K::MinLength { limit } => ("minLength", Some(Value::from(*limit))),
        K::MaxLength { limit } => ("maxLength", Some(Value::from(*limit))),
        K::MinItems { limit } => ("minItems", Some(Value::from(*limit))),
        K::MaxItems { limit } => ("maxItems", Some(Value::from(*limit))),
        K::Minimum { limit } => ("minimum", Some(limit.clone())),
        K::Maximum { limit } => ("maximum", Some(limit.clone())),
        K::ExclusiveMinimum { limit } => ("exclusiveMinimum", Some(limit.clone())),
        K::ExclusiveMaximum { limit } => ("exclusiveMaximum", Some(limit.clone())),
        K::Format { format } => ("format", Some(Value::from(format.as_str()))),
        K::Enum { .. } => ("enum", None),
        K::Constant { .. } => ("const", None),
        K::Type { .. } => ("type", None),
        K::AdditionalProperties { .. } => ("additionalProperties", None),
        K::UniqueItems => ("uniqueItems", None),
        K::MultipleOf { .. } => ("multipleOf", None),
        _ => ("other", None),
    }
}

/// A compiled JSON Schema with its source.
pub(crate) struct Schema {
    source: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Why a value is not a valid JSON Schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaError {
    /// JSON pointer into the schema (`""`: the whole schema).
    pub(crate) at: String,
    /// The validator's words; they may quote the schema's values.
    pub(crate) detail: String,
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.detail)
        } else {
            write!(f, "at {}: {}", self.at, self.detail)
        }
    }
}

impl Schema {
    /// Compiles a schema; the error says why it is not a valid schema. Formats (`date`,
    /// `email`, `uri`, …) are asserted, not just annotations.
    pub(crate) fn compile(source: Value) -> Result<Self, SchemaError> {
        if !source.is_object() && !source.is_boolean() {
            return Err(SchemaError {
                at: String::new(),
                detail: "a JSON Schema must be a mapping (or true/false)".to_owned(),
            });
        }
        jsonschema::meta::validate(&source).map_err(|e| SchemaError {
            at: e.instance_path().to_string(),
            detail: e.to_string(),
        })?;
        // An e-mail field holds an address (RFC 5321's mailbox), not `Name <address>`: the
        // display text the `email_address` crate accepts by default is refused.
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .with_email_options(jsonschema::EmailOptions::default().without_display_text())
            .build(&source)
            .map_err(|e| SchemaError {
                at: e.instance_path().to_string(),
                detail: e.to_string(),
            })?;
        Ok(Self { source, validator })
    }

    pub(crate) fn source(&self) -> &Value {
        &self.source
    }

    /// Every violation, in the validator's order.
    pub(crate) fn check(&self, value: &Value) -> Result<(), Vec<Violation>> {
        if self.validator.is_valid(value) {
            return Ok(());
        }
        Err(self
            .validator
            .iter_errors(value)
            .map(|e| {
                let (rule, limit) = rule_of(e.kind());
                Violation {
                    path: e.instance_path().to_string(),
                    message: e.to_string(),
                    missing: match e.kind() {
                        jsonschema::error::ValidationErrorKind::Required { property } => {
                            property.as_str().map(str::to_owned)
                        }
                        _ => None,
                    },
                    rule: rule.to_owned(),
                    limit,
                }
            })
            .collect())
    }

    /// The schema of `data.<path...>`: `Some(None)` when the schema does not describe the
    /// object's properties (anything goes), `None` when the property is not declared.
    pub(crate) fn property<'a>(root: &'a Value, path: &[&str]) -> Option<Option<&'a Value>> {
        let mut node = root;
        for segment in path {
            let Some(props) = node.get("properties").and_then(Value::as_object) else {
                return Some(None);
            };
            match props.get(*segment) {
                Some(next) => node = next,
                None => {
                    // Declared properties make an undeclared name a likely typo, unless the
                    // schema explicitly opens itself with `additionalProperties`.
                    let open = node
                        .get("additionalProperties")
                        .is_some_and(|a| a != &Value::Bool(false));
                    return if open { Some(None) } else { None };
                }
            }
        }
        Some(Some(node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_every_violation_with_its_pointer() {
        let s = Schema::compile(json!({
            "type": "object",
            "required": ["name", "staff"],
            "properties": {"name": {"type": "string"}, "staff": {"type": "integer", "minimum": 1}}
        }))
        .expect("valid schema");
        assert!(s.check(&json!({"name": "Acme", "staff": 3})).is_ok());
        let v = s
            .check(&json!({"name": 7, "staff": 0}))
            .expect_err("two violations");
        let paths: Vec<_> = v.iter().map(|v| v.path.as_str()).collect();
        assert!(
            paths.contains(&"/name") && paths.contains(&"/staff"),
            "{paths:?}"
        );
    }

    #[test]
    fn an_email_is_an_address_without_a_display_name() {
        let s = Schema::compile(json!({"type": "string", "format": "email"})).expect("valid");
        assert!(s.check(&json!("li.wei@pengchengpay.example.cn")).is_ok());
        for not_an_address in [
            "Li Wei <li.wei@pengchengpay.example.cn>",
            "li.wei",
            "@example.cn",
        ] {
            let v = s.check(&json!(not_an_address)).expect_err(not_an_address);
            assert_eq!(v[0].rule, "format", "{not_an_address}");
        }
    }

    #[test]
    fn rejects_invalid_schemas() {
        assert!(Schema::compile(json!({"type": "strnig"})).is_err());
        assert!(Schema::compile(json!("object")).is_err());
    }
}
