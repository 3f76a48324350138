"""``optimize``: the fastest deployment of a model that keeps its accuracy, searched and measured on this machine
(``search.py`` the decisions, ``measure.py`` the figures, ``ledger.py`` resuming, ``job.py`` the run, ``report.py``
the table, plot and deploy folder)."""


def optimize(*args, **kwargs):
    from .job import optimize as run

    return run(*args, **kwargs)


__all__ = ["optimize"]
