//! Diagnostics: every problem found while compiling a definition, with its place in the YAML.
//!
//! Compilation never stops at the first problem: each stage pushes onto one [`Diagnostics`] list
//! and the caller gets all of them at once, sorted by position. Every diagnostic carries a stable
//! [`Code`] (documented in `docs/workflow-language.md`) so tools can match on it.

use std::fmt;

/// A 1-based line and column in the YAML source. `0:0` means "the whole file".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Pos {
    /// A position at `line`:`column`.
    pub const fn new(line: u32, column: u32) -> Self {
        Self { line, column }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A registry of stable codes: an enum with a doc comment per code, `ALL` in documentation
/// order and `as_str` for the text form tools match on. The workflow language's diagnostic
/// codes use it, and so do the API's error codes (`softland_gateway::ErrorCode`).
#[macro_export]
macro_rules! code_registry {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[doc = $doc:literal])* $variant:ident => $text:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[doc = $doc])* $variant,)*
        }

        impl $name {
            /// Every code, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable text form of the code.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// The code a text form names (`None`: not one of this registry).
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|c| c.as_str() == text)
            }
        }
    };
}

code_registry! {
    /// Stable diagnostic codes. The text form (`unknown-target`) is what tools match on.
    Code {
        /// The file is not valid YAML.
        YamlSyntax => "yaml-syntax",
        /// A mapping has a key the language does not know (often a typo).
        UnknownKey => "unknown-key",
        /// A value has the wrong type (e.g. a list where a mapping is expected).
        WrongType => "wrong-type",
        /// A required key is missing.
        MissingKey => "missing-key",
        /// A value is not one of the allowed ones, or is malformed (e.g. a bad workflow key).
        InvalidValue => "invalid-value",
        /// Two states (or actions, branches, seats…) share a name.
        DuplicateName => "duplicate-name",
        /// A transition names a state that does not exist.
        UnknownTarget => "unknown-target",
        /// A transition crosses into a parallel branch from outside it, or between branches.
        InvalidTarget => "invalid-target",
        /// A construct is used where it is not allowed (e.g. `done` outside a branch).
        Misplaced => "misplaced",
        /// A state can never be reached from `start`.
        UnreachableState => "unreachable-state",
        /// From this state no path leads to a final state: applications would be stuck.
        NoPathToFinal => "no-path-to-final",
        /// A parallel branch can neither finish (`done`) nor leave the parallel state.
        BranchCannotFinish => "branch-cannot-finish",
        /// A parallel join or k-of-n approval needs more than can ever arrive.
        JoinCannotFire => "join-cannot-fire",
        /// Choice states form a cycle with no task in between: it would loop forever.
        ChoiceCycle => "choice-cycle",
        /// A choice has no `otherwise` branch.
        MissingOtherwise => "missing-otherwise",
        /// A CEL condition does not parse.
        ConditionSyntax => "condition-syntax",
        /// A condition is too long, too deep, has too many operators, or nests a comprehension in
        /// another (bounds that keep compiling and evaluating it cheap).
        ConditionTooComplex => "condition-too-complex",
        /// A CEL condition references a variable or form field that does not exist.
        UnknownField => "unknown-field",
        /// A JSON Schema (form or action input) is not a valid schema.
        InvalidSchema => "invalid-schema",
        /// A schema file referenced by `form: {file: …}` cannot be loaded.
        SchemaFile => "schema-file",
        /// An ISO 8601 duration is malformed, or not usable with business days.
        InvalidDuration => "invalid-duration",
        /// A four-eyes rule (`distinct_from`) names an unknown or non-task step.
        UnknownStep => "unknown-step",
        /// An assignee is not one of the agencies the workflow declares, or (at publish) the
        /// directory does not know a declared agency.
        UnknownAgency => "unknown-agency",
        /// An overdue rule names an action the task does not offer.
        UnknownAction => "unknown-action",
        /// A step's clock pauses on an information request (`on_request: pause`, `max_pauses`)
        /// but no request of it can come back to it: the clock would never resume.
        PauseCannotResume => "pause-cannot-resume",
        /// An action or a waitlist names a pool that `pools` does not declare.
        UnknownPool => "unknown-pool",
        /// An action confirms a place that some path to it never reserved (or released).
        ConfirmWithoutReserve => "confirm-without-reserve",
        /// An action reserves a place that some path to a final state neither confirms nor
        /// releases: the place would be held for ever.
        ReserveWithoutRelease => "reserve-without-release",
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where in the YAML.
    pub pos: Pos,
    /// What kind of problem (stable).
    pub code: Code,
    /// What is wrong and, where possible, what to do about it.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `pos`.
    pub fn new(pos: Pos, code: Code, message: impl Into<String>) -> Self {
        Self {
            pos,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.pos, self.code, self.message)
    }
}

/// All problems found in one definition, sorted by position.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
    /// "Did you mean" hints given so far (each costs distance computations; see [`HINTS`]).
    hints: usize,
}

