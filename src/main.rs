//! The `data-tasks` binary: parses the command line, takes one snapshot of the environment,
//! loads the configuration, sets up logging, builds what every command shares (the S3 settings,
//! the HTTP client), calls the library and maps the outcome to the exit code (0 done, 1 partial,
//! 2 fatal). It is the only place that prints: the report and the headline on stdout, the error
//! chain (each cause once, secrets masked) and, with `--log-format json`, the summary as a JSON
//! object on stderr. `completions SHELL` prints its script before any of that (no configuration,
//! no log, no summary).

mod cli;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use data_tasks::config::Config;
use data_tasks::fetch::{http::HttpClient, Limits, Reader};
use data_tasks::outcome::{exit_status, ExitStatus, RunError, Summary};
use data_tasks::probe::ProbeContext;
use data_tasks::report::Delivery;
use data_tasks::secrets::{scrub, Env};
use data_tasks::storage::{S3Settings, Store};
use data_tasks::{compose, stages};

use cli::{Cli, Command, LogFormat};

fn main() -> ExitCode {
    reexec_with_single_threaded_openmp();
    let cli = cli::parse();
    if let Command::Completions { shell } = cli.command {
        // A script on stdout and nothing else: no configuration, no log, no summary.
        cli::print_completions(shell);
        return ExitCode::SUCCESS;
    }
    // Secrets given as `<NAME>_FILE` are read here, once; a file that cannot be read is fatal.
    let env = Env::from_process();
    init_logging(&cli, env.as_ref().unwrap_or(&Env::default()));
    data_tasks::progress::set_quiet(cli.quiet);
    let result = env
        .map_err(RunError::config)
        .and_then(|env| run(&cli, &env));
    let status = exit_status(&result);
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            let message = scrub(&e.message());
            tracing::error!("{message}");
            let mut summary = Summary::new(command_name(&cli.command));
            summary.status = ExitStatus::Fatal;
            summary.headline = message;
            summary
        }
    };
    finish(&cli, &summary);
    ExitCode::from(status.code())
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

/// The log filter (tracing's `EnvFilter` syntax), a variable of the binary's namespace.
const LOG_VAR: &str = "DATA_TASKS_LOG";

/// ANSI colours only when stderr is a terminal, and never with `NO_COLOR` (no-color.org).
fn use_colour(env: &Env) -> bool {
    std::io::stderr().is_terminal() && env.get("NO_COLOR").is_none()
}

fn init_logging(cli: &Cli, env: &Env) {
    use tracing_subscriber::EnvFilter;
    let default = if cli.quiet {
        "warn"
    } else if cli.verbose {
        "debug"
    } else {
        "info"
    };
    let filter = env
        .get(LOG_VAR)
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(use_colour(env))
        .with_writer(data_tasks::progress::LogWriter);
    match cli.log_format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// Prints the end of a run: problems as warnings (errors when the run is fatal: `check`'s failed
/// dependencies, each logged only here), the report and the headline on stdout, and with
/// `--log-format json` the summary as a JSON object, the last line on stderr (also with `-q`).
fn finish(cli: &Cli, summary: &Summary) {
    for p in &summary.problems {
        if summary.status == ExitStatus::Fatal {
            tracing::error!(problem = %scrub(p));
        } else {
            tracing::warn!(problem = %scrub(p));
        }
    }
    let mut out = std::io::stdout().lock();
    if let Some(report) = &summary.report {
        let _ = out.write_all(scrub(report).as_bytes());
    }
    let _ = writeln!(out, "{}", scrub(&summary.headline));
    let _ = out.flush();
    if cli.log_format == LogFormat::Json {
        let line = serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": "INFO",
            "message": "summary",
            "summary": summary,
        });
        let text = scrub(&line.to_string());
        let _ = writeln!(data_tasks::progress::LogWriter, "{text}");
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
        Command::Aps(_) => "aps",
        #[cfg(feature = "gn2pg")]
        Command::Gn2pg(_) => "gn2pg",
        #[cfg(feature = "visionature")]
        Command::Visionature(_) => "visionature",
        #[cfg(feature = "ecospheres")]
        Command::Ecospheres(_) => "ecospheres",
        Command::Status(_) => "status",
        #[cfg(feature = "dashboard")]
        Command::Dashboard(_) => "dashboard",
        Command::Completions { .. } => "completions",
    }
}

/// Missing settings of a command: a configuration error naming what to set.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(&'static str);

