//! Forms from JSON Schemas, and back: a workflow's application schema or an action's input
//! schema becomes rows of HTML controls ([`rows`]); the posted fields become the JSON the API
//! takes ([`decode`]); the API's violations land at their fields ([`Errors`]); a submitted form
//! reads as a person reads it ([`read`]).
//!
//! | schema | control |
//! |---|---|
//! | `object` | a section (`fieldset`, its title as the legend) |
//! | `enum` | a choice (`select`) |
//! | array of `enum` | check boxes |
//! | array of strings | a list of text inputs, addable and removable |
//! | `format: date` / `email` / `uri` | a date picker / e-mail / URL input |
//! | `integer`, `number` | a number input |
//! | `boolean` | a check box |
//! | long text (`maxLength` over 200, or a question, answer, reason, description) | a text area |
//!
//! A control's name is its JSON pointer (`/company/name_en`; list items repeat the list's
//! pointer with `[]`), so a violation's path names its control. Labels: the schema's `title`
//! (translated by an `x-title` object of `zh-Hant`/`zh-Hans` titles), else the property name
//! in words. Nothing here does I/O.

mod decode;
pub use decode::*;

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use softland_workflow::Lang;

/// Sections nest at most this deep; deeper parts of a schema are not shown as controls.
const MAX_DEPTH: usize = 8;

/// One row of a generated form, in document order.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// Opens a section.
    pub open: Option<Section>,
    /// Closes the innermost section.
    pub close: bool,
    /// A control.
    pub input: Option<Input>,
}

/// A section: an object of the schema.
#[derive(Debug, Clone)]
pub struct Section {
    pub legend: String,
    pub description: Option<String>,
    pub error: Option<String>,
}

/// One control.
#[derive(Debug, Clone)]
pub struct Input {
    /// The form field's name: the JSON pointer (`[]`-suffixed for list items).
    pub name: String,
    /// The element id.
    pub id: String,
    pub label: String,
    pub description: Option<String>,
    pub required: bool,
    /// `text`, `textarea`, `number`, `integer`, `date`, `email`, `url`, `select`,
    /// `checkboxes`, `list` or `checkbox`.
    pub kind: &'static str,
    /// The current value (single-valued controls).
    pub value: String,
    /// The current values (lists), at least one (an empty slot to type in).
    pub values: Vec<String>,
    /// Choices (`select`, `checkboxes`).
    pub options: Vec<Choice>,
    pub error: Option<String>,
}

/// One choice of a `select` or a check-box group.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

pub use crate::i18n::humanize;

