"""What the read cache did during a run of bench/http_cache.py: the counters every server and
worker process writes into its PROMETHEUS_MULTIPROC_DIR, and the entries' generations in
Redis (each entry the projector makes stale moves its generation on by two)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import redis
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

# The cached read repositories (app/queries/reads.py) and the sample names read per repository.
REPOSITORIES = ("appointment_detail", "day_counts", "agenda_day", "agenda_week")
SAMPLES = {
    "rendezvous_cache_hits_total": "hits",
    "rendezvous_cache_misses_total": "misses",
    "rendezvous_query_duration_seconds_sum": "seconds",
    "rendezvous_query_duration_seconds_count": "calls",
    "rendezvous_command_duration_seconds_count": "commands",
}


def read_metrics(directory: Path) -> Counter[tuple[str, str]]:
    """(figure, repository) → value, summed over the processes that wrote into `directory`:
    hits, misses, the read repositories' calls and seconds (cache included), and commands
    (by "command outcome" instead of a repository)."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    found: Counter[tuple[str, str]] = Counter()
    for metric in registry.collect():
        for sample in metric.samples:
            figure = SAMPLES.get(sample.name)
            if figure == "commands":
                found[figure, f"{sample.labels['command']} {sample.labels['outcome']}"] += (
                    sample.value
                )
            elif figure:
                found[figure, sample.labels["repository"]] += sample.value
    return found


def hits(counts: Counter[tuple[str, str]], repository: str | None = None) -> float:
    """Reads answered from the cache (of one repository, or of all)."""
    return sum(v for (f, r), v in counts.items() if f == "hits" and repository in (None, r))


def lookups(counts: Counter[tuple[str, str]], repository: str | None = None) -> float:
    """Reads that went through the cache, hit or miss (of one repository, or of all)."""
    return sum(
        v for (f, r), v in counts.items() if f in ("hits", "misses") and repository in (None, r)
    )


class CacheKeys:
    """This run's keys in Redis (all under its CACHE_PREFIX)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.prefix = prefix

    def _scan(self, kind: str) -> list[bytes]:
        return list(self.client.scan_iter(match=f"{self.prefix}:cache:{kind}:*", count=1000))

    def generations(self) -> dict[str, int]:
        """Each entry's generation, by entry key (e.g. "agenda:<doctor>:<day>")."""
        keys = self._scan("gen")
        start = len(f"{self.prefix}:cache:gen:")
        found: dict[str, int] = {}
        for chunk in range(0, len(keys), 1000):
            part = keys[chunk : chunk + 1000]
            for key, value in zip(part, self.client.mget(part), strict=True):
                if value is not None:
                    found[key.decode()[start:]] = int(value)
        return found

    def entries(self) -> int:
        """How many entries are stored now."""
        return len(self._scan("value"))

    def empty(self) -> None:
        """Drop every stored entry (generations stay): the next reads all miss."""
        self._delete(self._scan("value"))

    def drop(self) -> None:
        """Delete every key of this run."""
        self._delete(list(self.client.scan_iter(match=f"{self.prefix}:*", count=1000)))

    def _delete(self, keys: list[bytes]) -> None:
        for chunk in range(0, len(keys), 1000):
            self.client.delete(*keys[chunk : chunk + 1000])

    def close(self) -> None:
        self.client.close()


def invalidations(before: dict[str, int], after: dict[str, int]) -> Counter[str]:
    """How many times each entry was made stale between two readings of the generations
    (begin and end of a batch move a generation on by one each)."""
    moved: Counter[str] = Counter()
    for key, generation in after.items():
        steps = generation - before.get(key, 0)
        if steps > 0:
            moved[key] = (steps + 1) // 2
    return moved
