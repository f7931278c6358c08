//! The pieces of a small cluster, run as an operator would run them: a fresh PostgreSQL
//! database, Frontdesk instances started from the built binary (processes of their own, so that
//! one can be killed with SIGKILL), and HAProxy in front of them.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database as Connect, DatabaseConnection, Statement};

/// A database made for this run, dropped when it goes out of scope (even when the test fails).
pub struct Database {
    /// Where the instances find it.
    pub url: String,
    admin_url: String,
    name: String,
}

impl Database {
    /// Creates `fdt_cluster_<random>` on the server of `admin_url` (a database URL whose user may
    /// create databases).
    pub async fn create(admin_url: &str) -> Self {
        let name = format!("fdt_cluster_{}", uuid::Uuid::new_v4().simple());
        run_sql(admin_url, &format!("CREATE DATABASE {name}")).await;
        let (prefix, _) = admin_url.rsplit_once('/').expect("a database URL with a path");
        Self { url: format!("{prefix}/{name}"), admin_url: admin_url.to_owned(), name }
    }

    /// A connection of the test's own, to look at what the instances stored.
    pub async fn connect(&self) -> DatabaseConnection {
        Connect::connect(&self.url).await.expect("connect to the cluster's database")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (url, sql) = (self.admin_url.clone(), format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        // Drop runs outside any runtime the test may still be unwinding: a thread of its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(run_sql(&url, &sql)))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

async fn run_sql(url: &str, sql: &str) {
    let conn = Connect::connect(url).await.expect("connect to TEST_DATABASE_URL");
    conn.execute(Statement::from_string(conn.get_database_backend(), sql.to_owned())).await.expect(sql);
    conn.close().await.ok();
}

/// One `frontdesk serve` process; it is killed when dropped.
pub struct Instance {
    /// Its server name in HAProxy (`fd1`, `fd2`...).
    pub name: String,
    pub port: u16,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Instance {
    /// Starts the binary with only `env` in its environment, listening on a port of its own
    /// choosing, and waits until it serves (migrations done).
    pub fn start(name: &str, env: &[(&str, String)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("FRONTDESK_LISTEN", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start frontdesk");
        let log = Arc::new(Mutex::new(Vec::new()));
        keep_lines(child.stdout.take().expect("stdout"), &log);
        keep_lines(child.stderr.take().expect("stderr"), &log);
        let mut instance = Self { name: name.to_owned(), port: 0, child, log };
        instance.port = instance.wait_serving(Duration::from_secs(60));
        instance
    }

    /// The port from the instance's `serving port=N` line.
    fn wait_serving(&mut self, timeout: Duration) -> u16 {
        let deadline = Instant::now() + timeout;
        loop {
            let port = self.log_lines().iter().find_map(|line| {
                let (_, after) = line.split_once(" serving port=")?;
                after.split_whitespace().next()?.parse().ok()
            });
            if let Some(port) = port {
                return port;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) before serving:\n{}", self.name, self.log_lines().join("\n"));
            }
            assert!(Instant::now() < deadline, "{} did not serve within {timeout:?}", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the instance has logged so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// SIGSTOP: the process stays, holding its connections, but does nothing.
    pub fn freeze(&self) {
        signal("STOP", self.child.id());
    }

    /// SIGCONT after [`Instance::freeze`].
    pub fn thaw(&self) {
        signal("CONT", self.child.id());
    }

    /// SIGKILL: no shutdown, no clean-up, as when a machine dies.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(name: &str, pid: u32) {
    let status = Command::new("kill").args([format!("-{name}"), pid.to_string()]).status().expect("kill");
    assert!(status.success(), "kill -{name} {pid}");
}

/// Copies the lines of `stream` into `log` on a thread of their own.
fn keep_lines(stream: impl Read + Send + 'static, log: &Arc<Mutex<Vec<String>>>) {
    let log = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Ok(mut all) = log.lock() {
                all.push(line);
            }
        }
    });
}

/// HAProxy in front of the instances, with its configuration in a directory of its own.
pub struct Balancer {
    /// Where clients connect.
    pub port: u16,
    stats_port: u16,
    child: Child,
    dir: PathBuf,
}

impl Balancer {
    /// Starts HAProxy on `port` in front of `servers` (name, port).
    pub fn start(port: u16, servers: &[(String, u16)]) -> Self {
        let stats_port = crate::smtp_sink::free_port();
        let dir = std::env::temp_dir().join(format!("frontdesk-cluster-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("config dir");
        let config = dir.join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(port, stats_port, servers)).expect("write haproxy.cfg");
        let haproxy = std::env::var("HAPROXY").unwrap_or_else(|_| "haproxy".into());
        let check = Command::new(&haproxy).arg("-c").arg("-q").arg("-f").arg(&config).output().unwrap_or_else(|e| {
            panic!("cannot run {haproxy} ({e}): install HAProxy (apt-get install haproxy), or set HAPROXY")
        });
        assert!(check.status.success(), "haproxy -c: {}", String::from_utf8_lossy(&check.stderr));
        // -db: in the foreground, so that it is our child and dies with the test.
        let child = Command::new(&haproxy)
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy");
        Self { port, stats_port, child, dir }
    }

    /// Each server's state as HAProxy's health checks see it (`UP`, `DOWN`, `UP 1/2`...).
    pub async fn states(&self) -> HashMap<String, String> {
        let url = format!("http://127.0.0.1:{}/stats;csv", self.stats_port);
        let Ok(response) = reqwest::get(&url).await else { return HashMap::new() };
        let csv = response.text().await.unwrap_or_default();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().trim_start_matches("# ").split(',').collect();
        let column = |name: &str| header.iter().position(|h| *h == name).expect("a stats column");
        let (proxy, server, status) = (column("pxname"), column("svname"), column("status"));
        lines
            .map(|line| line.split(',').collect::<Vec<_>>())
            .filter(|cells| cells.get(proxy) == Some(&"frontdesk"))
            .filter_map(|cells| Some(((*cells.get(server)?).to_owned(), (*cells.get(status)?).to_owned())))
            .collect()
    }

    /// Waits until HAProxy sees `server` in `state` (`UP` or `DOWN`); how long that took.
    pub async fn wait_for(&self, server: &str, state: &str, timeout: Duration) -> Duration {
        let start = Instant::now();
        loop {
            if self.states().await.get(server).map(String::as_str) == Some(state) {
                return start.elapsed();
            }
            assert!(start.elapsed() < timeout, "HAProxy did not see {server} {state} within {timeout:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The configuration the README shows, with the test's ports, short timeouts so a dead
/// instance is out of the rotation within a second or two, and a header naming the server
/// that answered, so the test can see where each request went.
fn haproxy_config(port: u16, stats_port: u16, servers: &[(String, u16)]) -> String {
    let servers: String =
        servers.iter().map(|(name, port)| format!("    server {name} 127.0.0.1:{port} check\n")).collect();
    format!(
        "global
    maxconn 1000

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    # A connection refused (an instance that just died) is tried again on another server;
    # a request already sent is not, since it may have been done.
    retries 3
    option redispatch 1
    option forwardfor

frontend web
    bind 127.0.0.1:{port}
    default_backend frontdesk

backend frontdesk
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
    http-response set-header X-Served-By %s
{servers}
listen stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats
"
    )
}
