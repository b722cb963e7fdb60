from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "quota.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from quota.accounts import signals  # noqa: F401
