"""Closed-loop evaluation: drive policies in the simulator and score them."""
