from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "quota.crm"
    label = "crm"
    verbose_name = "CRM"
