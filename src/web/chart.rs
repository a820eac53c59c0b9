//! Inline SVG line charts (no script): one or more series over time, x proportional to each
//! point's epoch, y from 0 to a rounded maximum, a tooltip (`<title>`) on every point, a legend.
//! With several series, the first is drawn wide and translucent, so a later one with the same values (upserted
//! = fetched) does not hide it.
//! Nothing here fails; an empty input draws nothing.

use maud::{html, Markup};

const W: f64 = 720.0;
const H: f64 = 220.0;
const LEFT: f64 = 58.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 26.0;
const BOTTOM: f64 = 30.0;

/// One line.
pub struct Series {
    pub name: &'static str,
    pub color: &'static str,
    pub values: Vec<f64>,
}

/// The chart's points: when (epoch seconds) and how each is labelled in tooltips and on the x
/// axis. Oldest first.
pub struct Points {
    pub epochs: Vec<f64>,
    pub labels: Vec<String>,
}

/// The smallest 1, 2 or 5 × 10ⁿ at least `v` (≥ 1).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 1.0 || !v.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= v {
            return m * mag;
        }
    }
    10.0 * mag
}

fn tick(v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A chart titled `title`; `unit` follows values in tooltips.
pub fn line_chart(title: &str, unit: &str, points: &Points, series: &[Series]) -> Markup {
    let n = points.epochs.len();
    if n == 0 {
        return html! {};
    }
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let ymax = nice_ceiling(max);
    let (x0, x1) = (
        points.epochs.iter().copied().fold(f64::INFINITY, f64::min),
        points
            .epochs
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max),
    );
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |e: f64| {
        if x1 > x0 {
            LEFT + (e - x0) / (x1 - x0) * plot_w
        } else {
            LEFT + plot_w / 2.0
        }
    };
    let y = |v: f64| TOP + plot_h - (v / ymax) * plot_h;
    let view = format!("0 0 {W} {H}");
    let halo = |i: usize| i == 0 && series.len() > 1;
    html! {
        figure {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(view) role="img" aria-label=(title) {
                @for frac in [0.0, 0.5, 1.0] {
                    line x1=(LEFT) x2=(W - RIGHT) y1=(y(ymax * frac)) y2=(y(ymax * frac))
                        stroke="#d8dde2" stroke-width="1" {}
                    text x=(LEFT - 6.0) y=(y(ymax * frac) + 4.0) text-anchor="end" { (tick(ymax * frac)) }
                }
                text x=(LEFT) y=(H - 8.0) text-anchor="start" { (points.labels[0]) }
                @if n > 1 {
                    text x=(W - RIGHT) y=(H - 8.0) text-anchor="end" { (points.labels[n - 1]) }
                }
                @for (i, s) in series.iter().enumerate() {
                    rect x=(LEFT + 4.0 + i as f64 * 120.0) y="6" width="10" height="10" fill=(s.color) {}
                    text x=(LEFT + 18.0 + i as f64 * 120.0) y="15" { (s.name) }
                    @if n > 1 {
                        polyline fill="none" stroke=(s.color)
                            stroke-width=(if halo(i) { "4.5" } else { "1.6" })
                            stroke-opacity=(if halo(i) { "0.45" } else { "1" })
                            points=(polyline(&points.epochs, &s.values, &x, &y)) {}
                    }
                    @for (j, v) in s.values.iter().enumerate() {
                        circle cx=(x(points.epochs[j])) cy=(y(*v)) r="2.6" fill=(s.color) {
                            title { (points.labels[j]) " — " (s.name) ": " (tick(*v)) (unit) }
                        }
                    }
                }
            }
        }
    }
}

fn polyline(
    epochs: &[f64],
    values: &[f64],
    x: &impl Fn(f64) -> f64,
    y: &impl Fn(f64) -> f64,
) -> String {
    epochs
        .iter()
        .zip(values)
        .map(|(e, v)| format!("{:.1},{:.1}", x(*e), y(*v)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
        assert_eq!(nice_ceiling(6001.0), 10_000.0);
    }

    #[test]
    fn draws_one_polyline_per_series_and_a_point_per_value() {
        let points = Points {
            epochs: vec![0.0, 60.0, 180.0],
            labels: vec!["a".into(), "b".into(), "c".into()],
        };
        let svg = line_chart(
            "Counts",
            "",
            &points,
            &[
                Series {
                    name: "fetched",
                    color: "#1f77b4",
                    values: vec![1.0, 5.0, 3.0],
                },
                Series {
                    name: "errors",
                    color: "#d62728",
                    values: vec![0.0, 1.0, 0.0],
                },
            ],
        )
        .into_string();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 6);
        assert!(svg.contains("b — fetched: 5"), "{svg}");
        // x spans the plot: first point at the left edge, last at the right.
        assert!(svg.contains("points=\"58.0,"), "{svg}");
        assert!(svg.contains("706.0,"), "{svg}");
        assert!(line_chart(
            "x",
            "",
            &Points {
                epochs: vec![],
                labels: vec![]
            },
            &[]
        )
        .into_string()
        .is_empty());
    }
}
