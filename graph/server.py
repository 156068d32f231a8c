"""The local Neo4j 5.26 server with open GDS, built from Maven Central and run on JDK 17.

No Docker and no download from outside Maven Central: ``server/pom.xml`` resolves
Neo4j Community and its dependencies into ``server/target/neo4j/lib`` and builds
one shaded open-GDS plugin into ``server/target/neo4j/plugins``. This module
writes a ``neo4j.conf`` into the server home (``settings.server_home``), starts
``org.neo4j.server.CommunityEntryPoint`` with the JVM flags of Neo4j 5's default
configuration, waits for Bolt, and stops it cleanly.

Layout of a server home::

    <home>/conf/neo4j.conf     written from settings at every start
    <home>/data/               databases and the system database (auth)
    <home>/logs/               neo4j.log (console), debug.log, query.log
    <home>/run/neo4j.pid       pid of the running server
    <home>/import/             CSVs for neo4j-admin database import
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from chainrisk.errors import ServerBuildError
from chainrisk.settings import REPO_ROOT, Settings

__all__ = [
    "JVM_FLAGS",
    "ServerHandle",
    "build_server",
    "ensure_built",
    "is_built",
    "java_executable",
    "run_admin",
    "server_pid",
    "start_server",
    "stop_server",
    "write_config",
]

#: JVM flags of Neo4j 5.26's default neo4j.conf (``server.jvm.additional``), which
#: bin/neo4j would pass; we start the JVM ourselves so we pass them ourselves.
JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j.layout.jsonTemplate.maxStringLength=32768",
    "-Dfile.encoding=UTF-8",
)

_ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
_ADMIN_ENTRY_POINT = "org.neo4j.server.startup.Neo4jAdminCommand"
_POM = REPO_ROOT / "server" / "pom.xml"


@dataclass(frozen=True)
class ServerHandle:
    """A running local server."""

    pid: int
    bolt: str
    http: str
    log: Path
    already_running: bool = False


# ------------------------------------------------------------------------- build
def is_built(settings: Settings) -> bool:
    """Whether the Maven build's lib/ and GDS plugin are present."""
    dist = settings.server_dist
    return any((dist / "lib").glob("neo4j-5.26.*.jar")) and any((dist / "plugins").glob("*gds*.jar"))


def build_server(settings: Settings, *, quiet: bool = True) -> None:
    """Run the Maven build (``mvn -B package`` on ``server/pom.xml``)."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerBuildError("Maven (mvn) is not on PATH; it is needed to build the local Neo4j server")
    cmd = [mvn, "-B", "-Dstyle.color=never", *(["-q"] if quiet else []), "-f", str(_POM), "package"]
    env = dict(os.environ)
    if settings.java_home:
        env["JAVA_HOME"] = str(settings.java_home)
    proc = subprocess.run(cmd, env=env, capture_output=quiet, text=True, check=False)
    if proc.returncode != 0 or not is_built(settings):
        tail = _last_line((proc.stdout or "") + "\n" + (proc.stderr or ""), marker="ERROR")
        raise ServerBuildError(f"the Maven build of the Neo4j server failed: {tail}")


def _last_line(text: str, *, marker: str = "") -> str:
    """The most telling line of a tool's output, for a one-line error."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("at ")]
    marked = [ln for ln in lines if marker and marker in ln]
    return (marked or lines or ["(no output)"])[-1][:300]


def ensure_built(settings: Settings) -> None:
    """Build the server unless it is built already."""
    if not is_built(settings):
        build_server(settings)


def java_executable(settings: Settings) -> str:
    """The ``java`` of JDK 17 (Neo4j 5.26 does not run on Java 25)."""
    candidates = []
    if settings.java_home:
        candidates.append(Path(settings.java_home) / "bin" / "java")
    candidates += sorted(Path("/usr/lib/jvm").glob("*17*/bin/java"))
    found = shutil.which("java")
    if found:
        candidates.append(Path(found))
    for c in candidates:
        if c.exists() and _java_major(c) == 17:
            return str(c)
    raise ServerBuildError(
        "no JDK 17 found: set JAVA_HOME to a JDK 17 (Neo4j 5.26 needs Java 17 or 21)"
    )


