"""Measuring speed: the per-format table (``formats``) and the latency/throughput report of one model (``report``:
its runs in ``measure``, its advice in ``recommend``, its figure in ``plot``)."""
