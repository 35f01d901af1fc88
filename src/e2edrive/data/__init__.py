"""Clip format, datasets and loaders."""