def _java_major(java: Path) -> int | None:
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    for token in out.split():
        token = token.strip('"')
        if token[:1].isdigit():
            head = token.split(".")[0]
            return int(head) if head.isdigit() else None
    return None


# ------------------------------------------------------------------------ config
def _home(settings: Settings) -> Path:
    return Path(settings.server_home).resolve()


def write_config(settings: Settings) -> Path:
    """Write ``<home>/conf/neo4j.conf`` from settings; return its path."""
    home = _home(settings)
    for sub in ("conf", "data", "logs", "run", "import", "plugins-empty"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    dist = Path(settings.server_dist).resolve()
    conf = home / "conf" / "neo4j.conf"
    lines = [
        "# Written by chainrisk (graph/server.py) at every start: edit settings, not this file.",
        f"server.directories.data={home / 'data'}",
        f"server.directories.logs={home / 'logs'}",
        f"server.directories.run={home / 'run'}",
        f"server.directories.import={home / 'import'}",
        f"server.directories.plugins={dist / 'plugins'}",
        f"server.directories.lib={dist / 'lib'}",
        "server.default_listen_address=127.0.0.1",
        f"server.bolt.listen_address=127.0.0.1:{settings.bolt_port}",
        f"server.bolt.advertised_address=127.0.0.1:{settings.bolt_port}",
        "server.http.enabled=true",
        f"server.http.listen_address=127.0.0.1:{settings.http_port}",
        f"server.http.advertised_address=127.0.0.1:{settings.http_port}",
        "server.https.enabled=false",
        "dbms.security.auth_enabled=true",
        "dbms.security.procedures.unrestricted=gds.*",
        "dbms.security.procedures.allowlist=gds.*",
        # LOAD CSV may not read the server's files (chainrisk's own loads send rows over Bolt)
        "dbms.security.allow_csv_import_from_file_urls=false",
        "dbms.usage_report.enabled=false",
        f"server.memory.heap.initial_size={settings.heap}",
        f"server.memory.heap.max_size={settings.heap}",
        f"server.memory.pagecache.size={settings.pagecache}",
        # A per-transaction cap, so one runaway analyst query cannot take the heap.
        f"db.memory.transaction.max={settings.transaction_max}",
        f"dbms.memory.transaction.total.max={settings.heap}",
        "db.tx_log.rotation.retention_policy=1 days 1G",
        "db.logs.query.enabled=INFO",
        "db.logs.query.threshold=2s",
        # Bolt's shutdown otherwise waits twice for 5 s; 1 s makes `db stop` take ~3 s.
        "internal.dbms.bolt.netty_server_shutdown_quiet_period=1",
    ]
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return conf


def _classpath(settings: Settings) -> str:
    dist = Path(settings.server_dist).resolve()
    home = _home(settings)
    return f"{dist / 'plugins'}/*:{home / 'conf'}/*:{dist / 'lib'}/*"


def _java_cmd(settings: Settings, main: str, args: list[str], *, heap: str) -> list[str]:
    return [
        java_executable(settings),
        "-cp",
        _classpath(settings),
        f"-Xms{heap}",
        f"-Xmx{heap}",
        *JVM_FLAGS,
        main,
        *args,
    ]


# ----------------------------------------------------------------------- process
def _pid_file(settings: Settings) -> Path:
    return _home(settings) / "run" / "neo4j.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0): look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        return state != "Z"
    except OSError:
        return True


def server_pid(settings: Settings) -> int | None:
    """The pid of this home's running server, or ``None``."""
    pf = _pid_file(settings)
    try:
        pid = int(pf.read_text().strip())
    except (OSError, ValueError):
        return None
    if _alive(pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return pid
        if _ENTRY_POINT.encode() in cmdline:
            return pid
    pf.unlink(missing_ok=True)
    return None


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _bolt_answers(settings: Settings) -> bool:
    """Whether Bolt accepts a connection and completes the handshake."""
    try:
        with socket.create_connection(("127.0.0.1", settings.bolt_port), timeout=1.0) as s:
            s.sendall(b"\x60\x60\xb0\x17" + b"\x00\x00\x04\x05" + b"\x00" * 12)
            return len(s.recv(4)) == 4
    except OSError:
        return False


def run_admin(settings: Settings, args: list[str], *, heap: str = "1g",
              timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``neo4j-admin ARGS`` from the same classpath (e.g. ``["database", "import", "full", ...]``)."""
    ensure_built(settings)
    write_config(settings)
    # The admin tool finds its home and configuration through the environment.
    cmd = _java_cmd(settings, _ADMIN_ENTRY_POINT, args, heap=heap)
    env = {**os.environ, "NEO4J_HOME": str(_home(settings)), "NEO4J_CONF": str(_home(settings) / "conf")}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)


def _set_initial_password(settings: Settings) -> None:
    """Set the password before the first start (neo4j-admin dbms set-initial-password)."""
    marker = _home(settings) / "data" / "dbms" / "auth.ini"
    if marker.exists() or (_home(settings) / "data" / "databases" / "system").exists():
        return
    password = settings.neo4j_password.get_secret_value()
    proc = run_admin(settings, ["dbms", "set-initial-password", password], heap="256m", timeout=120)
    if proc.returncode != 0:
        reason = _last_line(proc.stderr or proc.stdout)
        raise ServerBuildError(f"setting the initial password failed: {reason}")


def start_server(settings: Settings, *, timeout_s: float = 120.0) -> ServerHandle:
    """Start the server unless it runs already; wait until Bolt answers.

    Raises:
        ServerBuildError: the build failed, no JDK 17, a port is taken by something else,
            or the server did not answer in ``timeout_s`` (the log path is in the message).
    """
    home = _home(settings)
    log = home / "logs" / "neo4j.log"
    bolt = f"bolt://127.0.0.1:{settings.bolt_port}"
    http = f"http://127.0.0.1:{settings.http_port}"
    pid = server_pid(settings)
    if pid is not None:
        return ServerHandle(pid=pid, bolt=bolt, http=http, log=log, already_running=True)
    for port in (settings.bolt_port, settings.http_port):
        if _port_open(port):
            raise ServerBuildError(
                f"port {port} on 127.0.0.1 is taken by another process; stop it or set "
                "CHAINRISK_BOLT_PORT / CHAINRISK_HTTP_PORT"
            )
    ensure_built(settings)
    write_config(settings)
    _set_initial_password(settings)
    cmd = _java_cmd(
        settings, _ENTRY_POINT,
        [f"--home-dir={home}", f"--config-dir={home / 'conf'}", "--console-mode"], heap=settings.heap,
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=home, start_new_session=True,
            env={**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")},
        )
    _pid_file(settings).write_text(str(proc.pid))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _pid_file(settings).unlink(missing_ok=True)
            raise ServerBuildError(f"Neo4j exited with code {proc.returncode} while starting; see {log}")
        if _bolt_answers(settings):
            return ServerHandle(pid=proc.pid, bolt=bolt, http=http, log=log)
        time.sleep(0.25)
    _terminate(proc.pid, grace_s=20)
    raise ServerBuildError(f"Neo4j did not answer on {bolt} within {timeout_s:.0f} s; see {log}")


def _terminate(pid: int, *, grace_s: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        with contextlib.suppress(ChildProcessError):  # reap it when it is our own child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)


def stop_server(settings: Settings, *, grace_s: float = 60.0) -> bool:
    """Stop this home's server cleanly (SIGTERM, then SIGKILL after ``grace_s``); False if none ran."""
    pid = server_pid(settings)
    if pid is None:
        return False
    _terminate(pid, grace_s=grace_s)
    _pid_file(settings).unlink(missing_ok=True)
    return True
