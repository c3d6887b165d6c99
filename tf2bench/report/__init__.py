"""The report: records in, Markdown/HTML/figures out; reads records only and never TensorFlow."""
