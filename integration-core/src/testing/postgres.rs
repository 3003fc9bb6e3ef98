//! A throwaway PostgreSQL server for tests (features `testing` and
//! `postgres`): a cluster of its own in a temporary directory, on a free
//! loopback port, stopped and deleted when dropped; or the server that
//! `DATABASE_URL` names, with a fresh schema per test.
//!
//! ```no_run
//! # async fn example() {
//! use integration_core::testing::postgres::TestPostgres;
//!
//! let Some(pg) = TestPostgres::for_test("my_test").await else {
//!     return; // no server binaries on this developer machine
//! };
//! let store = pg.builder().connect().await.expect("a store");
//! # drop(store);
//! # }
//! ```

use std::fs::File;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::state::{PostgresStore, PostgresStoreBuilder};

/// How long a new server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A PostgreSQL server for one test, and a schema of its own on it.
pub struct TestPostgres {
    url: String,
    schema: String,
    /// The cluster this started, or `None` on `DATABASE_URL`'s server.
    cluster: Option<Cluster>,
    /// Schemas handed out on `DATABASE_URL`'s server, dropped at the end.
    schemas: Mutex<Vec<String>>,
}

impl std::fmt::Debug for TestPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPostgres")
            .field("own_cluster", &self.cluster.is_some())
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl TestPostgres {
    /// The server `DATABASE_URL` names, or a new cluster from the server
    /// binaries (`initdb`, `pg_ctl` and `postgres` on `PATH`, else in the
    /// newest `/usr/lib/postgresql/<N>/bin`); `None` when neither exists.
    pub async fn start() -> Result<Option<Self>, String> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let schema = unique_name("test");
            return Ok(Some(Self {
                url,
                schemas: Mutex::new(vec![schema.clone()]),
                schema,
                cluster: None,
            }));
        }
        let Some(bin) = server_binaries() else {
            return Ok(None);
        };
        let mut cluster = tokio::task::spawn_blocking(move || Cluster::init(bin))
            .await
            .map_err(|e| format!("initdb panicked: {e}"))??;
        let mut last_error = String::new();
        // A port found free can be taken before the server binds it: retry.
        for _ in 0..3 {
            let port = free_port()?;
            cluster.spawn(port)?;
            let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
            match cluster.wait_ready(&url).await {
                Ok(()) => {
                    cluster.port = port;
                    return Ok(Some(Self {
                        url,
                        schema: unique_name("test"),
                        cluster: Some(cluster),
                        schemas: Mutex::default(),
                    }));
                }
                Err(e) if e.contains("Address already in use") => {
                    cluster.stop();
                    last_error = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error)
    }

    /// A server for the test `name`. Without one, CI (`CI=true`) fails,
    /// since it must test this; a developer machine skips, saying so on
    /// one line.
    pub async fn for_test(name: &str) -> Option<Self> {
        match Self::start().await {
            Ok(Some(pg)) => Some(pg),
            Ok(None) if on_ci() => panic!(
                "{name}: PostgreSQL server binaries not found; CI must install Debian's postgresql package"
            ),
            Ok(None) => {
                // Written to the stream itself, past the test harness's
                // capture: a skip must show in a plain `cargo test`.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED {name}: no PostgreSQL server binaries (install Debian's postgresql package, or set DATABASE_URL)"
                );
                None
            }
            Err(e) => panic!("{name}: cannot start a PostgreSQL server: {e}"),
        }
    }

    /// The connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A libpq `key=value` string reaching the server through its unix
    /// socket (an own cluster only).
    pub fn socket_url(&self) -> Option<String> {
        let cluster = self.cluster.as_ref()?;
        Some(format!(
            "host={} port={} user=postgres dbname=postgres",
            cluster.dir.display(),
            cluster.port
        ))
    }

    /// The server's process id, when this started the server (its
    /// backends are its children): for benchmarks counting its CPU time.
    pub fn server_pid(&self) -> Option<u32> {
        self.cluster.as_ref()?.server.as_ref().map(Child::id)
    }

    /// This instance's schema, used by no other test.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Another schema name no one uses yet (dropped at the end on
    /// `DATABASE_URL`'s server).
    pub fn new_schema(&self) -> String {
        let schema = unique_name("test");
        if self.cluster.is_none() {
            crate::testing::lock(&self.schemas).push(schema.clone());
        }
        schema
    }

    /// A store builder for this server and [schema](Self::schema).
    pub fn builder(&self) -> PostgresStoreBuilder {
        PostgresStore::builder(&self.url).schema(&self.schema)
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        // An own cluster goes whole (the `Cluster`'s drop); on a shared
        // server, the schemas this handed out.
        if self.cluster.is_some() {
            return;
        }
        let schemas = std::mem::take(&mut *crate::testing::lock(&self.schemas));
        let url = self.url.clone();
        // Its own thread and runtime: a drop may run on a runtime thread.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let Ok((client, connection)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                else {
                    return;
                };
                let connection = tokio::spawn(connection);
                for schema in schemas {
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                        .await;
                }
                drop(client);
                let _ = connection.await;
            });
        });
        let _ = dropper.join();
    }
}

