"""Parallel log analyser (deliverable 4).

Analyse a large web-service log in parallel worker processes and return exact
aggregates. The grader imports this module as `loganalyser`, generates logs of up
to a few hundred thousand lines in a temporary directory and calls analyse() on
them (CPython 3.11, Linux, 2 cores, the default `fork` start method).

The log
-------
An ASCII text file of lines separated by "\\n". A record is a line of six fields
separated by whitespace (one space usually, but any run of spaces or tabs
separates fields, exactly as str.split() / bytes.split() with no argument):

    <timestamp> <level> <service> <latency_ms> <path> <status>
    2024-05-01T00:00:01.234Z INFO auth 42 /api/v2/auth/get 200

A line is a valid record when it has exactly 6 fields and both latency_ms and
status consist of decimal digits only (bytes.isdigit()). Every other line (blank,
only spaces, too few or too many fields, "-" or "-12" as latency, "5xx" as status)
is malformed: it counts in "lines" and "malformed" and nowhere else. The last line
may lack its final "\\n" and is a line all the same; an empty file has 0 lines.
The timestamp, level, service and path fields are not checked.

The result
----------
analyse() returns a dict with exactly these figures:

    {
      "lines":     int,             # every line of the file, malformed ones included
      "malformed": int,
      "levels":    {str: int},      # records per level, e.g. {"INFO": 41950, ...}
      "services":  {str: int},      # records per service
      "statuses":  {int: int},      # records per status, keyed by int: {200: 35960, ...}
      "latency_ms": {
          "count": int,             # number of records
          "mean":  float | None,    # sum of latency_ms / count (None when count == 0)
          "p50":   int | None,      # nearest-rank percentiles, see below
          "p95":   int | None,
          "p99":   int | None,
          "max":   int | None,
      },
      "top_paths": [(path, count), ...],   # the `top` most frequent paths: count
                                           # descending, then path ascending; fewer if
                                           # there are fewer distinct paths
    }

Nearest-rank percentile: sort the n latencies; the p-th percentile is the value at
1-based rank ceil(p / 100 * n). Example: for [5, 1, 9, 3] (n = 4), p50 is rank 2 of
[1, 3, 5, 9], that is 3; p95 is rank 4, that is 9.

How
---
- Split the file into byte ranges whose edges fall on line boundaries, so that
  every line is parsed by exactly one worker, whatever the cut points (a cut can
  fall in the middle of a line, exactly at the start of one, or inside a line
  longer than a whole range).
- Parse the ranges in worker processes, several at once (parsing is CPU-bound
  Python: threads would take turns on the GIL). Each worker opens the file itself
  and reads only its range: the parent must not read the file, nor hold its lines.
- Merge the workers' partial results in the parent. They must add up to the exact
  figures of the whole file: think about which partial results can be added and
  which cannot (a percentile of percentiles is not the percentile).
- Leave no process behind: when analyse() returns, every worker has ended and been
  joined (a pool in a with-block does it).
- The performance item compares your analyse() with a reference that parses line
  by line in Python in one worker per core; a few ranges per worker balance the load.
"""

from __future__ import annotations

import os  # noqa: F401  (os.path.getsize, os.sched_getaffinity)
from collections import Counter  # noqa: F401
from concurrent.futures import ProcessPoolExecutor  # noqa: F401


def analyse(path: str, workers: int | None = None, top: int = 10) -> dict:
    """Return the aggregates described in the module docstring for the log at `path`.

    - workers: how many worker processes parse the file; None (the default) means
      one per available core (len(os.sched_getaffinity(0)), or os.cpu_count()).
      More workers than lines is allowed.
    - top: how many paths "top_paths" lists.

    Example: for a file holding the two lines
        "2024-05-01T00:00:00.000Z INFO auth 40 /a 200\\n"
        "broken line\\n"
    analyse(path) == {"lines": 2, "malformed": 1, "levels": {"INFO": 1},
                      "services": {"auth": 1}, "statuses": {200: 1},
                      "latency_ms": {"count": 1, "mean": 40.0, "p50": 40, "p95": 40,
                                     "p99": 40, "max": 40},
                      "top_paths": [("/a", 1)]}
    """
    # TODO: choose the number of workers (None: one per available core).
    # TODO: cut the file into byte ranges aligned on line starts (a few per worker).
    # TODO: parse each range in a worker process: counters and a latency histogram.
    # TODO: merge the partial results and compute the mean, percentiles and top paths.
    raise NotImplementedError("analyse is not written yet")
