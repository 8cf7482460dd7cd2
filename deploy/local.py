"""The multi-process deployment on one machine, on loopback, until Ctrl-C:

    python -m deploy.local --db postgresql+psycopg://postgres@127.0.0.1:5432/gridscope --replica --processes 2 \\
        --port 8080

1. with ``--replica``: a streaming read replica of the PostgreSQL cluster that holds ``--db``, made with
   ``pg_basebackup -R -X stream`` into the work directory and started on a free loopback port (as the ``postgres``
   user when run as root; the primary's ``pg_hba.conf`` must allow a ``replication`` connection from 127.0.0.1);
2. N Streamlit processes running ``app.py`` with the flags of ``./gridscope run`` (``.streamlit/config.toml``) on
   127.0.0.1, one shared cookie secret, reading the replica (``GRIDSCOPE_DB_URL``) and writing flag reviews and
   action items to the primary (``GRIDSCOPE_DB_WRITE_URL``);
3. nginx in the foreground with ``deploy/gridscope.nginx.conf`` rendered for those processes, its pid file, logs and
   temp files in the work directory.

Everything is stopped (nginx, Streamlit, replica: the reverse order) on exit, Ctrl-C or SIGTERM. Tests and the
viewers benchmark use ``Deployment`` and ``throwaway_primary`` (a private primary made with initdb, so the
machine's own cluster is never touched).
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).with_name("gridscope.nginx.conf")
# Every proxy header, included by every location of the site (the path the template names, Debian's snippets/).
SNIPPET = Path(__file__).with_name("gridscope-proxy-headers.conf")
SNIPPET_INCLUDE = "/etc/nginx/snippets/gridscope-proxy-headers.conf"
PG_BIN = Path(os.environ.get("GRIDSCOPE_PG_BIN", "/usr/lib/postgresql/15/bin"))
NGINX = os.environ.get("GRIDSCOPE_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"


class DeployError(RuntimeError):
    """A part of the deployment could not be started (the message says which and why, with its log)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


# --- PostgreSQL -----------------------------------------------------------------------------------------------------
def _pg_account() -> dict:
    """Popen arguments that run PostgreSQL's programs as ``postgres`` when we are root (the server refuses root)."""
    if os.geteuid() != 0:
        return {}
    pw = pwd.getpwnam("postgres")
    return {
        "user": pw.pw_uid,
        "group": pw.pw_gid,
        "extra_groups": [],
        "env": {**os.environ, "HOME": pw.pw_dir, "USER": "postgres", "LOGNAME": "postgres"},
    }


def _let_postgres_in(workdir: Path) -> None:
    """The postgres account must pass through the work folder (tempfile makes it 0700) to reach its data."""
    if os.geteuid() == 0:
        workdir = workdir.resolve()
        workdir.chmod(workdir.stat().st_mode | 0o011)
        closed = [p for p in workdir.parents if not p.stat().st_mode & 0o001]
        if closed:
            raise DeployError(
                f"the postgres account cannot pass through {closed[0]} (mode "
                f"{closed[0].stat().st_mode & 0o777:o}): pick a work folder under /tmp or /srv"
            )


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _pg_run(args: list, log: Path, what: str, timeout: float = 600) -> None:
    with log.open("ab") as out:
        done = subprocess.run(
            [str(a) for a in args], stdout=out, stderr=subprocess.STDOUT, timeout=timeout, cwd="/", **_pg_account()
        )
    if done.returncode != 0:
        raise DeployError(f"{what} failed ({done.returncode}):\n{_tail(log)}")


