"""The tables bench/http_cache.py prints: pages uncached against cached, where a page's time
goes, and the mixed load with the cache's hit rate."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from _cache_probe import hits, lookups
from http_pages import Run, Tally

LABELS = ("uncached", "cached")
PAGE_NAMES = {"table": "minimal page", "today": "Today", "detail": "detail", "agenda": "agenda day"}


@dataclass
class Measured:
    """A target's runs on one server, with what the cache and the repositories did over the
    measured parts (warm-ups left out)."""

    tally: Tally = field(default_factory=Tally)
    per_run: list[Counter[tuple[str, str]]] = field(default_factory=list)  # read_metrics' deltas
    stale: Counter[str] = field(default_factory=Counter)  # invalidations, mixed load only

    @property
    def metrics(self) -> Counter[tuple[str, str]]:
        """The measured runs' figures summed."""
        total: Counter[tuple[str, str]] = Counter()
        for delta in self.per_run:
            total.update(delta)
        return total

    @property
    def hit_rates(self) -> list[float]:
        return [hits(delta) / lookups(delta) for delta in self.per_run if lookups(delta)]

    def ms_per_call(self, repository: str) -> float:
        """The median over the runs of a repository's mean time per call (a run slowed by
        other work on the machine weighs no more than the others)."""
        means = [
            1000 * delta["seconds", repository] / delta["calls", repository]
            for delta in self.per_run
            if delta["calls", repository]
        ]
        return statistics.median(means) if means else float("nan")


def rate(tally: Tally) -> float:
    return tally.median("ok_per_second")


def errors(tally: Tally) -> int:
    return sum(run.bad_status + run.socket_errors for run in tally.runs)


def hit_rate(metrics: Counter[tuple[str, str]], repository: str | None = None) -> str:
    looked = lookups(metrics, repository)
    return f"{hits(metrics, repository) / looked:.1%}" if looked else "-"


def progress(number: int, name: str, label: str, run: Run, into: Measured, quiet: bool) -> None:
    """One line per measured run, as it ends."""
    extra = ""
    if name == "mixed" and label == "cached" and into.hit_rates:
        extra = f"  hit rate {into.hit_rates[-1]:.1%}"
    print(
        f"round {number}: {name:<7} {label:<9}{run.ok_per_second:>7,.0f}/s"
        f"  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms"
        f"  errors {run.bad_status + run.socket_errors}{extra}"
        + ("" if quiet else "  (machine busy with other work at the start)"),
        flush=True,
    )


def print_pages(pages: dict[str, dict[str, Measured]]) -> None:
    print("\nPages, uncached against cached (medians of the rounds; ratios cached / uncached;")
    print("hits: the cached server's hit rate over its measured runs):")
    print(
        f"{'':<14}{'uncached':>22}  |{'cached':>30}  |{'ratios':>14}\n"
        f"{'page':<14}{'req/s':>8}{'p50 ms':>7}{'p99 ms':>7}  |{'req/s':>8}{'p50 ms':>7}"
        f"{'p99 ms':>7}{'hits':>8}  |{'req/s':>7}{'p99':>7}{'errors':>8}"
    )
    for name, by in pages.items():
        plain, cached = by["uncached"].tally, by["cached"].tally
        if not plain.runs or not cached.runs:
            print(f"{PAGE_NAMES[name]:<14}not measured: {plain.refused or cached.refused}")
            continue
        print(
            f"{PAGE_NAMES[name]:<14}{rate(plain):>8,.0f}{plain.median('p50_ms'):>7.1f}"
            f"{plain.median('p99_ms'):>7.1f}  |{rate(cached):>8,.0f}"
            f"{cached.median('p50_ms'):>7.1f}{cached.median('p99_ms'):>7.1f}"
            f"{hit_rate(by['cached'].metrics):>8}  |{rate(cached) / rate(plain):>7.2f}"
            f"{cached.median('p99_ms') / plain.median('p99_ms'):>7.2f}"
            f"{errors(plain) + errors(cached):>8}"
        )


