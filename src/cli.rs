//! The command line (clap derive), as documented in design.md §2 and the README.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "data-tasks",
    version,
    about = "Prepares Envinorma's open data: ICPE installations, APs (with OCR), AMs"
)]
pub struct Cli {
    /// TOML configuration file (every key can be overridden by DATA_TASKS_<SECTION>_<KEY>).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format on stderr; with `json` the last line is the run's JSON summary.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Debug logs.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Touch every configured dependency once; exit 2 if one is down.
    Check,
    /// S3IC extraction CSVs → installations_*.csv and classements_*.csv in misc.
    Installations {
        /// The establishments extraction (path, http(s) URL or storage URL; .gz accepted).
        #[arg(long, value_name = "SRC")]
        s3ic: Option<String>,
        /// The rubriques extraction (path, http(s) URL or storage URL; .gz accepted).
        #[arg(long, value_name = "SRC")]
        rubriques: Option<String>,
    },
    /// In-force AMs of the back-office database (AM_DATABASE_URL) → JSON archive in the am store.
    AmExport {
        /// Write the JSON files to this folder instead of publishing a zip.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Géorisques dump → documents_*.csv, aps_*.csv and georisques_ids.json in misc; prints the
    /// Slack summary and posts it to SLACK_WEBHOOK_URL when set.
    Aps,
}
