#!/usr/bin/python3
"""Writes tests/data/drift/streams.json: the streams of River's documented examples for its
drift detectors, regenerated with the same CPython stdlib calls (random.Random(seed), choices,
gauss) that River's doctests and tests make, and the detections River documents for them,
quoted with their source. tests/unit/drift/detectors.c runs sluice's detectors on each stream
and asserts these exact indices.

River is not needed (nor installable here): the expected values are copied from River's
docstrings and tests (online-ml/river, BSD-3-Clause), not computed. Run with Debian's python3:
    /usr/bin/python3 tests/unit/drift/gen_streams.py
CPython's random.Random is stable across versions for these calls (Mersenne Twister;
choices() = floor(random() * n), or bisect on cumulative weights; gauss() = Box-Muller with
a cached second value), so the streams are those River's doctests see.
"""

import json
import os
import random
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "drift", "streams.json")
RIVER = "online-ml/river"


def adwin_doctest():
    rng = random.Random(12345)
    return rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)


def adwin_four_segments():
    rng = random.Random(42)
    return (
        rng.choices([0, 1], k=1000)
        + rng.choices(range(4, 8), k=1000)
        + rng.choices([0, 1], k=1000)
        + rng.choices(range(4, 8), k=1000)
    )


def ddm_doctest():
    rng = random.Random(42)
    data_stream = rng.choices([0, 1], k=1000)
    return data_stream + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])


def cusum_doctest():
    rng = random.Random(12345)
    stable = [rng.gauss(0, 1) for _ in range(200)]
    shifted = [rng.gauss(3, 1) for _ in range(200)]
    return stable + shifted


STREAMS = {
    "river_12345_binary_then_4to7": {
        "recipe": "rng = random.Random(12345); rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)",
        "make": adwin_doctest,
    },
    "river_42_four_segments": {
        "recipe": "rng = random.Random(42); rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)"
        " + rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)",
        "make": adwin_four_segments,
    },
    "river_42_error_rate_05_then_07": {
        "recipe": "rng = random.Random(42); s = rng.choices([0, 1], k=1000);"
        " s + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])",
        "make": ddm_doctest,
    },
    "river_12345_gauss_0_then_3": {
        "recipe": "rng = random.Random(12345); [rng.gauss(0, 1) for _ in range(200)]"
        " + [rng.gauss(3, 1) for _ in range(200)]",
        "make": cusum_doctest,
    },
}

# report: "drift" = every index where drift_detected is true; "doctest_ddm" = the DDM doctest's
# printing loop (the first warning after the start or after each drift, and every drift).
CASES = [
    {
        "detector": "adwin",
        "stream": "river_12345_binary_then_4to7",
        "report": "drift",
        "expect": [["drift", 1023, 4]],
        "river_output": ["Change detected at index 1023, input value: 4"],
        "source": RIVER + " river/drift/adwin.py, ADWIN docstring, Examples (drift.ADWIN() defaults)",
    },
    {
        "detector": "adwin",
        "stream": "river_42_four_segments",
        "report": "drift",
        "expect": [["drift", 1023, None], ["drift", 2015, None], ["drift", 3007, None]],
        "river_output": ["assert detected == [1023, 2015, 3007]"],
        "source": RIVER + " river/drift/test_adwin_regression.py, TestDriftDetection.test_multiple_drifts",
    },
    {
        "detector": "page_hinkley",
        "stream": "river_12345_binary_then_4to7",
        "report": "drift",
        "expect": [["drift", 1006, 5]],
        "river_output": ["Change detected at index 1006, input value: 5"],
        "source": RIVER + " river/drift/page_hinkley.py, PageHinkley docstring, Examples (defaults, mode='both')",
    },
    {
        "detector": "ddm",
        "stream": "river_42_error_rate_05_then_07",
        "report": "doctest_ddm",
        "expect": [["warning", 1084, None], ["drift", 1334, None], ["warning", 1492, None]],
        "river_output": ["Warning detected at index 1084", "Change detected at index 1334",
                         "Warning detected at index 1492"],
        "source": RIVER + " river/drift/binary/ddm.py, DDM docstring, Examples (drift.binary.DDM() defaults)",
    },
    {
        "detector": "cusum",
        "stream": "river_12345_gauss_0_then_3",
        "report": "drift",
        "expect": [["drift", 201, None], ["drift", 251, None]],
        "river_output": ["Change detected at index 201", "Change detected at index 251"],
        "source": RIVER + " river/drift/cusum.py, CUSUM docstring, Examples (drift.CUSUM() defaults)",
    },
]


def main():
    streams = {}
    for name, s in STREAMS.items():
        values = s["make"]()
        streams[name] = {"recipe": s["recipe"], "n": len(values), "values": values}
    for c in CASES:  # the printed input values must be the stream's: a check on the regeneration
        values = streams[c["stream"]]["values"]
        for kind, i, v in c["expect"]:
            if v is not None and values[i] != v:
                sys.exit(f"{c['stream']}[{i}] is {values[i]}, River printed {v}: the stream differs")
    doc = {
        "generator": "tests/unit/drift/gen_streams.py",
        "python": sys.version.split()[0],
        "licence": "expected values quoted from River (online-ml/river), BSD-3-Clause; see README.md",
        "streams": {n: dict(s, values=f"@{n}") for n, s in streams.items()},
        "cases": CASES,
    }
    text = json.dumps(doc, indent=1)
    for name, s in streams.items():  # one line per stream keeps the file small and diffable
        text = text.replace(json.dumps(f"@{name}"), json.dumps(s["values"]), 1)
    with open(OUT, "w") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.normpath(OUT)}: {len(streams)} streams, {len(CASES)} cases")


if __name__ == "__main__":
    main()
