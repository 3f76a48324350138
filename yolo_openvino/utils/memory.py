"""Peak resident memory of this process over a block of code (for the report and the fuzz tests)."""

from __future__ import annotations

import os
import threading


class PeakMemory:
    """Peak resident set size (MB) of this process while the block runs, sampled every 10 ms.

    ``ru_maxrss`` only ever grows over the whole process life, so it cannot tell one configuration from
    the next; sampling /proc/self/statm can. Where /proc is missing the peak stays None.
    """

    def __init__(self, interval_s: float = 0.01):
        self.interval_s = interval_s
        self.peak_mb: float | None = None
        self.start_mb: float | None = None
        self._stop = threading.Event()
        self._page_mb = os.sysconf("SC_PAGE_SIZE") / 1e6 if hasattr(os, "sysconf") else 0.004096

    def _rss_mb(self) -> float | None:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * self._page_mb
        except (OSError, ValueError, IndexError):
            return None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            rss = self._rss_mb()
            if rss is not None:
                self.peak_mb = max(self.peak_mb or 0.0, rss)

    def __enter__(self) -> "PeakMemory":
        self.peak_mb = self.start_mb = self._rss_mb()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        rss = self._rss_mb()
        if rss is not None and self.peak_mb is not None:
            self.peak_mb = round(max(self.peak_mb, rss), 1)

    @property
    def grown_mb(self) -> float | None:
        """How far the peak rose above the resident size at the start (None where /proc is missing)."""
        return None if self.peak_mb is None or self.start_mb is None else self.peak_mb - self.start_mb
