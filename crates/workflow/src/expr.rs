//! Conditions of choice states: CEL (Common Expression Language) over the application data.
//!
//! A condition sees one variable, `data`: the submitted form. Compiling checks the syntax and
//! that every `data.x.y` path names a property the form's JSON Schema declares, so a typo in a
//! field name is caught when the workflow is validated, not months later at run time.
//! Evaluation is sandboxed: CEL has no I/O, no loops beyond bounded comprehensions.
//!
//! Conditions are bounded before they are parsed, since CEL's tree (and every walk over it,
//! dropping it included) is as deep as its longest operator chain: at most
//! [`MAX_CONDITION_CHARS`] characters, [`MAX_OPERATORS`] operators and member accesses, brackets
//! [`MAX_BRACKETS`] deep. The cost of one evaluation is then linear in the form's size: a
//! comprehension (`exists`, `all`, `map`, …) may not contain another, since one nested in
//! another over a 3 000-item list makes nine million steps.

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::{Context, Program, Value as Cel};
use serde_json::Value;

use crate::schema::Schema;

mod direct;
mod values;
use direct::Direct;
use values::from_cel;
pub(crate) use values::{to_cel, to_cel_fields};

/// A compiled condition.
pub(crate) struct Condition {
    source: String,
    program: Program,
    fields: Option<Vec<String>>,
    /// The condition in the shape decided without CEL, if it is in it.
    direct: Option<Direct>,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

/// Why a condition did not compile. Positions are 1-based within the expression text.
#[derive(Debug)]
pub(crate) enum ConditionError {
    Syntax {
        line: u32,
        column: u32,
        message: String,
    },
    UnknownVariable(String),
    /// Beyond a bound of [`MAX_CONDITION_CHARS`], [`MAX_OPERATORS`], [`MAX_BRACKETS`], or a
    /// comprehension inside another; the position is where the bound was crossed.
    TooComplex {
        line: u32,
        column: u32,
        message: String,
    },
    UnknownField {
        path: String,
        known: Vec<String>,
    },
}

impl std::fmt::Display for ConditionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConditionError::Syntax {
                line,
                column,
                message,
            } => write!(f, "does not parse at {line}:{column}: {message}"),
            ConditionError::TooComplex { message, .. } => f.write_str(message),
            ConditionError::UnknownVariable(v) => {
                write!(f, "uses unknown variable `{v}` (the old form is `data`)")
            }
            ConditionError::UnknownField { path, .. } => {
                write!(f, "uses `{path}`, which the old form does not define")
            }
        }
    }
}

/// The longest condition, in characters.
pub const MAX_CONDITION_CHARS: usize = 2_000;
/// The most operators and member accesses (`+`, `&&`, `==`, `.`, `?`, …) in one condition.
pub const MAX_OPERATORS: usize = 100;
/// The deepest nesting of `(`, `[` and `{` in one condition.
pub const MAX_BRACKETS: usize = 12;

