"""On-demand load benchmarks (`make bench`). Never imported by the app or by pytest.

See benchmarks/README.md. Entry point: `python -m benchmarks.run`."""
