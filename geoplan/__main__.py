"""``python -m geoplan``: the ``geoplan`` command."""

from .cli import main

if __name__ == "__main__":
    main()
