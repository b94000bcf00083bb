"""Solution of notebook 07-genetic-algorithm's exercise, and a plausible wrong answer."""

SOLUTIONS = {"7.1": (160, 15_000)}  # (8 parents + 8 children) x 10 images; 30 x 500 images

WRONG = {"7.1": (80, 15_000)}  # the article's children forgotten: 'plus' scores them too
