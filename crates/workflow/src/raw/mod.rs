//! Stage 2: the spanned YAML tree -> raw definition structs, with every structural problem
//! (unknown key, wrong type, missing key, duplicate name) reported with its position.
//!
//! Nothing is resolved here: state names are still strings. [`crate::analyze`] does that.

mod kinds;

use serde_saphyr::Spanned;

use crate::diagnostic::{Code, Diagnostics, Pos};
use crate::model::Text;
use crate::rawdef::*;
use crate::yaml::{Node, pos_of};

mod places;
mod programme;

type SNode = Spanned<Node>;

/// The fields of one mapping, checked against the allowed keys.
struct Fields<'n> {
    pos: Pos,
    entries: Vec<(&'n Spanned<String>, &'n SNode)>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n SNode> {
        self.entries
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| *v)
    }
}

pub(crate) struct Reader<'d> {
    d: &'d mut Diagnostics,
}

impl<'d> Reader<'d> {
    pub(crate) fn new(d: &'d mut Diagnostics) -> Self {
        Self { d }
    }

    fn err(&mut self, pos: Pos, code: Code, msg: impl Into<String>) {
        self.d.push(pos, code, msg);
    }

    /// A mapping's entries; reports duplicates and (when `allowed` is given) unknown keys.
    fn entries<'n>(
        &mut self,
        n: &'n SNode,
        what: &str,
        allowed: Option<&[&str]>,
    ) -> Option<Fields<'n>> {
        let Node::Map(entries) = &n.value else {
            self.err(
                pos_of(n),
                Code::WrongType,
                format!("{what} must be a mapping, found {}", n.value.kind()),
            );
            return None;
        };
        let mut seen: Vec<&Spanned<String>> = Vec::new();
        let mut kept = Vec::new();
        for (k, v) in entries {
            if let Some(first) = seen.iter().find(|s| s.value == k.value) {
                let first = pos_of(first);
                self.err(
                    pos_of(k),
                    Code::DuplicateName,
                    format!(
                        "`{}` is given twice in {what} (first at line {})",
                        k.value, first.line
                    ),
                );
                continue;
            }
            seen.push(k);
            if let Some(allowed) = allowed
                && !allowed.contains(&k.value.as_str())
            {
                let hint = self.d.did_you_mean(&k.value, allowed.iter().copied());
                let hint = if hint.is_empty() {
                    format!("; allowed: {}", allowed.join(", "))
                } else {
                    hint
                };
                self.err(
                    pos_of(k),
                    Code::UnknownKey,
                    format!("unknown key `{}` in {what}{hint}", k.value),
                );
                continue;
            }
            kept.push((k, v));
        }
        Some(Fields {
            pos: pos_of(n),
            entries: kept,
        })
    }

    fn string(&mut self, n: &SNode, what: &str) -> Option<Sp<String>> {
        match &n.value {
            Node::Str(s) if !s.trim().is_empty() => Some(Sp {
                v: s.clone(),
                pos: pos_of(n),
            }),
            Node::Str(_) => {
                self.err(
                    pos_of(n),
                    Code::InvalidValue,
                    format!("{what} must not be empty"),
                );
                None
            }
            Node::Int(i) => Some(Sp {
                v: i.to_string(),
                pos: pos_of(n),
            }),
            Node::Bool(_) => {
                self.err(pos_of(n), Code::WrongType, format!("{what} must be a string, found a boolean (YAML reads unquoted yes/no/on/off/true/false as booleans: quote it)"));
                None
            }
            other => {
                self.err(
                    pos_of(n),
                    Code::WrongType,
                    format!("{what} must be a string, found {}", other.kind()),
                );
                None
            }
        }
    }

    fn required<'n>(&mut self, f: &Fields<'n>, key: &str, what: &str) -> Option<&'n SNode> {
        let v = f.get(key);
        if v.is_none() {
            self.err(f.pos, Code::MissingKey, format!("{what} needs `{key}`"));
        }
        v
    }

    fn req_string(&mut self, f: &Fields<'_>, key: &str, what: &str) -> Option<Sp<String>> {
        let n = self.required(f, key, what)?;
        self.string(n, &format!("`{key}` of {what}"))
    }

    fn opt_string(&mut self, f: &Fields<'_>, key: &str, what: &str) -> Option<Sp<String>> {
        let n = f.get(key)?;
        self.string(n, &format!("`{key}` of {what}"))
    }

    /// A string or a list of strings.
    fn strings(&mut self, n: &SNode, what: &str) -> Vec<Sp<String>> {
        match &n.value {
            Node::Seq(items) => items.iter().filter_map(|i| self.string(i, what)).collect(),
            _ => self.string(n, what).into_iter().collect(),
        }
    }

    fn text(&mut self, n: &SNode, what: &str) -> Option<Text> {
        match &n.value {
            Node::Str(s) => Some(Text::en(s.clone())),
            Node::Map(_) => {
                let f = self.entries(n, what, Some(keys::TEXT))?;
                let en = self.req_string(&f, "en", what)?;
                let zh_hant = self.opt_string(&f, "zh-Hant", what).map(|s| s.v);
                let zh_hans = self.opt_string(&f, "zh-Hans", what).map(|s| s.v);
                Some(Text {
                    en: en.v,
                    zh_hant,
                    zh_hans,
                })
            }
            other => {
                self.err(pos_of(n), Code::WrongType, format!("{what} must be a string or a mapping of translations (en, zh-Hant, zh-Hans), found {}", other.kind()));
                None
            }
        }
    }

    fn opt_text(&mut self, f: &Fields<'_>, key: &str, what: &str) -> Option<Text> {
        let n = f.get(key)?;
        self.text(n, &format!("`{key}` of {what}"))
    }

    fn count(&mut self, n: &SNode, what: &str) -> Option<Sp<Count>> {
        let v = match &n.value {
            Node::Str(s) if s == "all" => Count::All,
            Node::Str(s) if s == "any" => Count::Any,
            Node::Int(i) => Count::N(*i),
            other => {
                self.err(
                    pos_of(n),
                    Code::WrongType,
                    format!(
                        "{what} must be `all`, `any` or a number, found {}",
                        other.kind()
                    ),
                );
                return None;
            }
        };
        Some(Sp { v, pos: pos_of(n) })
    }

    /// Reads the whole definition.
    pub(crate) fn definition(&mut self, root: &SNode) -> RawDef {
        let mut def = RawDef::default();
        let Some(f) = self.entries(root, "the workflow", Some(keys::ROOT)) else {
            return def;
        };
        def.key = self.req_string(&f, "key", "the workflow");
        if let Some(key) = &def.key {
            let ok = key.v.starts_with(|c: char| c.is_ascii_lowercase())
                && key
                    .v
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                self.err(key.pos, Code::InvalidValue, format!("workflow key `{}` must be lowercase letters, digits and dashes, starting with a letter", key.v));
            }
        }
        if self.required(&f, "title", "the workflow").is_some() {
            def.title = self.opt_text(&f, "title", "the workflow");
        }
        def.description = self.opt_text(&f, "description", "the workflow");
        if let Some(n) = f.get("agencies") {
            def.agencies = self.strings(n, "an agency key");
        }
        self.programme(&f, &mut def);
        if let Some(n) = f.get("pools") {
            def.pools = self.pools(n);
        }
        if let Some(n) = self.required(&f, "form", "the workflow") {
            def.form = self.form(n);
        }
        def.start = self.req_string(&f, "start", "the workflow");
        if let Some(n) = self.required(&f, "states", "the workflow") {
            self.states(n, None, &mut def.states);
        }
        def
    }

    fn states(&mut self, n: &SNode, branch: Option<(usize, u16)>, out: &mut Vec<RawState>) {
        let Some(f) = self.entries(n, "`states`", None) else {
            return;
        };
        if f.entries.is_empty() {
            self.err(
                f.pos,
                Code::InvalidValue,
                "`states` must name at least one state",
            );
        }
        for (name, body) in f.entries {
            let name = Sp {
                v: name.value.clone(),
                pos: pos_of(name),
            };
            self.state(name, body, branch, out);
        }
    }

    fn state(
        &mut self,
        name: Sp<String>,
        n: &SNode,
        branch: Option<(usize, u16)>,
        out: &mut Vec<RawState>,
    ) {
        let what = format!("state `{}`", name.v);
        let index = out.len();
        // Read the type first: it decides which keys are allowed.
        let ty = match &n.value {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.value == "type")
                .map(|(_, v)| v),
            _ => None,
        };
        let ty = match ty {
            None => {
                if matches!(n.value, Node::Map(_)) {
                    self.err(
                        name.pos,
                        Code::MissingKey,
                        format!("{what} needs `type` (one of: {})", keys::TYPES.join(", ")),
                    );
                } else {
                    self.err(
                        pos_of(n),
                        Code::WrongType,
                        format!("{what} must be a mapping, found {}", n.value.kind()),
                    );
                }
                None
            }
            Some(t) => match &t.value {
                Node::Str(s) if keys::TYPES.contains(&s.as_str()) => Some(s.as_str()),
                other => {
                    let shown = if let Node::Str(s) = other {
                        format!("`{s}`")
                    } else {
                        other.kind().to_owned()
                    };
                    let hint = if let Node::Str(s) = other {
                        self.d.did_you_mean(s, keys::TYPES.iter().copied())
                    } else {
                        String::new()
                    };
                    let hint = if hint.is_empty() {
                        format!("; use one of: {}", keys::TYPES.join(", "))
                    } else {
                        hint
                    };
                    self.err(
                        pos_of(t),
                        Code::InvalidValue,
                        format!("unknown state type {shown}{hint}"),
                    );
                    None
                }
            },
        };
        let allowed = match ty {
            Some("task") => keys::TASK,
            Some("approval") => keys::APPROVAL,
            Some("choice") => keys::CHOICE,
            Some("parallel") => keys::PARALLEL,
            Some("final") => keys::FINAL,
            Some("done") => keys::DONE,
            Some("waitlist") => keys::WAITLIST,
            _ => {
                out.push(RawState {
                    name,
                    title: None,
                    kind: RawKind::Invalid,
                    branch,
                });
                return;
            }
        };
        let Some(f) = self.entries(n, &what, Some(allowed)) else {
            return;
        };
        let title = self.opt_text(&f, "title", &what);
        out.push(RawState {
            name,
            title,
            kind: RawKind::Invalid,
            branch,
        });
        let kind = match ty {
            Some("task") => self.task(&f, &what),
            Some("approval") => self.approval(&f, &what),
            Some("choice") => self.choice(&f, &what),
            Some("parallel") => self.parallel(&f, &what, index, out),
            Some("final") => RawKind::Final {
                outcome: self.req_string(&f, "outcome", &what),
                places: self.places(&f, &what),
            },
            Some("waitlist") => RawKind::Waitlist {
                pool: self.req_string(&f, "pool", &what),
                promote_to: self.req_string(&f, "promote_to", &what),
            },
            _ => RawKind::Done,
        };
        out[index].kind = kind;
    }
}
