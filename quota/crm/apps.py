from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "quota.crm"
    label = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from quota.core import record_extensions
        from quota.crm.custom_field_forms import CustomFormFields, custom_field_summary
        from quota.crm.custom_fields import forget_definitions
        from quota.crm.models import CustomField

        record_extensions.register(form_extension=CustomFormFields, detail_extras=custom_field_summary)

        post_save.connect(forget_definitions, sender=CustomField, dispatch_uid="custom-fields-saved")
        post_delete.connect(forget_definitions, sender=CustomField, dispatch_uid="custom-fields-deleted")
