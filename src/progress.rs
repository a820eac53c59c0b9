//! Progress of long work, the same way in every stage and sync: an indicatif bar with elapsed
//! time, rate and ETA when stderr is a terminal; an INFO line at most every 30 s otherwise (logs
//! of cron jobs, Kubernetes); nothing with `-q` ([`set_quiet`], called once by the binary).
//!
//! Bars live in one process-wide [`indicatif::MultiProgress`]; the binary's log writer
//! ([`LogWriter`]) prints through it, so a log line written while a bar is drawn never leaves a
//! stale copy of the bar behind.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Interval of progress lines when stderr is not a terminal.
pub const LINE_EVERY: Duration = Duration::from_secs(30);

static QUIET: AtomicBool = AtomicBool::new(false);

fn multi() -> &'static MultiProgress {
    static MULTI: OnceLock<MultiProgress> = OnceLock::new();
    MULTI.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

/// No bars and no progress lines (the binary's `-q`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// What is counted, for the bar's template and the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Items with a name (`documents`, `rows`, `pages`…).
    Items(&'static str),
    /// Bytes (downloads), shown in KiB/MiB.
    Bytes,
}

/// One piece of long work.
pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    unit: Unit,
    total: AtomicU64,
    pos: AtomicU64,
    start: Instant,
    last_line: Mutex<Instant>,
    lines: bool,
    message: Mutex<String>,
}

impl Progress {
    /// Starts showing progress of `label` over `total` units (`None`: unknown, no ETA).
    pub fn new(label: &str, total: Option<u64>, unit: Unit) -> Progress {
        let quiet = QUIET.load(Ordering::Relaxed);
        let tty = std::io::stderr().is_terminal();
        let bar = (!quiet && tty).then(|| {
            // Added to the MultiProgress before anything can draw it: a bar drawn on its own
            // first (its steady tick starting early) would leave that copy behind on stderr.
            let bar = multi().add(match total {
                Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::hidden()),
                None => ProgressBar::hidden(),
            });
            let template = match (unit, total.is_some()) {
                (Unit::Bytes, true) => "{prefix} {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} [{elapsed_precise}, ETA {eta}] {msg}".to_string(),
                (Unit::Bytes, false) => "{prefix} {spinner} {bytes} {binary_bytes_per_sec} [{elapsed_precise}] {msg}".to_string(),
                (Unit::Items(name), true) => format!("{{prefix}} {{bar:30}} {{pos}}/{{len}} {name} [{{elapsed_precise}}, ETA {{eta}}] {{msg}}"),
                (Unit::Items(name), false) => format!("{{prefix}} {{spinner}} {{pos}} {name} [{{elapsed_precise}}] {{msg}}"),
            };
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style);
            }
            bar.set_prefix(label.to_string());
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress {
            lines: !quiet && bar.is_none(),
            bar,
            label: label.to_string(),
            unit,
            total: AtomicU64::new(total.unwrap_or(0)),
            pos: AtomicU64::new(0),
            start: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            message: Mutex::new(String::new()),
        }
    }

    /// Adds `n` done units.
    pub fn inc(&self, n: u64) {
        let pos = self.pos.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(bar) = &self.bar {
            bar.set_position(pos);
        }
        self.maybe_line();
    }

    /// Sets the done units.
    pub fn set_position(&self, pos: u64) {
        self.pos.store(pos, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_position(pos);
        }
        self.maybe_line();
    }

    /// Sets (or corrects) the total.
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    /// Sets the free text shown after the counts (rates, errors…).
    pub fn set_message(&self, message: impl Into<String>) {
        let message = message.into();
        if let Some(bar) = &self.bar {
            bar.set_message(message.clone());
        }
        *self.message.lock().unwrap_or_else(|p| p.into_inner()) = message;
    }

    /// Units done so far.
    pub fn position(&self) -> u64 {
        self.pos.load(Ordering::Relaxed)
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn maybe_line(&self) {
        if !self.lines {
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() < LINE_EVERY {
            return;
        }
        *last = Instant::now();
        drop(last);
        tracing::info!("{}", self.line());
    }

    /// The progress line (`label: 120/400 documents (30 %), 2.1/s, ETA 2 min 13 s; msg`).
    pub fn line(&self) -> String {
        let pos = self.position();
        let total = self.total.load(Ordering::Relaxed);
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let rate = pos as f64 / secs;
        let (done, unit_name) = match self.unit {
            Unit::Bytes => (format!("{:.1} MiB", pos as f64 / 1048576.0), "MiB"),
            Unit::Items(name) => (pos.to_string(), name),
        };
        let mut line = if total > 0 {
            let shown_total = match self.unit {
                Unit::Bytes => format!("{:.1} MiB", total as f64 / 1048576.0),
                Unit::Items(name) => format!("{total} {name}"),
            };
            let pct = 100.0 * pos as f64 / total as f64;
            let eta = if rate > 0.0 && pos < total {
                format!(
                    ", ETA {}",
                    humantime::format_duration(Duration::from_secs(
                        ((total - pos) as f64 / rate) as u64
                    ))
                )
            } else {
                String::new()
            };
            format!("{}: {done}/{shown_total} ({pct:.0} %){eta}", self.label)
        } else {
            format!(
                "{}: {done} {}",
                self.label,
                if matches!(self.unit, Unit::Bytes) {
                    ""
                } else {
                    unit_name
                }
            )
        };
        let rate_shown = match self.unit {
            Unit::Bytes => format!("{:.1} MiB/s", rate / 1048576.0),
            Unit::Items(_) => format!("{rate:.1}/s"),
        };
        line = format!("{}, {rate_shown}", line.trim_end());
        let msg = self.message.lock().unwrap_or_else(|p| p.into_inner());
        if !msg.is_empty() {
            line.push_str("; ");
            line.push_str(&msg);
        }
        line
    }

    /// Removes the bar (the caller prints its own summary).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            multi().remove(bar);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A reader that counts what goes through it on a [`Progress`] (in bytes).
pub struct ProgressReader<'a, R> {
    inner: R,
    progress: &'a Progress,
}

impl<'a, R> ProgressReader<'a, R> {
    /// Wraps `inner`; every byte read is added to `progress`.
    pub fn new(inner: R, progress: &'a Progress) -> Self {
        ProgressReader { inner, progress }
    }
}

impl<R: std::io::Read> std::io::Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}

/// stderr for the log subscriber, printed through the progress bars (see the module doc).
#[derive(Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        multi().suspend(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_say_how_far_and_how_fast() {
        let p = Progress::new("ocr", Some(400), Unit::Items("documents"));
        p.inc(100);
        p.set_message("3 errors");
        let line = p.line();
        assert!(
            line.starts_with("ocr: 100/400 documents (25 %), ETA "),
            "{line}"
        );
        assert!(line.ends_with("/s; 3 errors"), "{line}");
        let b = Progress::new("dump", None, Unit::Bytes);
        b.inc(3 * 1048576);
        assert!(b.line().starts_with("dump: 3.0 MiB"), "{}", b.line());
    }
}
