"""vqimage's benchmarks against its peers: run `python -m benchmarks.run` from the repository root."""
