//! Shared helpers of the benchmark binaries: process CPU time and peak
//! resident set from `/proc`, and running one variant of a benchmark in a
//! child process of the same binary so that each variant's peak memory and
//! CPU time are its own.
//!
//! Linux only (the figures come from `/proc/self`).

pub mod huke_kingdee;
pub mod okki_yonbip;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use integration_core::SqliteStore;

/// Clock ticks per second of `/proc/self/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU time of this process so far (all threads), as
/// `getrusage(RUSAGE_SELF)` reports it, read from `/proc/self/stat`.
pub fn cpu_time() -> Duration {
    let fields = stat_fields("/proc/self/stat");
    // utime 14, stime 15.
    Duration::from_secs_f64((field(&fields, 14) + field(&fields, 15)) as f64 / TICKS_PER_SECOND)
}

/// The fields of a `/proc/<pid>/stat` file from field 3 on (after the
/// command name, which is in parentheses and may hold spaces).
fn stat_fields(path: &str) -> Vec<String> {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace().map(str::to_owned).collect()
}

/// Field `n` (numbered as in `proc(5)`) of [`stat_fields`], as a number.
fn field(fields: &[String], n: usize) -> u64 {
    fields
        .get(n - 3)
        .and_then(|f| f.parse::<u64>().ok())
        .unwrap_or(0)
}

/// CPU time used so far by process `pid` and its children: its own, that
/// of its children that ended (`cutime + cstime`) and that of those still
/// running — for a server (PostgreSQL's postmaster and its backends)
/// whose cost a benchmark counts beside its client's.
pub fn process_tree_cpu_time(pid: u32) -> Duration {
    let own = stat_fields(&format!("/proc/{pid}/stat"));
    let mut ticks: u64 = [14, 15, 16, 17].iter().map(|&n| field(&own, n)).sum();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(child) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let fields = stat_fields(&format!("/proc/{child}/stat"));
        // ppid is field 4.
        if field(&fields, 4) == u64::from(pid) {
            ticks += [14, 15, 16, 17]
                .iter()
                .map(|&n| field(&fields, n))
                .sum::<u64>();
        }
    }
    Duration::from_secs_f64(ticks as f64 / TICKS_PER_SECOND)
}

/// Peak resident set of this process (`VmHWM`), in KiB.
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The figures of one measured phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Records processed.
    pub records: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// CPU seconds (user + system) of the measuring process.
    pub cpu_seconds: f64,
    /// Peak resident set of the measuring process, KiB.
    pub peak_kib: u64,
}

impl Measured {
    /// Records per second.
    pub fn rate(&self) -> f64 {
        self.records as f64 / self.seconds.max(1e-9)
    }

    /// CPU microseconds per record.
    pub fn cpu_us_per_record(&self) -> f64 {
        self.cpu_seconds * 1e6 / (self.records.max(1) as f64)
    }

    /// Peak resident set in MiB.
    pub fn peak_mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }

    /// The line a child prints for its parent.
    pub fn to_line(&self) -> String {
        format!(
            "MEASURED {} {} {} {}",
            self.records, self.seconds, self.cpu_seconds, self.peak_kib
        )
    }

    /// Parses [`Measured::to_line`].
    pub fn from_line(line: &str) -> Option<Self> {
        let mut parts = line.strip_prefix("MEASURED ")?.split_whitespace();
        Some(Self {
            records: parts.next()?.parse().ok()?,
            seconds: parts.next()?.parse().ok()?,
            cpu_seconds: parts.next()?.parse().ok()?,
            peak_kib: parts.next()?.parse().ok()?,
        })
    }
}

/// Measures `work` (which returns the number of records it processed):
/// wall-clock time, CPU time of this process across it, and the process's
/// peak resident set afterwards.
pub fn measure(work: impl FnOnce() -> u64) -> Measured {
    let cpu = cpu_time();
    let started = std::time::Instant::now();
    let records = work();
    Measured {
        records,
        seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: (cpu_time() - cpu).as_secs_f64(),
        peak_kib: peak_rss_kib(),
    }
}

/// Runs this binary again with `args` and returns the [`Measured`] line it
/// printed; its other output goes to this process's stderr.
pub fn run_child(args: &[String]) -> Result<Measured, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines().filter(|l| !l.starts_with("MEASURED ")) {
        eprintln!("  [child] {line}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in stderr.lines() {
        eprintln!("  [child] {line}");
    }
    if !output.status.success() {
        return Err(format!("child {args:?} failed: {}", output.status));
    }
    stdout
        .lines()
        .find_map(Measured::from_line)
        .ok_or_else(|| format!("child {args:?} printed no figures"))
}

/// The command line after the program name, as `--option value` pairs.
/// `-h`/`--help` prints `usage` and exits; an option not in `options`, or
/// one without a value, prints the problem and `usage` and exits with 2
/// (a typo must not silently run the default benchmark).
pub fn command_line(usage: &str, options: &[&str]) -> Vec<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{usage}");
        std::process::exit(0);
    }
    for pair in args.chunks(2) {
        let problem = match pair {
            [name, _] if options.contains(&name.as_str()) => continue,
            [name] if options.contains(&name.as_str()) => format!("{name} needs a value"),
            [name, ..] => format!("unknown option {name}"),
            [] => continue,
        };
        eprintln!("{problem}\n{usage}");
        std::process::exit(2);
    }
    args
}

/// The value of `--name value` in `args`, parsed, or `default` when the
/// option is absent; a value that does not parse exits with 2.
pub fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    match arg_text(args, name) {
        None => default,
        Some(text) => text.parse().unwrap_or_else(|_| {
            eprintln!("{name}: cannot use {text:?}");
            std::process::exit(2);
        }),
    }
}

/// The value of `--name value` in `args` as text.
pub fn arg_text(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// The multi-thread runtime every benchmark process (parent and children)
/// runs on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The mapping document of the Huke → K/3 Cloud scheme (shared with the
/// `examples` crate).
pub const HUKE_TO_KINGDEE_MAPPING: &str =
    include_str!("../../examples/mappings/huke-to-kingdee.json");

/// A `SqliteStore` file in the temporary directory, one per benchmark child
/// (named after the process); removed with its WAL and shared-memory files
/// when dropped, so keep it alive until the store is closed.
pub struct TempSqlite(PathBuf);

impl TempSqlite {
    /// A file name for benchmark `name` of this process.
    pub fn new(name: &str) -> Self {
        Self(std::env::temp_dir().join(format!("benchmarks-{name}-{}.sqlite", std::process::id())))
    }

    /// Opens (creating) the store on the file.
    pub fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.0).expect("a SQLite store in the temporary directory")
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}
