#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dongda.settings")
    # rundemo is the one-machine demo: DEBUG is on for it unless the environment says otherwise.
    if sys.argv[1:2] == ["rundemo"]:
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
