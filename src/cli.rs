//! The command line (clap derive), as documented in docs/architecture.md §2 and the README. Each
//! command's `--help` ends with the settings and secrets it needs (`tests/newcomer.rs` checks that
//! they name real settings).

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

/// What every command writing to an `s3://` store needs, appended to their help.
macro_rules! s3_note {
    () => {
        "\n`s3://` stores also need AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or \
         storage.s3_credentials = \"instance\"), AWS_ENDPOINT and AWS_REGION for a non-AWS server, \
         and AWS_ALLOW_HTTP=true for a plain http:// endpoint. Every setting can be given in \
         --config FILE or as DATA_TASKS_<SECTION>_<KEY> (config.example.toml lists them)."
    };
}

/// What the OCR engine needs, in the help of the commands that load it.
macro_rules! engine_note {
    () => {
        "\n  the OCR engine: libpdfium.so (ocr.pdfium / DATA_TASKS_OCR_PDFIUM, else PDFIUM_LIB, \
         next to the binary, .deps/pdfium/) and <ocr.language>.traineddata (ocr.tessdata / \
         DATA_TASKS_OCR_TESSDATA, else TESSDATA_PREFIX, else the system's); `data-tasks check` \
         shows which files it uses."
    };
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Touch every configured dependency once; exit 2 if one is down.
    #[command(after_help = concat!(
        "Probes what the other commands need, as configured: storage.misc, storage.ap and \
         storage.am (a probe object written, read back and deleted; a missing file:// folder is \
         only checked to be creatable: check creates nothing), sources.georisques_dump, \
         sources.s3ic and sources.rubriques when set, the OCR engine, SLACK_WEBHOOK_URL (without \
         posting) and AM_DATABASE_URL when set; for each sync once configured ([[gn2pg.source]], \
         [[visionature.site]], ecospheres.source or its database variables), its database and \
         schema and one authenticated call per source or site (a single attempt, no retries).",
        s3_note!()
    ))]
    Check,
    /// S3IC extraction CSVs → installations_*.csv and classements_*.csv in misc.
    #[command(after_help = concat!(
        "Needs:\n  --s3ic SRC or sources.s3ic (DATA_TASKS_SOURCES_S3IC)\n  --rubriques SRC or \
         sources.rubriques (DATA_TASKS_SOURCES_RUBRIQUES)\nWrites to storage.misc \
         (DATA_TASKS_STORAGE_MISC). Sources larger than sources.max_source_mib are refused.",
        s3_note!()
    ))]
    Installations {
        /// The establishments extraction (path, http(s) URL or storage URL; .gz accepted).
        #[arg(long, value_name = "SRC")]
        s3ic: Option<String>,
        /// The rubriques extraction (path, http(s) URL or storage URL; .gz accepted).
        #[arg(long, value_name = "SRC")]
        rubriques: Option<String>,
    },
    /// OCR every listed AP not yet in the ap store (searchable PDF or error record per AP).
    #[command(after_help = concat!(
        "Needs:\n  georisques_ids.json in storage.misc (published by `aps`), or --ids FILE",
        engine_note!(),
        "\nDownloads <sources.ap_pdf_base><id>.pdf (DATA_TASKS_SOURCES_AP_PDF_BASE); writes to \
         storage.ap (DATA_TASKS_STORAGE_AP). --dry-run shows what would be done and changes nothing.",
        s3_note!()
    ))]
    Ocr(OcrFlags),
    /// The 07:00 UTC job: aps → ocr → aps, then the French Slack summary.
    #[command(after_help = concat!(
        "Needs what `aps` and `ocr` need:\n  sources.georisques_dump \
         (DATA_TASKS_SOURCES_GEORISQUES_DUMP: the dump's URL, not public)\n  installations_*.csv \
         in storage.misc (published by `installations`)",
        engine_note!(),
        "\n  SLACK_WEBHOOK_URL to post the report (unset: printed only)\nReads and writes \
         storage.misc and storage.ap. --dry-run shows what would be downloaded, OCRed and \
         published, and changes nothing.",
        s3_note!()
    ))]
    Daily(OcrFlags),
    /// One file, like `ocrmypdf -l fra --skip-text`.
    #[command(after_help = concat!(
        "Needs:",
        engine_note!(),
        "\nOUT's folder must exist and be writable (checked before any work)."
    ))]
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
    #[command(after_help = concat!(
        "Needs:\n  AM_DATABASE_URL: the back-office PostgreSQL (TLS chosen by its sslmode)\nWrites \
         to storage.am (DATA_TASKS_STORAGE_AM), or to --out DIR.",
        s3_note!()
    ))]
    AmExport {
        /// Write the JSON files to this folder instead of publishing a zip.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Géorisques dump → documents_*.csv, aps_*.csv and georisques_ids.json in misc; prints the
    /// Slack summary and posts it to SLACK_WEBHOOK_URL when set.
    #[command(after_help = concat!(
        "Needs:\n  sources.georisques_dump (DATA_TASKS_SOURCES_GEORISQUES_DUMP): the dump's URL, \
         not public\n  installations_*.csv in storage.misc (DATA_TASKS_STORAGE_MISC; published by \
         `installations`)\n  SLACK_WEBHOOK_URL to post the report (unset: printed only)\nReads \
         storage.ap (DATA_TASKS_STORAGE_AP) for each AP's OCR status. --dry-run builds everything, \
         shows what would be published, and changes nothing.",
        s3_note!()
    ))]
    Aps(ApsFlags),
    /// GeoNature export API → PostgreSQL (gn2pg-client's tables).
    #[command(
        after_help = "Needs:\n  [[gn2pg.source]] tables (name, url, data_export_id, user_name) in \
        --config FILE, or --gn2pg-config FILE (gn2pg-client's TOML)\n  GN2PG_DATABASE_URL (else \
        DATABASE_URL)\n  per source GN2PG_<STD_NAME>_PASSWORD (e.g. GN2PG_LPO_AURA_PASSWORD)\n\
        See docs/syncs/gn2pg.md."
    )]
    #[cfg(feature = "gn2pg")]
    Gn2pg(data_tasks::syncs::gn2pg::Args),
    /// VisioNature (Biolovision API) → PostgreSQL, and the check-schema → production fix-sync.
    #[command(
        after_help = "Needs:\n  [[visionature.site]] tables (name, url) in --config FILE, or \
        --vn-config FILE (Client-API-VN's YAML)\n  VISIONATURE_DATABASE_URL (else DATABASE_URL)\n  \
        per site VN_<SITE>_USER_EMAIL, VN_<SITE>_USER_PW, VN_<SITE>_CLIENT_KEY, \
        VN_<SITE>_CLIENT_SECRET\n  SMTP_URL for fix-sync's mail to visionature.fix_sync.notify_email\n\
        See docs/syncs/visionature.md."
    )]
    #[cfg(feature = "visionature")]
    Visionature(data_tasks::syncs::visionature::Args),
    /// DCAT catalogue → metadata-quality indicators table.
    #[command(
        after_help = "Needs:\n  ECOSPHERES_DATABASE_URL (else DATABASE_URL, else the legacy \
        POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_URL, POSTGRES_PORT, POSTGRES_DB)\n  the catalogue: \
        --source URL or ecospheres.source (DATA_TASKS_ECOSPHERES_SOURCE): s3://…, file://… or the \
        CKAN export's first https:// page\n  for s3:// sources AWS_ACCESS_KEY_ID, \
        AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT (or the legacy S3_ENDPOINT_URL, ACCESS_KEY, SECRET_KEY)\n\
        See docs/syncs/ecospheres.md."
    )]
    #[cfg(feature = "ecospheres")]
    Ecospheres(data_tasks::syncs::ecospheres::Args),
    /// Last run and last success of every sync scope; exit 1 when one is stale (a probe).
    #[command(
        after_help = "Needs:\n  OPS_DATABASE_URL (else DATABASE_URL): the syncs' database \
        (a read-only role is enough). See docs/ops.md."
    )]
    Status(data_tasks::ops::status::Args),
    /// Read-only web view of every sync's run history.
    #[command(
        after_help = "Needs:\n  OPS_DATABASE_URL (else DATABASE_URL): the syncs' database \
        (a read-only role is enough)\n  DASHBOARD_USER and DASHBOARD_PASSWORD to listen off \
        loopback. See docs/ops.md."
    )]
    #[cfg(feature = "dashboard")]
    Dashboard(data_tasks::ops::dashboard::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    #[command(
        after_help = "bash: data-tasks completions bash > ~/.local/share/bash-completion/completions/data-tasks\n\
        zsh:  data-tasks completions zsh > ~/.zfunc/_data-tasks (with fpath+=~/.zfunc before compinit)\n\
        fish: data-tasks completions fish > ~/.config/fish/completions/data-tasks.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Flags of `aps`.
#[derive(Debug, Clone, clap::Args)]
pub struct ApsFlags {
    /// Download and build everything, show what would be published (keys, rows, changes) and
    /// the Slack text; publish and post nothing.
    #[arg(long)]
    pub dry_run: bool,
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
    /// Show what would be downloaded, OCRed and stored (counts, first ids, target keys); change
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
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
