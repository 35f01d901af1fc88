"""Drivers that implement the policy interface inside the simulator."""
