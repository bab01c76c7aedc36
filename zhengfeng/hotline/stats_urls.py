"""Staff pages of the hotline metrics (统计), mounted at /hotline/stats/."""


app_name = "hotline_stats"

urlpatterns: list = []
