"""`python -m e2edrive.cli ...` = `e2edrive ...`."""

from e2edrive.cli import main

if __name__ == "__main__":
    main()
