//! Everything a person reads of a bundled workflow comes in their language (issue 30, item 7):
//! the workflow's title and description, every state's and action's title, and every title,
//! description and choice label of its forms and action inputs, in Traditional and Simplified
//! Chinese as well as English. A missing translation fails here, naming where it is.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::Value;
use softland_workflow::{StateKind, Text};

const BUNDLED: [&str; 3] = [
    "soft-landing-sz-to-hk",
    "soft-landing-hk-to-sz",
    "internship-placement",
];

fn check_text(text: &Text, place: &str, missing: &mut Vec<String>) {
    for (tag, t) in [("zh-Hant", &text.zh_hant), ("zh-Hans", &text.zh_hans)] {
        if t.as_deref().is_none_or(|t| t.trim().is_empty()) {
            missing.push(format!("{place}: no {tag} for {:?}", text.en));
        }
    }
}

/// A JSON Schema's words: `title` with `x-title`, `description` with `x-description`, and
/// `x-enum-titles`/`x-options` labels, at every level.
fn check_schema(schema: &Value, place: &str, missing: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        return;
    };
    for (word, translated) in [("title", "x-title"), ("description", "x-description")] {
        if let Some(en) = object.get(word).and_then(Value::as_str) {
            for tag in ["zh-Hant", "zh-Hans"] {
                let has = object
                    .get(translated)
                    .and_then(|t| t.get(tag))
                    .and_then(Value::as_str)
                    .is_some_and(|t| !t.trim().is_empty());
                if !has {
                    missing.push(format!("{place}: no {translated}.{tag} for {en:?}"));
                }
            }
        }
    }
    if let Some(values) = object.get("enum").and_then(Value::as_array) {
        for value in values.iter().filter_map(Value::as_str) {
            for tag in ["zh-Hant", "zh-Hans"] {
                let has = object
                    .get("x-enum-titles")
                    .and_then(|t| t.get(tag))
                    .and_then(|t| t.get(value))
                    .is_some();
                if !has {
                    missing.push(format!("{place}: no x-enum-titles.{tag}.{value}"));
                }
            }
        }
    }
    if let Some(props) = object.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            // Without a title a field is labelled by its name, in English words.
            if prop.get("title").is_none() {
                missing.push(format!("{place}/{name}: no title"));
            }
            check_schema(prop, &format!("{place}/{name}"), missing);
        }
    }
    if let Some(items) = object.get("items") {
        check_schema(items, &format!("{place}[]"), missing);
    }
}

#[test]
fn every_bundled_workflow_speaks_three_languages() {
    let mut missing = Vec::new();
    for key in BUNDLED {
        let wf = bundled(key);
        check_text(wf.title(), &format!("{key}: title"), &mut missing);
        if let Some(d) = wf.description() {
            check_text(d, &format!("{key}: description"), &mut missing);
        }
        check_schema(wf.form_schema(), &format!("{key}: form"), &mut missing);
        for state in wf.states() {
            let place = format!("{key}: state {}", state.name());
            let shown = !matches!(state.kind(), StateKind::Done | StateKind::Parallel(_));
            if shown {
                check_text(state.title(), &place, &mut missing);
            }
            for action in state.offered_actions() {
                let place = format!("{place}, action {}", action.name);
                check_text(&action.title, &place, &mut missing);
                if let Some(input) = &action.input_schema {
                    check_schema(input, &format!("{place} input"), &mut missing);
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "untranslated words:\n{}",
        missing.join("\n")
    );
}
