"""Solution of notebook 06-timing-table's exercise, and a plausible wrong answer."""

SOLUTIONS = {"6.1": (60 * 3.97, 60 * 3.97 / 0.08)}  # 238.2 s per epoch, 2977.5 times tr's epoch

WRONG = {"6.1": (3.97 / 60, 3.97 / 60 / 0.08)}  # divided by 60 instead of multiplied
