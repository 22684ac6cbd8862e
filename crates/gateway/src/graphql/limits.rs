//! Limits every operation meets before it is parsed or run.
//!
//! - **Nesting.** async-graphql's parser, its value conversions and serde all recurse, so a
//!   4 KB request of 2 000 nested brackets would overflow the stack before any depth limit of
//!   the schema looks at it. The query text's bracket depth (`{`, `[`, `(` outside strings and
//!   comments) and the variables' depth are measured first, without recursion, and refused
//!   beyond [`MAX_NESTING`] with `BAD_USER_INPUT`.
//! - **Characters.** No string of a request — argument, variable or object key — may hold a
//!   NUL character: PostgreSQL cannot store one, and SQLite would; refusing it here gives the
//!   same `BAD_USER_INPUT` on both databases.
//! - **Aliases.** `a1: inbox {…} a2: inbox {…} …` multiplies work without deepening the query;
//!   async-graphql limits depth and complexity, this caps aliases per operation document.
//! - **Expansion.** Fragments multiply work without lengthening the text: `fragment F1 on Query
//!   { ...F0 ...F0 }` and so on doubles at every step, so 1 KB expands to millions of fields,
//!   which async-graphql's validation and execution would each walk. Before either runs, the
//!   fields a document expands to are counted — each fragment once, memoised, so the count is
//!   linear in the text — and refused past [`MAX_FIELDS`] with `TOO_COMPLEX`. WebSocket
//!   subscriptions pass through the same extension.

use std::sync::Arc;

use async_graphql::ValidationResult;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextValidation,
};
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Request, ServerError, ServerResult, Value, Variables};

use super::documents::DocumentCache;
use crate::codes::ErrorCode;

/// At most this many aliased fields per request.
pub const MAX_ALIASES: u64 = 30;

/// At most this many fields per request once every fragment spread is replaced by its fragment
/// (each occurrence counts). The standard introspection query expands to a few hundred.
pub const MAX_FIELDS: u64 = 2_000;

/// A list's cost when it is paged: its page size (`first`, else the default page, at most the
/// largest page) times what each item selects, plus one for the list itself.
pub(crate) fn page_cost(first: Option<i32>, child: usize) -> usize {
    let page = first.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    usize::try_from(page)
        .unwrap_or(1)
        .saturating_mul(child)
        .saturating_add(1)
}

/// A list's cost when it is not paged: what it usually holds times what each item selects.
pub(crate) fn list_cost(expected: usize, child: usize) -> usize {
    expected.saturating_mul(child).saturating_add(1)
}

/// What an unpaged list is counted as holding: an application's open tasks …
pub(crate) const FEW: usize = 4;
/// … its documents, a delivery's attempts …
pub(crate) const SOME: usize = 10;
/// … its history.
pub(crate) const MANY: usize = 25;
/// The page a list without `first` gets, and the largest.
pub(crate) const DEFAULT_PAGE: i32 = 20;
const MAX_PAGE: i32 = 100;

/// The most an operation may cost (async-graphql's complexity, with lists counted as above).
pub const MAX_COST: usize = 5_000;

/// The deepest nesting of brackets in a query text, and of lists and objects in its variables.
/// Forms and action inputs nest a few levels; the schema's own depth limit is 12.
pub const MAX_NESTING: usize = 32;

/// The limits, checked in `prepare_request`: the document is parsed there (or taken from the
/// memory of parsed documents) and handed to async-graphql parsed, so nothing of async-graphql
/// walks a document before it is measured — its own recursive-depth check walks fragment
/// spreads without memory, exponentially in a fan-out.
pub(crate) struct RequestLimits(DocumentCache);

impl RequestLimits {
    pub(crate) fn new(documents: DocumentCache) -> Self {
        RequestLimits(documents)
    }
}

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestLimitsExtension(self.0.clone()))
    }
}

struct RequestLimitsExtension(DocumentCache);

/// A refusal with `extensions.code`.
pub(crate) fn refusal(code: ErrorCode, message: String) -> ServerError {
    crate::metrics::error(code);
    let mut e = ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code.as_str());
    e.extensions = Some(ext);
    e
}

/// The deepest bracket nesting of a GraphQL document, ignoring strings (`"…"` with escapes,
/// `"""…"""` block strings) and `#` comments. Linear, no recursion.
pub(crate) fn text_nesting(query: &str) -> usize {
    let b = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped delimiter inside a block string
                    i += if b[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// The deepest nesting of lists and objects in `values`, walked with an explicit stack.
pub(crate) fn value_nesting<'a>(values: impl Iterator<Item = &'a Value>) -> usize {
    let mut stack: Vec<(&Value, usize)> = values.map(|v| (v, 1)).collect();
    let mut deepest = 0;
    while let Some((v, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        if depth > MAX_NESTING {
            break;
        }
        match v {
            Value::List(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, depth + 1))),
            _ => {}
        }
    }
    deepest
}

