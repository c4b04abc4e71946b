"""Executors run the pipeline's stages: ``local`` (worker processes on one machine) or ``ray``."""
