"""``python -m nnetreport bench``: the report's benchmark (notebook 06's timing table);
``solutions``: the exercises' solutions; ``translate``: the Spanish notebooks."""

import argparse
import sys


def _int_at_least(low, what):
    """argparse type: an int >= ``low``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_count = _int_at_least(0, "an integer >= 0")


def _layers(text):
    """argparse type of --layers: widths such as 784,32,10."""
    from .bench.plan import parse_layers

    try:
        return parse_layers(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("--layers ", "")) from None


def add_data_option(parser):
    """``--data auto|random``, the benchmark's data (also ``bench.device_check``'s)."""
    parser.add_argument(
        "--data",
        choices=("auto", "random"),
        default="auto",
        help="auto: MNIST if it is on this machine (nothing is downloaded), else random",
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m nnetreport",
        description="The machinery of nnetlib's report: the benchmark of notebook 06, "
        "and the exercises' solutions for the teacher.",
    )
    commands = parser.add_subparsers(dest="command", metavar="command")
    _add_bench_parser(commands)
    solutions = commands.add_parser(
        "solutions",
        help="print the exercises' solutions (for the teacher), checked by their checkers",
        description="Prints each exercise's solution from nnetreport/exercises/solutions/, "
        "after running it through the exercise's checker.",
    )
    solutions.add_argument("numbers", nargs="*", metavar="N.M", help="only these exercises")
    translate = commands.add_parser(
        "translate",
        help="build the Spanish notebooks (notebooks/es) from the English ones and the translations",
        description="Writes NOTEBOOKS/es/*.ipynb: each English notebook's code cells and outputs, "
        "with its prose from TRANSLATIONS/<stem>.md. Refuses a missing, stale or untranslated "
        "cell, naming it.",
    )
    translate.add_argument("--notebooks", default="notebooks", help="default: notebooks")
    translate.add_argument(
        "--translations", default=None, help="default: NOTEBOOKS/es/translations"
    )
    translate.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if notebooks/es is out of date"
    )
    translate.add_argument(
        "--prose",
        action="store_true",
        help="write nothing; exit 1 if a prose cell has no current translation "
        "(make report asks before it runs the notebooks)",
    )
    return parser


def translate_command(args):
    """``python -m nnetreport translate``: 0 when the Spanish notebooks are (now) up to date."""
    from . import translation

    try:
        found = translation.build(
            args.notebooks, args.translations, check_only=args.check, prose_only=args.prose
        )
    except FileNotFoundError as exc:
        print(f"python -m nnetreport translate: error: {exc}", file=sys.stderr)
        return 2
    for line in found:
        print(line, file=sys.stderr)
    if not found and not (args.check or args.prose):
        print(f"Spanish notebooks written to {args.notebooks}/{translation.LANG}/")
    return 1 if found else 0


def solutions_command(numbers):
    """``python -m nnetreport solutions [N.M ...]``: 0 when every solution printed passes."""
    import importlib
    import inspect
    import pkgutil

    from . import exercises
    from .exercises import solutions

    found = {}
    for info in pkgutil.iter_modules(solutions.__path__):
        found.update(importlib.import_module(f"{solutions.__name__}.{info.name}").SOLUTIONS)
    unknown = [n for n in numbers if n not in found]
    if unknown:
        print(f"no exercise {', '.join(unknown)}; there are {', '.join(found)}", file=sys.stderr)
        return 2
    ok = True
    for number in numbers or exercises.all_checks():
        answer = found[number]
        shown = inspect.getsource(answer).strip() if callable(answer) else repr(answer)
        print(f"--- Exercise {number}\n{shown}")
        exercises.check(number, answer)
        ok &= exercises.verdict(number, answer).ok
    return 0 if ok else 1


def _add_bench_parser(commands):
    """The ``bench`` command and its options (``nnetreport.bench``)."""
    bench = commands.add_parser(
        "bench",
        help="time an epoch of every implementation (de Mayo (2021)'s table)",
        description="Seconds per epoch (60,000 samples, batch 1000, lr 10, momentum 0.5) of PyNet, "
        "NpNet, CyNet and TorchNet at 1 and N threads, and GpuNet when CUDA is available, "
        "with the ratio to torch and the peak memory added by training. "
        "See nnetreport/bench/ for the method.",
    )
    bench.add_argument(
        "--quick",
        action="store_true",
        help="2 batches x 2 rounds, PyNet on 1 sample (skipped where a sample takes minutes)",
    )
    bench.add_argument(
        "--json", metavar="PATH", help="also write all raw times, medians, ratios and metadata"
    )
    for flag, text in (
        ("--repeats", "interleaved rounds per implementation (default 5; --quick: 2)"),
        ("--threads", "thread count of the ×N columns (default: the cores available)"),
        ("--batches", "batches timed per measurement (default 60: an epoch; --quick: 2)"),
        ("--py-samples", "samples per PyNet measurement (default 2, 1 for big nets; --quick: 1)"),
    ):
        bench.add_argument(flag, type=_positive_int, metavar="N", help=text)
    bench.add_argument(
        "--batch-size",
        type=_positive_int,
        default=1000,
        metavar="N",
        help="samples per batch (default 1000)",
    )
    bench.add_argument(
        "--nets",
        metavar="LIST",
        help="comma-separated: classifier (784-16-16-10), autoencoder (784-64-784); "
        "default both, unless --layers is given",
    )
    bench.add_argument(
        "--layers",
        type=_layers,
        action="append",
        metavar="WIDTHS",
        help="a net of these widths, such as 784,32,10: input 784, output 10 (classifier) "
        "or 784 (autoencoder); may be repeated",
    )
    bench.add_argument(
        "--impls",
        metavar="LIST",
        help="comma-separated subset of py, np1, np, cy1, cyN, tr1, trN, gpu, tg "
        "(cy, tr: both thread counts; tg: PyTorch's own loop in a CUDA graph; default all)",
    )
    bench.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    add_data_option(bench)
    bench.add_argument(
        "--contend",
        type=_count,
        default=0,
        metavar="N",
        help="run N busy competitor processes (while True: pass) during the benchmark, "
        "to time it on a busy machine; they are stopped at the end, Ctrl-C included",
    )
    bench.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    bench.add_argument(
        "--no-train",
        action="store_true",
        help="time only the kernels, not nnetlib.train on the same batches",
    )
    bench.add_argument(
        "--shuffle",
        action="store_true",
        help="nnetlib.train shuffles its batches (shuffle=True, seed 0): the user's shuffled "
        "path against the kernel on the batches in file order",
    )
    bench.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def main(argv=None):
    from nnetlib.__main__ import parse_command

    parser = build_parser()
    args = parse_command(parser, argv, "bench")
    if args.command == "solutions":
        return solutions_command(args.numbers)
    if args.command == "translate":
        return translate_command(args)
    from . import bench

    try:
        return bench.main(args)
    except ValueError as exc:
        parser.exit(2, f"python -m nnetreport bench: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
