"""`python cli.py ...` from a checkout: the command line lives in verifier/cli.py (installed: `portal-evidence`)."""

from verifier.cli import app, main

__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