@dataclass
class PgCluster:
    """A PostgreSQL server this module started (a throwaway primary or a replica), on 127.0.0.1:``port``."""

    data_dir: Path
    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    def url(self, database: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        return (
            make_url(f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}")
            .set(password=password)
            .render_as_string(hide_password=False)
        )

    def start(self, timeout: float = 60, options: tuple[str, ...] = ()) -> "PgCluster":
        sockets = self.data_dir.parent / "sockets"
        sockets.mkdir(exist_ok=True)
        _give_to_postgres(sockets)
        # A child in the foreground (not pg_ctl's daemon), so it is stopped with us and never outlives a test.
        self.process = subprocess.Popen(
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(self.data_dir),
                "-c",
                f"port={self.port}",
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={sockets}",
                *(x for o in options for x in ("-c", o)),
            ],
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            cwd="/",
            **_pg_account(),
        )
        deadline = time.monotonic() + timeout
        # pg_isready needs no password (a replica copies the primary's pg_hba.conf); 0 = accepting connections,
        # which a hot standby does once its copy is consistent.
        while (
            subprocess.run(
                [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)], timeout=10
            ).returncode
            != 0
        ):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise DeployError(f"PostgreSQL in {self.data_dir} did not start:\n{_tail(self.log_path)}")
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: roll back, disconnect, checkpoint
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def in_recovery(self) -> bool:
        """pg_is_in_recovery() as the postgres superuser without a password (throwaway clusters, tests)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres") as conn:
            return bool(conn.execute("select pg_is_in_recovery()").fetchone()[0])


def throwaway_primary(workdir: Path, name: str = "primary") -> PgCluster:
    """A private primary cluster (initdb, superuser ``postgres``, trust on loopback, replication allowed), started
    on a free port. For tests and benchmarks: the machine's own cluster is never touched."""
    data = Path(workdir) / name
    data.mkdir(parents=True)
    _let_postgres_in(Path(workdir))
    _give_to_postgres(data)
    log = Path(workdir) / f"{name}.log"
    # initdb's --auth=trust also writes `host replication all 127.0.0.1/32 trust`, which pg_basebackup needs.
    _pg_run(
        [
            PG_BIN / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        log,
        "initdb",
    )
    with (data / "postgresql.conf").open("a") as conf:
        # A throwaway cluster: losing it in a power cut costs nothing, so skip the fsyncs (seeding is faster).
        conf.write(
            "\n# deploy.local throwaway primary\nfsync = off\nsynchronous_commit = off\n"
            "full_page_writes = off\nwal_level = replica\nmax_wal_senders = 4\n"
        )
    return PgCluster(data, free_port(), log).start()


def _complete_config(data: Path, primary_url: str) -> None:
    """Debian keeps postgresql.conf and pg_hba.conf in /etc/postgresql/, outside the data folder pg_basebackup
    copies: give the copy a minimal postgresql.conf (the primary's names the primary's own paths and port) and the
    primary's pg_hba.conf when we may read it."""
    if not (data / "postgresql.conf").exists():
        (data / "postgresql.conf").write_text(
            "# deploy.local replica (the primary's settings live outside its data folder)\nhot_standby = on\n"
        )
        _give_to_postgres(data / "postgresql.conf")
    if (data / "pg_hba.conf").exists():
        return
    hba = ""
    try:
        import psycopg

        with psycopg.connect(
            make_url(primary_url).set(drivername="postgresql").render_as_string(hide_password=False), connect_timeout=5
        ) as conn:
            hba = Path(conn.execute("show hba_file").fetchone()[0]).read_text()
    except Exception:  # not a superuser, or the file is on another machine
        hba = ""
    if not hba:
        print(
            "deploy.local: the primary's pg_hba.conf is not readable here; the replica trusts loopback "
            "connections only (host all all 127.0.0.1/32 trust)",
            file=sys.stderr,
        )
        hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
    (data / "pg_hba.conf").write_text(hba)
    _give_to_postgres(data / "pg_hba.conf")


def make_replica(
    primary_url: str, workdir: Path, name: str = "replica", replication_user: str | None = None, timeout: float = 600
) -> PgCluster:
    """A streaming read replica (hot standby) of the cluster holding ``primary_url``, started on a free port."""
    url = make_url(primary_url)
    data = Path(workdir) / name
    data.mkdir(parents=True)
    _let_postgres_in(Path(workdir))
    _give_to_postgres(data)
    data.chmod(0o700)
    log = Path(workdir) / f"{name}.log"
    env_password = {"PGPASSWORD": url.password} if url.password else {}
    account = _pg_account()
    account["env"] = {**account.get("env", os.environ), **env_password}
    with log.open("ab") as out:
        # -R writes standby.signal and primary_conninfo; -X stream copies the WAL written during the copy too.
        done = subprocess.run(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                url.host or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                replication_user or url.username or "postgres",
                "-D",
                str(data),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            cwd="/",
            **account,
        )
    if done.returncode != 0:
        raise DeployError(
            "pg_basebackup could not copy the primary. Its pg_hba.conf needs a line such as "
            "`host replication postgres 127.0.0.1/32 scram-sha-256` (then reload) and the user the REPLICATION "
            f"privilege:\n{_tail(log)}"
        )
    if not (data / "standby.signal").exists():
        raise DeployError(f"the copy in {data} is not a standby (pg_basebackup -R wrote no standby.signal)")
    _complete_config(data, primary_url)
    # hot_standby_feedback: the primary keeps the rows a dashboard query on the replica still reads, so replaying
    # a VACUUM does not cancel it ("conflict with recovery").
    return PgCluster(data, free_port(), log).start(options=("hot_standby_feedback=on",))


# --- Streamlit ------------------------------------------------------------------------------------------------------
@dataclass
class Backend:
    """One Streamlit process on 127.0.0.1:``port``."""

    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:  # as nginx's $upstream_addr writes it
        return f"127.0.0.1:{self.port}"

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_backend(port: int, env: dict, log_path: Path) -> Backend:
    # The flags of `./gridscope run`: .streamlit/config.toml (headless, no file watcher, no usage statistics) is
    # read from the project folder; only the address and port differ per process.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
    )
    return Backend(port, proc, log_path)


