"""The HTML report: a static site built from the notebooks' stored outputs, offline.

``python -m nnetreport.site build``   ``make html``: pages from the stored
outputs, a landing page, offline MathJax (:mod:`.build`).
``python -m nnetreport.site execute`` ``make report``: run the notebooks
in order, in place or, in classroom mode, as copies in ``report/quick``
(:mod:`.execute`).
"""

from .build import build_site
from .execute import execute, execution_order
from .pages import Page, notebook_paths, read_page

__all__ = [
    "build_site",
    "execute",
    "execution_order",
    "Page",
    "notebook_paths",
    "read_page",
    "main",
]


def main(argv=None):
    """Command line of ``make html`` and ``make report`` (see ``--help``)."""
    from .cli import main as _main

    return _main(argv)
