"""The measured rounds: every run on a fresh server, in an order rotated
from round to round, and repeated when other load disturbed it."""

import statistics
from dataclasses import dataclass, field
from functools import partial

from common import free_port, log
from configurations import DYNAMIC, MEDIA, STATIC
from procs import NOISY_CORES, wait_for_quiet
from servers import server_memory
from static_files import MEDIA_PATH, STATIC_HEADERS
from stats import summaries
from wrk import describe


def plan(bed, wrk, configurations, static_path, nginx):
    """name -> a function making one fresh run of it, in the order of the
    first round. `static_path`: the static file to load too, None for none
    (then a configuration loaded with nothing else is left out)."""
    runs = {
        c.name: partial(run_configuration, bed, wrk, c, static_path)
        for c in configurations
        if DYNAMIC in c.loads or static_path
    }
    if nginx and static_path:
        runs["nginx"] = partial(run_nginx, nginx, bed.artifact_env, wrk, static_path)
    return runs


def run_configuration(bed, wrk, configuration, static_path):
    """One fresh server of `configuration` loaded with what it is declared
    for, the files only given `static_path`."""
    loads = configuration.loads
    with bed.serving(configuration) as (server, base):
        out = {}
        if DYNAMIC in loads:
            out["dynamic"] = wrk.load(base + "/", (), server.pgid)
            out["memory"] = server_memory(server, configuration.server)
        if static_path and STATIC in loads:
            out["static"] = wrk.load(base + static_path, STATIC_HEADERS, server.pgid)
        if static_path and MEDIA in loads:
            out["media"] = wrk.load(base + MEDIA_PATH, (), server.pgid)
    return out


def run_nginx(nginx, env, wrk, static_path):
    with nginx.serving(free_port(), env, static_path) as (server, base):
        return {
            "static": wrk.load(base + static_path, STATIC_HEADERS, server.pgid),
            "media": wrk.load(base + MEDIA_PATH, (), server.pgid),
        }


@dataclass
class Samples:
    """The kept samples so far, by configuration name."""

    dynamic: dict = field(default_factory=dict)
    static: dict = field(default_factory=dict)
    media: dict = field(default_factory=dict)
    memory: dict = field(default_factory=dict)

    def record(self, name, run):
        if "dynamic" in run:
            run["dynamic"]["attempt"] = run["attempt"]
            self.dynamic.setdefault(name, []).append(run["dynamic"])
            self.memory.setdefault(name, []).append(run["memory"])
            rss = statistics.median(run["memory"]["worker_rss_kb"])
            log(f"  {name:<20} dynamic {describe(run['dynamic'])}  worker RSS {rss / 1024:.0f} MB")
        for kind in ("static", "media"):
            if kind in run:
                run[kind]["attempt"] = run["attempt"]
                getattr(self, kind).setdefault(name, []).append(run[kind])
                log(f"  {name:<20} {kind:<7} {describe(run[kind])}")

    def summaries(self, comparisons, static_comparisons=()):
        return summaries(self.dynamic, self.static, self.media, self.memory, comparisons, static_comparisons)


def run_rounds(runs, samples, rounds, retries, quiet_wait):
    """Run every run once a round into `samples`; yields the number of
    rounds completed after each."""
    order = list(runs)
    for number in range(rounds):
        shift = number % len(order)
        this_round = order[shift:] + order[:shift]
        log(f"round {number + 1}/{rounds}: {', '.join(this_round)}")
        for name in this_round:
            samples.record(name, least_disturbed(name, runs[name], retries, quiet_wait))
        yield number + 1


def least_disturbed(name, run, retries, quiet_wait):
    """One run, repeated up to `retries` times while other processes used
    too much CPU during it; the least disturbed one."""
    best = None
    for attempt in range(1 + retries):
        # After a disturbed run, ask for a longer quiet spell.
        wait_for_quiet(quiet_wait, span=0.3 if attempt == 0 else 5.0)
        out = dict(run(), attempt=attempt + 1)
        if best is None or disturbance(out) < disturbance(best):
            best = out
        if disturbance(out) <= NOISY_CORES:
            break
        log(
            f"  {name}: other processes used {disturbance(out):.2f} cores during the run"
            + ("; again" if attempt < retries else "; keeping the least disturbed run")
        )
    return best


def disturbance(run):
    return max(run[key]["other_cpu_cores"] for key in ("dynamic", "static", "media") if key in run)