impl PartialEq for Diagnostics {
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
    }
}

impl Eq for Diagnostics {}

/// "Did you mean" hints per definition: a hostile definition with thousands of unknown names
/// gets hints for the first few only, so compiling stays linear in its size.
pub const HINTS: usize = 32;
/// Names longer than this get no hint (nobody mistypes a 65-character name into another).
pub const HINT_NAME_CHARS: usize = 64;
/// At most this many candidates are compared for one hint.
pub const HINT_CANDIDATES: usize = 500;

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(iter: I) -> Self {
        Diagnostics {
            list: iter.into_iter().collect(),
            hints: 0,
        }
    }
}

impl Diagnostics {
    /// "; did you mean `x`?" or "" — within the definition's budget of [`HINTS`].
    pub(crate) fn did_you_mean<'a>(
        &mut self,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> String {
        if self.hints >= HINTS {
            return String::new();
        }
        self.hints += 1;
        suggest(wrong, candidates)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default()
    }

    pub(crate) fn push(&mut self, pos: Pos, code: Code, message: impl Into<String>) {
        self.list.push(Diagnostic::new(pos, code, message));
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// How many problems.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The problems, sorted by position.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.list.iter()
    }

    pub(crate) fn finish(mut self) -> Self {
        self.list
            .sort_by(|a, b| a.pos.cmp(&b.pos).then_with(|| a.message.cmp(&b.message)));
        self.list.dedup();
        self
    }

    /// Formats every diagnostic compiler-style: `path:line:column: code: message`.
    pub fn render(&self, path: &str) -> String {
        self.list.iter().map(|d| format!("{path}:{d}\n")).collect()
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.list {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest candidate to `wrong` by edit distance, when close enough to be a likely typo.
/// Bounded: names over [`HINT_NAME_CHARS`] get none, at most [`HINT_CANDIDATES`] candidates
/// of a near length are compared, and each comparison stops once it exceeds the limit.
pub(crate) fn suggest<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wrong: Vec<char> = wrong.chars().take(HINT_NAME_CHARS + 1).collect();
    if wrong.len() > HINT_NAME_CHARS {
        return None;
    }
    let limit = (wrong.len() / 3).max(2);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates
        .into_iter()
        .filter(|c| c.len() <= HINT_NAME_CHARS * 4)
        .take(HINT_CANDIDATES)
    {
        let b: Vec<char> = c.chars().collect();
        if b.len().abs_diff(wrong.len()) > limit {
            continue;
        }
        let bound = best.map_or(limit, |(d, _)| d.saturating_sub(1));
        if let Some(d) = levenshtein_within(&wrong, &b, bound)
            && best.is_none_or(|(bd, _)| d < bd)
        {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// The edit distance of `a` and `b` if it is at most `limit`; stops as soon as every way
/// through the table costs more.
fn levenshtein_within(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        let mut smallest = row[0];
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            smallest = smallest.min(row[j + 1]);
            prev = cur;
        }
        if smallest > limit {
            return None;
        }
    }
    Some(row[b.len()]).filter(|d| *d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["review", "approved", "rejected"];
        assert_eq!(suggest("reveiw", names), Some("review"));
        assert_eq!(suggest("aproved", names), Some("approved"));
        assert_eq!(suggest("zzzzzz", names), None);
        let long = "x".repeat(HINT_NAME_CHARS + 1);
        assert_eq!(
            suggest(&long, [long.as_str()]),
            None,
            "long names get no hint"
        );
    }

    #[test]
    fn a_definition_gets_a_bounded_number_of_hints() {
        let mut d = Diagnostics::default();
        let hints: Vec<String> = (0..HINTS + 5)
            .map(|_| d.did_you_mean("reveiw", ["review"]))
            .collect();
        assert!(hints[..HINTS].iter().all(|h| h.contains("review")));
        assert!(hints[HINTS..].iter().all(String::is_empty));
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
        }
    }
}
