"""The benchmark and the load tools: in-process timings, HTTP load, soak, slow clients.

Not part of the `advisor` package; run from a checkout (`make bench`).
"""
