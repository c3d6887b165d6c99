"""TensorBoard output: run folders (`paths`), results as summaries, profiles of benchmarks."""
