"""``python -m shigu`` runs the CLI."""

from shigu.cli import main

main()
