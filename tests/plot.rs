//! The third puzzle's plot: how much RSS + VMS grew since the start, after each round of `[str(i) for i in range(10**6)]`, the
//! blog's sum, on CPython 3.11.7 (the capture of `examples/python/puzzle3_rounds.py`) and on the
//! model (the snapshot of `examples/puzzle3_rounds.rs`), one SVG per edition with its labels:
//! `src/en/puzzle-3-memory.svg`, `src/ko/puzzle-3-memory.svg`.
//!
//! The test draws both (plotters, its SVG backend and line series only) and fails if a committed
//! file differs; `PLOT_UPDATE=1 cargo test --test plot` rewrites them.

use book_pages::capture::Capture;
use plotters::prelude::*;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The size the plot shows: 10**6 strs a round.
const N: &str = "n = 1000000";

/// The rows' labels, in order: start, round-0 … round-9, end.
const ROWS: usize = 12;

/// RSS + VMS added since the start, for each row of the table headed `N`, from the columns
/// holding RSS and VMS added.
fn rss_plus_vms(text: &str, rss_column: usize) -> Result<Vec<u64>, String> {
    let (_, table) = text.split_once(N).ok_or(format!("no table for {N}"))?;
    let rows: Vec<u64> = table
        .lines()
        .skip(2) // the rest of the `n = ` line, and the header
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let number = |i: usize| cols.get(i).and_then(|c| c.parse::<u64>().ok());
            match (number(rss_column), number(rss_column + 1)) {
                (Some(rss), Some(vms)) => Ok(rss + vms),
                _ => Err(format!("not a row: {l:?}")),
            }
        })
        .collect::<Result<_, _>>()?;
    if rows.len() != ROWS {
        return Err(format!("{} rows, not {ROWS}", rows.len()));
    }
    Ok(rows)
}

/// CPython 3.11.7's figures (label, arenas, item buffer, rss added, vms added, …) and the
/// model's (label, arenas, rss added, vms added, …).
fn curves() -> Result<(Vec<u64>, Vec<u64>), String> {
    let capture = Capture::load(&root().join("tests/captures/puzzle3_rounds/3.11.txt"))
        .map_err(|e| e.to_string())?;
    let snapshot =
        std::fs::read_to_string(root().join("tests/snapshots/examples__puzzle3_rounds.snap"))
            .map_err(|e| e.to_string())?;
    Ok((rss_plus_vms(&capture.body, 3)?, rss_plus_vms(&snapshot, 2)?))
}

/// An edition's words.
struct Labels {
    title: &'static str,
    x: &'static str,
    y: &'static str,
    cpython: &'static str,
    model: &'static str,
    start: &'static str,
    end: &'static str,
}

const EN: Labels = Labels {
    title: "RSS + VMS grown since the start, after each list of 10⁶ strs",
    x: "round",
    y: "RSS + VMS added (MB)",
    cpython: "CPython 3.11.7",
    model: "the model (3.11 profile)",
    start: "start",
    end: "end",
};

const KO: Labels = Labels {
    title: "str 10⁶개짜리 리스트를 하나씩 더할 때마다 시작보다 늘어난 RSS + VMS",
    x: "라운드",
    y: "늘어난 RSS + VMS (MB)",
    cpython: "CPython 3.11.7",
    model: "모델 (3.11 프로파일)",
    start: "시작",
    end: "끝",
};

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// The plot as SVG text.
fn draw(labels: &Labels, cpython: &[u64], model: &[u64]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        area.fill(&WHITE).map_err(|e| e.to_string())?;
        let top = cpython.iter().chain(model).copied().max().unwrap_or(0);
        let mut chart = ChartBuilder::on(&area)
            .caption(labels.title, ("sans-serif", 20))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(40)
            .y_label_area_size(64)
            // Half a row on each side, so that the first and the last labels are not cut.
            .build_cartesian_2d(-0.5f64..ROWS as f64 - 0.5, 0f64..megabytes(top) * 1.1)
            .map_err(|e| e.to_string())?;
        let row_name = |x: &f64| match x.round() as usize {
            _ if (x - x.round()).abs() > 1e-9 || *x < 0.0 => String::new(),
            0 => labels.start.to_string(),
            x if x == ROWS - 1 => labels.end.to_string(),
            x => (x - 1).to_string(),
        };
        chart
            .configure_mesh()
            .x_labels(ROWS)
            .x_label_formatter(&row_name)
            .y_label_formatter(&|mb| format!("{mb:.0}"))
            .x_desc(labels.x)
            .y_desc(labels.y)
            .draw()
            .map_err(|e| e.to_string())?;
        let blue = RGBColor(31, 119, 180);
        let orange = RGBColor(255, 127, 14);
        for (name, figures, color) in [
            (labels.cpython, cpython, blue),
            (labels.model, model, orange),
        ] {
            let points = figures
                .iter()
                .enumerate()
                .map(|(x, &b)| (x as f64, megabytes(b)));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        area.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[test]
fn the_tables_give_twelve_rows_of_rss_plus_vms() {
    let table = "n = 1000000\nwhen arenas rss vms\nstart 1 10 20\nround-0 2 30 40\n\n";
    assert_eq!(
        rss_plus_vms(table, 2).unwrap_err(),
        "2 rows, not 12",
        "a short table is an error"
    );
    let (cpython, model) = curves().unwrap();
    // Each round adds about the same on both: 10**6 strs in 64-byte blocks and an 8 MB buffer.
    for figures in [&cpython, &model] {
        let growth: Vec<u64> = figures[1..11].windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            growth
                .iter()
                .all(|&g| (140_000_000..150_000_000).contains(&g)),
            "{growth:?}"
        );
    }
}

#[test]
fn the_memory_plot_is_up_to_date() {
    let (cpython, model) = curves().unwrap();
    let update = std::env::var_os("PLOT_UPDATE").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (edition, labels) in [("en", EN), ("ko", KO)] {
        let svg = draw(&labels, &cpython, &model).unwrap();
        let path = root().join(format!("src/{edition}/puzzle-3-memory.svg"));
        if std::fs::read_to_string(&path).ok().as_deref() != Some(svg.as_str()) {
            if update {
                std::fs::write(&path, &svg).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the plot changed (PLOT_UPDATE=1 cargo test --test plot rewrites it): {}",
        stale.join(", ")
    );
}
