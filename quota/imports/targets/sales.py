"""Products: what deals sell."""

from __future__ import annotations

from quota.imports.targets.base import Target
from quota.sales.models import Product


class ProductTarget(Target):
    name = "products"
    model = Product
    match_fields = ("sku", "name")
