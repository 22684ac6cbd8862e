//! Diagrams of a workflow: Mermaid (renders in GitHub and GraphiQL docs) and Graphviz DOT.

use std::fmt::Write;

use crate::Workflow;
use crate::model::{Overdue, StateId, StateKind};

/// A diagram format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Mermaid `stateDiagram-v2`.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// One labelled transition.
struct Edge {
    from: StateId,
    to: StateId,
    label: String,
}

fn edges(wf: &Workflow) -> Vec<Edge> {
    let mut out = Vec::new();
    let mut push = |from, to, label: String| out.push(Edge { from, to, label });
    for (id, st) in wf.iter() {
        match st.kind() {
            StateKind::Task(t) => {
                for a in t.actions() {
                    let four = if a.distinct_from().is_empty() {
                        ""
                    } else {
                        " (four-eyes)"
                    };
                    // The diagram marks what an action does to a place: `offer (reserve places)`.
                    let place = a.places().map_or(String::new(), |p| {
                        format!(" ({} {})", p.op().word(), p.pool())
                    });
                    push(id, a.to(), format!("{}{four}{place}", a.name()));
                    if let Some(p) = a.places()
                        && let Some(w) = p.when_full()
                    {
                        push(id, w, format!("{} when {} full", a.name(), p.pool()));
                    }
                }
                if let Some(d) = t.due()
                    && let Overdue::Escalate(to) = d.overdue()
                {
                    push(id, *to, format!("overdue {}", d.period().text()));
                }
            }
            StateKind::Approval(a) => {
                push(
                    id,
                    a.approved(),
                    format!("{} of {} approve", a.required(), a.seats().len()),
                );
                push(id, a.rejected(), "rejected".to_owned());
                if let Some(d) = a.due()
                    && let Overdue::Escalate(to) = d.overdue()
                {
                    push(id, *to, format!("overdue {}", d.period().text()));
                }
            }
            StateKind::Choice(c) => {
                for (cond, to) in c.rules() {
                    push(id, to, cond.to_owned());
                }
                push(id, c.otherwise(), "otherwise".to_owned());
            }
            StateKind::Parallel(p) => {
                let join = match p.join() {
                    j if usize::from(j) == p.branches().len() => "all branches done".to_owned(),
                    1 => "any branch done".to_owned(),
                    j => format!("{j} branches done"),
                };
                push(id, p.next(), join);
            }
            StateKind::Waitlist(w) => {
                push(
                    id,
                    w.promote_to(),
                    format!("promoted (reserve {})", w.pool()),
                );
            }
            StateKind::Final { .. } | StateKind::Done => {}
        }
    }
    out
}

