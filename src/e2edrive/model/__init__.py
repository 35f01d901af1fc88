"""Networks and their I/O contract (`io.py`)."""
