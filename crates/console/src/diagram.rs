//! A workflow drawn as a map of its steps, in definition order: each step a box with who works
//! it, a parallel step holding its branches side by side, and the application's current steps
//! marked (`aria-current="step"`). HTML and CSS only — readable by screen readers, printable,
//! nothing to load.

use serde::Deserialize;

/// A state as the API's `Workflow.states` describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct StateInfo {
    pub name: String,
    pub title: String,
    pub kind: String,
    #[serde(default)]
    pub assignees: Vec<String>,
    pub parallel: Option<String>,
    pub branch: Option<String>,
    /// The actions its tasks offer (asked for where a page reads inputs by their schemas).
    #[serde(default)]
    pub actions: Vec<StateAction>,
}

/// An action of a state, with its input's schema.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateAction {
    pub name: String,
    pub input_schema: Option<serde_json::Value>,
}

/// One box of the map.
#[derive(Debug, Clone)]
pub struct Step {
    pub title: String,
    /// `task`, `approval`, `choice`, `parallel` or `final`.
    pub kind: String,
    /// Who works it, in words.
    pub who: String,
    pub current: bool,
    /// A parallel step's branches.
    pub branches: Vec<Lane>,
}

/// One branch of a parallel step.
#[derive(Debug, Clone)]
pub struct Lane {
    pub name: String,
    pub steps: Vec<Step>,
    /// The branch has reached its end.
    pub finished: bool,
}

fn step(s: &StateInfo, current: &[String], party: &dyn Fn(&str) -> String) -> Step {
    Step {
        title: s.title.clone(),
        kind: s.kind.clone(),
        who: s
            .assignees
            .iter()
            .map(|a| party(a))
            .collect::<Vec<_>>()
            .join(" · "),
        current: current.contains(&s.name),
        branches: Vec::new(),
    }
}

/// The map of `states`, with `current` (state names) marked; `party` names an assignee.
pub fn map(states: &[StateInfo], current: &[String], party: &dyn Fn(&str) -> String) -> Vec<Step> {
    states
        .iter()
        .filter(|s| s.parallel.is_none())
        .map(|s| {
            let mut top = step(s, current, party);
            if s.kind == "parallel" {
                let mut lanes: Vec<Lane> = Vec::new();
                for inner in states
                    .iter()
                    .filter(|i| i.parallel.as_deref() == Some(s.name.as_str()))
                {
                    let name = inner.branch.clone().unwrap_or_default();
                    let lane = match lanes.iter_mut().position(|l| l.name == name) {
                        Some(i) => &mut lanes[i],
                        None => {
                            lanes.push(Lane {
                                name: name.clone(),
                                steps: Vec::new(),
                                finished: false,
                            });
                            let last = lanes.len() - 1;
                            &mut lanes[last]
                        }
                    };
                    if inner.kind == "done" {
                        lane.finished |= current.contains(&inner.name);
                    } else {
                        lane.steps.push(step(inner, current, party));
                    }
                }
                top.branches = lanes;
            }
            top
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(name: &str, kind: &str, who: &[&str], parallel: Option<(&str, &str)>) -> StateInfo {
        StateInfo {
            name: name.into(),
            title: name.to_uppercase(),
            kind: kind.into(),
            assignees: who.iter().map(|w| (*w).to_owned()).collect(),
            parallel: parallel.map(|p| p.0.to_owned()),
            branch: parallel.map(|p| p.1.to_owned()),
            actions: Vec::new(),
        }
    }

    #[test]
    fn branches_sit_inside_their_parallel_step_and_current_steps_are_marked() {
        let states = vec![
            state("nominate", "task", &["ofds"], None),
            state("reviews", "parallel", &[], None),
            state("hkstp", "task", &["hkstp"], Some(("reviews", "incubation"))),
            state("hkstp_done", "done", &[], Some(("reviews", "incubation"))),
            state("setup", "task", &["investhk"], Some(("reviews", "setup"))),
            state("setup_done", "done", &[], Some(("reviews", "setup"))),
            state("decide", "approval", &["investhk", "hkstp"], None),
            state("approved", "final", &[], None),
        ];
        let current = vec!["reviews".to_owned(), "hkstp".into(), "setup_done".into()];
        let map = map(&states, &current, &|a| a.to_uppercase());
        let titles: Vec<&str> = map.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["NOMINATE", "REVIEWS", "DECIDE", "APPROVED"]);
        assert!(!map[0].current && map[1].current);
        assert_eq!(map[0].who, "OFDS");
        assert_eq!(map[2].who, "INVESTHK · HKSTP");
        let lanes = &map[1].branches;
        assert_eq!(lanes.len(), 2);
        assert_eq!(lanes[0].name, "incubation");
        assert_eq!(lanes[0].steps.len(), 1);
        assert!(lanes[0].steps[0].current && !lanes[0].finished);
        assert!(lanes[1].finished && !lanes[1].steps[0].current);
    }
}
