"""A real systemd for the deployment tests: PID 1 of a PID and mount
namespace of its own, sharing this machine's network (so its sockets are
reachable on loopback) and nothing it could damage.

Inside the namespace, before systemd starts:

- the root mount is made ``rshared``: systemd expects it, and without it
  ``LoadCredential=`` silently hands every service an empty directory;
- ``/run``, ``/tmp``, ``/var/tmp``, ``/srv``, ``/var/lib``, ``/var/cache``,
  ``/var/log`` and ``/root`` are fresh tmpfs, and ``/etc`` an overlay whose changes stay in
  the namespace: booting runs units that clean ``/tmp`` and write state, and
  the tests install units, configuration and releases where the deployment
  guide says, without touching this machine's;
- every unit that touches devices, the host's files or the network on its
  own (udev, tmpfiles, logind, getty, timers, the distribution's services)
  is masked, and systemd boots to ``basic.target`` only.

It is stopped with SIGKILL to its PID, which ends the whole namespace.
Files are handed in through ``/proc/PID/root`` (``put``), commands run
inside with ``nsenter`` (``run``), as an administrator's shell would.
"""

import glob
import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

#: Masked by name or by pattern: what must not run in a test namespace.
MASKED_PATTERNS = (
    "systemd-tmpfiles-*",
    "systemd-udev*",
    "systemd-logind.service",
    "getty*",
    "serial-getty@*",
    "console-getty.service",
    "systemd-remount-fs.service",
    "systemd-sysusers.service",
    "systemd-firstboot.service",
    "systemd-timesyncd.service",
    "systemd-pstore.service",
    "systemd-networkd*",
    "systemd-resolved.service",
    "*.timer",
    "*.mount",
    "*.automount",
    "avahi-daemon.*",
    "postgresql*",
    "nginx.service",
    "cron.service",
    "ssh*",
)
#: Kept although a pattern above matches: the journal and the unit timers the
#: tests render themselves (they live in /run/systemd/system, not masked).
KEPT = ("systemd-journald.service", "systemd-journald.socket", "systemd-journald-dev-log.socket")
UNIT_FOLDERS = ("/lib/systemd/system", "/etc/systemd/system", "/usr/lib/systemd/system")

PRIVATE_TMPFS = ("/run", "/tmp", "/var/tmp", "/srv", "/var/lib", "/var/cache", "/var/log", "/root")


def masked_units():
    names = set()
    for folder in UNIT_FOLDERS:
        for pattern in MASKED_PATTERNS:
            for path in glob.glob(os.path.join(folder, "**", pattern), recursive=True):
                names.add(os.path.basename(path))
    return sorted(name for name in names - set(KEPT) if "." in name and not name.endswith(".wants"))


def cgroup_mounts():
    """Each cgroup hierarchy's mount point, by its controllers (``cpu``,
    ``name=systemd``; ``""`` for the unified one)."""
    mounts = {}
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            fields = line.split()
            rest = fields[fields.index("-") + 1 :]
            if rest[0] == "cgroup2":
                mounts[""] = fields[4]
            elif rest[0] == "cgroup":
                options = set(rest[2].split(","))
                mounts[",".join(sorted(options - {"rw", "ro"}))] = fields[4]
    return mounts


def cgroup_homes(name):
    """A cgroup of its own in every hierarchy, below this process's: where a
    host's systemd starts. Two systemd that start in the same cgroup both
    take it for their root and create the same unit cgroups (one release's
    units have the same names on every host): a unit then fails to start
    with status 219/CGROUP."""
    mounts = cgroup_mounts()
    homes = []
    with open("/proc/self/cgroup") as own:
        for line in own:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            key = ",".join(sorted(controllers.split(","))) if controllers else ""
            mount = mounts.get(key) or next(
                (
                    point
                    for options, point in mounts.items()
                    if key and set(key.split(",")) <= set(options.split(","))
                ),
                None,
            )
            # cpuset refuses a task until the new cgroup has CPUs and memory nodes.
            if mount is not None and "cpuset" not in key:
                homes.append(f"{mount}{path.rstrip('/')}/{name}")
    return sorted(set(homes))