/// A schema's title in `lang`: `x-title.<tag>`, else `title`, else `fallback` in words.
pub fn title(schema: &Value, lang: Lang, fallback: &str) -> String {
    schema
        .get("x-title")
        .and_then(|t| t.get(lang.tag()))
        .or_else(|| schema.get("title"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| humanize(fallback))
}

fn description(schema: &Value, lang: Lang) -> Option<String> {
    schema
        .get("x-description")
        .and_then(|t| t.get(lang.tag()))
        .or_else(|| schema.get("description"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// An enum value's label: `x-enum-titles.<tag>.<value>`, else the value in words.
fn option_label(schema: &Value, value: &str, lang: Lang) -> String {
    schema
        .get("x-enum-titles")
        .and_then(|t| t.get(lang.tag()).or_else(|| t.get("en")))
        .and_then(|t| t.get(value))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| humanize(value))
}

fn is_document(schema: &Value) -> bool {
    schema.get("format").and_then(Value::as_str) == Some(softland_workflow::DOCUMENT_FORMAT)
}

fn type_of(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t,
        // `["string", "null"]`: the first non-null type.
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    }
}

fn enum_values(schema: &Value) -> Option<Vec<String>> {
    let values = schema.get("enum")?.as_array()?;
    Some(
        values
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
    )
}

/// An object's properties in the order a person fills them in: those `x-order` lists, in its
/// order; then the required ones, in `required`'s order (which schemas write in the order of
/// their properties); then the rest by name. (A schema reaches the console as a JSON value,
/// whose keys are sorted: the order the file wrote them in is gone.)
fn properties(schema: &Value) -> Vec<(&String, &Value)> {
    let Some(all) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let listed = |key: &str| {
        schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    let mut out: Vec<(&String, &Value)> = Vec::with_capacity(all.len());
    for name in listed("x-order").chain(listed("required")) {
        if let Some((k, v)) = all.get_key_value(name)
            && !out.iter().any(|(n, _)| *n == k)
        {
            out.push((k, v));
        }
    }
    for (k, v) in all {
        if !out.iter().any(|(n, _)| *n == k) {
            out.push((k, v));
        }
    }
    out
}

fn required_set(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

const LONG_TEXT_NAMES: [&str; 6] = [
    "description",
    "question",
    "answer",
    "reason",
    "comment",
    "notes",
];

fn string_kind(schema: &Value, name: &str) -> &'static str {
    match schema.get("format").and_then(Value::as_str) {
        Some("date") => "date",
        Some("email") => "email",
        Some("uri") => "url",
        _ if schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|n| n > 200)
            || LONG_TEXT_NAMES.contains(&name) =>
        {
            "textarea"
        }
        _ => "text",
    }
}

/// The controls of `schema` (an object schema), filled with `data` and `errors`. What is
/// left of `errors` afterwards (violations no control shows) moves to `errors.general`.
pub fn rows(schema: &Value, data: &Value, errors: &mut Errors, lang: Lang) -> Vec<Row> {
    rows_with_documents(schema, data, errors, lang, &[])
}

/// What the controls are built with: the page's language, and the documents a document field
/// may name (the caller's uploads not attached yet, as `(id, filename)` choices).
struct Ctx<'a> {
    lang: Lang,
    documents: &'a [Choice],
}

/// As [`rows`], with `documents` to choose from for fields of `format: softland-document`
/// (a choice for a field, check boxes for a list of them).
pub fn rows_with_documents(
    schema: &Value,
    data: &Value,
    errors: &mut Errors,
    lang: Lang,
    documents: &[Choice],
) -> Vec<Row> {
    let cx = Ctx { lang, documents };
    let mut out = Vec::new();
    object_rows(schema, data, "", 0, errors, &cx, &mut out);
    let rest: Vec<String> = std::mem::take(&mut errors.at)
        .into_iter()
        .map(|(path, v)| {
            let field = match v.missing.as_deref() {
                Some(name) => humanize(name),
                None if path.is_empty() => crate::i18n::text(lang).whole_form.to_owned(),
                None => humanize(path.rsplit('/').next().unwrap_or(&path)),
            };
            say(&v, &Value::Null, &field, lang)
        })
        .collect();
    errors.general.extend(rest);
    out
}

fn object_rows(
    schema: &Value,
    data: &Value,
    pointer: &str,
    depth: usize,
    errors: &mut Errors,
    cx: &Ctx<'_>,
    out: &mut Vec<Row>,
) {
    let lang = cx.lang;
    let required = required_set(schema);
    for (name, prop) in properties(schema) {
        let here = format!("{pointer}/{}", escape_pointer(name));
        let value = data.get(name).unwrap_or(&Value::Null);
        let is_required = required.contains(&name.as_str());
        if type_of(prop) == "object" {
            if depth + 1 >= MAX_DEPTH {
                continue;
            }
            let legend = title(prop, lang, name);
            out.push(Row {
                open: Some(Section {
                    error: errors.take(&here).map(|v| say(&v, prop, &legend, lang)),
                    legend,
                    description: description(prop, lang),
                }),
                ..Row::default()
            });
            object_rows(prop, value, &here, depth + 1, errors, cx, out);
            out.push(Row {
                close: true,
                ..Row::default()
            });
            continue;
        }
        out.push(Row {
            input: Some(control(prop, name, &here, value, is_required, errors, cx)),
            ..Row::default()
        });
    }
}

fn control(
    schema: &Value,
    name: &str,
    pointer: &str,
    value: &Value,
    required: bool,
    errors: &mut Errors,
    cx: &Ctx<'_>,
) -> Input {
    let lang = cx.lang;
    let label = title(schema, lang, name);
    let mut input = Input {
        name: pointer.to_owned(),
        id: format!("f{}", pointer.replace(['/', '~', ' '], "-")),
        error: errors.take(pointer).map(|v| say(&v, schema, &label, lang)),
        label,
        description: description(schema, lang),
        required,
        kind: "text",
        value: scalar_text(value),
        values: Vec::new(),
        options: Vec::new(),
    };
    let items = schema.get("items").unwrap_or(&Value::Null);
    if is_document(schema) || (type_of(schema) == "array" && is_document(items)) {
        let current: Vec<String> = match value {
            Value::String(id) => vec![id.clone()],
            Value::Array(ids) => ids
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let mut options: Vec<Choice> = cx
            .documents
            .iter()
            .map(|d| Choice {
                selected: current.contains(&d.value),
                ..d.clone()
            })
            .collect();
        // Named already (attached, or typed): kept as a choice.
        for id in &current {
            if !options.iter().any(|o| o.value == *id) {
                options.push(Choice {
                    value: id.clone(),
                    label: id.clone(),
                    selected: true,
                });
            }
        }
        input.options = options;
        input.kind = if type_of(schema) == "array" {
            "checkboxes"
        } else {
            "select"
        };
        return input;
    }
    match (type_of(schema), enum_values(schema)) {
        (_, Some(choices)) => {
            input.kind = "select";
            input.options = choices
                .iter()
                .map(|c| Choice {
                    label: option_label(schema, c, lang),
                    selected: *c == input.value,
                    value: c.clone(),
                })
                .collect();
        }
        ("array", _) => {
            let current: Vec<String> = value
                .as_array()
                .map(|a| a.iter().map(scalar_text).collect())
                .unwrap_or_default();
            // An item's violation (`/x/2`) shows at the list.
            let prefix = format!("{pointer}/");
            let item_error = errors
                .at
                .keys()
                .find(|k| k.starts_with(&prefix))
                .cloned()
                .and_then(|k| errors.take(&k))
                .map(|v| {
                    let item_schema = if v.rule == "document" { schema } else { items };
                    say(&v, item_schema, &input.label, lang)
                });
            input.error = input.error.or(item_error);
            if let Some(choices) = enum_values(items) {
                input.kind = "checkboxes";
                input.options = choices
                    .iter()
                    .map(|c| Choice {
                        label: option_label(items, c, lang),
                        selected: current.contains(c),
                        value: c.clone(),
                    })
                    .collect();
            } else {
                input.kind = "list";
                input.name = format!("{pointer}[]");
                input.values = current;
                if input.values.is_empty() {
                    input.values.push(String::new());
                }
            }
        }
        ("boolean", _) => {
            input.kind = "checkbox";
            input.value = if value.as_bool() == Some(true) {
                "true".into()
            } else {
                String::new()
            };
        }
        ("integer", _) => input.kind = "integer",
        ("number", _) => input.kind = "number",
        _ => input.kind = string_kind(schema, name),
    }
    input
}

mod errors;
mod read;
pub use errors::{Errors, Violation, say};
pub use read::{ReadRow, link_documents, read};

#[cfg(test)]
mod tests;
