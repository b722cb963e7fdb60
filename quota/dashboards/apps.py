from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "quota.dashboards"
    label = "dashboards"

    def ready(self) -> None:
        from quota.dashboards.boards import source_split_metrics
        from quota.dashboards.selectors.sales import lost_by_reason_metrics, open_by_stage_metrics
        from quota.dashboards.selectors.service import open_cases_metric
        from quota.kpi import rollups

        # The service board's open cases card reads every case ever created and resolved: rolled up, it reads days.
        rollups.roll_up_too("open_cases", open_cases_metric)
        # The pipeline funnel: the deals open in each stage, and their value.
        rollups.roll_up_too("open_by_stage", open_by_stage_metrics)
        # Won and lost: the deals lost for each reason.
        rollups.roll_up_too("lost_by_reason", lost_by_reason_metrics)
        # The lead sources sections: their KPIs filtered to each source.
        rollups.roll_up_too("by_source", source_split_metrics)
