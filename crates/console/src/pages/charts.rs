//! Horizontal bar charts drawn on the server as SVG — readable without JavaScript, nothing
//! loaded from elsewhere — beside the table of the same numbers. A bar may stack parts (open
//! tasks by age band, overdue beside on time). The label column is as wide as the longest
//! label, so no label is clipped.

use askama::Template;

use crate::i18n::Text;

/// Width of a chart's bar area, in SVG units.
const BAR_AREA: f64 = 480.0;
/// The narrowest label column.
const LABEL_WIDTH: f64 = 120.0;
/// Room for the value after a bar.
const VALUE_WIDTH: f64 = 200.0;
/// Height of one bar's row.
const ROW: i64 = 28;

/// Blue, amber, red: the parts of a stacked bar, in order.
pub(crate) const PALETTE: [&str; 3] = ["#0b5cad", "#8a5a00", "#a4161a"];

/// One part of a bar.
#[derive(Debug)]
pub(crate) struct Part {
    pub x: f64,
    pub width: i64,
    pub fill: &'static str,
}

/// One bar of a chart.
#[derive(Debug)]
pub(crate) struct Bar {
    pub label: String,
    pub value: String,
    pub y: i64,
    pub text_y: i64,
    pub parts: Vec<Part>,
}

/// A horizontal bar chart, labelled by the element whose id is `labelled_by`.
#[derive(Debug, Template)]
#[template(path = "chart.html")]
pub(crate) struct Chart {
    pub labelled_by: String,
    pub label_width: f64,
    pub value_x: f64,
    pub width: f64,
    pub height: i64,
    pub bars: Vec<Bar>,
}

/// About how wide `label` is drawn at 14 px (a Latin letter about 8.5 units, a Chinese
/// character 14.5): what the label column needs so that no label is clipped.
pub(crate) fn text_width(label: &str) -> f64 {
    label
        .chars()
        .map(|c| if c.is_ascii() { 8.5 } else { 14.5 })
        .sum()
}

impl Chart {
    /// Bars of `(label, parts, shown value)`, the parts stacked in [`PALETTE`]'s colours (or
    /// `colours`), scaled to the largest sum.
    pub fn stacked(
        labelled_by: &str,
        colours: &[&'static str],
        rows: Vec<(String, Vec<f64>, String)>,
    ) -> Self {
        let sum = |parts: &[f64]| parts.iter().map(|p| p.max(0.0)).sum::<f64>();
        let most = rows
            .iter()
            .map(|r| sum(&r.1))
            .fold(0.0_f64, f64::max)
            .max(1e-9);
        let label_width = rows
            .iter()
            .map(|r| text_width(&r.0) + 8.0)
            .fold(LABEL_WIDTH, f64::max)
            .ceil();
        let bar_x = label_width + 8.0;
        let scale = |v: f64| (v.max(0.0) / most * BAR_AREA).round() as i64;
        let bars: Vec<Bar> = rows
            .into_iter()
            .zip(0_i64..)
            .map(|((label, parts, value), i)| {
                let mut x = bar_x;
                let mut drawn = Vec::new();
                for (n, part) in parts.iter().enumerate() {
                    let width = scale(*part);
                    if width > 0 {
                        let fill = colours
                            .get(n)
                            .or(PALETTE.get(n))
                            .copied()
                            .unwrap_or(PALETTE[0]);
                        drawn.push(Part { x, width, fill });
                        x += width as f64;
                    }
                }
                if drawn.is_empty() && sum(&parts) > 0.0 {
                    drawn.push(Part {
                        x: bar_x,
                        width: 1,
                        fill: colours.first().copied().unwrap_or(PALETTE[0]),
                    });
                }
                Bar {
                    label,
                    value,
                    y: i * ROW + 4,
                    text_y: i * ROW + 19,
                    parts: drawn,
                }
            })
            .collect();
        Chart {
            labelled_by: labelled_by.to_owned(),
            label_width,
            value_x: bar_x + BAR_AREA + 8.0,
            width: bar_x + BAR_AREA + 8.0 + VALUE_WIDTH,
            height: i64::try_from(bars.len()).unwrap_or(0) * ROW + 8,
            bars,
        }
    }

    /// Bars of one part each.
    pub fn of(labelled_by: &str, rows: Vec<(String, f64, String)>) -> Self {
        Self::stacked(
            labelled_by,
            &PALETTE[..1],
            rows.into_iter().map(|(l, v, s)| (l, vec![v], s)).collect(),
        )
    }

    /// The SVG, escaped, for a page to embed.
    pub fn svg(&self) -> String {
        self.render().unwrap_or_default()
    }
}

/// Hours in words, in the unit that shows them: `42 s`, `12 min`, `36.5 h` or, past two days,
/// `3.2 days` (a step done in minutes read "0.0 h" beside bars of different lengths).
pub(crate) fn duration(hours: f64, t: &Text) -> String {
    let seconds = hours * 3600.0;
    if hours >= 48.0 {
        format!("{:.1} {}", hours / 24.0, t.days)
    } else if hours >= 1.0 {
        format!("{hours:.1} {}", t.hours)
    } else if seconds >= 60.0 {
        format!("{:.0} {}", seconds / 60.0, t.minutes)
    } else {
        format!("{:.0} {}", seconds, t.seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_stack() {
        let chart = Chart::stacked(
            "x",
            &[PALETTE[2], PALETTE[0]],
            vec![
                ("ofds".into(), vec![4.0, 6.0], "10".into()),
                ("hkma".into(), vec![0.0, 5.0], "5".into()),
            ],
        );
        let widths = |b: &Bar| b.parts.iter().map(|p| p.width).collect::<Vec<_>>();
        assert_eq!(widths(&chart.bars[0]), vec![192, 288]);
        assert_eq!(chart.bars[0].parts[1].x, chart.label_width + 8.0 + 192.0);
        assert_eq!(
            widths(&chart.bars[1]),
            vec![240],
            "an empty part is not drawn"
        );
        assert_eq!(chart.bars[1].parts[0].fill, PALETTE[0]);
        assert_eq!(chart.bars[1].y, ROW + 4);
        assert_eq!(chart.height, 2 * ROW + 8);
        assert_eq!(Chart::of("x", Vec::new()).bars.len(), 0);
    }

    #[test]
    fn labels_are_escaped_and_fit() {
        let latin = "Hong Kong Science and Technology Parks Corporation";
        assert!(text_width(latin) > 300.0, "wider than the old fixed column");
        assert!(text_width("香港科技園公司") > text_width("HKSTP"));
        let chart = Chart::of("x", vec![(format!("<b>{latin}</b>"), 1.0, "1".into())]);
        assert!(chart.label_width >= text_width(latin));
        let svg = chart.svg();
        assert!(svg.contains("&#60;b&#62;") && !svg.contains("<b>"), "{svg}");
    }

    #[test]
    fn durations_are_said_in_the_unit_that_shows_them() {
        let t = &crate::i18n::EN;
        assert_eq!(duration(30.0 / 3600.0, t), "30 s");
        assert_eq!(duration(0.2, t), "12 min");
        assert_eq!(duration(36.5, t), "36.5 h");
        assert_eq!(duration(72.0, t), "3.0 days");
        assert_ne!(
            duration(0.0004, t),
            duration(0.01, t),
            "no two short steps read alike"
        );
    }
}
