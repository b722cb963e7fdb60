"""`quota forecast`: the learned win probability from the command line.

    quota forecast train
    quota forecast score
    quota forecast evaluate [--split YYYY-MM-DD] [--format table|json]

`train` writes a new model version from the closed deals (or records why the stage probabilities stay: too
few closed deals, or no better than them on the latest ones) and scores the open deals with it. `score`
scores the open deals again with the latest version. `evaluate` trains on the deals closed before the split
(default: the date that leaves the last fifth of the closed deals) and tests on those closed from it on,
printing Brier score and log loss for the model and for the stage probabilities; it stores nothing.

Each subcommand is a pair in SUBCOMMANDS (add its parser, run it), so another module's subcommand is wired in
with one line.
"""

from __future__ import annotations

import datetime as dt
import json
from argparse import ArgumentParser, _SubParsersAction
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from quota.core.calendar import company_zone
from quota.core.inputs import EARLIEST_DAY, LATEST_DAY
from quota.forecasting.history_cli import add_waterfall_parser, run_waterfall
from quota.forecasting.learning.features import training_examples
from quota.forecasting.learning.model import TooFewExamples
from quota.forecasting.learning.training import default_split, evaluate, max_training_deals
from quota.forecasting.probability import probability_method
from quota.forecasting.services import open_deals_score, win_model_train

Subparsers = _SubParsersAction


def add_train_parser(commands: Subparsers) -> None:
    commands.add_parser("train", help="Train a new version of the win-probability model and score the open deals.")


def run_train(options: dict[str, Any], stdout: OutputWrapper) -> None:
    win_model = win_model_train()
    evaluation = win_model.evaluation
    if win_model.is_learned:
        stdout.write(
            f"model v{win_model.version}: trained on {win_model.training_deals:,} closed deals "
            f"({win_model.training_examples:,} examples)"
        )
    else:
        stdout.write(f"model v{win_model.version}: not learned")
    if "model" in evaluation:
        stdout.write(_evaluation_lines(evaluation))
    stdout.write(str(probability_method().description))


def add_score_parser(commands: Subparsers) -> None:
    commands.add_parser("score", help="Score every open deal with the latest model version.")


def run_score(options: dict[str, Any], stdout: OutputWrapper) -> None:
    scored = open_deals_score()
    stdout.write(f"scored {scored:,} open deals. {probability_method().description}")


def add_evaluate_parser(commands: Subparsers) -> None:
    evaluation = commands.add_parser("evaluate", help="Train before a date, test after it, against the stage probabilities.")
    evaluation.add_argument("--split", help="train on deals closed before this date (YYYY-MM-DD), test on the rest")
    evaluation.add_argument("--format", default="table", help="table or json")


def run_evaluate(options: dict[str, Any], stdout: OutputWrapper) -> None:
    if options["format"] not in {"table", "json"}:
        raise CommandError(f"--format must be table or json, not {options['format']!r}")
    split = _split(options["split"]) if options["split"] else None
    examples = training_examples(max_deals=max_training_deals())
    try:
        result = evaluate(split=split or default_split(examples), examples=examples)
    except TooFewExamples as exc:
        raise CommandError(f"cannot evaluate: {exc}") from None
    data = result.as_json()
    if options["format"] == "json":
        stdout.write(json.dumps(data, indent=2))
        return
    stdout.write(_evaluation_lines(data))
    for name in ("model", "baseline"):
        stdout.write(f"calibration of the {name} (predicted vs actual win rate, examples):")
        for band in data["calibration"][name]:
            stdout.write(f"  {band['band']}  {band['predicted']:.3f}  {band['actual']:.3f}  {band['n']:>8,}")


def _evaluation_lines(data: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"split {data['split']}: trained on {data['n_train']:,} deals ({data['train_examples']:,} examples), "
            f"tested on {data['n_test']:,} deals ({data['test_examples']:,} examples)",
            f"{'':<9}{'brier':>9}{'log loss':>10}",
            *(f"{name:<9}{data[name]['brier']:>9.4f}{data[name]['log_loss']:>10.4f}" for name in ("model", "baseline")),
        ]
    )


def _split(text: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--split takes a date as YYYY-MM-DD, not {text!r}") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise CommandError(f"--split must be between {EARLIEST_DAY} and {LATEST_DAY}, not {text}")
    return dt.datetime.combine(day, dt.time(), tzinfo=company_zone())


# name -> (add its parser to the subparsers, run it with the parsed options); what they return is not used.
SUBCOMMANDS: dict[str, tuple[Callable[[Subparsers], Any], Callable[[dict[str, Any], Any], Any]]] = {
    "train": (add_train_parser, run_train),
    "score": (add_score_parser, run_score),
    "evaluate": (add_evaluate_parser, run_evaluate),
    "waterfall": (add_waterfall_parser, run_waterfall),
}


class Command(BaseCommand):
    help = "Train, score and evaluate the learned win probability; the pipeline's waterfall."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="{" + ",".join(SUBCOMMANDS) + "}")
        for add_parser, _run in SUBCOMMANDS.values():
            add_parser(commands)

    def handle(self, *args: Any, **options: Any) -> None:
        _add, run = SUBCOMMANDS[options["action"]]
        run(options, self.stdout)
