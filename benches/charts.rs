//! Chart drawing time: each kind drawn on gallery-sized data, median of
//! repeated runs. `cargo bench --bench charts`.

use std::time::Instant;

use coweave::chart::{self, BarChart, ForestRow, HeatMap, LikertItem, Series};

fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    let reps = 51;
    let bar = BarChart {
        title: String::new(),
        categories: (0..10).map(|i| format!("Area {i}\nTheme")).collect(),
        series: (0..2)
            .map(|s| Series {
                name: format!("Series {s}"),
                values: (0..10).map(|i| Some(0.1 + 0.05 * (i + s) as f64)).collect(),
                intervals: Some(
                    (0..10)
                        .map(|i| Some((0.08 + 0.05 * (i + s) as f64, 0.12 + 0.05 * (i + s) as f64)))
                        .collect(),
                ),
            })
            .collect(),
        y_label: "%".into(),
        percent: true,
        size: (760, 420),
        limits: None,
        markers: None,
        marker_label: String::new(),
        annotations: Vec::new(),
    };
    let heat = HeatMap {
        rows: (0..8).map(|i| format!("Correlate {i}")).collect(),
        columns: (0..10).map(|i| format!("Area {i}\nTheme")).collect(),
        cells: (0..8)
            .map(|r| {
                (0..10)
                    .map(|c| Some(((r * c) as f64 / 80.0 - 0.3, "0.12*".to_string())))
                    .collect()
            })
            .collect(),
    };
    let forest: Vec<ForestRow> = (0..18)
        .map(|i| ForestRow {
            label: format!("Area {i} · A"),
            estimate: 0.01 * i as f64 - 0.05,
            low: -0.1,
            high: 0.1,
            significant: i % 5 == 0,
        })
        .collect();
    let likert: Vec<LikertItem> = (0..3)
        .map(|i| LikertItem {
            label: format!("Item {i}"),
            shares: vec![0.1, 0.2, 0.3, 0.3, 0.1],
            dont_know: 0.08,
        })
        .collect();
    let cats: Vec<String> = ["1", "2", "3", "4", "5"].map(String::from).to_vec();
    let points: Vec<(f64, f64)> = (0..2000)
        .map(|i| ((i % 97) as f64 / 97.0, (i % 89) as f64 / 89.0))
        .collect();
    println!("chart drawing, median of {reps} runs (ms):");
    println!(
        "  bar (10 categories x 2 series, CIs): {:8.3}",
        median_ms(reps, || drop(
            chart::bar(&bar, &chart::Style::default()).unwrap()
        ))
    );
    println!(
        "  heatmap (8 x 10):                    {:8.3}",
        median_ms(reps, || drop(
            chart::heatmap(&heat, &chart::Style::default()).unwrap()
        ))
    );
    println!(
        "  forest (18 rows):                    {:8.3}",
        median_ms(reps, || drop(
            chart::forest(&forest, "Effect", 100.0, &chart::Style::default()).unwrap()
        ))
    );
    println!(
        "  likert (3 items):                    {:8.3}",
        median_ms(reps, || drop(
            chart::likert(&likert, &cats, &chart::Style::default()).unwrap()
        ))
    );
    println!(
        "  line (5 categories):                 {:8.3}",
        median_ms(reps, || drop(
            chart::line(
                &cats,
                &bar.series[..1]
                    .iter()
                    .map(|s| Series {
                        values: s.values[..5].to_vec(),
                        intervals: None,
                        name: s.name.clone()
                    })
                    .collect::<Vec<_>>(),
                "%",
                true,
                &chart::Style::default()
            )
            .unwrap()
        ))
    );
    println!(
        "  scatter (2000 points, fit):          {:8.3}",
        median_ms(reps, || drop(
            chart::scatter(&points, "x", "y", true, &chart::Style::default()).unwrap()
        ))
    );
}
