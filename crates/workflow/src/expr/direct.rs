//! The common shape of a condition, decided straight over the form's JSON.
//!
//! Most conditions compare form fields with literals, join the comparisons with `&&`, `||`
//! and `!`, test membership in a literal list, or ask it of a list's items with `exists` or
//! `all`. Evaluating those through CEL means converting the fields it reads into CEL values and
//! binding a scope every time (about 20,000 instructions for one `exists` over a short list);
//! here they are read where they lie.
//!
//! CEL stays the authority: [`Direct::decide`] answers only where the answer is certain —
//! operands of one kind (strings, integers, booleans; never a double or a mix of kinds) that are
//! present in the data — and gives `None` otherwise (a missing field, a value of another kind,
//! anything CEL would report as an error), and then CEL evaluates the condition as before, error
//! message and all. A condition outside the shape compiles to no `Direct` at all.

use cel::common::ast::{Expr, IdedExpr, LiteralValue};
use serde_json::{Map, Value};

/// A condition in the shape decided here.
#[derive(Debug)]
pub(super) struct Direct(Term);

#[derive(Debug)]
enum Term {
    /// `data.a.b`, or the item variable of `exists`/`all` and fields under it.
    Path {
        item: bool,
        fields: Vec<String>,
    },
    Lit(Lit),
    Not(Box<Term>),
    And(Box<Term>, Box<Term>),
    Or(Box<Term>, Box<Term>),
    Compare(Op, Box<Term>, Box<Term>),
    /// `x in [literals]`.
    In(Box<Term>, Vec<Lit>),
    /// `has(x.field)`.
    Has(Box<Term>, String),
    /// `list.exists(x, body)` (`all: false`) or `list.all(x, body)`.
    Each {
        all: bool,
        list: Box<Term>,
        body: Box<Term>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug)]
enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Str(String),
}

