#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dongda.settings")
    # rundemo is the one-machine demo: it behaves as production does (DEBUG off) on plain HTTP,
    # with static files from the source folders; DEBUG=1 in the environment turns DEBUG on.
    if sys.argv[1:2] == ["rundemo"]:
        os.environ.setdefault("DEMO_SERVER", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
