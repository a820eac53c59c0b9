//! The command line (clap derive), as documented in docs/architecture.md §2 and the README. Each
//! command's `--help` ends with the settings and secrets it needs (`tests/newcomer.rs` checks that
//! they name real settings). This is the only module that uses clap: the library takes plain
//! option structs (`gn2pg::Options`, `status::Options`, …), converted from the types below.

#[cfg(feature = "dashboard")]
use std::net::SocketAddr;
use std::path::PathBuf;

#[cfg(feature = "visionature")]
use chrono::NaiveDate;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
#[cfg(feature = "dashboard")]
use data_tasks::ops::dashboard;
use data_tasks::ops::stale::StaleAfter;
use data_tasks::ops::status;
#[cfg(feature = "ecospheres")]
use data_tasks::syncs::ecospheres;
#[cfg(feature = "gn2pg")]
use data_tasks::syncs::gn2pg;
#[cfg(feature = "visionature")]
use data_tasks::syncs::visionature;

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
    Gn2pg(Gn2pgArgs),
    /// VisioNature (Biolovision API) → PostgreSQL, and the check-schema → production fix-sync.
    #[command(
        after_help = "Needs:\n  [[visionature.site]] tables (name, url) in --config FILE, or \
        --vn-config FILE (Client-API-VN's 2.x YAML or 3.x TOML)\n  VISIONATURE_DATABASE_URL (else DATABASE_URL)\n  \
        per site VN_<SITE>_USER_EMAIL, VN_<SITE>_USER_PW, VN_<SITE>_CLIENT_KEY, \
        VN_<SITE>_CLIENT_SECRET\n  SMTP_URL for fix-sync's mail to visionature.fix_sync.notify_email\n\
        See docs/syncs/visionature.md."
    )]
    #[cfg(feature = "visionature")]
    Visionature(VnArgs),
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
    Ecospheres(EcospheresArgs),
    /// Last run and last success of every sync scope; exit 1 when one is stale (a probe).
    #[command(
        after_help = "Needs:\n  OPS_DATABASE_URL (else DATABASE_URL): the syncs' database \
        (a read-only role is enough). See docs/ops.md."
    )]
    Status(StatusArgs),
    /// Read-only web view of every sync's run history.
    #[command(
        after_help = "Needs:\n  OPS_DATABASE_URL (else DATABASE_URL): the syncs' database \
        (a read-only role is enough)\n  DASHBOARD_USER and DASHBOARD_PASSWORD to listen off \
        loopback. See docs/ops.md."
    )]
    #[cfg(feature = "dashboard")]
    Dashboard(DashboardArgs),
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
#[derive(Debug, Clone, Args)]
pub struct ApsFlags {
    /// Download and build everything, show what would be published (keys, rows, changes) and
    /// the Slack text; publish and post nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Flags of the OCR backlog (`ocr`, and `daily` which runs it).
#[derive(Debug, Clone, Args)]
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

// ---- the syncs' and the operations' command lines ---------------------------------------------

/// The command line of `data-tasks gn2pg`.
#[derive(Debug, Args)]
#[cfg(feature = "gn2pg")]
pub struct Gn2pgArgs {
    /// An operator's gn2pg-client TOML file (`[db]`, `[[source]]`, `[tuning]`), read unchanged.
    #[arg(long, global = true, value_name = "FILE")]
    pub gn2pg_config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Gn2pgCommand,
}

/// `gn2pg` subcommands.
#[derive(Debug, Subcommand)]
#[cfg(feature = "gn2pg")]
pub enum Gn2pgCommand {
    /// Create or complete the schema (gn2pg-client 1.10.1's tables, import_checkpoint, sync_run).
    InitDb {
        /// Operator SQL run after the tables, in one transaction, with `gn2pg_import` replaced
        /// by the schema (e.g. the triggers that fill gn_synthese).
        #[arg(long, value_name = "FILE.sql")]
        custom_script: Option<PathBuf>,
    },
    /// Download every row of the export (resumes an interrupted full).
    Full {
        /// Only this source (name or normalised name); repeatable.
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// Start over instead of resuming an interrupted full.
        #[arg(long)]
        restart: bool,
    },
    /// Rows created, changed or deleted since the last success (a full when there is none).
    Update {
        /// Only this source (name or normalised name); repeatable.
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// Replay changes and deletions from this instant (YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS],
        /// source time zone) instead of the last success; refused if it starts after the last
        /// success.
        #[arg(long, value_name = "DATETIME")]
        since: Option<String>,
    },
    /// Compare each source's export with the rows stored for it (bisecting id ranges) and name
    /// the missing and extra ids; exit 1 when they differ.
    Verify {
        /// Only this source (name or normalised name); repeatable.
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// Store the missing rows and delete the extra ones (normal upsert and deletion paths,
        /// so triggers fire).
        #[arg(long)]
        repair: bool,
    },
}

/// The command line of `data-tasks visionature`.
#[derive(Debug, Args)]
#[cfg(feature = "visionature")]
pub struct VnArgs {
    /// Read sites and settings from a Client-API-VN configuration: 2.x YAML or 3.x TOML (see
    /// the docs).
    #[arg(long, global = true, value_name = "FILE")]
    pub vn_config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: VnCommand,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[cfg(feature = "visionature")]
pub enum VnCommand {
    /// Create the tables (adds only what is missing on a Client-API-VN schema).
    InitDb {
        /// Schema (default: schema_import).
        #[arg(long)]
        schema: Option<String>,
    },
    /// Download sightings and reference lists: --full, or --update from the watermarks.
    Transfer(TransferArgs),
    /// Repair production from the check schema (re-download the window, reconcile, mail).
    FixSync(FixSyncArgs),
    /// Sightings stored per site × taxo group beside the number each site shows; exit 1 when a
    /// group differs by more than visionature.count_tolerance.
    Count(CountArgs),
}

/// `count` flags.
#[derive(Debug, Args)]
#[cfg(feature = "visionature")]
pub struct CountArgs {
    /// Only this site.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Schema counted (default schema_import).
    #[arg(long)]
    pub schema: Option<String>,
}

/// `transfer` flags.
#[derive(Debug, Args)]
#[cfg(feature = "visionature")]
pub struct TransferArgs {
    /// Everything (windowed searches), inserting missing watermarks.
    #[arg(long, conflicts_with = "update", required_unless_present = "update")]
    pub full: bool,
    /// Changes since each taxo group's watermark (diff endpoint).
    #[arg(long)]
    pub update: bool,
    /// Oldest day read by --full (default filter.start_date).
    #[arg(long, requires = "full", value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,
    /// Newest day read by --full (default today).
    #[arg(long, requires = "full", value_name = "YYYY-MM-DD")]
    pub to: Option<NaiveDate>,
    /// Only this site.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Schema (default schema_import; the check sync uses check_schema).
    #[arg(long)]
    pub schema: Option<String>,
}

/// `fix-sync` flags.
#[derive(Debug, Args)]
#[cfg(feature = "visionature")]
pub struct FixSyncArgs {
    /// Days re-downloaded into the check schema (default fix_sync.window_days).
    #[arg(long)]
    pub window_days: Option<u32>,
    /// Reconcile from the check schema as it is.
    #[arg(long)]
    pub skip_download: bool,
    /// Do not replay deletions.
    #[arg(long)]
    pub no_deletes: bool,
    /// Do not send the mail.
    #[arg(long)]
    pub no_notify: bool,
    /// Count, then roll back.
    #[arg(long)]
    pub dry_run: bool,
}

/// The command line of `data-tasks ecospheres`.
#[derive(Debug, Args)]
#[cfg(feature = "ecospheres")]
pub struct EcospheresArgs {
    /// Catalogue to read: s3://bucket/prefix/ or file://folder/ (every object whose name
    /// contains .json) or https://…/dcat/catalog/jsonld?page=1 (follows hydra:nextPage).
    /// Default: ecospheres.source.
    #[arg(long, value_name = "URL")]
    pub source: Option<String>,
    /// Read and score the catalogue, print the summary, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also keep today's snapshot in datasets_history.
    #[arg(long)]
    pub keep_history: bool,
}

/// Output format of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

/// The command line of `data-tasks status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// `text` (a table and a last line) or `json` (one object).
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub format: StatusFormat,
    /// Threshold of a track (a sync's name, fix-sync, verify, count; or the copies' watermark
    /// and reference, whose scope is SITE/PART), optionally for matching scopes only (`*`
    /// wildcards), or `off`; repeatable, last match wins. Defaults: gn2pg=90m,
    /// visionature=3h, fix-sync=8d, ecospheres=26h, watermark=3h, reference=8d
    /// (reference:*/observers=2d, reference:*/field*=31d); verify and count unchecked.
    #[arg(long = "stale-after", value_name = "TRACK[:SCOPE]=DURATION")]
    pub stale_after: Vec<StaleAfter>,
}

/// The command line of `data-tasks dashboard`.
#[derive(Debug, Clone, Args)]
#[cfg(feature = "dashboard")]
pub struct DashboardArgs {
    /// Address to listen on; a non-loopback address requires DASHBOARD_USER and
    /// DASHBOARD_PASSWORD.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Path prefix of every page, as the reverse proxy forwards it (`/` for none).
    #[arg(long, default_value = "/ops", value_name = "PATH")]
    pub base_path: String,
    /// Staleness thresholds, as for `status`.
    #[arg(long = "stale-after", value_name = "TRACK[:SCOPE]=DURATION")]
    pub stale_after: Vec<StaleAfter>,
}

// ---- conversions to the library's plain options -----------------------------------------------

#[cfg(feature = "gn2pg")]
impl From<&Gn2pgArgs> for gn2pg::Options {
    fn from(a: &Gn2pgArgs) -> Self {
        gn2pg::Options {
            gn2pg_config: a.gn2pg_config.clone(),
            command: match &a.command {
                Gn2pgCommand::InitDb { custom_script } => gn2pg::Gn2pgCommand::InitDb {
                    custom_script: custom_script.clone(),
                },
                Gn2pgCommand::Full { sources, restart } => gn2pg::Gn2pgCommand::Full {
                    sources: sources.clone(),
                    restart: *restart,
                },
                Gn2pgCommand::Update { sources, since } => gn2pg::Gn2pgCommand::Update {
                    sources: sources.clone(),
                    since: since.clone(),
                },
                Gn2pgCommand::Verify { sources, repair } => gn2pg::Gn2pgCommand::Verify {
                    sources: sources.clone(),
                    repair: *repair,
                },
            },
        }
    }
}

#[cfg(feature = "visionature")]
impl From<&VnArgs> for visionature::Options {
    fn from(a: &VnArgs) -> Self {
        visionature::Options {
            vn_config: a.vn_config.clone(),
            command: match &a.command {
                VnCommand::InitDb { schema } => visionature::VnCommand::InitDb {
                    schema: schema.clone(),
                },
                VnCommand::Transfer(t) => {
                    visionature::VnCommand::Transfer(visionature::TransferOptions {
                        full: t.full,
                        update: t.update,
                        from: t.from,
                        to: t.to,
                        site: t.site.clone(),
                        schema: t.schema.clone(),
                    })
                }
                VnCommand::FixSync(f) => {
                    visionature::VnCommand::FixSync(visionature::FixSyncOptions {
                        window_days: f.window_days,
                        skip_download: f.skip_download,
                        no_deletes: f.no_deletes,
                        no_notify: f.no_notify,
                        dry_run: f.dry_run,
                    })
                }
                VnCommand::Count(c) => visionature::VnCommand::Count(visionature::CountOptions {
                    site: c.site.clone(),
                    schema: c.schema.clone(),
                }),
            },
        }
    }
}

#[cfg(feature = "ecospheres")]
impl From<&EcospheresArgs> for ecospheres::Options {
    fn from(a: &EcospheresArgs) -> Self {
        ecospheres::Options {
            source: a.source.clone(),
            dry_run: a.dry_run,
            keep_history: a.keep_history,
        }
    }
}

impl From<&StatusArgs> for status::Options {
    fn from(a: &StatusArgs) -> Self {
        status::Options {
            format: match a.format {
                StatusFormat::Text => status::Format::Text,
                StatusFormat::Json => status::Format::Json,
            },
            stale_after: a.stale_after.clone(),
        }
    }
}

#[cfg(feature = "dashboard")]
impl From<&DashboardArgs> for dashboard::Options {
    fn from(a: &DashboardArgs) -> Self {
        dashboard::Options {
            listen: a.listen,
            base_path: a.base_path.clone(),
            stale_after: a.stale_after.clone(),
        }
    }
}

/// Parses the process's arguments (exits with clap's message and code on an error or `--help`).
pub fn parse() -> Cli {
    Cli::parse()
}

/// Prints the completion script of `shell` on stdout.
pub fn print_completions(shell: clap_complete::Shell) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "data-tasks", &mut std::io::stdout());
}
