//! A real PostgreSQL server for the tests, started by the test itself: a
//! cluster made with `initdb` in a temporary directory, listening on a free
//! port of 127.0.0.1 only (its unix socket in that directory), stopped and
//! removed when the handle is dropped, also when the test panics.
//!
//! The binaries come from `$PUSHSEAL_PG_BIN` if set, else from `initdb` on
//! the `PATH`, else from the newest `/usr/lib/postgresql/*/bin` (Debian's
//! place). PostgreSQL refuses to run as root: as root, the cluster belongs
//! to the `postgres` user (or `nobody` where there is none) and every
//! server command runs as that user through `runuser` (or `setpriv`).
//! A machine without PostgreSQL fails the test saying what to install.
//! [`PgServer::start_with`] also turns on TLS with a given certificate, or
//! adds a login role with a password (SCRAM over TCP).

#![allow(dead_code)] // each test file uses its own part

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running PostgreSQL server on 127.0.0.1, for one test.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The unprivileged user the server runs as, when the tests run as root.
    run_as: Option<String>,
    port: u16,
    stopped: bool,
    /// Server options beyond the port and the listen address (TLS).
    options: String,
}

/// What a test server does beyond the defaults.
#[derive(Default)]
pub struct Options<'a> {
    /// TLS (`ssl=on`) with this certificate chain and private key, PEM.
    pub tls: Option<(&'a str, &'a str)>,
    /// A login role with this name and password (SCRAM-SHA-256 over TCP);
    /// the superuser logs in without one as before.
    pub password_user: Option<(&'a str, &'a str)>,
}

/// The database superuser `initdb` creates; the tests log in as it (trust
/// authentication, loopback only).
pub const SUPERUSER: &str = "pushseal";

impl PgServer {
    /// Makes a cluster and starts it; panics saying what is missing if it cannot.
    pub fn start() -> Self {
        Self::start_with(&Options::default())
    }

    /// Makes a cluster with `options` and starts it.
    pub fn start_with(options: &Options<'_>) -> Self {
        let bin = binaries();
        let run_as = running_as_root().then(unprivileged_user);
        let dir = tempfile::Builder::new().prefix("pushseal-pg-").tempdir().expect("a temporary directory");
        if let Some(user) = &run_as {
            let (uid, gid) = ids(user);
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("hand the directory to the server's user");
        }
        let mut server = Self { dir, bin, run_as, port: 0, stopped: true, options: String::new() };
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
                "--no-instructions".as_ref(),
            ],
        );
        if let Some((cert, key)) = options.tls {
            let (cert_file, key_file) = (server.dir.path().join("server.crt"), server.dir.path().join("server.key"));
            server.write_private(&cert_file, cert);
            server.write_private(&key_file, key);
            server.options =
                format!(" -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}", cert_file.display(), key_file.display());
        }
        if let Some((user, _)) = options.password_user {
            // Read at start: the role's rule comes before initdb's trust rules.
            let hba = data.join("pg_hba.conf");
            let rules = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
            std::fs::write(&hba, format!("host all {user} 127.0.0.1/32 scram-sha-256\n{rules}"))
                .expect("write pg_hba.conf");
        }
        // A port that was free a moment ago may be taken by the time the
        // server binds it: try a few.
        for attempt in 0..5 {
            server.port = free_port();
            if server.try_start() {
                server.stopped = false;
                if let Some((user, password)) = options.password_user {
                    let mut admin = server.admin();
                    let role = format!("CREATE ROLE {user} LOGIN SUPERUSER PASSWORD '{password}'");
                    admin.batch_execute(&role).expect("create the role");
                }
                return server;
            }
            eprintln!("PostgreSQL did not start on port {} (attempt {attempt}); trying another", server.port);
        }
        panic!("PostgreSQL did not start; its log:\n{}", server.log());
    }

    /// Writes a file only the server's user can read (PostgreSQL refuses a
    /// key file others can).
    fn write_private(&self, path: &Path, text: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::write(path, text).expect("write a server file");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("make it private");
        if let Some(user) = &self.run_as {
            let (uid, gid) = ids(user);
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("hand the file to the server's user");
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn try_start(&self) -> bool {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=60 -c shared_buffers=16MB{}",
            self.port,
            self.dir.path().display(),
            self.options
        );
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        let out = self.command(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "start".as_ref(),
            ],
        );
        out.status.success()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The TCP port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection string of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `name` and returns its connection string.
    pub fn create_database(&self, name: &str) -> String {
        let mut admin = self.admin();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
        self.url(name)
    }

    /// A connection to database `db`, for the test to look or meddle.
    pub fn connect(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).expect("connect to the test server")
    }

    /// A connection to the `postgres` database.
    pub fn admin(&self) -> postgres::Client {
        self.connect("postgres")
    }

    /// Stops the server (fast shutdown: open connections are cut).
    pub fn stop(&mut self) {
        if !self.stopped {
            let data = self.data_dir();
            self.command(
                "pg_ctl",
                &["-D".as_ref(), data.as_os_str(), "-m".as_ref(), "fast".as_ref(), "-w".as_ref(), "stop".as_ref()],
            );
            self.stopped = true;
        }
    }

    /// Starts a stopped server again on the same port.
    pub fn restart(&mut self) {
        assert!(self.stopped, "the server is running");
        assert!(self.try_start(), "PostgreSQL did not start again; its log:\n{}", self.log());
        self.stopped = false;
    }

    /// Runs one of the server's programs as the server's user; panics with its output if it fails.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Output {
        let out = self.command(program, args);
        assert!(
            out.status.success(),
            "{program} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn command(&self, program: &str, args: &[&std::ffi::OsStr]) -> Output {
        let program = self.bin.join(program);
        let mut command = match &self.run_as {
            None => Command::new(&program),
            Some(user) if Path::new("/usr/sbin/runuser").exists() || Path::new("/sbin/runuser").exists() => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            Some(user) => {
                let (uid, gid) = ids(user);
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}")).arg(format!("--regid={gid}")).arg("--clear-groups").arg(&program);
                c
            }
        };
        // The server's user may not be allowed into the test's directory.
        command.args(args).current_dir(self.dir.path()).env_remove("PGDATA");
        command.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if !self.stopped {
            let data = self.data_dir();
            self.command(
                "pg_ctl",
                &["-D".as_ref(), data.as_os_str(), "-m".as_ref(), "immediate".as_ref(), "-w".as_ref(), "stop".as_ref()],
            );
        }
        // The temporary directory removes itself.
    }
}

/// The directory of `initdb` and `pg_ctl`.
fn binaries() -> PathBuf {
    if let Some(dir) = std::env::var_os("PUSHSEAL_PG_BIN") {
        return PathBuf::from(dir);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("initdb"))
        .find(|p| p.is_file());
    if let Some(initdb) = on_path {
        // Debian links initdb into the PATH; the server's other programs sit beside the real file.
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(dir) = real.parent() {
            return dir.to_path_buf();
        }
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    debian.sort();
    match debian.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL is not installed: these tests start a real server (apt-get install postgresql, or set \
             PUSHSEAL_PG_BIN to the directory of initdb and pg_ctl)"
        ),
    }
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// The user a root test runs the server as.
fn unprivileged_user() -> String {
    ["postgres", "nobody"]
        .into_iter()
        .find(|u| Command::new("id").arg("-u").arg(u).output().is_ok_and(|o| o.status.success()))
        .expect("a user to run PostgreSQL as (postgres or nobody)")
        .to_string()
}

fn ids(user: &str) -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").arg(flag).arg(user).output().expect("run id");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("a numeric id")
    };
    (id("-u"), id("-g"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}
