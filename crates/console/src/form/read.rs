//! A submitted form as a person reads it: sections with their titles, labelled values, choices
//! by their labels, lists joined.

use serde_json::Value;
use softland_workflow::Lang;

use super::{MAX_DEPTH, option_label, properties, scalar_text, title};

/// One line of a form as a person reads it.
#[derive(Debug, Clone)]
pub struct ReadRow {
    /// How deep it sits (sections indent).
    pub depth: usize,
    pub label: String,
    /// `None` for a section heading.
    pub value: Option<String>,
    /// Documents the value names, as links `(file name, address)` (then `value` is empty).
    pub links: Vec<(String, String)>,
}

/// Shows values that name documents of `docs` (`(id, file name, address)`) by their file names,
/// as links: a person reads `business-plan.pdf`, not `01a24b76-037e-…`.
pub fn link_documents(rows: &mut [ReadRow], docs: &[(String, String, String)]) {
    for row in rows {
        let Some(value) = &row.value else {
            continue;
        };
        let named: Option<Vec<(String, String)>> = value
            .split(", ")
            .filter(|v| !v.is_empty())
            .map(|v| {
                docs.iter()
                    .find(|(id, _, _)| id == v)
                    .map(|(_, name, url)| (name.clone(), url.clone()))
            })
            .collect();
        if let Some(named) = named.filter(|n| !n.is_empty()) {
            row.links = named;
            row.value = Some(String::new());
        }
    }
}

/// `data` as a person reads it: sections with their titles, labelled values, choices by their
/// labels, lists joined. Properties the schema does not name are shown too, by name.
pub fn read(schema: &Value, data: &Value, lang: Lang) -> Vec<ReadRow> {
    let mut out = Vec::new();
    read_object(schema, data, 0, lang, &mut out);
    out
}

fn read_object(schema: &Value, data: &Value, depth: usize, lang: Lang, out: &mut Vec<ReadRow>) {
    let Some(object) = data.as_object() else {
        return;
    };
    let named = properties(schema);
    let unnamed = object
        .keys()
        .filter(|k| !named.iter().any(|(n, _)| n == k))
        .map(|k| (k, &Value::Null));
    for (name, prop) in named.iter().copied().chain(unnamed) {
        let Some(value) = object.get(name) else {
            continue;
        };
        let label = title(prop, lang, name);
        match value {
            Value::Object(_) if depth + 1 < MAX_DEPTH => {
                out.push(ReadRow {
                    depth,
                    label,
                    value: None,
                    links: Vec::new(),
                });
                read_object(prop, value, depth + 1, lang, out);
            }
            Value::Array(items) => {
                let item_schema = prop.get("items").unwrap_or(&Value::Null);
                let text: Vec<String> = items.iter().map(|i| shown(item_schema, i, lang)).collect();
                out.push(ReadRow {
                    depth,
                    label,
                    value: Some(text.join(", ")),
                    links: Vec::new(),
                });
            }
            other => out.push(ReadRow {
                depth,
                label,
                value: Some(shown(prop, other, lang)),
                links: Vec::new(),
            }),
        }
    }
}

fn shown(schema: &Value, value: &Value, lang: Lang) -> String {
    match value {
        Value::String(s) if schema.get("enum").is_some() => option_label(schema, s, lang),
        Value::Bool(true) => "✓".into(),
        Value::Bool(false) => "✗".into(),
        other => scalar_text(other),
    }
}
