#!/usr/bin/python3
"""page_hinkley.py: a ROUGH peer for bench/drift.sh's detector table. River (online-ml/river),
the library whose detectors sluice ports, cannot be installed here (no PyPI), so this is a
pure-Python re-implementation of Page-Hinkley in River's shape (a detector object whose
update() feeds a running-mean object, then the two faded sums and their tests, River's
defaults) -- NOT River itself and not a measurement of River: River's own update goes through
more (its base-class bookkeeping and its own stats.Mean), so it may well be slower. It only
shows the order of magnitude of one interpreted update.

Timed on a Bernoulli(0.01) error stream drawn beforehand, by the process CPU clock, best of
RUNS. Prints "page_hinkley_python updates_per_s drifts".
Usage: page_hinkley.py [UPDATES] [RUNS]    (defaults 1,000,000 and 3)
"""
import random
import sys
import time


class Mean:
    def __init__(self):
        self.n = 0
        self._mean = 0.0

    def update(self, x):
        self.n += 1
        self._mean += (x - self._mean) / self.n

    def get(self):
        return self._mean


class PageHinkley:
    def __init__(self, min_instances=30, delta=0.005, threshold=50.0, alpha=1 - 0.0001):
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self._reset()

    def _reset(self):
        self.drift_detected = False
        self._x_mean = Mean()
        self._sum_increase = 0.0
        self._sum_decrease = 0.0
        self._min_increase = float("inf")
        self._max_decrease = -1.0

    def update(self, x):
        if self.drift_detected:
            self._reset()
        self._x_mean.update(x)
        dev = x - self._x_mean.get()
        self._sum_increase = self.alpha * self._sum_increase + dev - self.delta
        self._sum_decrease = self.alpha * self._sum_decrease + dev + self.delta
        if self._sum_increase < self._min_increase:
            self._min_increase = self._sum_increase
        if self._sum_decrease > self._max_decrease:
            self._max_decrease = self._sum_decrease
        if self._x_mean.n >= self.min_instances:
            self.drift_detected = (self._sum_increase - self._min_increase > self.threshold
                                   or self._max_decrease - self._sum_decrease > self.threshold)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rng = random.Random(20261128)
    xs = [1.0 if rng.random() < 0.01 else 0.0 for _ in range(n)]
    best = 0.0
    drifts = 0
    for _ in range(runs):
        d = PageHinkley()
        drifts = 0
        t0 = time.process_time()
        for x in xs:
            d.update(x)
            drifts += d.drift_detected
        best = max(best, n / (time.process_time() - t0))
    print("page_hinkley_python %.0f %d" % (best, drifts))


if __name__ == "__main__":
    main()
