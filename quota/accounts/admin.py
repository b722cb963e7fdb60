from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from quota.accounts.models import Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "role", "team", "is_active"]
    list_filter = ["role", "team", "is_active"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Quota", {"fields": ("role", "team", "language")}))  # type: ignore[misc]
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Quota", {"fields": ("role", "team")}))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "parent"]
    search_fields = ["name"]
