"""`python -m verifier ...`: the command line, as `portal-evidence ...`."""

from verifier.cli import main

main()