def wait_healthy(url: str, process: subprocess.Popen | None, log_path: Path, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.25)
    raise DeployError(f"{what} did not become healthy at {url}:\n{_tail(log_path)}")


# --- nginx ----------------------------------------------------------------------------------------------------------
def render_site(
    ports: list[int], listen: str, *, debug_headers: bool = False, snippet: Path | str = SNIPPET_INCLUDE
) -> str:
    """deploy/gridscope.nginx.conf with its upstream servers, listen address, the path of the header snippet and
    (for tests) debug headers."""
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in ports)
    debug = (
        (
            "    # Which process answered (tests and benchmarks only: it names internal addresses).\n"
            "    add_header X-Gridscope-Backend $upstream_addr always;"
        )
        if debug_headers
        else ""
    )
    text = TEMPLATE.read_text(encoding="utf-8")
    for marker, value in (
        ("@UPSTREAM_SERVERS@", servers),
        ("@LISTEN@", f"    listen {listen};"),
        ("@DEBUG_HEADERS@", debug),
    ):
        if marker not in text:
            raise DeployError(f"{TEMPLATE} lost its {marker} marker")
        text = text.replace(marker, value)
    if f"include {SNIPPET_INCLUDE};" not in text:
        raise DeployError(f"{TEMPLATE} no longer includes {SNIPPET_INCLUDE}")
    return text.replace(f"include {SNIPPET_INCLUDE};", f"include {snippet};")


def write_site(workdir: Path, ports: list[int], listen: str, *, debug_headers: bool = False) -> Path:
    """The rendered site and, beside it, the header snippet it includes (by absolute path); the site's path."""
    snippet = Path(workdir).resolve() / SNIPPET.name
    snippet.write_text(SNIPPET.read_text(encoding="utf-8"), encoding="utf-8")
    site = Path(workdir) / "gridscope.conf"
    site.write_text(render_site(ports, listen, debug_headers=debug_headers, snippet=snippet), encoding="utf-8")
    return site


