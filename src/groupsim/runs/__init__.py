"""The runs layer: one run end to end, its outcomes, files and the execution backends.

`runner.run` runs a scenario; `outcomes` turns a run's records into outcomes; `outputs` is the
output contract; `store` writes results atomically; `resources` checks memory; `execute` fans
tasks out (serial, process pool or Dask).
"""
