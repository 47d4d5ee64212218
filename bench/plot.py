"""Draws requests/s against connections for the HTTP benchmark's targets (bench/http.sh).

usage: plot.py RESULTS.csv OUT.svg

Each point is the median of the rounds in RESULTS.csv; the ceiling (a bare axum endpoint)
bounds what any verification service can do over HTTP on the machine.
"""

import csv
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "ceiling": "bare axum endpoint (ceiling)",
    "keyward-verify": "keyward POST /keys/verify",
    "keyward-current": "keyward GET /users/current (Bearer)",
    "peer": "djangorestframework-api-key",
}


def main(src: str, out: str) -> None:
    cells: dict[tuple[str, int], list[float]] = {}
    for row in csv.DictReader(open(src)):
        key = (row["target"], int(row["connections"]))
        cells.setdefault(key, []).append(float(row["requests_per_s"]))
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for target, label in LABELS.items():
        points = sorted((c, statistics.median(v)) for (t, c), v in cells.items() if t == target)
        if not points:
            continue
        xs, ys = zip(*points)
        ax.plot(xs, ys, marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("concurrent connections (wrk, 1 thread)")
    ax.set_ylabel("requests/s (median)")
    ax.set_title("Verification over HTTP on loopback")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
