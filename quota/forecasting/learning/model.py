"""The win-probability model: logistic regression on standardized numbers and one-hot categories, then calibrated.

Why logistic regression: two dozen inputs, thousands to a million examples, and the need to say why a deal got
its number. Its log-odds are a sum, one term per input, so a deal's factors are exact: each input's coefficient
times how far the deal is from the training average (for a category, its coefficient minus the average
coefficient of its feature). Gradient boosting might gain a little; it would lose that.

Fitting (`fit`): every training example fits the regression (scikit-learn's StandardScaler, OneHotEncoder and
LogisticRegression in one Pipeline); its output is calibrated on out-of-fold predictions (CALIBRATION_FOLDS
regressions, each fitted without a fifth of the deals and predicting those: scikit-learn's
CalibratedClassifierCV with ensemble=False, grouped by deal), isotonic regression when there are at least
ISOTONIC_MIN_EXAMPLES examples, a sigmoid (Platt) otherwise. (Calibrating on the latest fifth of the deals instead
took one season for the year: on the Maven data, June's quarter-end win rate.) Categories seen in fewer than MIN_CATEGORY_EXAMPLES
examples become "(other)". The test set, if any, is never seen here.

What is stored (`WinModelParameters.as_json`) is plain data: means and scales, categories, coefficients and
the calibration points; `predict` needs only numpy. Probabilities are kept within [CLIP, 1 - CLIP]: a model
that says 0 or 1 is never right to, and one surprise would make its log loss infinite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from quota.forecasting.learning.features import CATEGORICAL, FACTOR_OF, NUMERIC, Features

CALIBRATION_FOLDS = 5
ISOTONIC_MIN_EXAMPLES = 1000
MIN_CATEGORY_EXAMPLES = 20
OTHER = "(other)"
CLIP = 0.001
REGULARIZATION_C = 1.0
TOP_FACTORS = 3


class TooFewExamples(ValueError):
    """Not enough examples, or only one outcome, to fit or to calibrate."""


@dataclass(frozen=True)
class WinModelParameters:
    """A fitted model as plain data."""

    numeric: list[str]
    means: list[float]
    scales: list[float]
    categorical: list[str]
    categories: list[list[str]]  # per categorical feature, the one-hot columns in order
    shares: list[list[float]]  # each column's share of the training examples (the "average deal")
    numeric_coef: list[float]
    category_coef: list[list[float]]
    intercept: float
    calibration: dict[str, Any]  # {"method": "isotonic", "x": [...], "y": [...]} or {"method": "sigmoid", "a": .., "b": ..}

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": "logistic_regression",
            "numeric": self.numeric,
            "means": self.means,
            "scales": self.scales,
            "categorical": self.categorical,
            "categories": self.categories,
            "shares": self.shares,
            "numeric_coef": self.numeric_coef,
            "category_coef": self.category_coef,
            "intercept": self.intercept,
            "calibration": self.calibration,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WinModelParameters:
        if data.get("kind") != "logistic_regression":
            raise ValueError(f"not a stored logistic regression: {data.get('kind')!r}")
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})

    # ---- scoring -----------------------------------------------------------------------------------------------

    def contributions(self, examples: Features) -> tuple[np.ndarray, np.ndarray]:
        """Per example: the log-odds of the average training deal, and each feature's term (columns: features()).

        Their row sums are the uncalibrated log-odds.
        """
        if list(NUMERIC) != self.numeric or list(CATEGORICAL) != self.categorical:
            raise ValueError("this model was trained on other features; train it again")
        n = len(examples)
        standardized = (examples.numeric - np.array(self.means)) / np.array(self.scales)
        numeric_terms = standardized * np.array(self.numeric_coef)
        category_terms = np.zeros((n, len(self.categorical)))
        base = self.intercept  # standardized numbers are 0 for the average deal
        for j, (columns, coef, shares) in enumerate(zip(self.categories, self.category_coef, self.shares, strict=True)):
            coef_array = np.array([*coef, 0.0])  # the last: a value the model never saw, not even as "(other)"
            average = float(np.dot(coef, shares))
            index = {value: i for i, value in enumerate(columns)}
            unknown = index.get(OTHER, len(columns))
            chosen = np.array([index.get(value, unknown) for value in examples.categorical[:, j]], dtype=np.int64)
            category_terms[:, j] = coef_array[chosen] - average
            base += average
        return np.full(n, base), np.hstack([numeric_terms, category_terms])

    def raw_probability(self, examples: Features) -> np.ndarray:
        base, terms = self.contributions(examples)
        return _sigmoid(base + terms.sum(axis=1))

    def predict(self, examples: Features) -> np.ndarray:
        return self.calibrate(self.raw_probability(examples))

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        method = self.calibration["method"]
        if method == "isotonic":
            calibrated = np.interp(raw, self.calibration["x"], self.calibration["y"])
        elif method == "sigmoid":
            calibrated = _sigmoid(self.calibration["a"] * _logit(raw) + self.calibration["b"])
        else:
            raise ValueError(f"unknown calibration {method!r}")
        return np.clip(calibrated, CLIP, 1 - CLIP)

    def factors(self, examples: Features, *, top: int = TOP_FACTORS) -> list[list[dict[str, Any]]]:
        """Per example, the `top` features that moved its log-odds most from the average deal's, largest first.

        A feature's indicator is counted with the number it qualifies (FACTOR_OF); each factor is
        {"feature", "value" (the deal's, as the model read it), "effect" (log-odds, signed)}.
        """
        return [json.loads(text) for text in self.factors_json(examples, top=top)]

    def factors_json(
        self, examples: Features, *, labels: dict[str, dict[str, str]] | None = None, top: int = TOP_FACTORS
    ) -> list[str]:
        """Per example, its factors (see `factors`) as the JSON text json.dumps writes for them.

        `labels` names a feature's values ({feature: {value: name}}; a value without a name is shown as it is).
        Written straight as text, each value once per distinct value of its feature: the scoring of every open
        deal makes hundreds of thousands of factors, and a dict and a json.dumps call for each cost most of it.
        """
        _, terms = self.contributions(examples)
        names = [*self.numeric, *self.categorical]
        shown = [name for name in names if name not in FACTOR_OF]
        merged = np.zeros((len(examples), len(shown)))
        for i, name in enumerate(names):
            merged[:, shown.index(FACTOR_OF.get(name, name))] += terms[:, i]
        order = np.argsort(-np.abs(merged), axis=1)[:, :top]
        effect = np.take_along_axis(merged, order, axis=1)
        listed = np.abs(effect) >= 0.005
        # Each feature's factors where it is listed: a few per deal, not every feature of every deal.
        texts = np.empty(order.shape, dtype=object)
        for k, name in enumerate(shown):
            rows, slots = np.nonzero((order == k) & listed)
            if not len(rows):
                continue
            named = (labels or {}).get(name)
            encoded: dict[Any, str] = {}  # one feature's values are of one type (and None): no True == 1 here
            head = f'{{"feature": {json.dumps(name)}, "value": '
            values = [encoded.get(v) or encoded.setdefault(v, _value_json(v, named)) for v in _readable(examples, name, rows)]
            effects = effect[rows, slots].tolist()
            texts[rows, slots] = _objects(
                [f'{head}{value}, "effect": {round(e, 3)!r}}}' for value, e in zip(values, effects, strict=True)]
            )
        return ["[" + ", ".join(text for text in row if text is not None) + "]" for row in texts.tolist()]


def _value_json(value: Any, names: dict[str, str] | None) -> str:
    return json.dumps(names.get(str(value), value) if names is not None else value)


def _readable(examples: Features, name: str, rows: np.ndarray) -> list[Any]:
    """The feature's value for each of `rows` as people count it, undoing the logs (days, amounts, counts)."""
    if name in CATEGORICAL:
        return examples.categorical[rows, CATEGORICAL.index(name)].tolist()
    column = examples.numeric[rows, NUMERIC.index(name)]
    if name in ("age_days", "days_in_stage", "owner_closed_deals", "activities_14d"):
        return np.round(np.expm1(column)).astype(int).tolist()
    if name == "amount":
        unknown = examples.numeric[rows, NUMERIC.index("amount_unknown")] > 0
        amount = np.where(unknown, np.nan, np.round(np.expm1(column), 2))
        return [None if np.isnan(a) else float(a) for a in amount]
    if name == "existing_customer":
        return (column > 0).tolist()
    if name == "owner_win_rate":
        return np.round(column, 3).tolist()
    if name == "days_to_expected_close":
        missing = examples.numeric[rows, NUMERIC.index("no_expected_close")] > 0
        return [None if none else int(d) for d, none in zip(column, missing, strict=True)]
    raise ValueError(f"no readable value for the feature {name!r}")


def _objects(values: list[Any]) -> np.ndarray:
    """A one-dimensional object array of the values as they are."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


# ---- fitting ---------------------------------------------------------------------------------------------------


def fit(examples: Features) -> WinModelParameters:
    """Fit on all the training deals; calibrate on out-of-fold predictions (see the module's docstring)."""
    if len(np.unique(examples.won)) < 2:
        raise TooFewExamples(f"the deals are all {'won' if examples.won.any() else 'lost'}: nothing to learn from")
    raw = out_of_fold_probabilities(examples)
    parameters = _fit_regression(examples)
    return WinModelParameters(**{**parameters.__dict__, "calibration": _fit_calibration(raw, examples.won)})


def out_of_fold_probabilities(examples: Features) -> np.ndarray:
    """Each example's raw probability from a regression fitted without its deal (CALIBRATION_FOLDS folds by deal).

    Calibrating on these sees every month of the training period, so a season (deals closing at a quarter's end
    are won more often) is not taken for the whole year, as calibrating on the latest deals alone would.
    """
    deals = np.unique(examples.deal_id)
    if len(deals) < CALIBRATION_FOLDS:
        raise TooFewExamples(f"at least {CALIBRATION_FOLDS} closed deals are needed")
    raw = np.empty(len(examples))
    for fitting, held in GroupKFold(n_splits=CALIBRATION_FOLDS).split(examples.numeric, groups=examples.deal_id):
        part = examples.take(fitting)
        if len(np.unique(part.won)) < 2:
            raise TooFewExamples("a fold's deals are all won or all lost: too few deals to calibrate")
        raw[held] = _fit_regression(part).raw_probability(examples.take(held))
    return raw


def _fit_regression(examples: Features) -> WinModelParameters:
    categorical = _collapse_rare(examples.categorical)
    table = np.empty((len(examples), len(NUMERIC) + len(CATEGORICAL)), dtype=object)
    table[:, : len(NUMERIC)] = examples.numeric
    table[:, len(NUMERIC) :] = categorical
    numeric_columns = list(range(len(NUMERIC)))
    category_columns = list(range(len(NUMERIC), len(NUMERIC) + len(CATEGORICAL)))
    pipeline = Pipeline(
        [
            (
                "inputs",
                ColumnTransformer(
                    [
                        ("numbers", StandardScaler(), numeric_columns),
                        ("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), category_columns),
                    ]
                ),
            ),
            ("regression", LogisticRegression(C=REGULARIZATION_C, max_iter=1000)),
        ]
    )
    pipeline.fit(table, examples.won.astype(int))
    scaler: StandardScaler = pipeline.named_steps["inputs"].named_transformers_["numbers"]
    encoder: OneHotEncoder = pipeline.named_steps["inputs"].named_transformers_["categories"]
    regression: LogisticRegression = pipeline.named_steps["regression"]
    coef = regression.coef_[0]
    categories = [[str(value) for value in values] for values in encoder.categories_]
    split = np.cumsum([len(NUMERIC)] + [len(values) for values in categories])
    category_coef = [coef[split[j] : split[j + 1]].tolist() for j in range(len(categories))]
    shares = [[float(np.mean(categorical[:, j] == value)) for value in values] for j, values in enumerate(categories)]
    scales = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    return WinModelParameters(
        numeric=list(NUMERIC),
        means=scaler.mean_.tolist(),
        scales=scales.tolist(),
        categorical=list(CATEGORICAL),
        categories=categories,
        shares=shares,
        numeric_coef=coef[: len(NUMERIC)].tolist(),
        category_coef=category_coef,
        intercept=float(regression.intercept_[0]),
        calibration={"method": "none"},
    )


def _collapse_rare(categorical: np.ndarray) -> np.ndarray:
    collapsed = categorical.copy()
    for j in range(categorical.shape[1]):
        values, counts = np.unique(categorical[:, j].astype(str), return_counts=True)
        rare = set(values[counts < MIN_CATEGORY_EXAMPLES].tolist())
        if rare:
            collapsed[:, j] = [OTHER if value in rare else value for value in categorical[:, j]]
    return collapsed


def _fit_calibration(raw: np.ndarray, won: np.ndarray) -> dict[str, Any]:
    if len(raw) >= ISOTONIC_MIN_EXAMPLES:
        isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, won.astype(float))
        return {"method": "isotonic", "x": isotonic.X_thresholds_.tolist(), "y": isotonic.y_thresholds_.tolist()}
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(raw).reshape(-1, 1), won.astype(int))
    return {"method": "sigmoid", "a": float(platt.coef_[0, 0]), "b": float(platt.intercept_[0])}


# ---- scoring the scores ----------------------------------------------------------------------------------------


def brier(probability: np.ndarray, won: np.ndarray) -> float:
    return float(np.mean((probability - won.astype(float)) ** 2))


def log_loss(probability: np.ndarray, won: np.ndarray) -> float:
    p = np.clip(probability, CLIP, 1 - CLIP)
    y = won.astype(float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


BANDS = np.linspace(0, 1, 11)


def calibration_bands(probability: np.ndarray, won: np.ndarray) -> list[dict[str, Any]]:
    """Predicted vs actual win rate per tenth of probability (bands without examples left out)."""
    band = np.clip(np.digitize(probability, BANDS[1:-1]), 0, len(BANDS) - 2)
    rows = []
    for b in range(len(BANDS) - 1):
        inside = band == b
        if inside.any():
            rows.append(
                {
                    "band": f"{BANDS[b]:.1f}-{BANDS[b + 1]:.1f}",
                    "n": int(inside.sum()),
                    "predicted": round(float(probability[inside].mean()), 4),
                    "actual": round(float(won[inside].mean()), 4),
                }
            )
    return rows
