"""Measuring speed: the per-format table (``formats``) and the latency/throughput report of one model (``report``)."""
