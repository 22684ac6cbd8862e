//! The API's violations of a form: placed at their controls ([`Errors`]) and said as sentences
//! in the reader's language ([`say`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use softland_workflow::Lang;

use super::escape_pointer;

/// One input violation, as the API reports it (`extensions.violations`).
#[derive(Debug, Clone, Deserialize)]
pub struct Violation {
    /// A JSON pointer to the value (`/` the whole form).
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
    /// For a missing required property: its name (`path` is its object).
    #[serde(default)]
    pub missing: Option<String>,
    /// The JSON Schema keyword it breaks (`required`, `pattern`, `minLength`, …).
    #[serde(default)]
    pub rule: String,
    /// The rule's bound (`20` for `minLength: 20`, `"date"` for a format).
    #[serde(default)]
    pub limit: Option<Value>,
}

/// A violation as a sentence in `lang`, naming the field by `field` (its title): the field's
/// own message when its schema gives one (`x-messages: {en, zh-Hant, zh-Hans}`), else the
/// rule said in the reader's words. Never the validator's English or a regular expression.
pub fn say(v: &Violation, schema: &Value, field: &str, lang: Lang) -> String {
    if let Some(own) = schema.get("x-messages") {
        let said = own
            .get(lang.tag())
            .or_else(|| own.get("en"))
            .and_then(Value::as_str);
        if let Some(said) = said {
            return said.to_owned();
        }
    }
    let t = crate::i18n::text(lang);
    let limit = match &v.limit {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let words = match (v.rule.as_str(), limit.as_str()) {
        ("required", _) => t.v_required,
        ("pattern", _) => t.v_pattern,
        ("minLength", _) => t.v_min_length,
        ("maxLength", _) => t.v_max_length,
        ("minimum" | "exclusiveMinimum", _) => t.v_minimum,
        ("maximum" | "exclusiveMaximum", _) => t.v_maximum,
        ("minItems", _) => t.v_min_items,
        ("maxItems", _) => t.v_max_items,
        ("format", "date" | "date-time") => t.v_date,
        ("format", "email") => t.v_email,
        ("format", "uri" | "url") => t.v_uri,
        ("enum" | "const", _) => t.v_enum,
        ("type", _) => t.v_type,
        ("additionalProperties", _) => t.v_unknown,
        ("document", _) => t.v_document,
        _ => t.v_other,
    };
    words.replace("{field}", field).replace("{n}", &limit)
}

/// The API's violations by JSON pointer, and those no control shows.
#[derive(Debug, Clone, Default)]
pub struct Errors {
    pub(super) at: BTreeMap<String, Violation>,
    /// Violations of no control (shown above the form).
    pub general: Vec<String>,
}

impl Errors {
    /// Places the API's violations: at the control of their pointer, or — for a missing
    /// required property (reported at its object, naming it) — at the property's control; the
    /// rest in [`Errors::general`] once the form is built.
    pub fn from_violations(violations: &[Violation]) -> Self {
        let mut at = BTreeMap::new();
        for v in violations {
            let path = if v.path == "/" { "" } else { v.path.as_str() };
            let key = match &v.missing {
                Some(prop) => format!("{path}/{}", escape_pointer(prop)),
                None => path.to_owned(),
            };
            at.entry(key).or_insert_with(|| v.clone());
        }
        Errors {
            at,
            general: Vec::new(),
        }
    }

    /// Whether there is anything to show.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty() && self.general.is_empty()
    }

    pub(super) fn take(&mut self, pointer: &str) -> Option<Violation> {
        self.at.remove(pointer)
    }
}
