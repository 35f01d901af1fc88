"""Running many cars and recording their drives as clips."""
