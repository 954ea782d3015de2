"""Operations: what an operator sees and does, apart from the clinic's screens.

figures.py   the event store's size and the projections' lag, kept a few seconds
probes.py    whether each database and Redis answers (/readyz), and what /metrics shares
panels.py    each projection's card on /ops, and Retry and Skip
rebuilds.py  rebuilds asked for on /ops: their rows and progress
samples.py   the samples /ops charts are drawn from
charts.py    the charts' arithmetic (scales, ticks, quantiles): plain numbers
tasks.py     their Celery tasks (samples, rebuilds)
cli.py       `flask projections ...` and `flask events tail`

Its pages are app.web.ops. Clinic code never imports this package (a contract in
pyproject.toml); it may use the clinic's.
"""
