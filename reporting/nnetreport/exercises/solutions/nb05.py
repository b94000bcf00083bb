"""Solutions of notebook 05's exercises, and a plausible wrong answer to each."""

import numpy as np


def best_constant(x):
    """The mean image: per pixel, the mean over the images."""
    return np.mean(x, axis=0)


def mean_of_each_image(x):
    """One value per image (a wrong answer: the mean over the wrong axis)."""
    return np.mean(x, axis=1)


SOLUTIONS = {"5.1": 101_200, "5.2": best_constant}
WRONG = {"5.1": 100_352, "5.2": mean_of_each_image}
