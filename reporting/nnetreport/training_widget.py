"""A small training widget for notebook 04: pick an initial draw, a learning
rate and a number of epochs, press the button, and watch the loss and the
accuracy of a 784-16-16-10 sigmoid net, epoch by epoch.

``TrainingWidget(data, test)`` holds the controls (ipywidgets), a Matplotlib
figure of two panels (loss per epoch, train and test; test accuracy per
epoch) and the last ``History``.  ``train()`` trains a fresh net with the
values the controls hold (``nnetlib.train``; its ``callback`` redraws the
curves after every epoch); the button calls it.  ``TrainingWidget.mnist()``
builds one on a few thousand MNIST digits and trains it once, so the figure
starts with a first run.

Displayed in a notebook, the widget shows the controls, the figure (a PNG
display that ``train`` updates in place) and one line saying that the
controls need a running kernel: a static page (the HTML report, a notebook
opened without a kernel) shows the figure of the first run only.
"""

import numpy as np

from nnetlib.params import INITS
from nnetlib.training import train

#: the initial draws offered: the article's two, then PyTorch's bounds
INIT_CHOICES = ("article_uniform", "article_normal", "torch")
assert set(INIT_CHOICES) == set(INITS)
#: the learning rates offered (the article's is 10)
LEARNING_RATES = (0.1, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0)
#: the note under the figure, in the stored notebook and in a running one alike
NOTE = (
    "The controls above need a running Jupyter kernel; on a static page (the HTML report, "
    "a notebook opened without a kernel) the figure shows the first run only: {first}."
)


class TrainingWidget:
    """Controls, live curves and the last run of a small training experiment.

    ``data`` and ``test`` are ``(x, labels)`` pairs; ``net_class`` builds the
    nets (default: CyNet, or NpNet where its kernel is not built,
    ``experiments.frontprop_class``); ``layers``, ``batch_size``,
    ``momentum`` and ``seed`` are fixed, while ``init``, ``lr`` and
    ``epochs`` are the controls' first values.
    """

    def __init__(
        self,
        data,
        test,
        *,
        layers=(784, 16, 16, 10),
        batch_size=100,
        momentum=0.5,
        seed=0,
        init="article_uniform",
        lr=10.0,
        epochs=10,
        max_epochs=30,
        net_class=None,
    ):
        import ipywidgets as w

        if net_class is None:
            from .experiments import frontprop_class

            net_class = frontprop_class()
        self.data, self.test = data, test
        self.layers, self.batch_size = tuple(layers), int(batch_size)
        self.momentum, self.seed, self.net_class = momentum, seed, net_class
        self.history, self.net, self._handle = None, None, None
        self.last_run, self._planned = "no run yet", epochs
        self.init = w.Dropdown(options=INIT_CHOICES, value=init, description="init")
        self.lr = w.Dropdown(
            options=[(f"{v:g}", v) for v in LEARNING_RATES], value=float(lr), description="lr"
        )
        self.epochs = w.IntSlider(value=epochs, min=1, max=max_epochs, description="epochs")
        self.button = w.Button(description="train", button_style="primary", icon="play")
        self.status = w.Label(value=self._setting())
        self.button.on_click(self._on_click)
        self.controls = w.VBox(
            [w.HBox([self.init, self.lr]), w.HBox([self.epochs, self.button]), self.status]
        )
        self.figure, self.lines = self._figure()

    @classmethod
    def mnist(cls, n_train=5000, n_test=2000, first_run=True, **kwargs):
        """A widget on the first ``n_train`` training and ``n_test`` test digits
        of MNIST (``nnetlib.data.mnist_task``), trained once when ``first_run``."""
        from nnetlib.data import mnist_task

        (x, y), (xt, yt) = mnist_task("classifier")
        widget = cls((x[:n_train], y[:n_train]), (xt[:n_test], yt[:n_test]), **kwargs)
        if first_run:
            widget.train()
        return widget

    def _setting(self):
        return (
            f"{type(self).__name__}: {self.layers}, {len(self.data[0])} training digits, "
            f"batches of {self.batch_size}, momentum {self.momentum}"
        )

    def _figure(self):
        """A two-panel figure (not shown by pyplot: the widget displays it) and its lines."""
        from matplotlib.figure import Figure

        from .plots import COLORS, STYLE

        w, h = STYLE["figure.figsize"]
        fig = Figure(figsize=(2 * w, h), layout="constrained")
        loss_ax, acc_ax = fig.subplots(1, 2)
        lines = {
            "train_loss": loss_ax.plot([], [], "o-", color=COLORS[0], label="train")[0],
            "test_loss": loss_ax.plot([], [], "o-", color=COLORS[1], label="test")[0],
            "test_accuracy": acc_ax.plot([], [], "o-", color=COLORS[1], label="test")[0],
        }
        loss_ax.set(xlabel="epoch", ylabel="loss (MSE)", title="loss per epoch")
        acc_ax.set(xlabel="epoch", ylabel="accuracy", title="test accuracy per epoch")
        acc_ax.set_ylim(0, 1)
        loss_ax.legend()
        return fig, lines

    def train(self, init=None, lr=None, epochs=None):
        """Train a fresh net (the controls' values, or those given) and redraw
        the curves after every epoch; returns the ``History``."""
        init = self.init.value if init is None else init
        lr = self.lr.value if lr is None else lr
        epochs = self.epochs.value if epochs is None else epochs
        self.net = self.net_class(list(self.layers), init=init, seed=self.seed)
        title = f"init {init}, lr {lr:g}, {epochs} epochs"
        self._planned = epochs
        self.figure.suptitle(title)
        self._redraw(None)
        self.history = train(
            self.net,
            self.data,
            self.test,
            epochs=epochs,
            batch_size=self.batch_size,
            lr=lr,
            momentum=self.momentum,
            progress=False,
            callback=lambda net, history: self._redraw(history),
        )
        self.last_run = title
        return self.history

    def _redraw(self, history):
        """Put the curves of ``history`` (None: empty) in the figure and update its display."""
        for key, line in self.lines.items():
            values = [] if history is None else getattr(history, key)
            line.set_data(np.arange(1, len(values) + 1), values)
        for ax in self.figure.axes:
            ax.relim()
            ax.autoscale_view()
            ax.set_xlim(0.5, self._planned + 0.5)
        self.figure.axes[1].set_ylim(0, 1)
        if history is not None and history.test_accuracy:
            self.status.value = (
                f"epoch {history.epoch[-1]}: test loss {history.test_loss[-1]:.4f}, "
                f"test accuracy {history.test_accuracy[-1]:.1%}"
            )
        if self._handle is not None:
            self._handle.update(self._image())

    def _on_click(self, _button):
        """The button: train, saying in the status line why a run stopped, if it did
        (an exception in a widget's handler would otherwise go unseen)."""
        self.button.disabled = True
        try:
            self.train()
        except (FloatingPointError, ValueError) as exc:
            self.status.value = f"stopped: {exc}"
        finally:
            self.button.disabled = False

    def png(self):
        """The figure as PNG bytes (what the notebook shows and updates)."""
        import io

        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=self.figure.dpi, bbox_inches="tight")
        return buf.getvalue()

    def _image(self):
        from IPython.display import Image

        return Image(data=self.png(), format="png")

    def _ipython_display_(self):
        from IPython.display import display

        display(self.controls)
        self._handle = display(self._image(), display_id=True)
        print(NOTE.format(first=self.last_run))
