"""The one exception type for mistakes in what a user asked for (a missing path, an unknown name, a value of
the wrong type, a file that is not what it claims). The command line prints its message on one line and exits
with code 2; every other exception is a bug and keeps its traceback.

It subclasses ValueError so callers that validate input (`except ValueError`) keep working."""

from __future__ import annotations


class UserError(ValueError):
    """What is wrong and what was expected, in one sentence."""
