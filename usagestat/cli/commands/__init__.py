"""One module per command group; each defines ``add_parser`` and ``run``."""