/// Whether this runs on CI (`CI` set, and not to `false` or `0`).
fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A name unique across processes and calls: letters, digits, underscores.
fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}_{}_{}_{:08x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
fn server_binaries() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|d| complete(d))
    {
        return Some(dir);
    }
    // Debian keeps them off PATH, by major version.
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    versions
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| complete(bin))
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin)
}

/// A loopback port nothing listens on now.
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("no free loopback port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// The output of `id` with `args`, as a number.
fn id(args: &[&str]) -> Result<u32, String> {
    let output = Command::new("id")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            format!(
                "id {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })
}

/// A cluster in a temporary directory; dropping it stops the server and
/// deletes the directory.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    /// The `postgres` user's uid and gid, when running as root (which
    /// PostgreSQL refuses).
    owner: Option<(u32, u32)>,
    server: Option<Child>,
    /// The port it listens on (and names its socket by).
    port: u16,
}

impl Cluster {
    /// Makes the directory and runs `initdb` in it.
    fn init(bin: PathBuf) -> Result<Self, String> {
        let owner = if id(&["-u"])? == 0 {
            Some((id(&["-u", "postgres"])?, id(&["-g", "postgres"])?))
        } else {
            None
        };
        let dir = std::env::temp_dir().join(unique_name("integration-core-pg"));
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let cluster = Self {
            dir,
            bin,
            owner,
            server: None,
            port: 0,
        };
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&cluster.dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot give {} to postgres: {e}", cluster.dir.display()))?;
        }
        let output = cluster
            .command("initdb")
            .arg("-D")
            .arg(cluster.data())
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .arg("--locale=C")
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "initdb failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// One of the server binaries, run as the `postgres` user when this
    /// runs as root, from the cluster's directory.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.current_dir(&self.dir).stdin(Stdio::null());
        if let Some((uid, gid)) = self.owner {
            command.uid(uid).gid(gid);
        }
        command
    }

    /// Starts the server on `port`, logging to the cluster's directory.
    fn spawn(&mut self, port: u16) -> Result<(), String> {
        let log = File::create(self.log()).map_err(|e| format!("cannot create the log: {e}"))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot share the log: {e}"))?;
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-p", &port.to_string()])
            .arg("-k")
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot start postgres: {e}"))?;
        self.server = Some(child);
        Ok(())
    }

    /// Waits until the server accepts connections at `url`.
    async fn wait_ready(&mut self, url: &str) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Some(server) = self.server.as_mut()
                && let Ok(Some(status)) = server.try_wait()
            {
                self.server = None;
                return Err(format!(
                    "postgres exited ({status}) before accepting connections; its log ends:\n{}",
                    self.log_tail()
                ));
            }
            let attempt = tokio::time::timeout(
                Duration::from_secs(2),
                tokio_postgres::connect(url, tokio_postgres::NoTls),
            )
            .await;
            if let Ok(Ok(_)) = attempt {
                return Ok(());
            }
            if start.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "postgres accepted no connection within {READY_TIMEOUT:?}; its log ends:\n{}",
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines of the server's log.
    fn log_tail(&self) -> String {
        let log = std::fs::read(self.log()).unwrap_or_default();
        let log = String::from_utf8_lossy(&log);
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Stops the server: `pg_ctl stop -m immediate`, then a kill if it is
    /// still there.
    fn stop(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        if let Ok(None) = server.try_wait() {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["stop", "-m", "immediate", "-w", "-t", "10"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if let Ok(None) = server.try_wait() {
            let _ = server.kill();
        }
        let _ = server.wait();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
