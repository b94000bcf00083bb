"""Solutions to the exercises, kept out of the students' notebooks: one module per
notebook, ``nbXX.py``, with ``SOLUTIONS`` and ``WRONG`` (``{"N.M": answer}``)."""
