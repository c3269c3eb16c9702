"""Accuracy evaluation by standard protocols.

* :mod:`.pairs`: 1:1 verification (LFW 10-fold).
* :mod:`.metrics`, :mod:`.identify`, :mod:`.dataset`: open-set 1:N identification (NIST FRTE
  FNIR/FPIR, CMC, DET, watch-list size); :mod:`.fairness`: per-group rates and significance;
  :mod:`.report`: HTML/JSON reports; :mod:`.run`: the glue used by the CLI.
* :mod:`.calibrate` and :mod:`.profiles`: thresholds for a target FPIR saved as model profiles
  (deployments call :func:`overt.evaluation.profiles.load_profile`).
* :mod:`.video`: clips through the live pipeline (true alerts, misses, false alerts).
"""