/// Checks the bounds on the text, without parsing it (linear, no recursion).
fn check_bounds(source: &str) -> Result<(), ConditionError> {
    let (mut line, mut column) = (1u32, 0u32);
    let (mut depth, mut operators) = (0usize, 0usize);
    let too_complex = |line, column, message: String| {
        Err(ConditionError::TooComplex {
            line,
            column,
            message,
        })
    };
    let mut chars = source.chars().enumerate().peekable();
    let mut quote: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if c == '\n' {
            line += 1;
            column = 0;
        } else {
            column += 1;
        }
        if i >= MAX_CONDITION_CHARS {
            return too_complex(
                line,
                column,
                format!("the condition is longer than {MAX_CONDITION_CHARS} characters"),
            );
        }
        if let Some(q) = quote {
            match c {
                '\\' => {
                    chars.next();
                    column += 1;
                }
                c if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_BRACKETS {
                    return too_complex(
                        line,
                        column,
                        format!("the condition nests brackets more than {MAX_BRACKETS} deep"),
                    );
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '+' | '-' | '*' | '/' | '%' | '<' | '>' | '=' | '!' | '&' | '|' | '?' | ':' | '.' => {
                // `&&`, `==`, `<=`, … are one operator
                if matches!(
                    (c, chars.peek().map(|(_, n)| *n)),
                    ('&', Some('&')) | ('|', Some('|')) | ('=' | '!' | '<' | '>', Some('='))
                ) {
                    chars.next();
                    column += 1;
                }
                // a digit's `.` is a decimal point, not a member access
                operators += 1;
                if operators > MAX_OPERATORS {
                    return too_complex(
                        line,
                        column,
                        format!(
                            "the condition has more than {MAX_OPERATORS} operators; split the \
                             decision into several choice states"
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Refuses a comprehension inside another: its cost is the product of two list sizes.
fn check_comprehensions(e: &IdedExpr, inside: bool, errors: &mut Vec<ConditionError>) {
    let mut visit = |c: &IdedExpr, inside: bool| check_comprehensions(c, inside, errors);
    match &e.expr {
        Expr::Comprehension(c) => {
            if inside {
                errors.push(ConditionError::TooComplex {
                    line: 1,
                    column: 1,
                    message: "a comprehension (`exists`, `all`, `map`, `filter`, …) inside \
                              another takes quadratic time; use one, over one list"
                        .to_owned(),
                });
                return;
            }
            visit(&c.iter_range, false);
            visit(&c.accu_init, false);
            for part in [&c.loop_cond, &c.loop_step, &c.result] {
                visit(part, true);
            }
        }
        Expr::Select(sel) => visit(&sel.operand, inside),
        Expr::Call(call) => {
            if let Some(t) = &call.target {
                visit(t, inside);
            }
            call.args.iter().for_each(|a| visit(a, inside));
        }
        Expr::List(list) => list.elements.iter().for_each(|el| visit(el, inside)),
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    visit(&me.key, inside);
                    visit(&me.value, inside);
                }
            }
        }
        Expr::Struct(st) => {
            for entry in &st.entries {
                if let EntryExpr::StructField(f) = &entry.expr {
                    visit(&f.value, inside);
                }
            }
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

impl Condition {
    /// Compiles `source`, checking field references against the form schema.
    pub(crate) fn compile(source: &str, form: Option<&Value>) -> Result<Self, Vec<ConditionError>> {
        check_bounds(source).map_err(|e| vec![e])?;
        let program = Program::compile(source).map_err(|errs| {
            errs.errors
                .iter()
                .map(|e| ConditionError::Syntax {
                    line: u32::try_from(e.pos.0.max(1)).unwrap_or(1),
                    column: u32::try_from(e.pos.1.max(0) + 1).unwrap_or(1),
                    message: e.msg.clone(),
                })
                .collect::<Vec<_>>()
        })?;
        let mut errors = Vec::new();
        check_comprehensions(program.expression(), false, &mut errors);
        let mut scope = vec![];
        check(program.expression(), form, &mut scope, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut fields = Some(Vec::new());
        collect_fields(program.expression(), &mut fields);
        Ok(Self {
            source: source.to_owned(),
            direct: Direct::compile(program.expression()),
            program,
            fields,
        })
    }

    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Whether the condition holds for the form `data`, where that is certain without CEL
    /// (see [`direct`]); `None` asks [`Self::eval`].
    pub(crate) fn decide(&self, data: &Value) -> Option<bool> {
        self.direct.as_ref()?.decide(data)
    }

    /// Evaluates against `data`. A non-boolean result or a runtime error (e.g. a missing
    /// optional field) is an error the engine records; the condition then counts as false.
    pub(crate) fn eval(&self, data: &Cel) -> Result<bool, String> {
        // Building a root context registers the whole standard library: do it once per thread
        // and give each evaluation a cheap inner scope.
        ROOT.with(|root| {
            let mut ctx = root.new_inner_scope();
            ctx.add_variable_from_value("data", data.clone());
            match self.program.execute(&ctx) {
                Ok(Cel::Bool(b)) => Ok(b),
                Ok(other) => Err(format!("condition gave {other:?}, not a boolean")),
                Err(e) => Err(e.to_string()),
            }
        })
    }

    /// Evaluates against `data` to any value (a migration's data change), as JSON. A value
    /// JSON cannot hold (bytes, a function, a timestamp) is an error.
    pub(crate) fn value(&self, data: &Cel) -> Result<Value, String> {
        ROOT.with(|root| {
            let mut ctx = root.new_inner_scope();
            ctx.add_variable_from_value("data", data.clone());
            let v = self.program.execute(&ctx).map_err(|e| e.to_string())?;
            from_cel(&v)
        })
    }

    /// The top-level form fields the condition reads (`None`: it reads `data` as a whole).
    pub(crate) fn fields(&self) -> Option<&[String]> {
        self.fields.as_deref()
    }
}

thread_local! {
    static ROOT: Context<'static, 'static> = Context::default();
}

/// The `data.a.b` path an expression spells, if it is one.
fn data_path(e: &IdedExpr) -> Option<Vec<&str>> {
    match &e.expr {
        Expr::Ident(name) if name == "data" => Some(vec![]),
        Expr::Select(sel) => {
            let mut p = data_path(&sel.operand)?;
            p.push(&sel.field);
            Some(p)
        }
        _ => None,
    }
}

/// Top-level fields under `data` the expression reads; `None` once it reads `data` whole.
fn collect_fields(e: &IdedExpr, out: &mut Option<Vec<String>>) {
    if let Some(path) = data_path(e) {
        match (path.first(), out.as_mut()) {
            (None, _) => *out = None,
            (Some(f), Some(v)) if !v.iter().any(|x| x == f) => v.push((*f).to_owned()),
            _ => {}
        }
        return;
    }
    let mut visit = |c: &IdedExpr| collect_fields(c, out);
    match &e.expr {
        Expr::Select(sel) => visit(&sel.operand),
        Expr::Call(call) => {
            call.target.iter().for_each(|t| visit(t));
            call.args.iter().for_each(&mut visit);
        }
        Expr::List(list) => list.elements.iter().for_each(&mut visit),
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    visit(&me.key);
                    visit(&me.value);
                }
            }
        }
        Expr::Struct(st) => {
            for entry in &st.entries {
                if let EntryExpr::StructField(f) = &entry.expr {
                    visit(&f.value);
                }
            }
        }
        Expr::Comprehension(c) => {
            for part in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                visit(part);
            }
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn check(
    e: &IdedExpr,
    form: Option<&Value>,
    scope: &mut Vec<String>,
    errors: &mut Vec<ConditionError>,
) {
    if let Some(path) = data_path(e) {
        if let (Some(form), false) = (form, path.is_empty())
            && Schema::property(form, &path).is_none()
        {
            let parent = &path[..path.len() - 1];
            let known = Schema::property(form, parent)
                .flatten()
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            errors.push(ConditionError::UnknownField {
                path: format!("data.{}", path.join(".")),
                known,
            });
        }
        return;
    }
    match &e.expr {
        Expr::Ident(name) => {
            if !scope.iter().any(|s| s == name) && !is_type_name(name) {
                errors.push(ConditionError::UnknownVariable(name.clone()));
            }
        }
        Expr::Select(sel) => check(&sel.operand, form, scope, errors),
        Expr::Call(call) => {
            if let Some(t) = &call.target {
                check(t, form, scope, errors);
            }
            for a in &call.args {
                check(a, form, scope, errors);
            }
        }
        Expr::List(list) => {
            for el in &list.elements {
                check(el, form, scope, errors);
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    check(&me.key, form, scope, errors);
                    check(&me.value, form, scope, errors);
                }
            }
        }
        Expr::Struct(st) => {
            for entry in &st.entries {
                if let EntryExpr::StructField(f) = &entry.expr {
                    check(&f.value, form, scope, errors);
                }
            }
        }
        Expr::Comprehension(c) => {
            check(&c.iter_range, form, scope, errors);
            check(&c.accu_init, form, scope, errors);
            let before = scope.len();
            scope.push(c.iter_var.clone());
            if let Some(v2) = &c.iter_var2 {
                scope.push(v2.clone());
            }
            scope.push(c.accu_var.clone());
            check(&c.loop_cond, form, scope, errors);
            check(&c.loop_step, form, scope, errors);
            check(&c.result, form, scope, errors);
            scope.truncate(before);
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn is_type_name(name: &str) -> bool {
    matches!(
        name,
        "int"
            | "uint"
            | "double"
            | "bool"
            | "string"
            | "bytes"
            | "list"
            | "map"
            | "null_type"
            | "type"
    )
}

#[cfg(test)]
mod tests;
