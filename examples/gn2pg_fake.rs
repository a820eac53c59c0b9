//! The fake GeoNature of the gn2pg tests as a process, for `scripts/bench-gn2pg.sh`:
//! `gn2pg_fake [--rows N] [--latency-ms MS] [--kind cd_nomenclature|label|metadata] [--port P]
//! [--seed S]` prints `http://127.0.0.1:P/` and serves until killed. Mutations between runs go
//! through `GET /_fake/mutate?modify=N&add=N&delete=N&foreign=N&stamp=YYYY-MM-DD HH:MM:SS`.

#[path = "../tests/gn2pg_fake/mod.rs"]
mod fake;

use std::time::Duration;

fn main() {
    let mut settings = fake::Settings::default();
    let mut port = 0u16;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--rows" => settings.rows = value.parse().unwrap_or(settings.rows),
            "--latency-ms" => settings.latency = Duration::from_millis(value.parse().unwrap_or(0)),
            "--seed" => settings.seed = value.parse().unwrap_or(1),
            "--port" => port = value.parse().unwrap_or(0),
            "--max-limit" => settings.max_limit = value.parse().unwrap_or(1000),
            "--kind" => {
                settings.kind = match value.as_str() {
                    "label" => fake::Kind::Label,
                    "metadata" => fake::Kind::Metadata,
                    _ => fake::Kind::CdNomenclature,
                }
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let f = fake::Fake::start_on(&format!("127.0.0.1:{port}"), settings);
    println!("{}", f.url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
