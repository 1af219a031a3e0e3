"""The application above the engine: a marker job (read → rules → nest → verify → write) and batches of them.

`nesting` is the library (nest, verify, the marker file); `export` writes drawings and cut
files; this package ties them to pattern files, a marker spec and resource limits, as the
``nest`` command line and the cut planner run them.
"""
