#!/usr/bin/python3
"""gen_data.py: the offline drift benchmark's input, seeded: a reference and a current CSV of
ROWS rows x 20 columns shaped like a gateway's request log. 14 numeric columns (latencies,
token counts, shares, a 1-5 rating, one column with 5 % "nan") and 6 categorical ones (model,
language, finish reason, region, 1,000 user agents, 10,000 tenants); the current file moves 9
of them (5 numeric, 4 categorical) by amounts that straddle Evidently's 0.1 thresholds.
Numbers are written with %.6g, so both tools parse the same decimal strings.

Usage: gen_data.py DIR [ROWS] [SEED]   -> DIR/ref.csv, DIR/cur.csv (default 1000000, 20261128)
"""
import os
import sys

import numpy as np

NUM = ["latency_ms", "ttft_ms", "prompt_tokens", "response_tokens", "messages", "score_a",
       "score_b", "score_c", "share_latin", "share_digit", "uniform", "with_missing", "rating",
       "retries"]
CAT = ["model", "language", "finish_reason", "region", "user_agent", "tenant"]
# Columns that the current file moves, and by how much (for the record; the tests decide).
MOVED = {"latency_ms": "x1.3", "ttft_ms": "sigma x1.5", "score_b": "+0.05 sd (below 0.1)",
         "score_c": "+0.15 sd", "rating": "shares 1..5 moved", "model": "traffic to a new model",
         "finish_reason": "more 'length'", "tenant": "Zipf 1.1 -> 1.3", "language": "+10 % 'ru'"}


def zipf_choice(rng, n_cats, a, size):
    p = 1.0 / np.arange(1, n_cats + 1) ** a
    return rng.choice(n_cats, size=size, p=p / p.sum())


def columns(rng, n, cur):
    c = {}
    c["latency_ms"] = rng.lognormal(np.log(800.0), 0.5, n) * (1.3 if cur else 1.0)
    c["ttft_ms"] = rng.lognormal(np.log(200.0), 0.4 * (1.5 if cur else 1.0), n)
    c["prompt_tokens"] = np.ceil(rng.lognormal(np.log(300.0), 1.0, n))
    c["response_tokens"] = rng.poisson(180, n).astype(float)
    c["messages"] = 1.0 + rng.geometric(0.3, n)
    c["score_a"] = rng.normal(0.0, 1.0, n)
    c["score_b"] = rng.normal(0.05 if cur else 0.0, 1.0, n)
    c["score_c"] = rng.normal(0.15 if cur else 0.0, 1.0, n)
    c["share_latin"] = rng.beta(8.0, 2.0, n)
    c["share_digit"] = rng.exponential(0.02, n)
    c["uniform"] = rng.uniform(0.0, 100.0, n)
    m = rng.normal(50.0, 10.0, n)
    m[rng.random(n) < 0.05] = np.nan
    c["with_missing"] = m
    pr = [0.05, 0.10, 0.20, 0.35, 0.30] if not cur else [0.10, 0.15, 0.25, 0.30, 0.20]
    c["rating"] = rng.choice(5, size=n, p=pr) + 1.0
    c["retries"] = rng.choice(4, size=n, p=[0.9, 0.07, 0.02, 0.01]).astype(float)
    models = np.array(["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "llama-3-70b", "mistral-large",
                       "qwen-2-72b"])
    pm = [0.4, 0.3, 0.15, 0.1, 0.05, 0.0] if not cur else [0.3, 0.25, 0.15, 0.1, 0.05, 0.15]
    c["model"] = models[rng.choice(6, size=n, p=pm)]
    langs = np.array(["en", "de", "fr", "es", "it", "pt", "nl", "sv", "pl", "ru", "uk", "tr", "ar", "he",
                      "hi", "zh", "ja", "ko", "vi", "id"])
    pl = 1.0 / np.arange(1, 21) ** 1.2
    pl /= pl.sum()
    if cur:
        pl = 0.9 * pl
        pl[9] += 0.1
    c["language"] = langs[rng.choice(20, size=n, p=pl)]
    fr = np.array(["stop", "length", "content_filter", "tool_calls"])
    pf = [0.85, 0.08, 0.02, 0.05] if not cur else [0.75, 0.18, 0.02, 0.05]
    c["finish_reason"] = fr[rng.choice(4, size=n, p=pf)]
    regions = np.array(["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1",
                        "ap-northeast-1", "sa-east-1", "af-south-1"])
    c["region"] = regions[rng.choice(8, size=n, p=[0.3, 0.2, 0.15, 0.15, 0.08, 0.06, 0.04, 0.02])]
    ua = np.array(["agent/%d.%d (sdk-%03d)" % (i % 7, i % 13, i) for i in range(1000)])
    c["user_agent"] = ua[zipf_choice(rng, 1000, 1.0, n)]
    ten = np.array(["tenant-%05d" % i for i in range(10000)])
    c["tenant"] = ten[zipf_choice(rng, 10000, 1.3 if cur else 1.1, n)]
    return c


def write(path, c, n):
    names = NUM + CAT
    cols = []
    for k in NUM:
        v = c[k]
        if k in ("prompt_tokens", "response_tokens", "messages", "rating", "retries"):
            cols.append([str(int(x)) for x in v.tolist()])
        else:
            cols.append(["nan" if x != x else "%.6g" % x for x in v.tolist()])
    for k in CAT:
        cols.append(c[k].tolist())
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        step = 100000
        for s in range(0, n, step):
            f.write("\n".join(map(",".join, zip(*(col[s:s + step] for col in cols)))))
            f.write("\n")


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261128
    os.makedirs(out, exist_ok=True)
    for name, cur in (("ref.csv", False), ("cur.csv", True)):
        rng = np.random.default_rng([seed, int(cur)])
        write(os.path.join(out, name), columns(rng, n, cur), n)


if __name__ == "__main__":
    main()
