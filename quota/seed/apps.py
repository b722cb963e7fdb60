from django.apps import AppConfig


class SeedConfig(AppConfig):
    """The demo and benchmark companies; an app only so that `quota seed` is found."""

    name = "quota.seed"
    label = "seed"
    verbose_name = "Seed"