/// A value as CEL sees it (what [`super::to_cel`] would make of the JSON), borrowed.
#[derive(Debug, Clone, Copy)]
enum V<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double,
    Str(&'a str),
    List(&'a [Value]),
    Map(&'a Map<String, Value>),
}

impl<'a> V<'a> {
    fn of(v: &'a Value) -> Self {
        match v {
            Value::Null => V::Null,
            Value::Bool(b) => V::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => V::Int(i),
                (None, Some(u)) => V::UInt(u),
                (None, None) => V::Double,
            },
            Value::String(s) => V::Str(s),
            Value::Array(items) => V::List(items),
            Value::Object(map) => V::Map(map),
        }
    }

    fn lit(l: &'a Lit) -> Self {
        match l {
            Lit::Null => V::Null,
            Lit::Bool(b) => V::Bool(*b),
            Lit::Int(i) => V::Int(*i),
            Lit::UInt(u) => V::UInt(*u),
            Lit::Str(s) => V::Str(s),
        }
    }

    /// Equality of two values of one scalar kind; `None` for anything else.
    fn equals(self, other: V<'_>) -> Option<bool> {
        Some(match (self, other) {
            (V::Null, V::Null) => true,
            (V::Bool(a), V::Bool(b)) => a == b,
            (V::Int(a), V::Int(b)) => a == b,
            (V::UInt(a), V::UInt(b)) => a == b,
            (V::Str(a), V::Str(b)) => a == b,
            _ => return None,
        })
    }

    /// Order of two integers or two strings; `None` for anything else.
    fn order(self, other: V<'_>) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (V::Int(a), V::Int(b)) => Some(a.cmp(&b)),
            (V::UInt(a), V::UInt(b)) => Some(a.cmp(&b)),
            (V::Str(a), V::Str(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl Direct {
    /// The condition in this shape, if it is in it.
    pub(super) fn compile(e: &IdedExpr) -> Option<Self> {
        term(e, None).map(Direct)
    }

    /// Whether the condition holds for `data`, where that is certain without CEL.
    pub(super) fn decide(&self, data: &Value) -> Option<bool> {
        match self.0.eval(data, None)? {
            V::Bool(b) => Some(b),
            _ => None,
        }
    }
}

fn term(e: &IdedExpr, item: Option<&str>) -> Option<Term> {
    Some(match &e.expr {
        Expr::Ident(name) if Some(name.as_str()) == item => Term::Path {
            item: true,
            fields: vec![],
        },
        Expr::Ident(name) if name == "data" => Term::Path {
            item: false,
            fields: vec![],
        },
        Expr::Select(sel) => {
            let operand = term(&sel.operand, item)?;
            if sel.test {
                Term::Has(Box::new(operand), sel.field.clone())
            } else if let Term::Path { item, mut fields } = operand {
                fields.push(sel.field.clone());
                Term::Path { item, fields }
            } else {
                return None;
            }
        }
        Expr::Literal(l) => Term::Lit(literal(l)?),
        Expr::Call(call) if call.target.is_none() => {
            let arg = |i: usize| term(&call.args[i], item).map(Box::new);
            match (call.func_name.as_str(), call.args.len()) {
                ("!_", 1) => Term::Not(arg(0)?),
                ("_&&_", 2) => Term::And(arg(0)?, arg(1)?),
                ("_||_", 2) => Term::Or(arg(0)?, arg(1)?),
                ("@in", 2) => {
                    let Expr::List(list) = &call.args[1].expr else {
                        return None;
                    };
                    if !list.optional_indices.is_empty() {
                        return None;
                    }
                    let lits = (list.elements.iter())
                        .map(|el| match &el.expr {
                            Expr::Literal(l) => literal(l),
                            _ => None,
                        })
                        .collect::<Option<Vec<_>>>()?;
                    Term::In(arg(0)?, lits)
                }
                (name, 2) => {
                    let op = match name {
                        "_==_" => Op::Eq,
                        "_!=_" => Op::Ne,
                        "_<_" => Op::Lt,
                        "_<=_" => Op::Le,
                        "_>_" => Op::Gt,
                        "_>=_" => Op::Ge,
                        _ => return None,
                    };
                    Term::Compare(op, arg(0)?, arg(1)?)
                }
                _ => return None,
            }
        }
        // What the `exists` and `all` macros expand to: a boolean accumulator folded with `||`
        // (starting false) or `&&` (starting true), the item variable bound to each item. One
        // comprehension never holds another (`check_comprehensions`).
        Expr::Comprehension(c)
            if item.is_none() && c.iter_var2.is_none() && c.iter_var != "data" =>
        {
            let accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(n) if *n == c.accu_var);
            let Expr::Literal(LiteralValue::Boolean(init)) = &c.accu_init.expr else {
                return None;
            };
            let Expr::Call(step) = &c.loop_step.expr else {
                return None;
            };
            let all = match (step.func_name.as_str(), *init.inner()) {
                ("_||_", false) => false,
                ("_&&_", true) => true,
                _ => return None,
            };
            let folds_accu = step.target.is_none() && step.args.len() == 2 && accu(&step.args[0]);
            if !(folds_accu && accu(&c.result)) {
                return None;
            }
            Term::Each {
                all,
                list: Box::new(term(&c.iter_range, None)?),
                body: Box::new(term(&step.args[1], Some(&c.iter_var))?),
            }
        }
        _ => return None,
    })
}

fn literal(l: &LiteralValue) -> Option<Lit> {
    Some(match l {
        LiteralValue::Null => Lit::Null,
        LiteralValue::Boolean(b) => Lit::Bool(*b.inner()),
        LiteralValue::Int(i) => Lit::Int(*i.inner()),
        LiteralValue::UInt(u) => Lit::UInt(*u.inner()),
        LiteralValue::String(s) => Lit::Str(s.inner().to_owned()),
        LiteralValue::Double(_) | LiteralValue::Bytes(_) => return None,
    })
}

impl Term {
    fn eval<'a>(&'a self, data: &'a Value, item: Option<V<'a>>) -> Option<V<'a>> {
        let truth = |t: &'a Term| match t.eval(data, item)? {
            V::Bool(b) => Some(b),
            _ => None,
        };
        Some(match self {
            Term::Path {
                item: on_item,
                fields,
            } => {
                let mut v = if *on_item { item? } else { V::of(data) };
                for f in fields {
                    let V::Map(m) = v else { return None };
                    v = V::of(m.get(f)?);
                }
                v
            }
            Term::Lit(l) => V::lit(l),
            Term::Not(t) => V::Bool(!truth(t)?),
            // As CEL: the left side first; only a decided left side may end it.
            Term::And(l, r) => V::Bool(truth(l)? && truth(r)?),
            Term::Or(l, r) => V::Bool(truth(l)? || truth(r)?),
            Term::Compare(op, l, r) => {
                let (l, r) = (l.eval(data, item)?, r.eval(data, item)?);
                V::Bool(match op {
                    Op::Eq => l.equals(r)?,
                    Op::Ne => !l.equals(r)?,
                    Op::Lt => l.order(r)?.is_lt(),
                    Op::Le => l.order(r)?.is_le(),
                    Op::Gt => l.order(r)?.is_gt(),
                    Op::Ge => l.order(r)?.is_ge(),
                })
            }
            Term::In(t, lits) => {
                let v = t.eval(data, item)?;
                let mut found = false;
                for l in lits {
                    found |= v.equals(V::lit(l))?;
                }
                V::Bool(found)
            }
            Term::Has(t, field) => match t.eval(data, item)? {
                V::Map(m) => V::Bool(m.contains_key(field)),
                _ => return None,
            },
            Term::Each { all, list, body } => {
                let V::List(items) = list.eval(data, None)? else {
                    return None;
                };
                // In order, as CEL folds: the first item that decides the fold ends it.
                for it in items {
                    let V::Bool(b) = body.eval(data, Some(V::of(it)))? else {
                        return None;
                    };
                    if b != *all {
                        return Some(V::Bool(b));
                    }
                }
                V::Bool(*all)
            }
        })
    }
}
