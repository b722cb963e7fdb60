from django.contrib import admin

from quota.core.models import ExchangeRate


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "valid_from", "rate"]
    list_filter = ["currency"]
