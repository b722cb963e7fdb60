from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "quota.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from auditlog.models import LogEntry
        from django.db.models.signals import pre_save

        from quota.audit.registry import register_audited_models
        from quota.audit.services import complete_entry

        register_audited_models()
        pre_save.connect(complete_entry, sender=LogEntry, dispatch_uid="audit-complete-entry")
