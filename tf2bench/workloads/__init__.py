"""Builders of what runs: data, models, steps, pipelines, saving. No timing code."""
