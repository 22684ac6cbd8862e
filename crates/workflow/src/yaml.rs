//! Stage 1: YAML text -> a tree of [`Node`]s, each with its position.
//!
//! We do not deserialize straight into structs: serde stops at the first unknown key or wrong
//! type. Reading a generic, spanned tree first lets the next stage ([`crate::raw`]) report every
//! problem in the file at once.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diagnostic::{Code, Diagnostics, Pos};

/// A YAML value with positions on every node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

pub(crate) fn pos_of<T>(s: &Spanned<T>) -> Pos {
    Pos::new(s.referenced.line() as u32, s.referenced.column() as u32)
}

impl Node {
    /// What the value is, for "expected a mapping, found a list" messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "nothing (null)",
            Node::Bool(_) => "a boolean",
            Node::Int(_) | Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// The node as JSON (for inline JSON Schemas).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Str(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(|i| i.value.to_json()).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.value.to_json()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// The deepest nesting of mappings and lists a definition may have.
pub const MAX_YAML_DEPTH: usize = 40;

/// Parses YAML into a spanned tree; a syntax error becomes one diagnostic.
pub(crate) fn parse(source: &str, diags: &mut Diagnostics) -> Option<Spanned<Node>> {
    // The parser and the tree walks recurse once per level: bound the nesting well below what
    // a thread's stack holds. Definitions nest about ten levels (an inline form schema a few
    // more); the byte size is bounded by whoever hands the text over (the API's body limit).
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_YAML_DEPTH,
            flow_nesting_limit: MAX_YAML_DEPTH,
        },
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<Spanned<Node>>(source, options) {
        Ok(node) => Some(node),
        Err(err) => {
            let pos = err
                .location()
                .map(|l| Pos::new(l.line() as u32, l.column() as u32))
                .unwrap_or(Pos::new(1, 1));
            let message = err.without_snippet().to_string();
            // The library appends " at line X column Y"; the position is already in front.
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_owned(),
                None => message,
            };
            diags.push(pos, Code::YamlSyntax, for_people(&err, message));
            None
        }
    }
}

/// The schema file a definition names with `form: {file: …}`, if it names one (read without
/// checking the rest: for finding the form a stored version was published with).
pub fn form_file(source: &str) -> Option<String> {
    let root = parse(source, &mut Diagnostics::default())?;
    let Node::Map(entries) = root.value else {
        return None;
    };
    let (_, form) = entries.iter().find(|(k, _)| k.value == "form")?;
    match &form.value {
        Node::Map(form) if form.len() == 1 && form[0].0.value == "file" => match &form[0].1.value {
            Node::Str(file) => Some(file.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The library's errors whose own words speak of its API or internals, said for an author;
/// told apart by the error's kind, never by its text.
fn for_people(err: &serde_saphyr::Error, message: String) -> String {
    match err.without_snippet() {
        serde_saphyr::Error::MultipleDocuments { .. } => {
            "a definition is one YAML document: remove the `---` separator and what follows"
                .to_owned()
        }
        serde_saphyr::Error::Budget { .. } => too_deep(),
        serde_saphyr::Error::ExternalMessage { source, .. } if nests_too_deep(source) => too_deep(),
        _ => message,
    }
}

/// The parser's own refusal of nesting past its recursion limit.
fn nests_too_deep(source: &serde_saphyr::ExternalMessageSource) -> bool {
    use serde_saphyr::granit_parser::ErrorKind;
    matches!(
        source,
        serde_saphyr::ExternalMessageSource::Parser(e) if matches!(e.kind(), ErrorKind::RecursionLimitExceeded)
    )
}

fn too_deep() -> String {
    format!(
        "the YAML nests more than {MAX_YAML_DEPTH} levels deep or is too large to be a \
             workflow definition"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_form_file_a_definition_names() {
        assert_eq!(
            form_file("key: a\nform: {file: ../schemas/forms/a.json}\n").as_deref(),
            Some("../schemas/forms/a.json")
        );
        assert_eq!(form_file("key: a\nform: {type: object}\n"), None);
        assert_eq!(form_file("key: [\n"), None);
    }

    #[test]
    fn nodes_carry_positions() {
        let mut d = Diagnostics::default();
        let root = parse("a: 1\nb:\n  - x\n  - {c: true}\n", &mut d).expect("parses");
        assert!(d.is_empty());
        let Node::Map(entries) = &root.value else {
            panic!("not a map")
        };
        assert_eq!(entries[0].0.value, "a");
        assert_eq!(pos_of(&entries[1].0), Pos::new(2, 1));
        let Node::Seq(items) = &entries[1].1.value else {
            panic!("not a seq")
        };
        assert_eq!(pos_of(&items[1]), Pos::new(4, 5));
        assert_eq!(items[0].value, Node::Str("x".into()));
    }

    #[test]
    fn syntax_error_has_a_position() {
        let mut d = Diagnostics::default();
        assert!(parse("a: [1, 2\nb: 3\n", &mut d).is_none());
        let diag = d.iter().next().expect("one diagnostic");
        assert_eq!(diag.code, Code::YamlSyntax);
        assert!(diag.pos.line >= 1);
    }

    #[test]
    fn library_internals_are_not_shown() {
        for (source, said) in [
            ("key: a\n---\nkey: b\n".to_owned(), "is one YAML document"),
            (
                format!("key: {}{}", "[".repeat(10_000), "]".repeat(10_000)),
                "nests more than 40 levels",
            ),
            (
                format!("key: {}1{}", "{a: ".repeat(1_000), "}".repeat(1_000)),
                "nests more than 40 levels",
            ),
        ] {
            let mut d = Diagnostics::default();
            assert!(parse(&source, &mut d).is_none());
            let message = &d.iter().next().expect("one diagnostic").message;
            assert!(
                !message.contains("from_str") && !message.contains('{'),
                "{message}"
            );
            assert!(message.contains(said), "{message}");
        }
    }
}
