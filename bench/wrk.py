"""Load from wrk: one run's numbers, and the CPU others used meanwhile."""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from procs import NOISY_CORES, CpuSpan

# wrk prints its summary as text meant for people; this Lua hook prints it
# once more as one JSON line.
WRK_SCRIPT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, '
    .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, "mean_us": %.1f, "max_us": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
"""
MARKER = "WRK-JSON "


@dataclass(frozen=True)
class Wrk:
    """wrk with the load settings of this benchmark: closed loop,
    `connections` over `threads`, `duration` recorded seconds after
    `warmup` unrecorded ones."""

    path: str
    script: Path
    connections: int
    threads: int
    duration: int
    warmup: int

    @classmethod
    def with_script(cls, path, work, connections, threads, duration, warmup):
        script = Path(work) / "summary.lua"
        script.write_text(WRK_SCRIPT)
        return cls(path, script, connections, threads, duration, warmup)

    def load(self, url, headers=(), pgid=None):
        """A warm-up, then the recorded run: its sample. `pgid`: the server's
        process group, whose CPU time the sample reports apart."""
        if self.warmup:
            self.run(url, self.warmup, headers)
        return self.run(url, self.duration, headers, pgid)

    def run(self, url, seconds, headers=(), pgid=None):
        cpu = CpuSpan(pgid)
        result = subprocess.run(self.argv(url, seconds, headers), capture_output=True, text=True, check=False)
        cores = cpu.cores()
        if result.returncode != 0:
            output = result.stderr.strip() or result.stdout.strip()
            raise RuntimeError(f"wrk failed ({result.returncode}): {output}")
        return {**sample_of(parse_summary(result.stdout, result.stderr)), **cores}

    def argv(self, url, seconds, headers=()):
        argv = [self.path, f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}s", "--latency"]
        argv += ["--timeout", "10s", "-s", str(self.script)]
        for header in headers:
            argv += ["-H", header]
        return [*argv, url]


def parse_summary(stdout, stderr=""):
    line = next((ln for ln in stdout.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"no summary from wrk:\n{stdout}\n{stderr}")
    return json.loads(line[len(MARKER) :])


def sample_of(raw):
    """Rates, latencies (ms) and errors from wrk's summary."""
    seconds = raw["duration_us"] / 1e6
    # A server that closes each connection without saying so (uWSGI)
    # shows up as one read error per request: counted apart.
    errors = {
        key: raw[key] for key in ("connect_errors", "write_errors", "status_errors", "timeouts") if raw[key]
    }
    return {
        "rps": raw["requests"] / seconds,
        "requests": raw["requests"],
        "seconds": round(seconds, 3),
        "mb_per_s": raw["bytes"] / seconds / 1e6,
        **{f"{key}_ms": raw[f"{key}_us"] / 1000 for key in ("p50", "p90", "p99", "p999", "mean", "max")},
        "errors": errors,
        "read_errors": raw["read_errors"],
    }


def describe(sample):
    errors = f"  errors {sample['errors']}" if sample["errors"] else ""
    other = sample["other_cpu_cores"]
    noisy = f"  (others used {other:.2f} cores)" if other > NOISY_CORES else ""
    return (
        f"{sample['rps']:8.0f} req/s  p50 {sample['p50_ms']:6.2f} ms  p99 {sample['p99_ms']:7.2f} ms"
        f"{errors}{noisy}"
    )
