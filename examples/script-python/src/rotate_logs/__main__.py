"""Entry point for `python -m rotate_logs`."""

from rotate_logs.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
