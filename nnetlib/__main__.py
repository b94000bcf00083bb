"""``python -m nnetlib <command>``; ``python -m nnetlib --help`` lists the commands."""

import argparse
import sys
import time

from . import __version__


def data_command(no_download=False):
    """``python -m nnetlib data``: 0 when both splits are found and verify, else 1."""
    from .data import MNISTNotFoundError, cache_dir, find_mnist, load_mnist

    try:
        for split in ("train", "test"):
            t0 = time.perf_counter()
            paths = find_mnist(split, download=not no_download)
            images, labels = load_mnist(split)
            print(
                f"{split}: images {images.shape} {images.dtype}, labels {labels.shape} "
                f"{labels.dtype}; sha256 verified ({time.perf_counter() - t0:.2f} s)"
            )
            print("\n".join(f"  {kind}: {path}" for kind, path in paths.items()))
    except (MNISTNotFoundError, ValueError) as exc:
        print(f"nnetlib data: {exc}", file=sys.stderr)
        return 1
    print(f"cache: {cache_dir()}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m nnetlib",
        description="nnetlib: feedforward nets trained by frontpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"nnetlib {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command")
    data = commands.add_parser(
        "data",
        help="where the MNIST files are and that they verify, or how to get them",
        description="Finds both MNIST splits (NNETLIB_DATA, the cache, or a download into the "
        "cache), verifies them and prints where they are; exit status 1 when a file is "
        "missing or damaged, with what was searched and how to get the files.",
    )
    data.add_argument("--no-download", action="store_true", help="do not download missing files")
    return parser


def parse_command(parser, argv, example):
    """The parsed ``argv`` of a parser with subcommands; exit 2 (usage) when no
    command is given (``example`` names one) or an argument is unknown."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args, rest = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        parser.exit(2, f"\nerror: a command is required (for example: {example})\n")
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args


def main(argv=None):
    parser = build_parser()
    args = parse_command(parser, argv, "data")
    if args.command == "data":
        return data_command(no_download=args.no_download)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
