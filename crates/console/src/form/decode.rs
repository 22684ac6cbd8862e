//! Reading a posted form back into JSON by its schema: each field's text as the type the schema gives it.

use super::*;

/// The JSON a posted form stands for: each control's value by the schema's type. A number that
/// does not parse stays text (the API then says so at its field); an empty optional control
/// is left out, an empty section too unless it is required.
pub fn decode(schema: &Value, fields: &[(String, String)]) -> Value {
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, value) in fields {
        by_name.entry(name).or_default().push(value);
    }
    Value::Object(decode_object(schema, "", 0, &by_name))
}

pub(super) fn decode_object(
    schema: &Value,
    pointer: &str,
    depth: usize,
    fields: &BTreeMap<&str, Vec<&str>>,
) -> Map<String, Value> {
    let required = required_set(schema);
    let mut out = Map::new();
    for (name, prop) in properties(schema) {
        let here = format!("{pointer}/{}", escape_pointer(name));
        let is_required = required.contains(&name.as_str());
        let value = if type_of(prop) == "object" {
            if depth + 1 >= MAX_DEPTH {
                continue;
            }
            let inner = decode_object(prop, &here, depth + 1, fields);
            (!inner.is_empty() || is_required).then_some(Value::Object(inner))
        } else {
            decode_value(prop, &here, fields)
        };
        if let Some(v) = value {
            out.insert(name.clone(), v);
        }
    }
    out
}

pub(super) fn decode_value(
    schema: &Value,
    pointer: &str,
    fields: &BTreeMap<&str, Vec<&str>>,
) -> Option<Value> {
    let one = fields
        .get(pointer)
        .and_then(|v| v.first())
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    match type_of(schema) {
        "array" => {
            let list_name = format!("{pointer}[]");
            let values: Vec<Value> = fields
                .get(pointer)
                .or_else(|| fields.get(list_name.as_str()))
                .into_iter()
                .flatten()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|s| scalar(schema.get("items").unwrap_or(&Value::Null), s))
                .collect();
            // Check boxes all unticked: an empty list (a present key says "none").
            Some(Value::Array(values))
        }
        "boolean" => Some(Value::Bool(one == Some("true"))),
        _ => one.map(|s| scalar(schema, s)),
    }
}

pub(super) fn scalar(schema: &Value, text: &str) -> Value {
    match type_of(schema) {
        "integer" => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(text)),
        "number" => match text.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| Value::from(text)),
        },
        "boolean" => Value::Bool(text == "true"),
        _ => Value::from(text),
    }
}
