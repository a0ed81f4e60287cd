"""`python -m bot`: the same as the `studybuddy` command."""

import sys

from bot.cli import main

if __name__ == "__main__":  # a spawned worker process imports this module too; it must not start the bot
    sys.exit(main())
