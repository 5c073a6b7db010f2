"""``python -m anthias_edge.cli``: the same command line without the console script."""

from anthias_edge.cli import main

main(prog_name="anthias-edge")
