"""Quarterly reports (季度报送): rules, due dates, submission, 漏报 and the 通报."""
