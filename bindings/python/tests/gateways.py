"""The project's local test gateways (`pushseal gateway apns|fcm`), started for
the Python tests as a user starts them: the `pushseal` command, on 127.0.0.1,
HTTP/2 over TLS with a CA file it writes. A gateway serves until its standard
input closes; `stop()` closes it and waits.

The command is `$PUSHSEAL_CLI` (bindings/test.sh sets it), else built here with
cargo into the workspace's target directory."""

import json
import os
import pathlib
import select
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[3]

KEY_ID = "TEST123456"
TEAM_ID = "TEAM123456"
TOPIC = "com.example.clinic"


def cli():
    """The `pushseal` command's path."""
    given = os.environ.get("PUSHSEAL_CLI")
    if given:
        return given
    subprocess.run(["cargo", "build", "-q", "-p", "pushseal-cli"], cwd=ROOT, check=True)
    metadata = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return str(pathlib.Path(json.loads(metadata.stdout)["target_directory"]) / "debug" / "pushseal")


class Gateway:
    """A running gateway: `url` (https://127.0.0.1:PORT), `ca_file`, and
    what its ready line said (`ready`)."""

    def __init__(self, args, workdir):
        self.workdir = pathlib.Path(workdir)
        self.ca_file = str(self.workdir / "gateway-ca.pem")
        self._log = open(self.workdir / "gateway.log", "wb")
        self._process = subprocess.Popen(
            [cli(), "gateway", *args, "--ca-file", self.ca_file],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        ready, _, _ = select.select([self._process.stdout], [], [], 120)
        line = self._process.stdout.readline() if ready else b""
        if not line:
            self.stop()
            raise RuntimeError(
                f"the gateway did not start: {(self.workdir / 'gateway.log').read_text(errors='replace')}"
            )
        self.ready = json.loads(line)
        self.url = "https://" + self.ready["endpoint"]
        assert self.url.startswith("https://127.0.0.1:"), self.url

    def stop(self):
        """Closes the gateway's standard input, which stops it, and waits."""
        if self._process.stdin and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        self._log.close()


def start_apns(workdir):
    """A gateway that answers as APNs does, with a new test `.p8` key
    (`workdir/AuthKey_TEST123456.p8`) whose provider tokens it accepts."""
    key = pathlib.Path(workdir) / f"AuthKey_{KEY_ID}.p8"
    gateway = Gateway(
        ["apns", "--new-key", "--apns-key", str(key), "--key-id", KEY_ID, "--team-id", TEAM_ID, "--topic", TOPIC],
        workdir,
    )
    gateway.key_file = str(key)
    return gateway


def start_fcm(workdir):
    """A gateway that answers as FCM and its token endpoint do, with a new
    test service account (`workdir/service-account.json`)."""
    account = pathlib.Path(workdir) / "service-account.json"
    gateway = Gateway(["fcm", "--new-account", "--service-account", str(account)], workdir)
    gateway.service_account = str(account)
    return gateway