def nginx_main_conf(workdir: Path, site: Path) -> str:
    """A minimal nginx.conf around the site, with every path (pid, logs, temp files) inside ``workdir``."""
    user = ""
    temp = workdir / "temp"
    if os.geteuid() == 0:
        # The master runs as root and drops its worker to nobody, which must be able to write the temp files.
        pw = pwd.getpwnam("nobody")
        user = f"user {pw.pw_name} {grp.getgrgid(pw.pw_gid).gr_name};"
        for path in (temp, *(temp / d for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"))):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, pw.pw_uid, pw.pw_gid)
    return f"""# written by deploy.local
{user}
daemon off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
    default_type application/octet-stream;
    log_format gridscope '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                         'upstream=$upstream_addr node=$cookie_gridscope_node rt=$request_time';
    access_log {workdir}/nginx-access.log gridscope;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
"""


# --- the whole topology ---------------------------------------------------------------------------------------------
@dataclass
class Deployment:
    """nginx on ``port`` → ``processes`` Streamlit processes → the replica of ``db_url`` (``replica=True``) or
    ``db_url`` itself. Use as a context manager (or ``start()`` / ``stop()``)."""

    db_url: str
    processes: int = 2
    port: int = 0
    replica: bool = False
    workdir: Path | None = None
    extra_env: dict = field(default_factory=dict)
    debug_headers: bool = False
    replication_user: str | None = None
    url: str = ""
    read_url: str = ""
    write_url: str = ""
    backends: list[Backend] = field(default_factory=list)
    replica_cluster: PgCluster | None = None
    nginx: subprocess.Popen | None = None
    _own_workdir: bool = False

    def start(self) -> "Deployment":
        if self.workdir is None:
            self.workdir, self._own_workdir = Path(tempfile.mkdtemp(prefix="gridscope-deploy-")), True
        self.workdir = Path(self.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(self.workdir.stat().st_mode | 0o011)  # postgres and nobody reach their subfolders
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.write_url = self.db_url
        self.read_url = self.db_url
        if self.replica:
            if make_url(self.db_url).get_backend_name() != "postgresql":
                raise DeployError("--replica needs a PostgreSQL primary")
            self.replica_cluster = make_replica(self.db_url, self.workdir, replication_user=self.replication_user)
            self.read_url = (
                make_url(self.db_url)
                .set(host="127.0.0.1", port=self.replica_cluster.port)
                .render_as_string(hide_password=False)
            )
        env = {
            **os.environ,
            "GRIDSCOPE_DB_URL": self.read_url,
            "GRIDSCOPE_DB_WRITE_URL": self.write_url,
            # every process must sign cookies (st.login, Starlette sessions) with the same key, or a browser
            # that fails over to another process is signed out
            "STREAMLIT_SERVER_COOKIE_SECRET": os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32),
            # the peer Streamlit reports is nginx itself, not an address taken from X-Forwarded-For
            # (auth_trusted_proxies, docs/security.md)
            "FORWARDED_ALLOW_IPS": "",
            **self.extra_env,
        }
        ports = [free_port() for _ in range(self.processes)]
        self.backends = [start_backend(p, env, self.workdir / f"streamlit-{p}.log") for p in ports]
        for b in self.backends:  # started together, waited for one by one: start-up overlaps
            wait_healthy(b.url, b.process, b.log_path, f"Streamlit on port {b.port}")
        self.port = self.port or free_port()
        site = write_site(self.workdir, ports, f"127.0.0.1:{self.port}", debug_headers=self.debug_headers)
        main = self.workdir / "nginx.conf"
        main.write_text(nginx_main_conf(self.workdir, site))
        self.nginx = subprocess.Popen(
            [NGINX, "-p", str(self.workdir), "-c", str(main), "-e", str(self.workdir / "nginx-error.log")],
            stdout=(self.workdir / "nginx.out").open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_healthy(self.url, self.nginx, self.workdir / "nginx-error.log", "nginx", timeout=30)

    def sticky_key_for(self, address: str, tries: int = 200) -> str:
        """A value of nginx's sticky cookie that lands on the process at ``address`` (needs ``debug_headers``):
        tests and benchmarks use it to put a browser on a chosen process."""
        for i in range(tries):
            request = urllib.request.Request(self.url + "/_stcore/health", headers={"Cookie": f"gridscope_node=k{i}"})
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.headers["X-Gridscope-Backend"].split(",")[-1].strip() == address:
                    return f"k{i}"
        raise DeployError(f"none of {tries} cookie values reaches {address}")

    def server_pids(self) -> list[int]:
        """Process ids of the Streamlit processes still running (for CPU and memory figures)."""
        return [b.process.pid for b in self.backends if b.process.poll() is None]

    def stop(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()  # SIGTERM: fast shutdown of master and worker
            try:
                self.nginx.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait(timeout=10)
        for b in self.backends:
            b.stop()
        if self.replica_cluster is not None:
            self.replica_cluster.stop()
        if self._own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "Deployment":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m deploy.local", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--db",
        "--primary-url",
        dest="db",
        required=True,
        help="the primary's URL (PostgreSQL; SQLite only without --replica)",
    )
    ap.add_argument(
        "--replica",
        action="store_true",
        help="read from a streaming replica of the primary's cluster, made with pg_basebackup",
    )
    ap.add_argument("--replication-user", help="user for pg_basebackup (default: the URL's user)")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--port", type=int, default=8080, help="nginx's port on 127.0.0.1")
    ap.add_argument(
        "--workdir", type=Path, help="keep the replica, configs and logs here (default: a temp folder, removed at exit)"
    )
    ap.add_argument("--query-log", help="GRIDSCOPE_QUERY_LOG for the Streamlit processes")
    args = ap.parse_args(argv)
    extra = {"GRIDSCOPE_QUERY_LOG": str(Path(args.query_log).resolve())} if args.query_log else {}

    def _terminate(_sig, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)  # also when started in the background (SIGINT ignored there)
    deployment = Deployment(
        args.db,
        processes=args.processes,
        port=args.port,
        replica=args.replica,
        workdir=args.workdir,
        extra_env=extra,
        replication_user=args.replication_user,
    )
    try:
        deployment.start()
        print(f"Gridscope on {deployment.url}  (wall: {deployment.url}/?embed=true)")
        print(f"  {args.processes} Streamlit processes: " + ", ".join(b.url for b in deployment.backends))
        print(
            f"  reading {make_url(deployment.read_url).render_as_string()}"
            + (" (streaming replica)" if args.replica else "")
        )
        print(f"  writing reviews/action items to {make_url(deployment.write_url).render_as_string()}")
        print(f"  configs and logs in {deployment.workdir}; Ctrl-C stops everything")
        reported: set[int] = set()
        while True:
            time.sleep(1)
            for b in deployment.backends:
                if b.process.poll() is not None and b.port not in reported:
                    reported.add(b.port)
                    print(
                        f"Streamlit on port {b.port} exited ({b.process.returncode}); nginx sends its browsers "
                        f"to the others. Log: {b.log_path}",
                        file=sys.stderr,
                    )
            if deployment.nginx.poll() is not None:
                raise DeployError(f"nginx exited:\n{_tail(deployment.workdir / 'nginx-error.log')}")
    except KeyboardInterrupt:
        print("stopping…")
    finally:
        deployment.stop()


if __name__ == "__main__":
    main()
