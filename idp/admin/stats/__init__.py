"""Activation statistics, their snapshot and charts."""
