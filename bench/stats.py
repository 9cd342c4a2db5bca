"""From the samples of the rounds to what is reported: medians, spreads,
ratios and the runs' problems."""

import statistics

from procs import NOISY_CORES


def summarize(samples):
    rps = [s["rps"] for s in samples]
    return {
        "rps": statistics.median(rps),
        # Run-to-run spread: standard deviation over mean.
        "rps_cv": statistics.stdev(rps) / statistics.mean(rps) if len(rps) > 1 else None,
        "rps_min": min(rps),
        "rps_max": max(rps),
        "p50_ms": statistics.median(s["p50_ms"] for s in samples),
        "p99_ms": statistics.median(s["p99_ms"] for s in samples),
        "errors": sum(sum(s["errors"].values()) for s in samples),
        "disturbed_samples": sum(1 for s in samples if s["other_cpu_cores"] > NOISY_CORES),
        "samples": samples,
    }


def summarize_memory(samples):
    def values(key):
        return [v for s in samples for v in s[key] if v is not None]

    return {
        "workers": samples[-1]["workers"],
        "worker_rss_mb": statistics.median(values("worker_rss_kb")) / 1024,
        "worker_hwm_mb": max(values("worker_hwm_kb")) / 1024,
        "worker_pss_mb": statistics.median(values("worker_pss_kb")) / 1024,
        "worker_private_mb": statistics.median(values("worker_private_kb")) / 1024,
        "total_pss_mb": statistics.median(s["total_pss_kb"] for s in samples) / 1024,
        "recycled_workers": sum(max(0, s["spawned"] - s["workers"]) for s in samples),
        "samples": samples,
    }


def ratios(dynamic, comparisons):
    """Each (numerator, denominator, meaning) of `comparisons` whose two
    configurations ran: the ratio of their median requests/s, and within
    each round."""
    out = []
    for top, bottom, meaning in comparisons:
        if top not in dynamic or bottom not in dynamic:
            continue
        per_round = [
            a["rps"] / b["rps"]
            for a, b in zip(dynamic[top]["samples"], dynamic[bottom]["samples"], strict=False)
        ]
        out.append(
            {
                "numerator": top,
                "denominator": bottom,
                "meaning": meaning,
                "ratio": dynamic[top]["rps"] / dynamic[bottom]["rps"],
                "median_of_rounds": statistics.median(per_round),
                "per_round": per_round,
                "p99_ratio": dynamic[top]["p99_ms"] / dynamic[bottom]["p99_ms"],
            }
        )
    return out


def ratios_to_nginx(runs):
    if "nginx" not in runs:
        return None
    return {name: row["rps"] / runs["nginx"]["rps"] for name, row in runs.items() if name != "nginx"}


def noise(dynamic):
    spreads = [row["rps_cv"] for row in dynamic.values() if row["rps_cv"] is not None]
    return {
        "median_rps_cv": statistics.median(spreads) if spreads else None,
        "max_rps_cv": max(spreads) if spreads else None,
    }


def run_problems(parts):
    """Errors and disturbed samples, from {'dynamic': summaries, 'static': summaries, ...}."""
    problems = []
    for part, runs in parts.items():
        for name, summary in runs.items():
            if summary["errors"]:
                problems.append(f"{name}: {summary['errors']} errors during the {part} runs")
            if summary["disturbed_samples"]:
                problems.append(
                    f"{name}: {summary['disturbed_samples']} {part} samples disturbed by other load"
                )
    return problems


def summaries(dynamic, static, media, memory, comparisons, static_comparisons=()):
    """Medians, ratios (of the dynamic page's figures and of the static
    file's) and problems from the samples so far (lists by name)."""
    out = {
        "dynamic": {name: summarize(samples) for name, samples in dynamic.items() if samples},
        "static_runs": {name: summarize(samples) for name, samples in static.items() if samples},
        "media_runs": {name: summarize(samples) for name, samples in media.items() if samples},
        "memory": {name: summarize_memory(samples) for name, samples in memory.items() if samples},
    }
    out["ratios"] = ratios(out["dynamic"], comparisons)
    out["static_ratios"] = ratios(out["static_runs"], static_comparisons)
    out["noise"] = noise(out["dynamic"])
    out["run_problems"] = run_problems(
        {"dynamic": out["dynamic"], "static": out["static_runs"], "media": out["media_runs"]}
    )
    return out