fn ident(wf: &Workflow, id: StateId) -> String {
    wf.state(id)
        .name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn clean(label: &str) -> String {
    label
        .chars()
        .map(|c| match c {
            ':' | ';' | '"' | '{' | '}' | '#' | '\n' => ' ',
            c => c,
        })
        .collect()
}

fn describe(wf: &Workflow, id: StateId) -> String {
    let st = wf.state(id);
    let who = match st.kind() {
        StateKind::Task(t) => format!(" [{}]", t.assignee()),
        StateKind::Approval(a) => {
            let seats: Vec<&str> = a.seats().iter().map(|s| s.key()).collect();
            format!(" [{} of {}]", a.required(), seats.join(", "))
        }
        StateKind::Final { outcome, places } => match places {
            Some(p) => format!(" [{outcome}, {} {}]", p.op().word(), p.pool()),
            None => format!(" [{outcome}]"),
        },
        StateKind::Waitlist(w) => format!(" [waitlist for {}]", w.pool()),
        _ => String::new(),
    };
    clean(&format!("{}{who}", st.title()))
}

/// Draws `wf` in `format`.
pub fn render(wf: &Workflow, format: Format) -> String {
    match format {
        Format::Mermaid => mermaid(wf),
        Format::Dot => dot(wf),
    }
}

fn mermaid(wf: &Workflow) -> String {
    let mut s = String::from("stateDiagram-v2\n");
    let all = edges(wf);
    let _ = writeln!(s, "    [*] --> {}", ident(wf, wf.start()));
    let inside = |id: StateId, p: StateId| wf.state(id).branch().is_some_and(|(q, _)| q == p);
    for (id, st) in wf.top_level() {
        match st.kind() {
            StateKind::Choice(_) => {
                let _ = writeln!(s, "    state {} <<choice>>", ident(wf, id));
            }
            StateKind::Parallel(p) => {
                let _ = writeln!(
                    s,
                    "    state \"{}\" as {} {{",
                    clean(&st.title().en),
                    ident(wf, id)
                );
                for (b, branch) in p.branches().iter().enumerate() {
                    if b > 0 {
                        s.push_str("        --\n");
                    }
                    let _ = writeln!(s, "        [*] --> {}", ident(wf, branch.start()));
                    for (sid, inner) in wf
                        .iter()
                        .filter(|(sid, _)| wf.state(*sid).branch() == Some((id, b as u16)))
                    {
                        match inner.kind() {
                            StateKind::Choice(_) => {
                                let _ = writeln!(s, "        state {} <<choice>>", ident(wf, sid));
                            }
                            StateKind::Done => {
                                let _ = writeln!(s, "        {} --> [*]", ident(wf, sid));
                            }
                            _ => {}
                        }
                        let _ = writeln!(s, "        {}: {}", ident(wf, sid), describe(wf, sid));
                        for e in all.iter().filter(|e| e.from == sid && inside(e.to, id)) {
                            let _ = writeln!(
                                s,
                                "        {} --> {}: {}",
                                ident(wf, e.from),
                                ident(wf, e.to),
                                clean(&e.label)
                            );
                        }
                    }
                }
                s.push_str("    }\n");
            }
            _ => {
                let _ = writeln!(s, "    {}: {}", ident(wf, id), describe(wf, id));
            }
        }
    }
    for e in &all {
        let both_inside = wf.state(e.from).branch().is_some()
            && wf.state(e.from).branch().map(|(p, _)| p) == wf.state(e.to).branch().map(|(p, _)| p);
        if !both_inside {
            let _ = writeln!(
                s,
                "    {} --> {}: {}",
                ident(wf, e.from),
                ident(wf, e.to),
                clean(&e.label)
            );
        }
    }
    for (id, st) in wf.top_level() {
        if let StateKind::Final { .. } = st.kind() {
            let _ = writeln!(s, "    {} --> [*]", ident(wf, id));
        }
    }
    s
}

fn dot(wf: &Workflow) -> String {
    let q = |t: &str| t.replace('\\', "\\\\").replace('"', "\\\"");
    let mut s = format!(
        "digraph \"{}\" {{\n    rankdir=TB;\n    node [fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n    __start [shape=point];\n",
        q(wf.key())
    );
    let node = |s: &mut String, id: StateId, indent: &str| {
        let shape = match wf.state(id).kind() {
            StateKind::Task(_) => "box, style=rounded",
            StateKind::Approval(_) => "box, style=\"rounded,bold\"",
            StateKind::Choice(_) => "diamond",
            StateKind::Parallel(_) => "box, style=dashed",
            StateKind::Waitlist(_) => "box, style=\"rounded,dotted\"",
            StateKind::Final { .. } => {
                "box, style=\"rounded,filled\", fillcolor=\"#eeeeee\", peripheries=2"
            }
            StateKind::Done => "circle, style=filled, fillcolor=black, fixedsize=true, width=0.25",
        };
        let label = match wf.state(id).kind() {
            StateKind::Done => format!("label=\"\", xlabel=\"{}\"", q(&describe(wf, id))),
            _ => format!("label=\"{}\"", q(&describe(wf, id))),
        };
        let _ = writeln!(s, "{indent}{} [{label}, shape={shape}];", ident(wf, id));
    };
    for (id, st) in wf.top_level() {
        node(&mut s, id, "    ");
        if let StateKind::Parallel(p) = st.kind() {
            for (b, branch) in p.branches().iter().enumerate() {
                let _ = writeln!(
                    s,
                    "    subgraph cluster_{}_{b} {{\n        label=\"{} / {}\";",
                    ident(wf, id),
                    q(&st.title().en),
                    q(branch.name())
                );
                for (sid, _) in wf
                    .iter()
                    .filter(|(sid, _)| wf.state(*sid).branch() == Some((id, b as u16)))
                {
                    node(&mut s, sid, "        ");
                }
                s.push_str("    }\n");
                let _ = writeln!(
                    s,
                    "    {} -> {} [style=dashed, label=\"{}\"];",
                    ident(wf, id),
                    ident(wf, branch.start()),
                    q(branch.name())
                );
            }
        }
    }
    let _ = writeln!(s, "    __start -> {};", ident(wf, wf.start()));
    for e in edges(wf) {
        let from = match wf.state(e.from).kind() {
            StateKind::Parallel(_) => format!(
                "{} [ltail=cluster_{}_0]",
                ident(wf, e.from),
                ident(wf, e.from)
            ),
            _ => ident(wf, e.from),
        };
        let from = from.split(' ').next().unwrap_or_default().to_owned();
        let _ = writeln!(
            s,
            "    {from} -> {} [label=\"{}\"];",
            ident(wf, e.to),
            q(&e.label)
        );
    }
    for (id, st) in wf.iter() {
        if let (StateKind::Done, Some((p, _))) = (st.kind(), st.branch()) {
            let _ = writeln!(
                s,
                "    {} -> {} [style=dotted, label=\"join\"];",
                ident(wf, id),
                ident(wf, p)
            );
        }
    }
    s.push_str("}\n");
    s
}
