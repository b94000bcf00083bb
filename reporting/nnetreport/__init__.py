"""nnetreport: the machinery of nnetlib's report, kept out of the library.

The notebooks import it for what is not a network: run size and saved
results (``results``), the article's printed figures (``article``), the
verdict table of 00 (``verdicts``), plots and the eq. (2) diagram
(``plots``, ``diagram``), seed experiments (``experiments``), the genetic
algorithm of 07 (``genetic``), timings with their spread (``timing``), the
benchmark of 06 (``bench``, ``python -m nnetreport bench``) and the HTML
site (``site``). nnetlib imports nothing from here.
"""