def remove_cgroups(homes, timeout=10):
    """Remove each cgroup tree, deepest first, once its processes are gone."""
    deadline = time.monotonic() + timeout
    for home in homes:
        while os.path.isdir(home):
            for folder, _, _ in sorted(os.walk(home), key=lambda entry: -entry[0].count("/")):
                try:
                    os.rmdir(folder)
                except OSError:
                    pass
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)


def boot_script(cgroups=()):
    """The shell run as the namespace's first process; ends by exec'ing systemd."""
    mask = " ".join(shlex.quote(name) for name in masked_units())
    lines = [
        "set -e",
        *(f"mkdir -p {shlex.quote(home)} && echo $$ > {shlex.quote(home)}/cgroup.procs" for home in cgroups),
        "mount --make-rshared /",
        *(f"mount -t tmpfs -o mode=0755 tmpfs {folder}" for folder in PRIVATE_TMPFS),
        "chmod 1777 /tmp /var/tmp",
        "chmod 0700 /root",
        "mkdir -p /run/etc.upper /run/etc.work /run/systemd/system /var/lib/systemd /var/log/journal",
        "mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/etc.upper,workdir=/run/etc.work /etc",
        f"for unit in {mask}; do ln -sf /dev/null /run/systemd/system/$unit; done",
        "exec /lib/systemd/systemd --system --unit=basic.target --log-target=console --log-level=warning",
    ]
    return "\n".join(lines)


class SystemdHost:
    """A booted systemd; ``run`` and ``systemctl`` act inside it."""

    def __init__(self, log_path, netns=None):
        self.log_path = Path(log_path)
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - open for the host's lifetime
        #: A host of several (tests/fleet.py) lives in a network namespace of its own.
        self.netns = netns
        network = ["nsenter", f"--net=/run/netns/{netns}"] if netns else []
        self.cgroups = cgroup_homes(f"zipserve-host-{os.getpid()}-{id(self):x}")
        self.process = subprocess.Popen(
            [
                *network,
                "unshare",
                "--pid",
                "--fork",
                "--mount",
                "--propagation",
                "private",
                "--mount-proc",
                "--kill-child=SIGKILL",
                "bash",
                "-c",
                boot_script(self.cgroups),
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "container": "zipserve-test"},
            start_new_session=True,
        )
        self.pid = None

    @classmethod
    def boot(cls, log_path, timeout=90, netns=None):
        host = cls(log_path, netns=netns)
        try:
            host.wait_running(timeout)
        except BaseException:
            host.close()
            raise
        return host

    def find_pid(self):
        """The namespace's PID 1 as this machine sees it: unshare's child."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = children.read_text().split()
        except OSError:
            return None
        return int(pids[0]) if pids else None

    def wait_running(self, timeout):
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"systemd exited with {self.process.returncode}:\n{self.boot_log()}")
            self.pid = self.pid or self.find_pid()
            if self.pid:
                state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.2)
        raise RuntimeError(f"systemd not running within {timeout} s (state {state!r}):\n{self.boot_log()}")

    def boot_log(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    # Acting inside --------------------------------------------------------

    def command(self, *args):
        network = ["-n"] if self.netns else []
        return ["nsenter", "-t", str(self.pid), "-m", "-p", *network, "--", *map(str, args)]

    def run(self, *args, check=True, timeout=300, env=None, input=None):
        """A command inside, as root with a plain environment; output captured."""
        environment = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "HOME": "/root",
        }
        environment.update(env or {})
        result = subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environment,
            input=input,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(map(str, args))} exited with {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def shell(self, script, **kwargs):
        return self.run("bash", "-c", script, **kwargs)

    def systemctl(self, *args, **kwargs):
        return self.run("systemctl", *args, **kwargs)

    def journal(self, unit, lines=200):
        return self.run(
            "journalctl", "--no-pager", "-o", "cat", "-n", str(lines), "-u", unit, check=False
        ).stdout

    def path(self, inside):
        """A path inside the namespace, as this machine reaches it."""
        return Path(f"/proc/{self.pid}/root") / str(inside).lstrip("/")

    def put(self, source, inside, mode=None):
        """Copy a file in (``scp file server:/tmp/``)."""
        target = self.path(inside)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        if mode is not None:
            target.chmod(mode)
        return inside

    def write(self, inside, text, mode=0o644):
        target = self.path(inside)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)
        return inside

    def close(self):
        pid = self.pid or self.find_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)  # ends every process of the namespace
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        remove_cgroups(self.cgroups)
        self.log.close()
