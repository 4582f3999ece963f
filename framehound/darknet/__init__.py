"""Darknet model files: .cfg sections and .names class lists."""
