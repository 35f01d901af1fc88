"""`python -m e2edrive.train ...` (what torchrun starts on every rank) = `e2edrive train ...`."""

import sys

from e2edrive.cli import main

if __name__ == "__main__":
    main(["train", *sys.argv[1:]])
