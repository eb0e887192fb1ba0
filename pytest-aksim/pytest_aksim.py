"""pytest fixtures that run aksim — the local simulator of Azure Resource Manager for the AKS
Istio add-on — for your tests.

``aksim`` starts the ``aksim`` binary on a free port of 127.0.0.1 with a temporary TLS
directory, yields an :class:`Aksim` (URL, CA, the environment az and the Azure SDKs need, the
control API) and stops it after the test. ``aksim_factory`` starts servers with extra flags;
``aksim_session`` is one server for the whole session.

The binary: ``--aksim-bin PATH`` (or the ``aksim_bin`` ini option, or ``$AKSIM_BIN``), else
``aksim`` on ``PATH``.
"""

import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

#: Seconds the binary may take to print its ready line.
START_TIMEOUT = 30
#: Seconds it may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 10
#: The service principal the environment logs az in as (aksim accepts any id and secret).
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "pytest-aksim"
#: The scope ARM tokens are asked for.
ARM_SCOPE = "https://management.core.windows.net/.default"


class AksimError(RuntimeError):
    """The binary could not be found or started, or a control call was refused."""


def _system_ca_bundle():
    """The system's CA bundle (PEM text), so a combined bundle still trusts real sites."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile,
                      "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if candidate and os.path.isfile(candidate):
            with open(candidate, encoding="utf-8", errors="replace") as f:
                return f.read()
    return ""


class Aksim:
    """A running aksim.

    ``url``: ``https://127.0.0.1:PORT``. ``ca_path``: its CA certificate (PEM). ``ca_bundle``:
    the system CA bundle plus aksim's CA, for clients that replace the system bundle
    (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``). ``env``: the environment variables that point
    az (env-only log-in, a throw-away config dir), the Python SDKs (``requests``), Node.js and
    ``aksim ctl`` at this server — merge it into ``os.environ`` or a subprocess's environment.
    """

    def __init__(self, binary, flags, workdir):
        self.binary = binary
        self.flags = list(flags)
        self.workdir = workdir
        self.tls_dir = os.path.join(workdir, "tls")
        self.process = None
        self.url = None
        self.ca_path = os.path.join(self.tls_dir, "ca.pem")
        self.ca_bundle = os.path.join(workdir, "ca-bundle.pem")
        self.log_path = os.path.join(workdir, "aksim.log")
        self.subscription = "00000000-0000-0000-0000-000000000001"
        self.tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self):
        args = [self.binary, "--addr", "127.0.0.1:0", "--tls-dir", self.tls_dir, *self.flags]
        self._log = open(self.log_path, "wb")
        try:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.PIPE, stderr=self._log)
        except OSError as e:
            raise AksimError(f"cannot run {self.binary}: {e}; install aksim "
                             "(cargo install --locked --path sim) or pass --aksim-bin") from e
        lines = []
        ready = threading.Event()

        def read():
            for raw in self.process.stdout:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(START_TIMEOUT) or not lines:
            self.stop()
            raise AksimError(f"{self.binary} printed no ready line within {START_TIMEOUT} s; "
                             f"its log: {self._read_log()}")
        first = lines[0]
        prefix = "aksim listening on "
        if not first.startswith(prefix):
            self.stop()
            raise AksimError(f"unexpected first line {first!r}; log: {self._read_log()}")
        self.url = first[len(prefix):].strip()
        with open(self.ca_path, encoding="utf-8") as f:
            ca = f.read()
        with open(self.ca_bundle, "w", encoding="utf-8") as f:
            f.write(_system_ca_bundle().rstrip("\n") + "\n" + ca)
        info = self.info()
        self.subscription = info["defaultSubscriptionId"]
        self.tenant = info["tenantId"]
        return self

    def stop(self):
        """SIGTERM, then a bounded wait (killed past it). Idempotent."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            self._log.close()

    def _read_log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return "(none)"

    # -- what clients need ---------------------------------------------------------------------

    @property
    def env(self):
        """Environment for az (env-only mode), the Python and JS SDKs and ``aksim ctl``."""
        return {
            "ARM_CLOUD_METADATA_URL": f"{self.url}/metadata/endpoints?api-version=2019-05-01",
            "REQUESTS_CA_BUNDLE": self.ca_bundle,
            "SSL_CERT_FILE": self.ca_bundle,
            "NODE_EXTRA_CA_CERTS": self.ca_path,
            "AZURE_CONFIG_DIR": os.path.join(self.workdir, "azure"),
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AKSIM_URL": self.url,
            "AKSIM_CA": self.ca_path,
            "AKSIM_TLS_DIR": self.tls_dir,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    def az_login_args(self):
        """The arguments of ``az login`` for this server (with :attr:`env` set)."""
        return ["login", "--service-principal", "-u", self.client_id, "-p", self.client_secret,
                "--tenant", self.tenant]

    def credential(self, **kwargs):
        """An ``azure.identity.ClientSecretCredential`` that logs in at this server."""
        from azure.identity import ClientSecretCredential
        return ClientSecretCredential("adfs", self.client_id, self.client_secret,
                                      authority=self.url, connection_verify=self.ca_bundle,
                                      **kwargs)

    def sdk_kwargs(self):
        """Keyword arguments for an Azure management client: ``base_url``, the ARM scope and
        the CA bundle (``Client(aksim.credential(), aksim.subscription, **aksim.sdk_kwargs())``)."""
        return {"base_url": self.url, "credential_scopes": [ARM_SCOPE],
                "connection_verify": self.ca_bundle}

    # -- the control API -----------------------------------------------------------------------

    def control(self, method, path, body=None):
        """One ``/_sim`` call (``control("POST", "/_sim/clock/advance", {"seconds": 60})``);
        the JSON answer, or :class:`AksimError` with the server's message."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"content-type": "application/json"})
        context = ssl.create_default_context(cafile=self.ca_path)
        try:
            with urllib.request.urlopen(request, context=context, timeout=60) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as e:
            raise AksimError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from e
        return json.loads(text) if text.strip() else None

    def info(self):
        return self.control("GET", "/_sim/info")

    def advance(self, seconds):
        """Moves virtual time forward."""
        return self.control("POST", "/_sim/clock/advance", {"seconds": seconds})

    def freeze(self, frozen=True):
        return self.control("POST", "/_sim/clock/freeze" if frozen else "/_sim/clock/unfreeze")

    def add_fault(self, rule):
        """Arms a fault rule (``POST /_sim/faults``); its id."""
        return self.control("POST", "/_sim/faults", rule)["id"]

    def clear_faults(self):
        self.control("DELETE", "/_sim/faults")

    def journal(self, **filters):
        query = urllib.parse.urlencode(filters)
        return self.control("GET", "/_sim/journal" + (f"?{query}" if query else ""))["value"]

    def new_subscription(self):
        """A fresh subscription GUID (every GUID is a usable, isolated subscription)."""
        return str(uuid.uuid4())

    def __repr__(self):
        return f"<Aksim {self.url or '(not started)'}>"


def pytest_addoption(parser):
    group = parser.getgroup("aksim")
    group.addoption("--aksim-bin", dest="aksim_bin", default=None,
                    help="the aksim binary (default: $AKSIM_BIN, else aksim on PATH)")
    parser.addini("aksim_bin", "the aksim binary", default=None)
    parser.addini("aksim_args", "extra flags for every aksim the fixtures start",
                  type="args", default=[])


def _binary(config):
    chosen = (config.getoption("aksim_bin") or config.getini("aksim_bin")
              or os.environ.get("AKSIM_BIN") or shutil.which("aksim"))
    if not chosen:
        raise AksimError("no aksim binary: install it (cargo install --locked --path sim), put "
                         "it on PATH, or pass --aksim-bin PATH (or set AKSIM_BIN)")
    return chosen


class _Factory:
    def __init__(self, config, base):
        self.binary = _binary(config)
        self.defaults = list(config.getini("aksim_args"))
        self.base = base
        self.started = []

    def __call__(self, *flags):
        """Starts an aksim with these extra flags (``"--auth", "strict"``)."""
        workdir = tempfile.mkdtemp(prefix="aksim-", dir=self.base)
        server = Aksim(self.binary, [*self.defaults, *flags], workdir).start()
        self.started.append(server)
        return server

    def stop_all(self):
        for server in self.started:
            server.stop()


@pytest.fixture
def aksim_factory(request, tmp_path):
    """Starts aksims with extra flags (``aksim_factory("--mesh-catalog", "2023")``); all are
    stopped after the test."""
    factory = _Factory(request.config, str(tmp_path))
    yield factory
    factory.stop_all()


@pytest.fixture
def aksim(aksim_factory):
    """An aksim with its default flags, for this test only."""
    return aksim_factory()


@pytest.fixture(scope="session")
def aksim_session(request, tmp_path_factory):
    """One aksim for the whole session (isolate tests with ``new_subscription()``)."""
    factory = _Factory(request.config, str(tmp_path_factory.mktemp("aksim")))
    yield factory()
    factory.stop_all()
