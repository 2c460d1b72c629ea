"""Adapting compiled programs: loss, trainer, evaluation, summaries."""
