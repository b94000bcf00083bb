"""Notebook 00's verdict table: every verdict is a condition that can come out the other way."""

import pytest

from nnetreport import article, verdicts
from nnetreport.results import FULL_DIR, load_results


def _stored():
    return verdicts.all_results(lambda name: load_results(name, folder=FULL_DIR))


RESULTS = _stored()
NAMES = [s.name + "/" + s.item for s in verdicts.SPECS]


def test_no_row_pending_on_the_stored_results():
    rows = verdicts.table(RESULTS)
    pending = [r.item for r in rows if r.verdict == "pending"]
    assert not pending, pending


@pytest.mark.parametrize("spec", verdicts.SPECS, ids=NAMES)
def test_every_verdict_can_flip(spec):
    before = verdicts.evaluate(spec, RESULTS).verdict
    after = [
        verdicts.evaluate(spec, altered).verdict for altered in verdicts.flipped(spec, RESULTS)
    ]
    assert spec.flips and any(v != before for v in after), (before, after)
    assert all(v != "pending" for v in after)


def test_flips_leave_the_results_untouched():
    import json

    frozen = json.dumps(RESULTS, sort_keys=True, default=str)
    for spec in verdicts.SPECS:
        list(verdicts.flipped(spec, RESULTS))
    assert json.dumps(RESULTS, sort_keys=True, default=str) == frozen


def test_a_missing_figure_makes_a_row_pending():
    rows = verdicts.table({"_quoted": verdicts.quoted_results()})
    assert sum(r.verdict == "pending" for r in rows) >= len(rows) - 2


def test_every_item_of_the_article_has_its_row():
    items = [s.item for s in verdicts.SPECS]
    assert all(any(f"future work: {w}" == i for i in items) for w in article.FUTURE_WORK)
    assert all(
        any(i == f"classifier test accuracy, {n}" for i in items)
        for n in article.CLASSIFIER_ACCURACY
    )
    assert all(
        any(i == f"autoencoder test MSE, {n}" for i in items) for n in article.AUTOENCODER_MSE
    )
    assert len(set(items)) == len(items)


def test_markdown_has_one_line_per_row_and_the_sources():
    rows = verdicts.table(RESULTS)
    text = verdicts.markdown(rows)
    assert all(f"| {n} |" in text for n in range(1, len(rows) + 1))
    assert "[h200]" in text and "[memo]" in text