def print_repositories(pages: dict[str, dict[str, Measured]], workers: int) -> None:
    """Where a page's time goes: a worker's time per request (workers / requests per
    second) and, within it, the read repositories' calls (cache included)."""
    print("\nWhere a page's time goes (medians of the rounds): a gunicorn worker's ms per request")
    print("(workers / req/s), and the read repositories it calls, ms per call (cache included):")
    print(f"{'page':<14}{'':<22}{'calls/req':>10}{'uncached':>10}{'cached':>9}")
    for name, by in pages.items():
        if not all(by[label].tally.runs for label in LABELS):
            continue
        whole = [workers * 1000 / rate(by[label].tally) for label in LABELS]
        print(
            f"{PAGE_NAMES[name]:<14}{'whole request':<22}{'':>10}{whole[0]:>10.2f}{whole[1]:>9.2f}"
        )
        served = sum(run.requests for run in by["uncached"].tally.runs)
        plain = by["uncached"].metrics
        for repository in sorted({r for (f, r) in plain if f == "calls"}):
            ms = [by[label].ms_per_call(repository) for label in LABELS]
            calls = plain["calls", repository] / max(served, 1)
            print(f"{'':<14}{repository:<22}{calls:>10.2f}{ms[0]:>10.2f}{ms[1]:>9.2f}")


def print_mixed(mixed: dict[str, Measured], reads: set[str], mix: str) -> None:
    plain, cached = mixed["uncached"], mixed["cached"]
    if not plain.tally.runs or not cached.tally.runs:
        return
    print(f"\nMixed load ({mix}), medians of the rounds:")
    print(f"{'server':<10}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}{'ratio':>7}")
    for label, measured in mixed.items():
        tally = measured.tally
        print(
            f"{label:<10}{rate(tally):>8,.0f}{tally.median('p50_ms'):>8.1f}"
            f"{tally.median('p99_ms'):>8.1f}{errors(tally):>8}"
            f"{rate(tally) / rate(plain.tally):>7.2f}"
        )
        if any(run.exhausted for run in tally.runs):
            print("  warning: a wrk thread ran out of form posts; raise MIXED_RATE_CAP")
    p99 = cached.tally.median("p99_ms") / plain.tally.median("p99_ms")
    print(f"p99 ratio cached / uncached: {p99:.2f}")
    commands = Counter()
    for measured in mixed.values():
        commands.update({r: v for (f, r), v in measured.metrics.items() if f == "commands"})
    print(
        "Commands handled in the measured runs: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(commands.items()))
    )

    print("\nCache hit rate on the cached server under the mixed load (measured runs summed):")
    print(f"{'repository':<22}{'lookups':>9}{'hits':>9}{'hit rate':>10}")
    m = cached.metrics
    for repository in sorted({r for (f, r) in m if f in ("hits", "misses")}):
        print(
            f"{repository:<22}{lookups(m, repository):>9,.0f}{hits(m, repository):>9,.0f}"
            f"{hit_rate(m, repository):>10}"
        )
    print(f"{'all':<22}{lookups(m):>9,.0f}{hits(m):>9,.0f}{hit_rate(m):>10}")
    print("Per measured run, in order: " + ", ".join(f"{r:.1%}" for r in cached.hit_rates))
    kinds: Counter[tuple[str, bool]] = Counter()
    for measured in mixed.values():
        for key, times in measured.stale.items():
            kinds[key.split(":", 1)[0], key in reads] += times
    print("Entries made stale by the worker in the measured runs (both servers' writes):")
    for kind in ("appointment", "agenda", "week", "today"):
        print(
            f"  {kind:<12}{kinds[kind, True] + kinds[kind, False]:>7,}"
            f"  of which read by the load {kinds[kind, True]:>6,}"
        )
