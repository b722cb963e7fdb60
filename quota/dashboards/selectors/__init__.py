"""Read paths of the dashboards' sections: each is a few engine calls (one grouped query per batch of KPIs)."""
