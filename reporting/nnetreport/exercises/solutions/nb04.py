"""Solutions of notebook 04's exercises, and a plausible wrong answer to each."""


def momentum_update(w, v, g, lr, momentum):
    """The article's SGD with momentum, as nnetlib.optim.SGD computes it."""
    v = v * momentum - g * lr
    return w + v, v


def torch_style_update(w, v, g, lr, momentum):
    """torch.optim.SGD's form: the buffer b = momentum b + g, w - lr b (a wrong answer here)."""
    b = momentum * v + g
    return w - lr * b, b


SOLUTIONS = {"4.1": momentum_update, "4.2": 960, "4.3": 10}
WRONG = {"4.1": torch_style_update, "4.2": 60, "4.3": 1000}
