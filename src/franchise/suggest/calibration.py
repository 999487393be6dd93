"""How sure a suggestion is: the probability that the best runbook is the right one.

The ranking's score says which runbook fits best, never whether any fits: the text part is
relative to the best match, so the best always scores high (a Teams crash got the lockout
runbook at 0.6 with a text similarity of 0.07). The confidence instead looks at absolute
evidence about the best runbook and is a logistic regression fitted on the labelled
evaluation set (tests/suggest/eval_tickets.csv: tickets of the ten categories plus tickets
no runbook covers, labelled `none`): among evaluation tickets given confidence p, about p of
them had the right runbook on top. It is checked on the held-out set, which fitted nothing.

`choose_threshold` chose the threshold below and bench/suggest_accuracy.py --fit prints it
again; a test checks the constants are still the fit of the evaluation set. They are the
optimum `fit` finds, refitted whenever the starter library's texts change (the evidence is
measured against them): last when the starter runbooks gained their corrected vendor facts
and new answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Label of an evaluation ticket that no runbook covers.
NO_RUNBOOK = "none"

# Fitted on tests/suggest/eval_tickets.csv (bench/suggest_accuracy.py --fit).
COEFFICIENTS = (10.2876, 11.6803, 1.5531)
INTERCEPT = -1.8051

# A runbook is attached on its own only at or above this confidence; below it, the best
# runbook is offered to the technician. Chosen on the evaluation set by `choose_threshold`.
ATTACH_THRESHOLD = 0.7

# At most this share of tickets may get a wrong runbook attached on their own: a wrong runbook
# holds the ticket behind the wrong checks and words the client's messages for another
# problem, while an offer only costs the technician a click.
WRONG_ATTACH_BUDGET = 0.05

# Keyword hits beyond this add nothing: a long ticket repeating the words is no surer.
MAX_KEYWORD_HITS = 3

# The regression's own regularisation is kept weak: the three features are few and scaled.
REGULARISATION_C = 100.0


@dataclass(frozen=True)
class Evidence:
    """What the confidence looks at, for the best-ranked runbook."""

    # Its TF-IDF text similarity to the ticket (0..1), not relative to the other runbooks.
    similarity: float
    # How much more similar it is than the runner-up (the second in the ranking).
    margin: float
    # How many of its own keywords the ticket contains.
    keyword_hits: int

    def vector(self) -> tuple[float, float, float]:
        return (self.similarity, self.margin, float(min(self.keyword_hits, MAX_KEYWORD_HITS)))


def confidence(evidence: Evidence) -> float:
    z = INTERCEPT + sum(c * x for c, x in zip(COEFFICIENTS, evidence.vector(), strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def fits(probability: float, threshold: float = ATTACH_THRESHOLD) -> bool:
    return probability >= threshold


def fit(samples: Sequence[tuple[Evidence, bool]]) -> tuple[tuple[float, ...], float]:
    """(coefficients, intercept) of the regression of "the best runbook was right".

    Maximum likelihood with an L2 penalty of 1 / (2 C) on the coefficients (not on the
    intercept), scikit-learn's LogisticRegression(C=REGULARISATION_C), which fitted the
    constants first. Solved by Newton's method: with four unknowns each step is exact
    algebra, and a dozen steps reach the optimum to the last digits."""
    features = np.array([e.vector() for e, _ in samples], dtype=np.float64)
    right = np.array([float(r) for _, r in samples])
    design = np.hstack([features, np.ones((len(samples), 1))])
    penalty = np.diag([1.0 / REGULARISATION_C] * features.shape[1] + [0.0])
    weights = np.zeros(design.shape[1])
    for _ in range(100):
        # The logistic function through tanh, which cannot overflow.
        predicted = 0.5 * (1.0 + np.tanh(0.5 * (design @ weights)))
        gradient = design.T @ (predicted - right) + penalty @ weights
        hessian = (design * (predicted * (1.0 - predicted))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if float(np.max(np.abs(step))) < 1e-12:
            break
    return tuple(float(c) for c in weights[:-1]), float(weights[-1])


def choose_threshold(
    samples: Sequence[tuple[float, bool]], *, budget: float = WRONG_ATTACH_BUDGET
) -> float:
    """The lowest threshold (a multiple of 0.05) at which at most `budget` of the tickets in
    (confidence, best runbook right) pairs would get a wrong runbook attached on their own.

    The lowest such threshold attaches the most right runbooks within the error budget.
    """
    for step in range(0, 21):
        threshold = step / 20
        wrong = sum(1 for p, right in samples if fits(p, threshold) and not right)
        if wrong <= budget * len(samples):
            return threshold
    return 1.0