/// A GraphQL value of either kind the parser makes (constants, and literals that may hold
/// variables), as far as the NUL check needs to see into it.
trait Scanned {
    /// The string, if this is one.
    fn text(&self) -> Option<&str>;
    /// The keys and the values inside a list or an object.
    fn inside(&self) -> (Vec<&str>, Vec<&Self>);
}

macro_rules! scanned {
    ($t:ty) => {
        impl Scanned for $t {
            fn text(&self) -> Option<&str> {
                match self {
                    Self::String(s) => Some(s),
                    _ => None,
                }
            }
            fn inside(&self) -> (Vec<&str>, Vec<&Self>) {
                match self {
                    Self::List(items) => (Vec::new(), items.iter().collect()),
                    Self::Object(map) => (
                        map.keys().map(|k| k.as_str()).collect(),
                        map.values().collect(),
                    ),
                    _ => (Vec::new(), Vec::new()),
                }
            }
        }
    };
}

scanned!(Value);
scanned!(async_graphql_value::Value);

/// Whether any string or object key of `values` holds a NUL character (an explicit stack:
/// no recursion).
fn holds_nul<'a, V: Scanned + 'a>(values: impl Iterator<Item = &'a V>) -> bool {
    let mut stack: Vec<&V> = values.collect();
    while let Some(v) = stack.pop() {
        if v.text().is_some_and(|s| s.contains('\0')) {
            return true;
        }
        let (keys, values) = v.inside();
        if keys.iter().any(|k| k.contains('\0')) {
            return true;
        }
        stack.extend(values);
    }
    false
}

type Arguments = [(
    Positioned<async_graphql::Name>,
    Positioned<async_graphql_value::Value>,
)];

/// Whether any literal argument of the document holds a NUL character.
fn document_nul(doc: &ExecutableDocument) -> bool {
    fn args_nul(args: &Arguments) -> bool {
        holds_nul(args.iter().map(|(_, v)| &v.node))
    }
    fn directives_nul(ds: &[Positioned<Directive>]) -> bool {
        ds.iter().any(|d| args_nul(&d.node.arguments))
    }
    let mut sets: Vec<&SelectionSet> = Vec::new();
    for (_, op) in doc.operations.iter() {
        if directives_nul(&op.node.directives)
            || op.node.variable_definitions.iter().any(|d| {
                directives_nul(&d.node.directives)
                    || holds_nul(d.node.default_value.iter().map(|v| &v.node))
            })
        {
            return true;
        }
        sets.push(&op.node.selection_set.node);
    }
    for f in doc.fragments.values() {
        if directives_nul(&f.node.directives) {
            return true;
        }
        sets.push(&f.node.selection_set.node);
    }
    while let Some(set) = sets.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    if args_nul(&f.node.arguments) || directives_nul(&f.node.directives) {
                        return true;
                    }
                    sets.push(&f.node.selection_set.node);
                }
                Selection::InlineFragment(i) => {
                    if directives_nul(&i.node.directives) {
                        return true;
                    }
                    sets.push(&i.node.selection_set.node);
                }
                Selection::FragmentSpread(s) => {
                    if directives_nul(&s.node.directives) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// What an operation expands to once every fragment spread is replaced by its fragment: the
/// fields it selects (each occurrence counts, so a fragment spread twice counts twice) and the
/// aliased ones among them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Expansion {
    pub(crate) fields: u64,
    pub(crate) aliases: u64,
}

impl Expansion {
    fn add(self, other: Expansion) -> Expansion {
        Expansion {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
        }
    }
}

/// Counts expansions, each fragment once (memoised): a document of `n` fragments that each
/// spread the previous one twice expands to 2^n fields, but costs `n` steps to count. Runs
/// before validation, so a fragment that spreads itself (around a circle) counts as nothing
/// where it recurs — validation refuses the document afterwards.
struct Expander<'d> {
    doc: &'d ExecutableDocument,
    done: std::collections::HashMap<&'d str, Expansion>,
    /// Fragments being counted (a spread of one of them is a cycle).
    open: std::collections::HashSet<&'d str>,
}

/// Fragments may spread fragments at most this deep (a chain of spreads is recursion here and
/// in async-graphql; no real operation comes near).
pub const MAX_FRAGMENT_DEPTH: usize = 32;

