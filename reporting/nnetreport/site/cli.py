"""``python -m nnetreport.site {build,execute}``: what ``make html`` and ``make report`` run."""

import argparse
import sys

from .build import build_site
from .execute import execute


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m nnetreport.site",
        description="Build the HTML report, or execute its notebooks.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="HTML from the notebooks' stored outputs (make html)")
    b.add_argument(
        "--notebooks", default="notebooks", help="folder of *.ipynb (default: notebooks)"
    )
    b.add_argument(
        "--results", default=None, help="folder of saved results (default: NOTEBOOKS/results)"
    )
    b.add_argument("--out", default="report", help="output folder (default: report)")
    b.add_argument("--quick", action="store_true", help="mark the site as a classroom run")
    e = sub.add_parser("execute", help="run notebooks in order (make report)")
    e.add_argument("notebooks", nargs="+", help="the .ipynb files")
    e.add_argument(
        "--quick",
        action="store_true",
        help="NNETLIB_QUICK=1, write executed copies to --out instead of in place",
    )
    e.add_argument(
        "--out", default="report/quick", help="folder of the quick copies (default: report/quick)"
    )
    e.add_argument(
        "--timeout", type=float, default=1200, help="seconds one cell may run (default 1200)"
    )
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            command = "make html QUICK=1" if args.quick else "make html"
            build_site(
                args.out,
                notebooks=args.notebooks,
                results=args.results,
                quick=args.quick,
                command=command,
            )
        else:
            execute(args.notebooks, quick=args.quick, out=args.out, timeout=args.timeout)
    except (FileNotFoundError, ImportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
