//! `throwaway-pg start DIR` starts a throwaway PostgreSQL cluster in DIR (loopback, a free port,
//! trust auth) and prints `export TEST_DATABASE_URL=…` for the shell; `throwaway-pg stop DIR`
//! stops it. Used by `scripts/test.sh` when no server is configured.

use std::path::Path;
use std::process::ExitCode;

use testkit::pg::{Cluster, ClusterOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, dir) = match args.as_slice() {
        [cmd, dir] => (cmd.as_str(), Path::new(dir)),
        _ => {
            eprintln!("usage: throwaway-pg start|stop DIR");
            return ExitCode::from(2);
        }
    };
    let result = match cmd {
        "start" => Cluster::start_in(dir, &ClusterOptions::default()).map(|c| {
            println!("export TEST_DATABASE_URL={}", c.url("postgres"));
            c.keep();
        }),
        "stop" => Cluster::stop_dir(dir),
        _ => Err(format!("unknown command {cmd:?}: start or stop")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("throwaway-pg: {e}");
            ExitCode::from(1)
        }
    }
}