fn run(cli: &Cli, env: &Env) -> Result<Summary, RunError> {
    let name = command_name(&cli.command);
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| RunError::Failed {
        command: name.to_string(),
        source: e,
    };
    let config = Config::load(cli.config.as_deref(), env).map_err(RunError::config)?;
    let s3 = S3Settings::from_env(env, config.storage.s3_credentials, &config.http);
    let client = HttpClient::new(&config.http).map_err(RunError::config)?;
    let store = |url: &str| Store::open_with(url, &s3).map_err(|e| fail(e.into()));
    // Dry runs read through read-only handles: nothing can be created or written.
    let read_only = |url: &str| Store::open_read_only(url, &s3).map_err(|e| fail(e.into()));
    let slack_webhook = env.secret("SLACK_WEBHOOK_URL");
    let delivery = Delivery {
        slack: slack_webhook.as_ref(),
        client: &client,
    };
    match &cli.command {
        Command::Check => {
            let ctx = ProbeContext {
                http: &client,
                s3: &s3,
            };
            Ok(compose::check::run(&config, env, &ctx))
        }
        Command::Installations { s3ic, rubriques } => {
            let s3ic =
                s3ic.as_deref()
                    .or(config.sources.s3ic.as_deref())
                    .ok_or(RunError::config(Usage(
                        "no S3IC source: pass --s3ic SRC or set DATA_TASKS_SOURCES_S3IC",
                    )))?;
            let rubriques = rubriques
                .as_deref()
                .or(config.sources.rubriques.as_deref())
                .ok_or(RunError::config(Usage(
                    "no rubriques source: pass --rubriques SRC or set DATA_TASKS_SOURCES_RUBRIQUES",
                )))?;
            let misc = store(&config.storage.misc)?;
            let reader = Reader {
                client: &client,
                s3: &s3,
                limits: Limits::csv(&config.sources),
            };
            stages::installations::run(s3ic, rubriques, &misc, &reader).map_err(|e| fail(e.into()))
        }
        Command::AmExport { out } => {
            let database = data_tasks::pg::DbUrl::from_env(env, &["AM_DATABASE_URL"])
                .map_err(RunError::config)?;
            let opts = stages::am_export::AmExportOptions { database };
            let am = store(&config.storage.am)?;
            stages::am_export::publish::run(&opts, &am, out.as_deref()).map_err(|e| fail(e.into()))
        }
        Command::Aps(flags) => {
            config.sources.georisques_dump().map_err(RunError::config)?;
            let dump_client =
                stages::aps::dump::client(&config.http).map_err(|e| fail(e.into()))?;
            if flags.dry_run {
                let (misc, ap) = (
                    read_only(&config.storage.misc)?,
                    read_only(&config.storage.ap)?,
                );
                return stages::aps::dry_run(
                    &config.sources,
                    &misc,
                    &ap,
                    &dump_client,
                    slack_webhook.is_some(),
                )
                .map_err(|e| fail(e.into()));
            }
            let (misc, ap) = (store(&config.storage.misc)?, store(&config.storage.ap)?);
            stages::aps::run_and_report(&config.sources, &misc, &ap, &dump_client, &delivery)
                .map_err(|e| fail(e.into()))
        }
        Command::Ocr(flags) if flags.dry_run => {
            let (misc, ap) = (
                read_only(&config.storage.misc)?,
                read_only(&config.storage.ap)?,
            );
            stages::ocr::dry_run(&config.sources, &flags.args(), &misc, &ap)
                .map_err(|e| fail(e.into()))
        }
        Command::Daily(flags) if flags.dry_run => {
            config.sources.georisques_dump().map_err(RunError::config)?;
            let (misc, ap) = (
                read_only(&config.storage.misc)?,
                read_only(&config.storage.ap)?,
            );
            Ok(compose::daily::dry_run(
                &config,
                &flags.args(),
                &misc,
                &ap,
                slack_webhook.is_some(),
            ))
        }
        Command::Ocr(flags) => {
            let (misc, ap) = (store(&config.storage.misc)?, store(&config.storage.ap)?);
            stages::ocr::run(
                &config.sources,
                &config.ocr,
                &flags.args(),
                &misc,
                &ap,
                &client,
            )
            .map(|(summary, _)| summary)
            .map_err(|e| fail(e.into()))
        }
        Command::Daily(flags) => {
            config.sources.georisques_dump().map_err(RunError::config)?;
            let (misc, ap) = (store(&config.storage.misc)?, store(&config.storage.ap)?);
            Ok(compose::daily::run(
                &config,
                &flags.args(),
                &misc,
                &ap,
                &client,
                &delivery,
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
            stages::ocr_file::run(&args, config.ocr.engine_options(*jobs))
                .map_err(|e| fail(e.into()))
        }
        #[cfg(feature = "gn2pg")]
        Command::Gn2pg(args) => data_tasks::syncs::gn2pg::run(&config.gn2pg, env, &args.into())
            .map_err(|e| fail(e.into())),
        #[cfg(feature = "visionature")]
        Command::Visionature(args) => {
            data_tasks::syncs::visionature::run(&config.visionature, env, &args.into())
                .map_err(|e| fail(e.into()))
        }
        #[cfg(feature = "ecospheres")]
        Command::Ecospheres(args) => data_tasks::syncs::ecospheres::run(
            &config.ecospheres,
            &config.http,
            config.storage.s3_credentials,
            env,
            &args.into(),
        )
        .map_err(|e| fail(e.into())),
        Command::Status(args) => {
            data_tasks::ops::status::run(env, &args.into()).map_err(|e| fail(e.into()))
        }
        #[cfg(feature = "dashboard")]
        Command::Dashboard(args) => {
            data_tasks::ops::dashboard::run(env, &args.into()).map_err(|e| fail(e.into()))
        }
        Command::Completions { .. } => unreachable!("handled in main before any configuration"),
    }
}
