"""``python -m wsms_tui`` runs the CLI."""

from wsms_tui.cli import main

main()
