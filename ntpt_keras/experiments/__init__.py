"""Experiments that print the numbers the README reports."""
