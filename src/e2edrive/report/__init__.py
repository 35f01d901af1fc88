"""Plots, drive videos and the run report."""
