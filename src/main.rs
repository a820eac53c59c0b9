//! The `data-tasks` binary: parses the command line, loads the configuration, sets up logging,
//! calls the library and maps the outcome to the exit code (0 done, 1 partial, 2 fatal).

mod cli;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use data_tasks::config::Config;
use data_tasks::fetch::http::HttpClient;
use data_tasks::outcome::Summary;
use data_tasks::secrets::{scrub, Env};
use data_tasks::stages;
use data_tasks::storage::Store;

use cli::{Cli, Command, LogFormat};

fn main() -> ExitCode {
    reexec_with_single_threaded_openmp();
    let cli = Cli::parse();
    init_logging(&cli);
    data_tasks::progress::set_quiet(cli.quiet);
    match run(&cli) {
        Ok(summary) => {
            finish(&cli, &summary);
            ExitCode::from(summary.status.code())
        }
        Err(e) => {
            let e = scrub(&format!("{e:#}"));
            tracing::error!("{e}");
            let mut summary = Summary::new(command_name(&cli.command));
            summary.status = data_tasks::outcome::ExitStatus::Fatal;
            summary.headline = format!("{}: failed, nothing published: {e:#}", summary.command);
            finish(&cli, &summary);
            ExitCode::from(2)
        }
    }
}

/// Debian's libtesseract uses OpenMP, which halves throughput unless `OMP_THREAD_LIMIT=1` is in
/// the environment when the process starts (setting it later has no effect): re-execute once.
fn reexec_with_single_threaded_openmp() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("OMP_THREAD_LIMIT", "1")
        .exec();
    // exec only returns on failure: go on in this process, slower but correct.
    eprintln!("warning: cannot re-execute with OMP_THREAD_LIMIT=1: {err}");
}

fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let default = if cli.quiet {
        "warn"
    } else if cli.verbose {
        "debug"
    } else {
        "info"
    };
    let filter =
        EnvFilter::try_from_env("DATA_TASKS_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(data_tasks::progress::LogWriter);
    match cli.log_format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn finish(cli: &Cli, summary: &Summary) {
    for p in &summary.problems {
        tracing::warn!(problem = %p);
    }
    println!("{}", summary.headline);
    if cli.log_format == LogFormat::Json {
        let json = serde_json::to_string(summary).unwrap_or_default();
        tracing::info!(summary = %json, "summary");
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Check => "check",
        Command::Installations { .. } => "installations",
        Command::AmExport { .. } => "am-export",
        Command::Ocr(_) => "ocr",
        Command::Daily(_) => "daily",
        Command::OcrFile { .. } => "ocr-file",
        Command::Aps => "aps",
        Command::Gn2pg(_) => "gn2pg",
        Command::Visionature(_) => "visionature",
        Command::Ecospheres(_) => "ecospheres",
        Command::Status(_) => "status",
        Command::Dashboard(_) => "dashboard",
    }
}

fn run(cli: &Cli) -> anyhow::Result<Summary> {
    let env = Env::from_process();
    let config = Config::load(cli.config.as_deref(), &env).context("invalid configuration")?;
    let slack_webhook = env.secret("SLACK_WEBHOOK_URL");
    let am_database = || {
        data_tasks::pg::DbUrl::from_env(&env, &["AM_DATABASE_URL"])
            .context("AM_DATABASE_URL is not set (the back-office PostgreSQL URL)")
    };
    let client = HttpClient::new(&config.http)?;
    match &cli.command {
        Command::Check => {
            let mut probes = stages::check::probe_config(&config, &client);
            probes.push(stages::check::Probe {
                name: format!("OCR engine (tesseract {}, PDFium)", config.ocr.language),
                result: ocr::OcrEngine::new(config.ocr.engine_options(1))
                    .map(|_| "loaded".into())
                    .map_err(|e| e.to_string()),
            });
            if let Ok(db) = am_database() {
                probes.push(stages::check::Probe {
                    name: "AM_DATABASE_URL (back-office PostgreSQL)".into(),
                    result: stages::am_export::check_database(&db)
                        .map(|()| "tables present".into())
                        .map_err(|e| e.to_string()),
                });
            }
            Ok(stages::check::summarize(&probes))
        }
        Command::Installations { s3ic, rubriques } => {
            let s3ic = s3ic
                .as_deref()
                .or(config.sources.s3ic.as_deref())
                .context("no S3IC source: pass --s3ic SRC or set DATA_TASKS_SOURCES_S3IC")?;
            let rubriques = rubriques
                .as_deref()
                .or(config.sources.rubriques.as_deref())
                .context(
                    "no rubriques source: pass --rubriques SRC or set DATA_TASKS_SOURCES_RUBRIQUES",
                )?;
            let misc = Store::open(&config.storage.misc)?;
            Ok(stages::installations::run(s3ic, rubriques, &misc, &client)?)
        }
        Command::AmExport { out } => {
            let opts = stages::am_export::AmExportOptions {
                database: am_database()?,
            };
            let am = Store::open(&config.storage.am)?;
            Ok(stages::am_export::publish::run(&opts, &am, out.as_deref())?)
        }
        Command::Aps => {
            config.georisques_dump()?;
            let misc = Store::open(&config.storage.misc)?;
            let ap = Store::open(&config.storage.ap)?;
            let dump_client = stages::aps::dump::client(&config.http)?;
            let (mut summary, report) = stages::aps::run(&config, &misc, &ap, &dump_client)?;
            let text = report.slack_text();
            print!("{text}");
            if let Some(url) = &slack_webhook {
                match data_tasks::report::post_to_slack(&client, url.expose(), &text) {
                    Ok(()) => tracing::info!("posted the summary to Slack"),
                    Err(e) => summary.problem(format!("cannot post the summary to Slack: {e}")),
                }
            }
            Ok(summary)
        }
        Command::Ocr(flags) => {
            let misc = Store::open(&config.storage.misc)?;
            let ap = Store::open(&config.storage.ap)?;
            let (summary, _) = stages::ocr::run(&config, &flags.args(), &misc, &ap, &client)?;
            Ok(summary)
        }
        Command::Daily(flags) => {
            config.georisques_dump()?;
            let misc = Store::open(&config.storage.misc)?;
            let ap = Store::open(&config.storage.ap)?;
            Ok(stages::daily::run(
                &config,
                slack_webhook.as_ref(),
                &flags.args(),
                &misc,
                &ap,
                &client,
            ))
        }
        Command::OcrFile {
            input,
            output,
            jobs,
            force_ocr,
            sidecar,
        } => {
            let args = stages::ocr_file::OcrFileArgs {
                input: input.clone(),
                output: output.clone(),
                jobs: *jobs,
                force_ocr: *force_ocr,
                sidecar: sidecar.clone(),
            };
            Ok(stages::ocr_file::run(&args, &config.ocr)?)
        }
        Command::Gn2pg(args) => Ok(data_tasks::syncs::gn2pg::run(&config, &env, args)?),
        Command::Visionature(args) => Ok(data_tasks::syncs::visionature::run(&config, &env, args)?),
        Command::Ecospheres(args) => Ok(data_tasks::syncs::ecospheres::run(&config, &env, args)?),
        Command::Status(args) => Ok(data_tasks::ops::status::run(&env, args)?),
        Command::Dashboard(args) => Ok(data_tasks::ops::dashboard::run(&env, args)?),
    }
}
