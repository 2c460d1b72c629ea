"""Paper experiments: commands that train, measure and write tables."""