impl<'d> Expander<'d> {
    fn new(doc: &'d ExecutableDocument) -> Self {
        Expander {
            doc,
            done: Default::default(),
            open: Default::default(),
        }
    }

    /// The expansion of a selection set; `None` when fragments nest too deep. Recursion is
    /// bounded: the text nests at most [`MAX_NESTING`] deep, fragments [`MAX_FRAGMENT_DEPTH`].
    fn set(&mut self, set: &'d SelectionSet) -> Option<Expansion> {
        let mut total = Expansion::default();
        for s in &set.items {
            let part = match &s.node {
                Selection::Field(f) => Expansion {
                    fields: 1,
                    aliases: u64::from(f.node.alias.is_some()),
                }
                .add(self.set(&f.node.selection_set.node)?),
                Selection::InlineFragment(i) => self.set(&i.node.selection_set.node)?,
                Selection::FragmentSpread(s) => self.fragment(&s.node.fragment_name.node)?,
            };
            total = total.add(part);
        }
        Some(total)
    }

    fn fragment(&mut self, name: &'d str) -> Option<Expansion> {
        if let Some(e) = self.done.get(name) {
            return Some(*e);
        }
        if self.open.len() >= MAX_FRAGMENT_DEPTH {
            return None;
        }
        let Some(f) = self.doc.fragments.get(name) else {
            return Some(Expansion::default()); // validation says so
        };
        if !self.open.insert(name) {
            return Some(Expansion::default()); // a cycle: validation refuses it
        }
        let e = self.set(&f.node.selection_set.node);
        self.open.remove(name);
        let e = e?;
        self.done.insert(name, e);
        Some(e)
    }
}

/// The expansion of every operation of `doc` together; `None` when its fragments nest deeper
/// than [`MAX_FRAGMENT_DEPTH`].
pub(crate) fn expansion(doc: &ExecutableDocument) -> Option<Expansion> {
    let mut x = Expander::new(doc);
    let mut total = Expansion::default();
    for (_, op) in doc.operations.iter() {
        total = total.add(x.set(&op.node.selection_set.node)?);
    }
    Some(total)
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestLimitsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let doc = self.measured(&request.query, &request.variables)?;
        request.set_parsed_query(doc);
        next.run(ctx, request).await
    }

    /// The cost (async-graphql's complexity, lists counted by [`page_cost`] and
    /// [`list_cost`]) is refused past [`MAX_COST`] with a code of its own.
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let checked = next.run(ctx).await?;
        if checked.complexity > MAX_COST {
            return Err(vec![refusal(
                ErrorCode::TooComplex,
                format!(
                    "the query costs {} (a list counts as its page size times what each item selects); at most {MAX_COST} is allowed",
                    checked.complexity
                ),
            )]);
        }
        Ok(checked)
    }
}

impl RequestLimitsExtension {
    /// The parsed document, if the request is within every limit.
    fn measured(&self, query: &str, variables: &Variables) -> ServerResult<ExecutableDocument> {
        if text_nesting(query) > MAX_NESTING {
            return Err(refusal(
                ErrorCode::BadUserInput,
                format!("the query nests brackets more than {MAX_NESTING} deep"),
            ));
        }
        // The variables' own map is level 0; each variable's value starts at 1.
        if value_nesting(variables.values()) > MAX_NESTING {
            return Err(refusal(
                ErrorCode::BadUserInput,
                format!("a variable nests lists or objects more than {MAX_NESTING} deep"),
            ));
        }
        if holds_nul(variables.values()) || variables.keys().any(|k| k.contains('\0')) {
            return Err(nul());
        }
        let doc = self.0.parse(query)?;
        if document_nul(&doc) {
            return Err(nul());
        }
        let Some(Expansion { fields, aliases }) = expansion(&doc) else {
            return Err(refusal(
                ErrorCode::TooComplex,
                format!("fragments spread fragments more than {MAX_FRAGMENT_DEPTH} deep"),
            ));
        };
        if fields > MAX_FIELDS {
            return Err(refusal(
                ErrorCode::TooComplex,
                format!(
                    "the query selects {fields} fields once its fragments are spread out; at most {MAX_FIELDS} are allowed"
                ),
            ));
        }
        if aliases > MAX_ALIASES {
            return Err(refusal(
                ErrorCode::BadUserInput,
                format!("the query uses {aliases} aliases; at most {MAX_ALIASES} are allowed"),
            ));
        }
        Ok(doc)
    }
}

fn nul() -> ServerError {
    refusal(
        ErrorCode::BadUserInput,
        "strings may not contain the NUL character (U+0000)".to_owned(),
    )
}

#[cfg(test)]
mod tests;
