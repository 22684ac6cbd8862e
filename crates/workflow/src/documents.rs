//! Which fields of a form (or an action's input) are documents: a JSON Schema string with
//! `"format": "softland-document"` holds a document's id, as does each item of an array whose
//! `items` has that format. The store checks and links what these name.
//!
//! ```
//! use serde_json::json;
//! use softland_workflow::document_refs;
//!
//! let schema = json!({"type": "object", "properties": {
//!     "plan": {"type": "string", "format": "softland-document"},
//!     "extra": {"type": "array", "items": {"type": "string", "format": "softland-document"}}
//! }});
//! let data = json!({"plan": "d1", "extra": ["d2", "d3"]});
//! let refs: Vec<(String, String)> = document_refs(&schema, &data)
//!     .into_iter()
//!     .map(|r| (r.pointer, r.id))
//!     .collect();
//! assert_eq!(refs, [("/extra/0".into(), "d2".into()), ("/extra/1".into(), "d3".into()), ("/plan".into(), "d1".into())]);
//! ```

use serde_json::Value;

/// The JSON Schema `format` of a field that holds a document's id.
pub const DOCUMENT_FORMAT: &str = "softland-document";

/// Objects nest at most this deep in the walk (deeper parts name no documents).
const MAX_DEPTH: usize = 32;

/// A document a form names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRef {
    /// Where (a JSON pointer into the data).
    pub pointer: String,
    /// The id written there.
    pub id: String,
}

fn is_document(schema: &Value) -> bool {
    schema.get("format").and_then(Value::as_str) == Some(DOCUMENT_FORMAT)
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Every document `data` names where `schema` says a field is a document, in data order.
pub fn document_refs(schema: &Value, data: &Value) -> Vec<DocumentRef> {
    let mut out = Vec::new();
    walk(schema, data, String::new(), 0, &mut out);
    out
}

fn walk(schema: &Value, data: &Value, pointer: String, depth: usize, out: &mut Vec<DocumentRef>) {
    if depth > MAX_DEPTH {
        return;
    }
    match data {
        Value::String(id) if is_document(schema) => out.push(DocumentRef {
            pointer,
            id: id.clone(),
        }),
        Value::Array(items) => {
            let item_schema = schema.get("items").unwrap_or(&Value::Null);
            for (i, item) in items.iter().enumerate() {
                walk(item_schema, item, format!("{pointer}/{i}"), depth + 1, out);
            }
        }
        Value::Object(fields) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (name, value) in fields {
                if let Some(field_schema) = properties.get(name) {
                    let here = format!("{pointer}/{}", escape(name));
                    walk(field_schema, value, here, depth + 1, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_are_found_where_the_schema_says_and_nowhere_else() {
        let schema = json!({"type": "object", "properties": {
            "company": {"type": "object", "properties": {
                "certificate": {"type": "string", "format": "softland-document"},
                "name": {"type": "string"}
            }},
            "a/b": {"type": "string", "format": "softland-document"}
        }});
        let data = json!({
            "company": {"certificate": "c1", "name": "not a document"},
            "a/b": "c2",
            "unknown": "c3"
        });
        let refs = document_refs(&schema, &data);
        assert_eq!(
            refs,
            [
                DocumentRef {
                    pointer: "/a~1b".into(),
                    id: "c2".into()
                },
                DocumentRef {
                    pointer: "/company/certificate".into(),
                    id: "c1".into()
                },
            ]
        );
        assert!(document_refs(&schema, &json!({"company": {"certificate": 7}})).is_empty());
        assert!(document_refs(&Value::Null, &data).is_empty());
    }
}
