//! The PostgreSQL of the tests.
//!
//! - [`TestDb`]: a database of its own for one test, created on the server named by
//!   `TEST_DATABASE_URL` (exported by `scripts/test.sh`, which starts a throwaway cluster unless
//!   `DATABASE_URL`/`PG*` already point at a reachable server) or, failing that, `DATABASE_URL`;
//!   dropped (with `FORCE`) when the value is dropped.
//! - [`Cluster`]: a throwaway cluster (`initdb` in a temporary folder, loopback only, a free port,
//!   trust authentication, fsync off), optionally with TLS and custom `pg_hba.conf` rules — for the
//!   tests that need a server configured differently (TLS-only) and for `scripts/test.sh` itself
//!   (through the `throwaway-pg` binary). Stopped and deleted on drop unless [`Cluster::keep`].
//!
//! `initdb` refuses to run as root: as root, the cluster's commands run as the `postgres` user
//! (`runuser`), which owns the folder.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::{Client, NoTls};

/// Admin URL of the tests' server (`TEST_DATABASE_URL`, else `DATABASE_URL`).
pub fn admin_url() -> Option<String> {
    ["TEST_DATABASE_URL", "DATABASE_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
}

/// A database for one test, dropped on drop.
pub struct TestDb {
    pub name: String,
    admin: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// `url` with its database (the path) replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDb {
    /// A fresh database named `<prefix>_<pid>_<n>`; `None` (skip) when no server is configured
    /// or reachable outside CI — under CI that panics (see [`crate::require`]).
    pub fn create(prefix: &str) -> Option<TestDb> {
        let Some(admin) = admin_url() else {
            crate::require("PostgreSQL (TEST_DATABASE_URL or DATABASE_URL)", false);
            return None;
        };
        let mut client = match Client::connect(&admin, NoTls) {
            Ok(c) => c,
            Err(e) => {
                crate::require(&format!("a reachable PostgreSQL ({e})"), false);
                return None;
            }
        };
        let name = format!(
            "{}_{}_{}",
            prefix.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        )
        .to_ascii_lowercase();
        let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| {
                panic!(
                    "cannot create test database {name}: {}",
                    e.as_db_error()
                        .map(|d| d.message().to_string())
                        .unwrap_or_else(|| e.to_string())
                )
            });
        Some(TestDb { name, admin })
    }

    /// The URL of this database (same server, user and options as the admin URL).
    pub fn url(&self) -> String {
        with_database(&self.admin, &self.name)
    }

    /// A new connection to this database.
    pub fn client(&self) -> Client {
        Client::connect(&self.url(), NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.name))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(&self.admin, NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Settings of a throwaway cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// `(certificate PEM, private key PEM)`: turns `ssl = on`.
    pub tls: Option<(String, String)>,
    /// Replaces `pg_hba.conf` when not empty (a `local all all trust` line is always kept).
    pub hba: Vec<String>,
    /// Extra `postgresql.conf` lines.
    pub conf: Vec<String>,
}

/// A running throwaway cluster.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    keep: bool,
}

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PG_BINDIR") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, b)| b)
        .unwrap_or_else(|| PathBuf::from(""))
}

fn is_root() -> bool {
    // The real uid, from /proc (no libc binding needed).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl Cluster {
    /// Runs `initdb` in a new folder under the temporary directory and starts the server.
    pub fn start(opts: &ClusterOptions) -> Result<Cluster, String> {
        let dir = std::env::temp_dir().join(format!(
            "data-tasks-pg-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        Self::start_in(&dir, opts)
    }

    /// Same as [`Cluster::start`] in `dir` (created; must not hold a cluster yet).
    pub fn start_in(dir: &Path, opts: &ClusterOptions) -> Result<Cluster, String> {
        let bin = bin_dir();
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cluster = Cluster {
            dir: dir.to_path_buf(),
            bin,
            port: free_port()?,
            keep: false,
        };
        if is_root() {
            cluster.sh(&format!("chown postgres: '{}'", dir.display()), false)?;
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
        )?;
        let mut conf = vec![
            "listen_addresses = '127.0.0.1'".to_string(),
            format!("port = {}", cluster.port),
            format!("unix_socket_directories = '{}'", dir.display()),
            "fsync = off".into(),
            "synchronous_commit = off".into(),
            "full_page_writes = off".into(),
            "max_connections = 200".into(),
        ];
        if let Some((cert, key)) = &opts.tls {
            cluster.write_private("server.crt", cert)?;
            cluster.write_private("server.key", key)?;
            conf.push("ssl = on".into());
            conf.push("ssl_cert_file = 'server.crt'".into());
            conf.push("ssl_key_file = 'server.key'".into());
        }
        conf.extend(opts.conf.iter().cloned());
        cluster.append(&data.join("postgresql.conf"), &conf.join("\n"))?;
        if !opts.hba.is_empty() {
            let mut hba = vec!["local all all trust".to_string()];
            hba.extend(opts.hba.iter().cloned());
            cluster.write(&data.join("pg_hba.conf"), &(hba.join("\n") + "\n"))?;
        }
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &dir.join("server.log").to_string_lossy(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        )?;
        Ok(cluster)
    }

    /// Leaves the cluster running when this value is dropped (stop it with [`Cluster::stop_dir`]).
    pub fn keep(mut self) {
        self.keep = true;
    }

    /// `postgresql://postgres@127.0.0.1:<port>/<db>`.
    pub fn url(&self, db: &str) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// A `key=value` connection string over the cluster's Unix socket (always `trust`, even when
    /// TCP connections must use TLS).
    pub fn socket_conninfo(&self, db: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={db}",
            self.dir.display(),
            self.port
        )
    }

    /// The folder of the cluster (data, socket, log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Stops the cluster whose folder is `dir` (as created by [`Cluster::start_in`]).
    pub fn stop_dir(dir: &Path) -> Result<(), String> {
        let c = Cluster {
            dir: dir.to_path_buf(),
            bin: bin_dir(),
            port: 0,
            keep: true,
        };
        c.stop()
    }

    fn stop(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        )
    }

    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let out = self.command(program).args(args).output().map_err(|e| {
            format!("cannot run {program} (install the Debian postgresql package): {e}")
        })?;
        if out.status.success() {
            Ok(())
        } else {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            Err(format!(
                "{program} failed: {}{}\n{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout),
                log.lines().rev().take(20).collect::<Vec<_>>().join("\n")
            ))
        }
    }

    fn sh(&self, script: &str, as_postgres: bool) -> Result<(), String> {
        let mut c = if as_postgres && is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "sh", "-c", script]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", script]);
            c
        };
        let out = c.output().map_err(|e| format!("sh: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{script}: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn write(&self, path: &Path, text: &str) -> Result<(), String> {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        if is_root() {
            self.sh(&format!("chown postgres: '{}'", path.display()), false)?;
        }
        Ok(())
    }

    fn append(&self, path: &Path, text: &str) -> Result<(), String> {
        let mut all =
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        all.push('\n');
        all.push_str(text);
        all.push('\n');
        self.write(path, &all)
    }

    fn write_private(&self, name: &str, text: &str) -> Result<(), String> {
        let path = self.data().join(name);
        self.write(&path, text)?;
        self.sh(&format!("chmod 600 '{}'", path.display()), false)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.keep {
            let _ = self.stop();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
