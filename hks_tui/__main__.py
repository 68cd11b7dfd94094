"""`python -m hks_tui` — same as the `hks-tui` command."""

from hks_tui.cli import main

if __name__ == "__main__":
    main(prog_name="hks-tui")
