//! Runs the AM export once against `DATABASE_URL` (or the first argument) and prints the wall
//! time, the summary and the zip size. Used by `scripts/bench-am.sh`.

use std::time::Instant;

use data_tasks::pg::DbUrl;
use data_tasks::secrets::Secret;
use data_tasks::stages::am_export::{export_zip, AmExportOptions};

fn main() {
    let database_url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_else(|| "postgresql://postgres@127.0.0.1:5432/postgres".into());
    let start = Instant::now();
    let database = match DbUrl::parse("DATABASE_URL", Secret::new(database_url)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    match export_zip(&AmExportOptions { database }) {
        Ok((zip, summary)) => {
            println!(
                "exported {} AMs in {:.2} s; zip {} bytes; skipped {}; dropped parametrization {}; warnings {}",
                summary.exported,
                start.elapsed().as_secs_f64(),
                zip.len(),
                summary.skipped_no_structured.len(),
                summary.dropped_parametrization.len(),
                summary.warnings.len()
            );
        }
        Err(e) => {
            eprintln!("export failed: {e}");
            std::process::exit(1);
        }
    }
}
