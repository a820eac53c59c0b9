//! The command line (clap derive), as documented in docs/architecture.md §2 and the README.

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
    /// OCR every listed AP not yet in the ap store (searchable PDF or error record per AP).
    Ocr(OcrFlags),
    /// The 07:00 UTC job: aps → ocr → aps, then the French Slack summary.
    Daily(OcrFlags),
    /// One file, like `ocrmypdf -l fra --skip-text`.
    OcrFile {
        /// Input PDF.
        input: PathBuf,
        /// Output PDF (written aside, then renamed).
        output: PathBuf,
        /// Recognition workers (0 = all cores).
        #[arg(long, default_value_t = 0)]
        jobs: usize,
        /// OCR every page, even those with a text layer.
        #[arg(long)]
        force_ocr: bool,
        /// Also write the recognised text here.
        #[arg(long, value_name = "FILE.txt")]
        sidecar: Option<PathBuf>,
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
    /// GeoNature export API → PostgreSQL (gn2pg-client's tables).
    Gn2pg(data_tasks::syncs::gn2pg::Args),
    /// VisioNature (Biolovision API) → PostgreSQL, and the check-schema → production fix-sync.
    Visionature(data_tasks::syncs::visionature::Args),
    /// DCAT catalogue → metadata-quality indicators table.
    Ecospheres(data_tasks::syncs::ecospheres::Args),
    /// Last run and last success of every sync scope; exit 1 when one is stale (a probe).
    Status(data_tasks::ops::status::Args),
    /// Read-only web view of every sync's run history.
    Dashboard(data_tasks::ops::dashboard::Args),
}

/// Flags of the OCR backlog (`ocr`, and `daily` which runs it).
#[derive(Debug, Clone, clap::Args)]
pub struct OcrFlags {
    /// Process at most N documents.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Recognition workers (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Only the ids of shard I of N (stable hash), for parallel machines (e.g. an Indexed Job).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<data_tasks::stages::ocr::Shard>,
    /// Process listed ids even if the ap store already holds them.
    #[arg(long)]
    pub force_redo: bool,
    /// Read the ids from FILE (JSON array or one per line) instead of misc/georisques_ids.json.
    #[arg(long, value_name = "FILE")]
    pub ids: Option<PathBuf>,
    /// Downloads running ahead of the OCR.
    #[arg(long, default_value_t = 4)]
    pub downloaders: usize,
}

impl OcrFlags {
    pub fn args(&self) -> data_tasks::stages::ocr::OcrArgs {
        data_tasks::stages::ocr::OcrArgs {
            limit: self.limit,
            jobs: self.jobs,
            shard: self.shard,
            force_redo: self.force_redo,
            ids_file: self.ids.clone(),
            downloaders: self.downloaders,
        }
    }
}
