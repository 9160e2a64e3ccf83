//! Small server-rendered SVG charts (no charting stack, no script): horizontal bars
//! and stacked columns, built as strings so they render without WASM and can be
//! snapshot-tested. Colours come from CSS classes, so dark mode applies.
use std::fmt::Write;

/// One horizontal bar: a label, its value, and the value as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub shown: String,
}

/// One column made of stacked parts, bottom first, each `(css class, value)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub label: String,
    pub parts: Vec<(&'static str, u64)>,
    /// Shown on hover (the `<title>`).
    pub title: String,
}

const WIDTH: f64 = 640.0;
const BAR_HEIGHT: f64 = 22.0;
const BAR_GAP: f64 = 10.0;
const LABEL_WIDTH: f64 = 180.0;
const VALUE_WIDTH: f64 = 90.0;

/// Horizontal bars scaled to the largest value, label left, value right.
pub fn bars_svg(title: &str, bars: &[Bar]) -> String {
    let height = bars.len() as f64 * (BAR_HEIGHT + BAR_GAP) + BAR_GAP;
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let track = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let mut svg = open_svg(title, height);
    for (i, bar) in bars.iter().enumerate() {
        let y = BAR_GAP + i as f64 * (BAR_HEIGHT + BAR_GAP);
        let w = if max > 0.0 {
            (bar.value / max * track).max(if bar.value > 0.0 { 2.0 } else { 0.0 })
        } else {
            0.0
        };
        let mid = y + BAR_HEIGHT / 2.0 + 4.0;
        let _ = write!(
            svg,
            r#"<g><title>{label}: {shown}</title><text class="chart-label" x="0" y="{mid:.1}">{short}</text><rect class="chart-track" x="{LABEL_WIDTH}" y="{y:.1}" width="{track:.1}" height="{BAR_HEIGHT}" rx="4"/><rect class="chart-bar" x="{LABEL_WIDTH}" y="{y:.1}" width="{w:.1}" height="{BAR_HEIGHT}" rx="4"/><text class="chart-value" x="{WIDTH}" y="{mid:.1}" text-anchor="end">{shown}</text></g>"#,
            label = escape(&bar.label),
            short = escape(&truncate(&bar.label, 26)),
            shown = escape(&bar.shown),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Columns span a whole row of the page, so they get a wider canvas (the text then
/// keeps about its CSS size).
const COLUMNS_WIDTH: f64 = 960.0;
const COLUMNS_HEIGHT: f64 = 150.0;
const AXIS_HEIGHT: f64 = 22.0;
const COLUMNS_PAD: f64 = 20.0;

/// Stacked columns over time, scaled to the tallest; every `label_every`-th column
/// gets its label under the axis.
pub fn columns_svg(title: &str, columns: &[Column], label_every: usize) -> String {
    let n = columns.len().max(1) as f64;
    let slot = (COLUMNS_WIDTH - 2.0 * COLUMNS_PAD) / n;
    let width = (slot * 0.7).max(1.0);
    let max = columns
        .iter()
        .map(|c| c.parts.iter().map(|(_, v)| v).sum::<u64>())
        .max()
        .unwrap_or(0);
    let mut svg = open_svg_sized(title, COLUMNS_WIDTH, COLUMNS_HEIGHT + AXIS_HEIGHT);
    let _ = write!(
        svg,
        r#"<line class="chart-axis" x1="0" y1="{COLUMNS_HEIGHT}" x2="{COLUMNS_WIDTH}" y2="{COLUMNS_HEIGHT}"/>"#
    );
    for (i, column) in columns.iter().enumerate() {
        let x = COLUMNS_PAD + i as f64 * slot + (slot - width) / 2.0;
        let _ = write!(svg, "<g><title>{}</title>", escape(&column.title));
        let mut base = COLUMNS_HEIGHT;
        for (class, value) in &column.parts {
            if *value == 0 || max == 0 {
                continue;
            }
            let h = *value as f64 / max as f64 * (COLUMNS_HEIGHT - 8.0);
            base -= h;
            let _ = write!(
                svg,
                r#"<rect class="{class}" x="{x:.1}" y="{base:.1}" width="{width:.1}" height="{h:.1}"/>"#
            );
        }
        svg.push_str("</g>");
        if label_every > 0 && i % label_every == 0 {
            let _ = write!(
                svg,
                r#"<text class="chart-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x + width / 2.0,
                COLUMNS_HEIGHT + AXIS_HEIGHT - 4.0,
                escape(&column.label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn open_svg(title: &str, height: f64) -> String {
    open_svg_sized(title, WIDTH, height)
}

fn open_svg_sized(title: &str, width: f64, height: f64) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height:.1}" preserveAspectRatio="xMinYMin meet"><title>{}</title>"#,
        escape(title)
    )
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = bars_svg(
            "Tokens by model",
            &[
                Bar {
                    label: "claude-sonnet-4-5".into(),
                    value: 300.0,
                    shown: "300".into(),
                },
                Bar {
                    label: "<script>&".into(),
                    value: 150.0,
                    shown: "150".into(),
                },
                Bar {
                    label: "a-model-name-longer-than-the-label-space".into(),
                    value: 0.0,
                    shown: "0".into(),
                },
            ],
        );
        insta::assert_snapshot!(svg);
        assert!(!svg.contains("<script>"));
    }

    #[test]
    fn columns_stack_their_parts_and_label_every_nth() {
        let col = |label: &str, finished, failed| Column {
            label: label.into(),
            parts: vec![("chart-ok", finished), ("chart-bad", failed)],
            title: format!("{label}: {finished} finished, {failed} failed"),
        };
        let svg = columns_svg(
            "Outcomes",
            &[col("Mon", 4, 0), col("Tue", 2, 2), col("Wed", 0, 0)],
            2,
        );
        insta::assert_snapshot!(svg);
    }
}
